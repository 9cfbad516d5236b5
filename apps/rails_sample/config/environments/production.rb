require "active_support/core_ext/integer/time"

# Everything a host differs by comes from the environment (the deploy's app.env):
# RAILS_ENV, SECRET_KEY_BASE, DATABASE_*, S3_*, AWS_* and the server paths (config/puma.rb,
# config/unicorn.rb).
Rails.application.configure do
  config.cache_classes = true
  config.eager_load = true
  config.consider_all_requests_local = false
  config.action_controller.perform_caching = true

  # nginx serves public/ (assets, uploads); set RAILS_SERVE_STATIC_FILES to let the app do it.
  config.public_file_server.enabled = ENV["RAILS_SERVE_STATIC_FILES"].present?
  config.public_file_server.headers = { "Cache-Control" => "public, max-age=31536000, immutable" }

  # Stylesheets are precompiled at deploy time (`assets:precompile`), never at run time.
  config.assets.compile = false
  config.assets.css_compressor = nil

  # "amazon" (S3, see config/storage.yml) unless told otherwise, e.g. "local" with
  # ACTIVE_STORAGE_ROOT=/srv/www/<app>/shared/storage.
  config.active_storage.service = ENV.fetch("ACTIVE_STORAGE_SERVICE", "amazon").to_sym

  # TLS ends at the load balancer; nginx passes X-Forwarded-Proto on. Opt in to HSTS and
  # redirects with RAILS_FORCE_SSL=1 (the health check /up is never redirected).
  if ENV["RAILS_FORCE_SSL"].present?
    config.force_ssl = true
    config.ssl_options = { redirect: { exclude: ->(request) { request.path == "/up" } } }
  end

  config.log_level = ENV.fetch("RAILS_LOG_LEVEL", "info").to_sym
  config.log_tags = [:request_id]
  config.log_formatter = ::Logger::Formatter.new
  if ENV["RAILS_LOG_TO_STDOUT"].present?
    logger = ActiveSupport::Logger.new($stdout)
    logger.formatter = config.log_formatter
    config.logger = ActiveSupport::TaggedLogging.new(logger)
  end

  config.cache_store = :memory_store
  config.i18n.fallbacks = true
  config.active_support.deprecation = :notify
  config.active_support.disallowed_deprecation = :log
  config.active_record.dump_schema_after_migration = false
end
