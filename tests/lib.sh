# Shared helpers for the integration tests: TAP output and assertions.
# shellcheck shell=bash
set -u
YARASNOOP=${YARASNOOP:-$PWD/build/yarasnoop}
TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/data" && pwd)
_n=0
TMP=$(mktemp -d)
trap _cleanup EXIT

# Every wait in the tests is bounded, so that a slow or broken kernel makes a
# test fail, never hang (a TCG guest runs this suite 10 to 50 times slower
# than a real machine; the bounds are generous for it, and cost nothing when
# the awaited thing comes sooner):
#   POLL_LIMIT  tenths of a second a condition is polled for (default 1200)
#   RUN_LIMIT   seconds a command or a background job may take to end (default 900)
POLL_LIMIT=${POLL_LIMIT:-1200}
RUN_LIMIT=${RUN_LIMIT:-900}
_bg_pids=()
# microseconds since the epoch ("," where the locale says so)
_now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
# poll COMMAND...: runs COMMAND every 0.1 s until it succeeds (0) or
# POLL_LIMIT tenths of a second have passed (1, saying so in a TAP comment)
poll() {
	local end=$(($(_now_us) + POLL_LIMIT * 100000))
	until "$@"; do
		if (($(_now_us) >= end)); then
			echo "# gave up after $((POLL_LIMIT / 10)) s polling: $*"
			return 1
		fi
		sleep 0.1
	done
}
# a background job is tracked: the EXIT trap ends it, and its children
bg_track() { _bg_pids+=("$1"); }
_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ ${st%% *} != Z ]]
}
# kill_tree PID SIGNAL: PID's descendants, deepest first, then PID
kill_tree() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		kill_tree "$c" "$2"
	done
	kill "-$2" "$1" 2>/dev/null
}
# _end PID: asks PID to end (TERM: yarasnoop passes it to its command), gives
# it 10 s, then kills what is left of its tree
_end() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		_alive "$1" || return 0
		sleep 0.1
	done
	kill_tree "$1" KILL
}
# bwait PID: `wait PID`, bounded: PID's status once it has ended, or 124 when
# RUN_LIMIT seconds pass first (PID and its children are then ended, and a TAP
# comment says so)
bwait() {
	local end=$(($(_now_us) + RUN_LIMIT * 1000000)) what
	while _alive "$1"; do
		if (($(_now_us) >= end)); then
			what=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | head -c 120)
			echo "# gave up after $RUN_LIMIT s waiting for pid $1 ($what) to end: ending it"
			_end "$1"
			wait "$1" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$1"
}
# fifo_write FIFO [LINE]: opens FIFO for writing, which lets a reader blocked
# opening it go on, and writes LINE if given; fails once POLL_LIMIT passes
# with no reader
fifo_write() {
	timeout $((POLL_LIMIT / 10)) sh -c 'if [ $# -gt 1 ]; then printf "%s\n" "$2" >"$1"; else : >"$1"; fi' sh "$@"
}
# shellcheck disable=SC2317 # the EXIT trap
_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do
		_alive "$p" && _end "$p"
	done
	for p in "${_bg_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n - $* # SKIP"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}
# expect_exit DESCRIPTION CODE COMMAND...: runs COMMAND (at most RUN_LIMIT
# seconds), stdout in $TMP/out, stderr in $TMP/err
expect_exit() {
	local d=$1 code=$2 rc; shift 2
	if [[ $(type -t "$1") == file ]]; then
		timeout -k 10 "$RUN_LIMIT" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
	else
		# a shell function: in a subshell, with the same bound
		("$@") >"$TMP/out" 2>"$TMP/err" &
		bwait $!; rc=$?
	fi
	if [[ $rc -eq $code ]]; then
		ok "$d (exit $rc)"
	elif [[ $rc -eq 124 && $code -ne 124 ]]; then
		not_ok "$d: still running after $RUN_LIMIT s (RUN_LIMIT): killed; stderr: $(head -c 300 "$TMP/err")"
	else
		not_ok "$d: exit $rc, wanted $code; stderr: $(head -c 300 "$TMP/err")"
	fi
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
    import ast
    def ev(node):
        return eval(compile(ast.Expression(node), "<check>", "eval"))
    def said(node):
        # the first false term of an `and`, and what its left side held
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for v in node.values:
                if not ev(v):
                    return said(v)
        if isinstance(node, ast.Compare):
            return "%s is %s" % (ast.unparse(node.left)[:150], repr(ev(node.left))[:300])
        return ast.unparse(node)[:200] + " is false"
    try:
        why = said(ast.parse(sys.argv[2], mode="eval").body)
    except Exception as e:
        why = "%s (%s)" % (sys.argv[2][:200], e)
    print("false:", why, "| events:", json.dumps(EVENTS)[:600])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
WRITER=$(cd "$(dirname "${BASH_SOURCE[0]}")/helpers" && pwd)/writer.py
need_root() {
	if [[ $(id -u) -ne 0 ]]; then skip "$1 (needs root)"; return 1; fi
}
