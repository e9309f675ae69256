# Shared helpers for the integration tests: TAP output and assertions.
# shellcheck shell=bash
set -u
YARASNOOP=${YARASNOOP:-$PWD/build/yarasnoop}
TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/data" && pwd)
_n=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n - $* # SKIP"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}
# expect_exit DESCRIPTION CODE COMMAND...: runs COMMAND, stderr in $TMP/err
expect_exit() {
	local d=$1 code=$2 rc; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
	if [[ $rc -eq $code ]]; then ok "$d (exit $rc)"; else not_ok "$d: exit $rc, wanted $code; stderr: $(head -c 300 "$TMP/err")"; fi
}
# expect_grep DESCRIPTION REGEX FILE
expect_grep() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else not_ok "$1: /$2/ not in $3: $(head -c 300 "$3")"; fi
}
# one line on stderr, exactly
one_line() { [[ $(wc -l <"$1") -eq 1 ]]; }

# jq-like checks in Python over a file of JSON lines: EVENTS is the list of
# parsed events; the expression must be true.
#   jcheck DESCRIPTION FILE 'len([e for e in EVENTS if e["type"] == "match"]) == 1'
jcheck() {
	local d=$1 f=$2 expr=$3 out
	if out=$(python3 - "$f" "$expr" 2>&1 <<'PY'
import json, sys
EVENTS = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        EVENTS.append(json.loads(line))
M = [e for e in EVENTS if e.get("type") == "match"]
ENDS = [e for e in EVENTS if e.get("type") == "stream_end"]
SUMMARY = next((e for e in EVENTS if e.get("type") == "summary"), None)
ok = eval(sys.argv[2])
if not ok:
    print("false:", sys.argv[2][:200], "| events:", json.dumps(EVENTS)[:600])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
WRITER=$(cd "$(dirname "${BASH_SOURCE[0]}")/helpers" && pwd)/writer.py
need_root() {
	if [[ $(id -u) -ne 0 ]]; then skip "$1 (needs root)"; return 1; fi
}
