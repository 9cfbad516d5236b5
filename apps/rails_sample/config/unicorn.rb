# Unicorn. Defaults follow the host contract (issue 5): UNIX socket tmp/sockets/unicorn.sock
# and pid tmp/pids/unicorn.pid under the app (a deploy links both to shared/tmp/).
#   UNICORN_LISTEN   socket path or host:port (default <app>/tmp/sockets/unicorn.sock)
#   UNICORN_PID      pid file (default <app>/tmp/pids/unicorn.pid)
#   UNICORN_WORKERS  worker processes (default 2)
#   UNICORN_TIMEOUT  seconds before a stuck worker is killed (default 30)
#   UNICORN_STDERR_PATH / UNICORN_STDOUT_PATH  log files when daemonized (-D); under systemd
#                    leave them unset (the journal gets both)
#   APP_ROOT         working directory; set it to the `current` symlink so USR2 re-executes
#                    into the new release
#
# Zero-downtime restart: send USR2 to the master. The new master starts with the same
# listening socket; when its last worker is ready it sends QUIT to the old master
# (pid file <pid>.oldbin), which finishes its requests and exits.
app_root = ENV.fetch("APP_ROOT") { File.expand_path("..", __dir__) }
worker_count = Integer(ENV.fetch("UNICORN_WORKERS", "2"))

working_directory app_root
worker_processes worker_count
timeout Integer(ENV.fetch("UNICORN_TIMEOUT", "30"))
# umask 0007: the socket is usable by the app user and its group (nginx joins it), no one else.
listen ENV.fetch("UNICORN_LISTEN") { File.join(app_root, "tmp/sockets/unicorn.sock") }, backlog: 1024, umask: 0o007
pid_file = ENV.fetch("UNICORN_PID") { File.join(app_root, "tmp/pids/unicorn.pid") }
pid pid_file
preload_app true
stderr_path ENV["UNICORN_STDERR_PATH"] unless ENV.fetch("UNICORN_STDERR_PATH", "").empty?
stdout_path ENV["UNICORN_STDOUT_PATH"] unless ENV.fetch("UNICORN_STDOUT_PATH", "").empty?

before_exec do |_server|
  # The re-executed master must load the Gemfile of the release app_root now points to.
  ENV["BUNDLE_GEMFILE"] = File.join(app_root, "Gemfile")
end

before_fork do |_server, _worker|
  ActiveRecord::Base.connection_pool.disconnect! if defined?(ActiveRecord::Base)
end

after_fork do |_server, _worker|
  ActiveRecord::Base.establish_connection if defined?(ActiveRecord::Base)
end

after_worker_ready do |_server, worker|
  next unless worker.nr == worker_count - 1

  old_pid_file = "#{pid_file}.oldbin"
  next unless File.exist?(old_pid_file)

  begin
    old_pid = File.read(old_pid_file).to_i
    Process.kill(:QUIT, old_pid) if old_pid.positive? && old_pid != Process.ppid
  rescue Errno::ENOENT, Errno::ESRCH
    nil # already gone
  end
end
