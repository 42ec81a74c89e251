#!/usr/bin/env bash
# The whole test suite, as the README gives it: installs and starts what the tests need,
# then runs every test once with cargo-nextest (falling back to cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."

# Test builds carry no debug info: faster and a smaller target dir.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
export CARGO_TERM_COLOR=never

if [ ! -d ../shared/feeds-corpus ]; then
    echo "test.sh: the shared data folder ../shared is missing (tests read its corpora)" >&2
    exit 1
fi

# A real SMTP server for the digest tests: aiosmtpd from PyPI in a venv (tests start it).
if [ ! -x .ci/.venv-smtp/bin/python ] || ! .ci/.venv-smtp/bin/python -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m venv .ci/.venv-smtp
    .ci/.venv-smtp/bin/pip install -q --disable-pip-version-check 'aiosmtpd==1.4.6'
fi
export TIDINGS_TEST_PYTHON="$PWD/.ci/.venv-smtp/bin/python"

# A throwaway PostgreSQL for the tests that run the store on both backends (installs Debian's
# postgresql package when missing; runs as the postgres user when we are root). Stopped and
# its data directory removed on exit (each run's is about 0.5 GB: repeated runs filled a disk).
pg_log=$(mktemp)
if ! TIDINGS_TEST_POSTGRES=$(bash .ci/postgres.sh 2>"$pg_log"); then
    cat "$pg_log" >&2
    echo "test.sh: could not start PostgreSQL" >&2
    exit 1
fi
export TIDINGS_TEST_POSTGRES
pg_stop=$(sed -n 's/^postgres.sh: stop with: //p' "$pg_log")
pg_base=$(sed -n 's|^postgres.sh: PostgreSQL on .*, data in \(/tmp/tidings-pg\.[A-Za-z0-9]*\)/data$|\1|p' "$pg_log")
rm -f "$pg_log"
trap '(cd / && $pg_stop >/dev/null 2>&1) || true; [ -n "$pg_base" ] && rm -rf "$pg_base"' EXIT

# Headless Chromium for the web page tests (tests/web.rs): Debian's package, installed when
# missing (the tests fail without it).
if [ ! -x /usr/bin/chromium ]; then
    echo "test.sh: installing Chromium (Debian package chromium)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
export TIDINGS_TEST_CHROMIUM=/usr/bin/chromium

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast "$@"
else
    cargo test --locked --no-fail-fast "$@"
fi
