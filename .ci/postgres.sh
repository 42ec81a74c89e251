#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the tests and benchmarks and prints its URL on stdout.
# Installs Debian's `postgresql` package when initdb is missing. The data directory lives in
# a new temporary folder; PostgreSQL refuses to run as root, so as root it runs as the
# `postgres` user (created by the package). It listens on 127.0.0.1 on a free port and trusts
# local connections (a test server, never a real one).
#   url=$(bash .ci/postgres.sh)   # its last line on stderr: "postgres.sh: stop with: COMMAND"
set -euo pipefail

find_bin() {
    local name=$1
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return
    fi
    ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_bin initdb)" ]; then
    echo "postgres.sh: installing PostgreSQL (Debian package postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # No default cluster (nor a service start): this script makes its own.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    apt-get update -qq >&2
    apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

base=$(mktemp -d /tmp/tidings-pg.XXXXXX)
chmod 755 "$base"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$base"
fi
# The server's user may not be able to enter the checkout (under /root on CI).
cd "$base"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$INITDB" -D "$base/data" -U tidings --auth=trust -E UTF8 --locale=C >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; exit 1; }
# Many connections: several workers with their pools, plus tests running in parallel.
as_owner "$PG_CTL" -D "$base/data" -l "$base/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $base -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { cat "$base/server.log" >&2; exit 1; }
stop="$PG_CTL -D $base/data stop -m immediate"
if [ "$(id -u)" = 0 ]; then
    stop="runuser -u postgres -- $stop"
fi
echo "postgres.sh: PostgreSQL on 127.0.0.1:$port, data in $base/data" >&2
echo "postgres.sh: stop with: $stop" >&2
echo "postgres://tidings@127.0.0.1:$port/postgres"
