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
