#!/usr/bin/env bash
# Starts the servers the PostgreSQL and S3 test runs need, on loopback only, and prints the
# environment to use them. Idempotent: a running server is reused.
#
#   eval "$(bash scripts/services.sh)"
#
# PostgreSQL: a throwaway cluster in $SB_SERVICES_DIR/pg on 127.0.0.1:$SB_PG_PORT (and its Unix
#   socket in that directory) with
#   switchboard_owner  (LOGIN, CREATEDB; owns the schema; migrations run as it)
#   switchboard_app    (LOGIN, NOSUPERUSER, NOBYPASSRLS; owns nothing; the server runs as it)
# S3: moto's server on 127.0.0.1:$SB_S3_PORT.
set -euo pipefail

SB_SERVICES_DIR=${SB_SERVICES_DIR:-/tmp/switchboard-services}
SB_PG_PORT=${SB_PG_PORT:-55432}
SB_S3_PORT=${SB_S3_PORT:-55900}
OWNER_PASSWORD=owner-test-password
APP_PASSWORD=app-test-password
mkdir -p "$SB_SERVICES_DIR"

log() { echo "services: $*" >&2; }

install_missing() {
  if [ ! -x /usr/lib/postgresql/15/bin/initdb ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing postgresql"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  fi
  if ! command -v curl >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl) >&2
  fi
  if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
    log "installing moto[server]"
    python3 -m pip install -q 'moto[server]' >&2
  fi
}

start_postgres() {
  local bin
  bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
  local data="$SB_SERVICES_DIR/pg"
  local run_as=()
  if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); chown postgres "$SB_SERVICES_DIR"; fi
  if ! "${run_as[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if [ ! -f "$data/PG_VERSION" ]; then
      log "initdb $data"
      "${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    log "starting postgresql on 127.0.0.1:$SB_PG_PORT"
    "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $SB_PG_PORT -k $data -c max_connections=300 -c fsync=off" start >/dev/null
  fi
  psql -h 127.0.0.1 -p "$SB_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_owner') THEN
    CREATE ROLE switchboard_owner LOGIN CREATEDB PASSWORD '$OWNER_PASSWORD';
  END IF;
  -- The test harness drops each test's database WITH (FORCE) as the owner, which must be
  -- allowed to end the app role's leftover connections; without it every database was kept.
  GRANT pg_signal_backend TO switchboard_owner;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
    CREATE ROLE switchboard_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '$APP_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE switchboard OWNER switchboard_owner'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'switchboard') \gexec
SQL
}

start_moto() {
  if curl -fsS "http://127.0.0.1:$SB_S3_PORT/" >/dev/null 2>&1; then return; fi
  log "starting moto S3 on 127.0.0.1:$SB_S3_PORT"
  nohup python3 -m moto.server -H 127.0.0.1 -p "$SB_S3_PORT" >"$SB_SERVICES_DIR/moto.log" 2>&1 &
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$SB_S3_PORT/" >/dev/null 2>&1 && return
    sleep 0.2
  done
  log "moto did not start"; cat "$SB_SERVICES_DIR/moto.log" >&2; exit 1
}

install_missing
start_postgres
start_moto

cat <<ENV
export SWITCHBOARD_TEST_PG_OWNER_URL=postgres://switchboard_owner:$OWNER_PASSWORD@127.0.0.1:$SB_PG_PORT/switchboard
export SWITCHBOARD_TEST_PG_APP_URL=postgres://switchboard_app:$APP_PASSWORD@127.0.0.1:$SB_PG_PORT/switchboard
export SWITCHBOARD_TEST_S3_ENDPOINT=http://127.0.0.1:$SB_S3_PORT
export SWITCHBOARD_TEST_PG_SOCKET_DIR=$SB_SERVICES_DIR/pg
ENV
