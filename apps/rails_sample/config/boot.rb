ENV["BUNDLE_GEMFILE"] ||= File.expand_path("../Gemfile", __dir__)

require "bundler/setup" # gems listed in the Gemfile, from the system (Debian packages)
