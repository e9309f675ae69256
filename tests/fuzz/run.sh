#!/bin/sh
# Runs each libFuzzer harness for FUZZ_SECONDS on a copy of its seed corpus
# (tests/fuzz/corpus/NAME), so the repository's corpus only grows by hand.
# Prints a line per harness and exits 1 if any crashed.
#   usage: tests/fuzz/run.sh OUTDIR HARNESS...
set -u
seconds=${FUZZ_SECONDS:-60}
out=$1
shift
here=$(dirname "$0")
failed=0

for bin in "$@"; do
	name=$(basename "$bin")
	work=$out/run/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
	# the scanner's programs need room; a record up to a header and 64 KiB
	case $name in
	fuzz_scanner)	max_len=8192 ;;
	fuzz_records)	max_len=65664 ;;
	*)		max_len=4096 ;;
	esac
	start=$(date +%s)
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -max_len=$max_len \
		-timeout=30 -artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	crashes=$(find "$work/artifacts" -type f | wc -l)
	# a harness that died without leaving an input behind failed all the same
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1
	fi
	printf '%-14s %10s execs in %4ss, %d crashes, corpus %d inputs (log: %s)\n' \
		"$name" "${execs:-?}" "$took" "$crashes" \
		"$(find "$work/corpus" -type f | wc -l)" "$work/log"
	if [ "$crashes" -ne 0 ]; then
		failed=1
		find "$work/artifacts" -type f | sed 's/^/  crash: /'
		grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*broken:|.*runtime error)' "$work/log" | sed 's/^/  /'
	fi
done
exit $failed
