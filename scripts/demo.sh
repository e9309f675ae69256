#!/bin/sh
# The demo behind `make demo`: yarasnoop traces a small "session" that
# writes fake secrets into a file (a key split across two writes among
# them), with the bundled rules. Live capture needs root; without it, the
# same kind of bytes are replayed from tests/data instead.
set -eu
cd "$(dirname "$0")/.."
YS=${OUTPUT:-build}/yarasnoop
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: not root, so replaying tests/data/demo_session.log instead of tracing live" >&2
	exec "$YS" replay -i tests/data/demo_session.log -c 4
fi
out=$(mktemp /tmp/yarasnoop-demo.XXXXXX)
trap 'rm -f "$out"' EXIT
"$YS" --no-control -- sh -c '
	exec >"$1"
	printf "export AWS_ACCESS_KEY_ID=AKIAIOSF"; sleep 0.2; printf "ODNN7EXAMPLE\n"
	sed -n "4,\$p" tests/data/demo_session.log
' demo "$out"
