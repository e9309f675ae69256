#!/usr/bin/env bash
# A real, module-heavy rule set (signature-base, Yara-Rules) against yara,
# side by side in one run: the replay of a mixed corpus against yara on the
# whole file, the fixed cost of one scan, tiny writes, and live, many slow
# streams at once. Called by scripts/bench.sh (BENCH_ONLY=ruleset) with
# OUTPUT, REPS, BIN and TMP set; the rule set is not shipped:
#
#   BENCH_RULESET=DIR          a directory of .yar files (e.g. signature-base's
#                              yara/); without it this benchmark is skipped
#   BENCH_CORPUS_MB=40         size of the generated corpus (bench/gencorpus.py)
#   BENCH_STREAMS=1000 BENCH_STREAM_RATE=1024 BENCH_STREAMS_SECONDS=40
#                              live: streams, bytes/s each, seconds
#
# Times are CPU seconds (user + system) of the process, and wall seconds:
# on a busy machine CPU time is what the process itself spent. Medians of
# REPS alternations.
set -eu
YS=$PWD/$OUTPUT/yarasnoop
RULES=${BENCH_RULESET:-}
MB=${BENCH_CORPUS_MB:-40}
if [[ -z $RULES || ! -d $RULES ]]; then
	echo "   skipped: set BENCH_RULESET to a rule directory (signature-base's yara/, say)"
	exit 0
fi
median() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# cpu_of FILE COMMAND...: runs COMMAND, appends "cpu wall" seconds to FILE
cpu_of() {
	local f=$1 t0 u0 u1
	shift
	t0=$(date +%s%N)
	u0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
	"$@" >/dev/null 2>>"$TMP/ruleset.err"
	u1=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
	echo "$(calc %.3f "($u1 - $u0) / $(getconf CLK_TCK)") $(calc %.3f "($(date +%s%N) - $t0) / 1e9")" >>"$f"
}
col() { awk -v c="$1" '{ print $c }' "$2" | median; }

corpus=$BIN/corpus-${MB}MB.bin
[[ -s $corpus && $corpus -nt bench/gencorpus.py ]] || python3 bench/gencorpus.py "$corpus" "$MB"
files=("$RULES"/*.yar)
nfiles=${#files[@]}
empty=$TMP/empty.bin
: >"$empty"
# the stream externals yarasnoop gives the file, for yara
D=(-d "filename=$(basename "$corpus")" -d "filepath=$corpus" -d "extension=.bin"
	-d "owner=$(id -un)" -d "filetype=regular")
echo "   rule set: $RULES ($nfiles files; $("$YS" replay -v -r "$RULES" -i "$empty" -o /dev/null 2>&1 |
	sed -n 's/.*rules: \([0-9]*\) rules, \([0-9]*\) strings.*window-exact \([0-9]*\), decided at the end of a stream \([0-9]*\).*/\1 rules, \2 strings; \3 window-exact, \4 decided at the end/p'))"
echo "   corpus: $corpus, $(stat -c %s "$corpus") bytes (bench/gencorpus.py: logs, scripts, JSON, base64, UTF-16, binary, executables)"

# ---- 1. replay vs yara on the whole file ----
for t in y y0 r64 r4 r0; do : >"$TMP/$t"; done
for ((i = 0; i < REPS; i++)); do
	cpu_of "$TMP/y0" yara -w "${D[@]}" "${files[@]}" "$empty"
	cpu_of "$TMP/y" yara -w "${D[@]}" "${files[@]}" "$corpus"
	cpu_of "$TMP/r0" "$YS" replay -r "$RULES" -i "$empty" -o /dev/null
	cpu_of "$TMP/r64" "$YS" replay -r "$RULES" --chunk-size 64K -i "$corpus" -o /dev/null
	cpu_of "$TMP/r4" "$YS" replay -r "$RULES" --chunk-size 4K -i "$corpus" -o /dev/null
done
yc=$(col 1 "$TMP/y") yw=$(col 2 "$TMP/y") y0=$(col 1 "$TMP/y0") r0=$(col 1 "$TMP/r0")
printf '   %-26s %-8s %-8s %-8s %-10s %s\n' run cpu_s ratio wall_s net_cpu_s net_ratio
printf '   %-26s %-8s %-8s %-8s %-10s %s\n' "yara (whole file)" "$yc" 1.00 "$yw" "$(calc %.3f "$yc - $y0")" 1.00
for c in 64 4; do
	rc=$(col 1 "$TMP/r$c") rw=$(col 2 "$TMP/r$c")
	printf '   %-26s %-8s %-8s %-8s %-10s %s\n' "replay --chunk-size ${c}K" "$rc" "$(calc %.2f "$rc / $yc")" "$rw" \
		"$(calc %.3f "$rc - $r0")" "$(calc %.2f "($rc - $r0) / ($yc - $y0)")"
done
echo "   start (compiling the rules, on an empty file): yara $y0 s, replay $r0 s CPU; net: less the start"
"$YS" replay -v -r "$RULES" --chunk-size 64K -i "$corpus" -o /dev/null 2>&1 | sed -n 's/^yarasnoop: replay: /   64K: /p'
"$YS" replay -v -r "$RULES" --chunk-size 4K -i "$corpus" -o /dev/null 2>&1 | sed -n 's/^yarasnoop: replay: /   4K: /p'
echo "   \$ yara -w ${D[*]} $RULES/*.yar $corpus"
echo "   \$ $OUTPUT/yarasnoop replay -r $RULES --chunk-size 64K -i $corpus -o /dev/null   # and 4K"

# ---- 2. the fixed cost of a scan ----
echo
echo "   one scan per 64-byte write (the overlap and 64 bytes), the rule set's window set, vs libyara alone:"
"$BIN/scan_cost" -m 500 -n "$REPS" -r "$RULES" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "   engine per write %.0f us (window %s bytes; window set %s, %s window-exact rules; calibrated fixed cost %.0f us)\n",
	       v["ns_per_write"] / 1e3, v["avg_window_bytes"], v["window_set"], v["window_rules"], v["fixed_ns"] / 1e3
	printf "   libyara, every rule: a scan of 64 bytes %.0f us, of the window %.0f us\n",
	       v["scan_mem_write_bytes_ns"] / 1e3, v["scan_mem_window_bytes_ns"] / 1e3 }'
echo "   \$ $OUTPUT/bench/scan_cost -m 500 -n $REPS -r $RULES"

# ---- 3. tiny writes ----
echo
head -c 1048576 "$corpus" >"$TMP/1M.bin"
for r in rules "$RULES"; do
	"$YS" replay -v -r "$r" --chunk-size 16 -i "$TMP/1M.bin" -o /dev/null 2>&1 |
		sed -n 's/.*replay: \([0-9]*\) scans, \([0-9]*\) window bytes, overlap \([0-9]*\).*/\1 \2 \3/p' |
		awk -v r="$r" '{ printf "   1 MiB in 16-byte writes, %s: %d scans, %.2f bytes scanned per byte (overlap %d)\n", r, $1, $2 / 1048576, $3 }'
done
echo "   \$ $OUTPUT/yarasnoop replay -v -r RULES --chunk-size 16 -i 1M.bin -o /dev/null"

# ---- 4. live: many slow streams ----
echo
n=${BENCH_STREAMS:-1000} rate=${BENCH_STREAM_RATE:-1024} secs=${BENCH_STREAMS_SECONDS:-40}
if [[ $(id -u) -ne 0 ]]; then
	echo "   live: skipped, needs root"
	exit 0
fi
mkdir -p "$TMP/streams"
echo 'rule latency_mark { strings: $m = /YS_LATENCY_MARK_[0-9a-f]{16}/ condition: $m }' >"$TMP/mark.yar"
python3 bench/many_writers.py "$TMP/streams" "$n" "$rate" "$secs" 2 >"$TMP/mw.out" &
wp=$!
"$YS" --no-control -r "$RULES" -r "$TMP/mark.yar" -p "$wp" --format json -o "$TMP/mw.ev" 2>"$TMP/mw.err" &
yp=$!
cpu() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
sleep $((2 + secs / 4))
c0=$(cpu "$yp") t0=$(date +%s%N)
sleep $((secs / 2))
c1=$(cpu "$yp") t1=$(date +%s%N)
wait "$wp" || true
e0=$(date +%s%N)
wait "$yp" || true
e1=$(date +%s%N)
python3 - "$TMP/mw.ev" "$TMP/mw.out" "$(calc %.3f "($c1 - $c0) / $(getconf CLK_TCK) / (($t1 - $t0) / 1e9)")" \
	"$(calc %.1f "($e1 - $e0) / 1e9")" "$n" "$rate" "$secs" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
mark = int(open(sys.argv[2]).read().split("mark_ns=")[1].split()[0])
m = [e for e in ev if e.get("type") == "match" and e["rule"] == "latency_mark"]
def ns(t):  # "2026-..T..:..:..123456Z"
    import datetime
    d = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int(t[20:26]) * 1000
ends = [e for e in ev if e.get("type") == "stream_end"]
s = [e for e in ev if e.get("type") == "summary"][-1]
lat = (ns(m[0]["time"]) - mark) / 1e9 if m else float("nan")
print(f"   live, {sys.argv[5]} files written at {sys.argv[6]} B/s each for {sys.argv[7]} s by one process:")
print(f"   yarasnoop used {float(sys.argv[3]):.2f} of a core in the middle half of the run; the streams' ends "
      f"(every stream decided on its whole, rule set's modules included) took {sys.argv[4]} s after the writer stopped")
print(f"   the mark written at mid-run was reported {lat:.2f} s later; bytes written {s['bytes_written']}, "
      f"scanned {s['bytes_scanned']}, dropped {s['bytes_dropped']}; undecided rules {sum(e['rules_undecided'] for e in ends)}")
PY
echo "   \$ bench/many_writers.py DIR $n $rate $secs & $OUTPUT/yarasnoop --no-control -r $RULES -p \$! --format json -o EV"
