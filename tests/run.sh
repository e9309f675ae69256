#!/usr/bin/env bash
# Runs every test and prints the totals. Unit tests (cmocka) and integration
# tests all speak TAP; a suite that exits non-zero without a "not ok" line
# counts as one failure. Each suite is stopped after SUITE_LIMIT seconds
# (default 3600): the last bound, over the suites' own (tests/lib.sh).
#   tests/run.sh [PATTERN]   only the suites whose name contains PATTERN
#   tests/run.sh SUITE...    these suites (paths), e.g. tests/vm/smoke.sh
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
export OUTPUT YARASNOOP="$PWD/$OUTPUT/yarasnoop" CMOCKA_MESSAGE_OUTPUT=TAP
export YARASNOOP_RULES="$PWD/rules"
pattern=
[[ $# -eq 1 && ! -f $1 ]] && { pattern=$1; shift; }
pass=0 fail=0 skip=0 suites=0 failed_suites=()

run_suite() {
	local name=$1; shift
	local log rc p f s t0=$SECONDS
	[[ -n $pattern && $name != *"$pattern"* ]] && return
	suites=$((suites + 1))
	log=$(mktemp)
	printf '== %s\n' "$name"
	timeout -k 30 "${SUITE_LIMIT:-3600}" "$@" >"$log" 2>&1
	rc=$?
	[[ $rc -eq 124 ]] && echo "not ok - $name ran past ${SUITE_LIMIT:-3600} s (SUITE_LIMIT): stopped" >>"$log"
	# cmocka reports a skipped test as "not ok N # SKIP"
	s=$(grep -cE '^(not )?ok .*# (SKIP|skip)' "$log")
	p=$(grep -E '^ok ' "$log" | grep -cvE '# (SKIP|skip)')
	f=$(grep -E '^not ok ' "$log" | grep -cvE '# (SKIP|skip)')
	if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; echo "not ok - $name exited with status $rc" >>"$log"; fi
	if [[ $f -ne 0 || ${VERBOSE:-0} == 1 ]]; then cat "$log"; else grep -E '^(not ok|ok .*# (SKIP|skip))' "$log"; fi
	printf '   %d passed, %d failed, %d skipped (%d s)\n' "$p" "$f" "$s" $((SECONDS - t0))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[[ $f -ne 0 ]] && failed_suites+=("$name")
	rm -f "$log"
}

if [[ $# -gt 0 ]]; then
	for t in "$@"; do
		[[ -x $t ]] || { echo "tests/run.sh: $t is not an executable suite" >&2; exit 2; }
		run_suite "$(basename "$(dirname "$t")")/$(basename "$t")" "$t"
	done
else
	for t in "$OUTPUT"/tests/test_*; do
		[[ -x $t ]] && run_suite "unit/$(basename "$t")" "$t"
	done
	for t in tests/integration/test_*; do
		[[ -x $t ]] && run_suite "integration/$(basename "$t")" "$t"
	done
fi

echo "== $suites suites"
[[ $fail -ne 0 ]] && echo "== FAILED: ${failed_suites[*]}"
# the closing line, alone, in the form test harnesses recognise
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
