require_relative "boot"

require "rails"
require "active_model/railtie"
require "active_job/railtie"
require "active_record/railtie"
require "active_storage/engine"
require "action_controller/railtie"
require "action_view/railtie"
require "sprockets/railtie"
require "rails/test_unit/railtie"

Bundler.require(*Rails.groups)

module RailsSample
  # The release shown on every page, so deploys can be told apart: APP_REVISION, else the
  # REVISION file a deploy writes into the release, else "dev".
  def self.revision
    @revision ||= ENV["APP_REVISION"].presence ||
                  begin
                    File.read(File.expand_path("../REVISION", __dir__)).strip.presence
                  rescue Errno::ENOENT
                    nil
                  end || "dev"
  end

  class Application < Rails::Application
    config.load_defaults 6.1

    config.time_zone = ENV.fetch("APP_TIME_ZONE", "UTC")
    config.generators.system_tests = nil

    # Images are served through the app (proxy mode), so a browser never needs to reach the
    # S3 endpoint itself (locally the emulator, on AWS a private bucket behind a VPC
    # endpoint). ACTIVE_STORAGE_DELIVERY=redirect sends browsers to presigned S3 URLs instead.
    config.active_storage.resolve_model_to_route =
      ENV["ACTIVE_STORAGE_DELIVERY"] == "redirect" ? :rails_storage_redirect : :rails_storage_proxy
    # No analysis or previews: they would download every upload again in a background
    # thread and need image libraries we do not install.
    config.active_storage.analyzers = []
    config.active_storage.previewers = []
  end
end
