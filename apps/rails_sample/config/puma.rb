# Puma. Defaults follow the host contract (issue 5): TCP 127.0.0.1:3000 and the pid file
# under tmp/pids/ (a deploy links tmp/pids to shared/tmp/pids). Everything is overridable:
#   PUMA_BIND       listen address (default tcp://127.0.0.1:$PORT, PORT default 3000)
#   PUMA_PID        pid file (default <app>/tmp/pids/puma.pid)
#   PUMA_STATE      state file for pumactl (default <app>/tmp/pids/puma.state)
#   APP_ROOT        directory Puma works in and restarts into: set it to the `current`
#                   symlink so a hot (USR2) or phased (USR1) restart picks up a new release
#   WEB_CONCURRENCY worker processes (default 2; 0 = single mode, no phased restart)
#   RAILS_MAX_THREADS threads per worker (default 5)
app_root = ENV.fetch("APP_ROOT") { File.expand_path("..", __dir__) }
threads_count = Integer(ENV.fetch("RAILS_MAX_THREADS", "5"))
workers_count = Integer(ENV.fetch("WEB_CONCURRENCY", "2"))

directory app_root
environment ENV.fetch("RAILS_ENV", "development")
threads threads_count, threads_count
bind ENV.fetch("PUMA_BIND") { "tcp://127.0.0.1:#{ENV.fetch('PORT', '3000')}" }
pidfile ENV.fetch("PUMA_PID") { File.join(app_root, "tmp/pids/puma.pid") }
state_path ENV.fetch("PUMA_STATE") { File.join(app_root, "tmp/pids/puma.state") }

if workers_count.positive?
  workers workers_count
  # Phased restarts (USR1) need workers that load the app themselves, from the directory
  # above, so the application is not preloaded. (No prune_bundler: Debian's puma package
  # lacks bin/puma-wild. Set BUNDLE_GEMFILE=<current>/Gemfile in the service's environment
  # so restarts resolve the Gemfile through the `current` link.)
  worker_timeout 60
end
