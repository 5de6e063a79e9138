#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the test suite (idempotent) and writes its
# SQLAlchemy URL to var/test-postgres/url. Runs the server as the 'postgres' system user when called as root.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/var/test-postgres
port=${EDC_TEST_PG_PORT:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$dir"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_pg "$bindir/initdb" -D "$dir/data" -U edc --auth=trust -E UTF8 >/dev/null
fi
if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" start >/dev/null
fi
as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U edc -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='edc_test'" | grep -q 1 || \
  as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U edc -d postgres -qc "CREATE DATABASE edc_test"
echo "postgresql+psycopg://edc@127.0.0.1:$port/edc_test" > "$dir/url"
echo "test PostgreSQL on 127.0.0.1:$port"
