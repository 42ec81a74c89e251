#!/usr/bin/env bash
# Checks the shipped systemd unit: `systemd-analyze verify` must pass, and the offline security
# review (`systemd-analyze security --offline=yes`) must score an overall exposure at or below
# MAX_EXPOSURE. Installs systemd's tools when `systemd-analyze` is missing (CI runs as root
# with Debian's registry reachable). Needs no running systemd.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXPOSURE=2.0
UNIT=systemd/tidings.service

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-check: systemd-analyze is missing; installing the systemd package" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "systemd-check: need root to apt-get install systemd" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
systemd-analyze --version | head -n 1

# `verify` insists that ExecStart's binary exists. Rather than installing into
# /usr/local/bin on the build machine, check a copy of the unit whose ExecStart points at the
# binary the tests just built (built here if missing); every other line is the shipped unit's.
bin="$PWD/target/debug/tidings"
if [ ! -x "$bin" ]; then
    cargo build --locked --bin tidings
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed "s|^ExecStart=/usr/local/bin/tidings |ExecStart=$bin |" "$UNIT" >"$work/tidings.service"
if ! grep -q "^ExecStart=$bin run\$" "$work/tidings.service"; then
    echo "systemd-check: $UNIT has no 'ExecStart=/usr/local/bin/tidings run' line to check" >&2
    exit 1
fi
changed="$( (diff "$UNIT" "$work/tidings.service" || true) | grep -c '^>' || true)"
if [ "$changed" != 1 ]; then
    echo "systemd-check: the checked copy differs from $UNIT in $changed lines, not just ExecStart" >&2
    exit 1
fi

# verify exits 0 on some warnings; any line about our unit counts as a failure.
verify_out="$(systemd-analyze verify "$work/tidings.service" 2>&1)" || {
    echo "$verify_out" >&2
    echo "systemd-check: systemd-analyze verify $UNIT failed" >&2
    exit 1
}
if grep -q 'tidings' <<<"$verify_out"; then
    echo "$verify_out" >&2
    echo "systemd-check: systemd-analyze verify $UNIT warned" >&2
    exit 1
fi
echo "systemd-check: systemd-analyze verify $UNIT: ok"

security_out="$(systemd-analyze security --offline=yes --no-pager "$work/tidings.service" 2>&1)" || {
    echo "$security_out" >&2
    echo "systemd-check: systemd-analyze security failed" >&2
    exit 1
}
exposure="$(sed -n 's/.*Overall exposure level for tidings.service: \([0-9.]*\).*/\1/p' <<<"$security_out")"
if [ -z "$exposure" ]; then
    echo "$security_out" >&2
    echo "systemd-check: no overall exposure level in the security review" >&2
    exit 1
fi
if awk -v e="$exposure" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(e > max) }'; then
    grep '✗' <<<"$security_out" >&2 || true
    echo "systemd-check: exposure $exposure is above $MAX_EXPOSURE" >&2
    exit 1
fi
echo "systemd-check: systemd-analyze security $UNIT: exposure $exposure (at most $MAX_EXPOSURE)"
