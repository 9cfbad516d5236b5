#!/usr/bin/env bash
# Runs inside kumo-webstack/ruby:<tag> (see ../test.sh) with the app mounted read-only at /src.
# WHAT=unit|prod|all
set -euo pipefail

WHAT=${WHAT:-all}
export BUNDLE_SILENCE_ROOT_WARNING=1 LANG=C.UTF-8

step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# A fresh copy of the app without anything a local run left behind.
copy_app() {
  rm -rf "$1" && mkdir -p "$1"
  tar -C /src --exclude=./tmp --exclude=./log --exclude=./storage --exclude=./public/assets \
      --exclude=./.bundle --exclude=./Gemfile.lock --exclude='./db/*.sqlite3' -c . | tar -C "$1" -x
  mkdir -p "$1/tmp/pids" "$1/tmp/sockets" "$1/log" "$1/storage"
}

run_unit() {
  step "rails test (development/test gem set, sqlite3, Disk service)"
  copy_app /tmp/unit && cd /tmp/unit
  bundle install --local --quiet
  bin/rails test
}

# Every wait below ends as soon as what it waits for holds; its bound is a hang guard set
# for a machine at half this one's speed with the other core busy (each thing takes seconds here).
wait_db() { # until MariaDB answers (a first start initialises its files), at most 240 s
  for _ in $(seq 1 480); do mariadb-admin ping >/dev/null 2>&1 && return 0; sleep 0.5; done
  tail -20 /tmp/mariadb.log >&2; fail "MariaDB did not answer"
}

wait_http() { # url [curl options...]: wait until it answers at all
  local url=$1; shift
  for _ in $(seq 1 240); do
    curl -s -o /dev/null "$@" "$url" && return 0
    sleep 0.5
  done
  cat /tmp/puma.log /tmp/unicorn.log /tmp/prod/log/production.log 2>/dev/null | tail -40 >&2; fail "nothing answers at $url"
}

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

run_prod() {
  step "production gem set only (ruby-sqlite3 removed, development/test groups excluded)"
  dpkg -r ruby-sqlite3 >/dev/null
  copy_app /tmp/prod && cd /tmp/prod
  echo "rel-$(date +%s)" > REVISION
  bundle config set --local without development:test
  bundle install --local --quiet
  bundle check
  export RAILS_ENV=production

  step "assets:precompile (RAILS_ENV=production, no database; any SECRET_KEY_BASE will do)"
  SECRET_KEY_BASE=precompile-only bundle exec rails assets:precompile
  css=$(cd public/assets && ls application-*.css | head -n1)
  [[ $css =~ ^application-[0-9a-f]{64}\.css$ ]] || fail "no fingerprinted stylesheet: $css"
  echo "fingerprinted asset: public/assets/$css"

  step "MariaDB with a database and an app user (utf8mb4)"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  mariadbd --user=mysql --bind-address=127.0.0.1 >/tmp/mariadb.log 2>&1 &
  wait_db
  DATABASE_PASSWORD='pa:ss#w%rd"1 x'
  mariadb <<SQL
CREATE DATABASE sample CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'sample'@'127.0.0.1' IDENTIFIED BY 'pa:ss#w%rd"1 x';
GRANT ALL PRIVILEGES ON sample.* TO 'sample'@'127.0.0.1';
SQL
  export DATABASE_HOST=127.0.0.1 DATABASE_PORT=3306 DATABASE_NAME=sample DATABASE_USERNAME=sample \
         DATABASE_PASSWORD SECRET_KEY_BASE=$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n') \
         ACTIVE_STORAGE_SERVICE=local ACTIVE_STORAGE_ROOT=/tmp/prod-storage

  step "the amazon (S3) service is built from the environment (endpoint, path style, keys)"
  S3_BUCKET=uploads-bucket S3_ENDPOINT=http://127.0.0.1:9 AWS_REGION=ap-northeast-1 AWS_ACCESS_KEY_ID=test-key \
  AWS_SECRET_ACCESS_KEY=test-secret ACTIVE_STORAGE_SERVICE=amazon bundle exec rails runner '
    s = ActiveStorage::Blob.service
    c = s.client.client.config
    ok = s.is_a?(ActiveStorage::Service::S3Service) && s.bucket.name == "uploads-bucket" &&
         c.endpoint.to_s == "http://127.0.0.1:9" && c.force_path_style && c.region == "ap-northeast-1" &&
         c.credentials.access_key_id == "test-key"
    abort("amazon service misconfigured: #{s.class} #{c.endpoint} #{c.force_path_style}") unless ok
    puts "amazon service: bucket #{s.bucket.name} at #{c.endpoint}, path style"'

  step "db:migrate (RAILS_ENV=production)"
  bundle exec rails db:migrate
  charset=$(mariadb -N -e "SELECT CCSA.character_set_name FROM information_schema.TABLES T JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA ON CCSA.collation_name = T.table_collation WHERE T.table_schema='sample' AND T.table_name='posts'")
  [ "$charset" = utf8mb4 ] || fail "posts table charset is $charset"

  step "Puma (TCP 127.0.0.1:3000, 2 workers)"
  mkdir -p /tmp/run
  PUMA_PID=/tmp/run/puma.pid RAILS_SERVE_STATIC_FILES=1 bundle exec puma -C config/puma.rb >/tmp/puma.log 2>&1 &
  wait_http http://127.0.0.1:3000/up
  [ -s /tmp/run/puma.pid ] || fail "no puma pid file"
  [ "$(status http://127.0.0.1:3000/up)" = 200 ] || fail "/up under puma"
  page=$(curl -sf http://127.0.0.1:3000/)
  grep -q "id=\"revision\">$(cat REVISION)<" <<<"$page" || fail "revision not on the listing page"
  grep -q "/assets/$css" <<<"$page" || fail "listing page does not link $css"
  [ "$(status "http://127.0.0.1:3000/assets/$css")" = 200 ] || fail "asset not served"

  step "create a post with an image through the form (CSRF token + cookie), read it back"
  jar=/tmp/cookies
  token=$(curl -sf -c $jar http://127.0.0.1:3000/posts/new | sed -n 's/.*name="authenticity_token" value="\([^"]*\)".*/\1/p' | head -n1)
  [ -n "$token" ] || fail "no authenticity_token in the form"
  location=$(curl -sf -b $jar -o /dev/null -w '%{redirect_url}' \
      -F "authenticity_token=$token" -F "post[title]=Hello production" -F "post[body]=utf8 ✓ 日本語" \
      -F "post[image]=@test/fixtures/files/pixel.png;type=image/png" http://127.0.0.1:3000/posts)
  [[ $location == http://127.0.0.1:3000/posts/* ]] || fail "create did not redirect to the post: $location"
  show=$(curl -sf "$location")
  grep -q "日本語" <<<"$show" || fail "utf8mb4 body not read back"
  image=$(grep -o 'href="/rails/active_storage/blobs/proxy/[^"]*"' <<<"$show" | head -n1 | cut -d'"' -f2)
  curl -sf "http://127.0.0.1:3000$image" | cmp - test/fixtures/files/pixel.png || fail "image not read back"
  key=$(sed -n 's/.*class="blob-key">\([^<]*\)<.*/\1/p' <<<"$show")
  [ -n "$(find /tmp/prod-storage -name "$key")" ] || fail "blob $key not in the storage service"

  step "/up is 503 while the database is down, 200 when it is back"
  mariadb-admin shutdown
  [ "$(status http://127.0.0.1:3000/up)" = 503 ] || fail "/up not 503 without the database"
  mariadbd --user=mysql --bind-address=127.0.0.1 >>/tmp/mariadb.log 2>&1 &
  wait_db
  ok=
  for _ in $(seq 1 240); do [ "$(status http://127.0.0.1:3000/up)" = 200 ] && { ok=1; break; }; sleep 0.5; done
  [ -n "$ok" ] || fail "/up did not recover"

  step "Puma phased restart (USR1) keeps answering"
  kill -USR1 "$(cat /tmp/run/puma.pid)"
  for _ in $(seq 1 20); do [ "$(status http://127.0.0.1:3000/up)" = 200 ] || fail "/up failed during phased restart"; sleep 0.25; done
  kill -TERM "$(cat /tmp/run/puma.pid)"
  for _ in $(seq 1 240); do [ -e /tmp/run/puma.pid ] || break; sleep 0.25; done
  [ ! -e /tmp/run/puma.pid ] || fail "puma did not stop (pid file left)"

  step "Unicorn (UNIX socket tmp/sockets/unicorn.sock, APP_ROOT a current symlink), USR2 upgrade"
  mkdir -p /tmp/srv && ln -sfn /tmp/prod /tmp/srv/current
  export APP_ROOT=/tmp/srv/current
  sock=/tmp/srv/current/tmp/sockets/unicorn.sock pidf=/tmp/srv/current/tmp/pids/unicorn.pid
  (cd /tmp/srv/current && UNICORN_STDERR_PATH=/tmp/unicorn.log bundle exec unicorn -c config/unicorn.rb -E production -D)
  wait_http http://localhost/up --unix-socket "$sock"
  [ "$(status --unix-socket "$sock" http://localhost/up)" = 200 ] || fail "/up under unicorn"
  [ "$(stat -c %a "$sock")" = 770 ] || fail "socket mode $(stat -c %a "$sock"), expected 770"
  curl -sf --unix-socket "$sock" http://localhost/ | grep -q 'Hello production' || fail "listing under unicorn"
  old=$(cat "$pidf")
  kill -USR2 "$old"
  for _ in $(seq 1 480); do # a loaded machine takes a while to boot the new master
    [ "$(status --unix-socket "$sock" http://localhost/up)" = 200 ] || fail "/up failed during USR2"
    new=$(cat "$pidf" 2>/dev/null || true)
    if [ -n "$new" ] && [ "$new" != "$old" ] && ! kill -0 "$old" 2>/dev/null; then break; fi
    sleep 0.25
  done
  [ "$new" != "$old" ] && ! kill -0 "$old" 2>/dev/null || fail "old unicorn master $old still running"
  [ ! -e "$pidf.oldbin" ] || fail "$pidf.oldbin left behind"
  kill -QUIT "$new"
  unset APP_ROOT
}

case $WHAT in
  unit) run_unit ;;
  prod) run_prod ;;
  all) run_unit; run_prod ;;
  *) fail "WHAT must be unit, prod or all" ;;
esac
step "all green"
