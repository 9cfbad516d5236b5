# Rack entry point for Puma and Unicorn.
require_relative "config/environment"

run Rails.application
Rails.application.load_server
