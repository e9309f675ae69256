#!/usr/bin/env bash
# yarasnoop's benchmarks. They print figures and the command that reproduces
# each; none passes or fails. A ratio is always measured side by side in the
# same run: the two sides alternate, BENCH_REPS times, and medians are
# compared, so that a machine that gets busier halfway hurts both sides.
#
#   make bench                          every benchmark, short (a few minutes)
#   BENCH_ONLY=dd,replay make bench     some of them (comma-separated):
#     dd         cost to the traced process: dd traced vs untraced
#     bystander  cost to an untraced process while yarasnoop traces another
#     replay     scanning throughput vs the yara CLI, overlap amplification
#     scancost   fixed cost per scan at 10, 200, 2000 rules
#     rate       end to end: a writer at 50..800 MB/s and flat out, loss
#     latency    write-to-report latency of a matching line
#     mem        bytes per stream and RSS at 1k, 10k, 100k streams
#     churn      memory over a run of thousands of short processes
#     gate       --fail-on-match on 128 MiB of 1 MiB writes: lossless vs not, vs untraced
#     workers    lossless throughput with 1, 2, 4 writers and 1 vs N scan workers
#     rules      each bundled rule's MB/s on the text that makes it slowest
#     ruleset    a real rule set (BENCH_RULESET=DIR, not shipped): replay vs yara,
#                fixed cost per scan, tiny writes, 1000 slow live streams
#
# Knobs, with their defaults:
#   BENCH_REPS=5             repetitions of each side of a ratio
#   BENCH_DD_SECONDS=1       how long untraced dd runs (its count is calibrated)
#   BENCH_DD_BS="64 4096 65536"
#   BENCH_HOOKS="exit enter-exit"   the --hooks modes dd and bystander compare
#   BENCH_LOG_MB=50          size of the generated log for replay
#   BENCH_SCAN_MS=500        time per scancost measurement
#   BENCH_RATES="50 100 200 400 800 0"   MB/s; 0 is as fast as possible
#   BENCH_RATE_SECONDS=3     per rate step
#   BENCH_LATENCY_COUNT=50   markers, one per 200 ms
#   BENCH_MEM_STREAMS="1000 10000 100000"  BENCH_MEM_BURST=60000 (bytes, at 1000 streams)
#   BENCH_CHURN_SECONDS=30   BENCH_CHURN_INTERVAL=5 (seconds between samples)
#   BENCH_GATE_MB=128        BENCH_WORKERS_MB=64 (per writer)
#   BENCH_RULES_REPS=3       runs of each rule on each text (the fastest counts)
#
# The long run the issue asks for (about 15 minutes):
#   BENCH_REPS=7 BENCH_RATE_SECONDS=10 BENCH_CHURN_SECONDS=600 BENCH_CHURN_INTERVAL=30 make bench
#
# Results also go to $OUTPUT/bench/results.txt.
set -eu
cd "$(dirname "$0")/.."
export LC_ALL=C	# dd prints "0.5 s", not "0,5 s"

OUTPUT=${OUTPUT:-build}
YS=$PWD/$OUTPUT/yarasnoop
BIN=$PWD/$OUTPUT/bench
REPS=${BENCH_REPS:-5}
ONLY=${BENCH_ONLY:-}
HOOKS=${BENCH_HOOKS:-exit enter-exit}
TMP=$(mktemp -d /tmp/ys-bench.XXXXXX)
BG_PIDS=()

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}

selected() { [[ -z $ONLY || ,$ONLY, == *,$1,* ]]; }

# median of the numbers on stdin
median() {
	sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

now_ns() { date +%s%N; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# yarasnoop instances we did not start (other engineers' tests): each
# attaches to the syscall tracepoints, which slows every process
others() { pgrep -x yarasnoop | grep -cvxF -f <(printf '%s\n' "${BG_PIDS[@]}" 0) || true; }

OTHERS_MAX=0
note_others() {
	local n
	n=$(others)
	((n > OTHERS_MAX)) && OTHERS_MAX=$n
	return 0
}

# An untraced baseline taken while another instance runs is not untraced.
others_warning() {
	if ((OTHERS_MAX > 0)); then
		echo "   WARNING: up to $OTHERS_MAX yarasnoop instance(s) not ours ran during this benchmark;"
		echo "   the baseline is slowed by them too, so the ratio understates the cost"
	fi
	OTHERS_MAX=0
}

section() {
	printf '\n== %s\n   (load average %s; CPU pressure %s; %s other yarasnoop running)\n' "$1" "$(loadavg)" \
		"$(sed -n 's/^some \(avg10=[0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null)" "$(others)"
}

# "$ command" lines: what reproduces a figure, runnable from the repository root
say_cmd() { printf '   $ %s\n' "$*"; }

need_root() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "   skipped: needs root (real BPF)"
		return 1
	fi
}

# dd's own elapsed time from its stderr: "... copied, 0.98 s, 1.2 GB/s"
dd_seconds() { sed -n 's/.* copied, \([0-9.e+-]*\) s, .*/\1/p' "$1" | tail -n 1; }

# yarasnoop's closing line: "N streams, W bytes written: S scanned, D dropped ..."
ys_drop_pct() {
	sed -n 's/.* \([0-9]*\) bytes written: [0-9]* scanned, \([0-9]*\) dropped.*/\1 \2/p' "$1" |
		awk '{ printf "%.1f", $1 ? 100 * $2 / $1 : 0 }'
}

# Waits for a control socket: it appears once the BPF programs are attached.
wait_socket() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $1 ]] && return 0
		sleep 0.05
	done
	echo "   yarasnoop did not come up ($1)" >&2
	return 1
}

stop_bg() {
	local p keep=()
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${BG_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

machine() {
	local cpu mem
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "== yarasnoop benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "   machine: $cpu, $(nproc) cores, $mem, kernel $(uname -r)"
	echo "   tree: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), binary $OUTPUT/yarasnoop"
	echo "   BENCH_REPS=$REPS; medians of $REPS runs per side unless said otherwise"
}

# ---- 1. cost to the traced process, and to a bystander ----

declare -A DD_COUNT
# DD_N: the count that makes untraced dd take about BENCH_DD_SECONDS here,
# measured once per block size so that dd and bystander run the same dd.
dd_count() {
	local bs=$1 probe s
	if [[ -z ${DD_COUNT[$bs]:-} ]]; then
		probe=$((bs >= 65536 ? 20000 : 200000))
		dd if=/dev/zero of=/dev/null bs="$bs" count=$probe 2>"$TMP/dd.err"
		s=$(dd_seconds "$TMP/dd.err")
		DD_COUNT[$bs]=$(awk -v p=$probe -v s="$s" -v t="${BENCH_DD_SECONDS:-1}" \
			'BEGIN { n = p * t / s; m = 10 ^ int(log(n) / log(10) - 1); printf "%d", int(n / m) * m }')
	fi
	DD_N=${DD_COUNT[$bs]}
}

bench_dd() {
	local bs n i h us ts ds
	section "dd: cost to the traced process"
	need_root || return 0
	echo "   dd's own elapsed time (its \"copied, X s\"), untraced and traced with each --hooks, alternating"
	printf '   %-7s %-11s %-9s %-11s %-11s %-7s %-13s %s\n' bs hooks count untraced_s traced_s ratio ns_per_write dropped_pct
	for bs in ${BENCH_DD_BS:-64 4096 65536}; do
		dd_count "$bs"
		n=$DD_N
		: >"$TMP/u"
		for h in $HOOKS; do
			: >"$TMP/t.$h"; : >"$TMP/d.$h"
		done
		for ((i = 0; i < REPS; i++)); do
			note_others
			dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
			dd_seconds "$TMP/dd.err" >>"$TMP/u"
			for h in $HOOKS; do
				"$YS" --no-control --hooks "$h" -o /dev/null -- \
					dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
				dd_seconds "$TMP/dd.err" >>"$TMP/t.$h"
				ys_drop_pct "$TMP/dd.err" >>"$TMP/d.$h"
				echo >>"$TMP/d.$h"
			done
		done
		us=$(median <"$TMP/u")
		for h in $HOOKS; do
			ts=$(median <"$TMP/t.$h"); ds=$(median <"$TMP/d.$h")
			printf '   %-7s %-11s %-9s %-11s %-11s %-7s %-13s %s\n' "$bs" "$h" "$n" "$us" "$ts" \
				"$(calc %.2f "$ts / $us")" "$(calc %.0f "($ts - $us) * 1e9 / $n")" "$ds"
		done
	done
	echo "   dropped_pct: share of the traced bytes lost (ring buffer full); lost bytes are not copied into"
	echo "   the ring, so with heavy loss the ratio understates what capturing every byte would cost"
	others_warning
	say_cmd "dd if=/dev/zero of=/dev/null bs=BS count=COUNT"
	say_cmd "$OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -- dd if=/dev/zero of=/dev/null bs=BS count=COUNT"
	say_cmd "BENCH_ONLY=dd make bench OUTPUT=$OUTPUT"
}

bench_bystander() {
	local bs n i h sp ys us ts
	section "bystander: cost to a process yarasnoop does not trace"
	need_root || return 0
	echo "   untraced dd, with no yarasnoop vs while 'yarasnoop -p PID' traces a sleeping process"
	sleep 100000 &
	sp=$!
	BG_PIDS+=("$sp")
	printf '   %-7s %-11s %-9s %-15s %-15s %s\n' bs hooks count no_yarasnoop_s yarasnoop_on_s ratio
	for bs in ${BENCH_DD_BS:-64 4096 65536}; do
		dd_count "$bs"
		n=$DD_N
		: >"$TMP/u"
		for h in $HOOKS; do
			: >"$TMP/t.$h"
		done
		for ((i = 0; i < REPS; i++)); do
			note_others
			dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
			dd_seconds "$TMP/dd.err" >>"$TMP/u"
			for h in $HOOKS; do
				rm -f "$TMP/ctl"
				"$YS" --control "$TMP/ctl" --hooks "$h" -o /dev/null -p "$sp" 2>"$TMP/ys.err" &
				ys=$!
				BG_PIDS+=("$ys")
				wait_socket "$TMP/ctl"
				dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
				dd_seconds "$TMP/dd.err" >>"$TMP/t.$h"
				stop_bg "$ys"
			done
		done
		us=$(median <"$TMP/u")
		for h in $HOOKS; do
			ts=$(median <"$TMP/t.$h")
			printf '   %-7s %-11s %-9s %-15s %-15s %s\n' "$bs" "$h" "$n" "$us" "$ts" "$(calc %.2f "$ts / $us")"
		done
	done
	stop_bg "$sp"
	others_warning
	say_cmd "sleep 1000 & $OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -p \$! &"
	say_cmd "dd if=/dev/zero of=/dev/null bs=BS count=COUNT    # with and without the line above"
	say_cmd "BENCH_ONLY=bystander make bench OUTPUT=$OUTPUT"
}

# ---- 2. scanning ----

bench_replay() {
	local mb=${BENCH_LOG_MB:-50} log i t0 size c y y0 f f0
	section "replay: scanning a ${mb} MB log vs the yara CLI"
	log=$BIN/log-${mb}MB.txt
	# deterministic, so kept between runs until the generator changes
	[[ -s $log && $log -nt bench/genlog.py ]] || python3 bench/genlog.py "$log" "$mb"
	size=$(stat -c %s "$log")
	cat rules/*.yar >"$TMP/all.yar"
	: >"$TMP/empty"
	: >"$TMP/yara"; : >"$TMP/yara0"; : >"$TMP/r64"; : >"$TMP/r4"; : >"$TMP/r0"
	# each tool also on an empty file: its start (compiling the rules),
	# taken off to give the scanning alone
	for ((i = 0; i < REPS; i++)); do
		t0=$(now_ns)
		yara -w "$TMP/all.yar" "$TMP/empty" >/dev/null
		echo $(($(now_ns) - t0)) >>"$TMP/yara0"
		t0=$(now_ns)
		yara -w "$TMP/all.yar" "$log" >"$TMP/yara.out"
		echo $(($(now_ns) - t0)) >>"$TMP/yara"
		t0=$(now_ns)
		"$YS" replay -i "$TMP/empty" -o /dev/null
		echo $(($(now_ns) - t0)) >>"$TMP/r0"
		for c in 64 4; do
			t0=$(now_ns)
			"$YS" replay -v -i "$log" --chunk-size ${c}K --format json -o "$TMP/replay$c.json" 2>"$TMP/replay$c.err"
			echo $(($(now_ns) - t0)) >>"$TMP/r$c"
		done
	done
	y=$(median <"$TMP/yara"); y0=$(median <"$TMP/yara0"); f0=$(median <"$TMP/r0")
	echo "   $size bytes; wall: the whole process; net: wall less the same tool on an empty file (its start)"
	printf '   %-24s %-8s %-8s %-8s %-10s %-8s %-6s %s\n' run wall_s ratio net_s net_MB/s ratio rules scanned_per_captured
	printf '   %-24s %-8s %-8s %-8s %-10s %-8s %-6s %s\n' "yara -w (whole file)" "$(calc %.3f "$y / 1e9")" 1.00 \
		"$(calc %.3f "($y - $y0) / 1e9")" "$(calc %.0f "$size * 1e3 / ($y - $y0)")" 1.00 "$(wc -l <"$TMP/yara.out")" -
	for c in 64 4; do
		f=$(median <"$TMP/r$c")
		printf '   %-24s %-8s %-8s %-8s %-10s %-8s %-6s %s\n' "replay --chunk-size ${c}K" "$(calc %.3f "$f / 1e9")" \
			"$(calc %.2f "$f / $y")" "$(calc %.3f "($f - $f0) / 1e9")" "$(calc %.0f "$size * 1e3 / ($f - $f0)")" \
			"$(calc %.2f "($f - $f0) / ($y - $y0)")" "$(grep -c '"type":"match"' "$TMP/replay$c.json")" \
			"$(sed -n 's/.*replay: \([0-9]*\) scans, \([0-9]*\) window bytes.*/\2 \1/p' "$TMP/replay$c.err" |
				awk -v s="$size" '{ printf "%.4f (%d scans)", $1 / s, $2 }')"
	done
	echo "   start: yara $(calc %.3f "$y0 / 1e9") s, yarasnoop replay $(calc %.3f "$f0 / 1e9") s; median of $REPS"
	echo "   scanned_per_captured: bytes handed to libyara (overlap rescans included) per byte of input"
	say_cmd "python3 bench/genlog.py $log $mb; cat rules/*.yar >/tmp/all.yar"
	say_cmd "yara -w /tmp/all.yar $log"
	say_cmd "$OUTPUT/yarasnoop replay -v -i $log --chunk-size 64K --format json -o /dev/null   # and 4K"
	say_cmd "BENCH_ONLY=replay make bench OUTPUT=$OUTPUT"
}

bench_scancost() {
	local ms=${BENCH_SCAN_MS:-500}
	section "scancost: fixed cost per scan against the number of rules"
	"$BIN/scan_cost" -m "$ms" -n "$REPS" 10 200 2000 >"$TMP/sc"
	echo "   64-byte writes into one stream, flush_bytes 0: one scan (overlap + 64 bytes) per write;"
	echo "   the engine and the two bare scans alternate, $REPS rounds of ${ms} ms each, medians"
	printf '   %-6s %-8s %-12s %-13s %-17s %-19s %s\n' rules overlap avg_window ns_per_write ns_libyara_scan \
		scan_mem_64B_ns scan_mem_window_ns
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	       printf "   %-6s %-8s %-12s %-13s %-17s %-19s %s\n", v["rules"], v["overlap"], v["avg_window_bytes"],
		      v["ns_per_write"], v["ns_in_libyara_per_scan"], v["scan_mem_write_bytes_ns"], v["scan_mem_window_bytes_ns"] }' "$TMP/sc"
	echo "   ns_libyara_scan: inside yr_scanner_scan_mem_blocks, yarasnoop's match callback included;"
	echo "   scan_mem_*: a bare yr_scanner_scan_mem of 64 bytes / of a window's length, same rules and flags"
	say_cmd "$OUTPUT/bench/scan_cost -m $ms -n $REPS 10 200 2000"
}

bench_ruleset() {
	section "ruleset: a real rule set, side by side with yara"
	OUTPUT=$OUTPUT REPS=$REPS BIN=$BIN TMP=$TMP bench/ruleset.sh
}

# ---- 3. end to end ----

# "written dropped records_dropped wakeups" from the summary event of a JSON run
summary_fields() {
	python3 - "$1" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l][-1]
k = s["kernel"]
print(s["bytes_written"], s["bytes_dropped"], k["records_dropped"], k["wakeups"])
PY
}

bench_rate() {
	local secs=${BENCH_RATE_SECONDS:-3} r w d rd wk tm tu ts wu ws wr nw cpu_ys best=none first_loss=none
	local TIMEFORMAT='%R %U %S'
	section "rate: end to end, 4 KiB writes at a target rate"
	need_root || return 0
	"$BIN/rate_writer" -r 0 -t "$secs" >"$TMP/w"
	echo "   untraced, as fast as possible: $(sed 's/.* mbps=\([0-9.]*\).*/\1/' "$TMP/w") MB/s"
	echo "   traced with default settings and the bundled rules, ${secs} s per step, one run each"
	printf '   %-7s %-13s %-12s %-12s %-16s %-15s %s\n' target achieved_MB/s writes dropped_pct records_dropped wakeups yarasnoop_cpu_pct
	for r in ${BENCH_RATES:-50 100 200 400 800 0}; do
		{ time "$YS" --no-control --format json -o "$TMP/rate.json" -- \
			"$BIN/rate_writer" -r "$r" -t "$secs" >"$TMP/w" 2>"$TMP/ys.err"; } 2>"$TMP/time"
		read -r nw wu ws < <(sed 's/.* writes=\([0-9]*\) .* cpu_user=\([0-9.]*\) cpu_sys=\([0-9.]*\).*/\1 \2 \3/' "$TMP/w")
		read -r tm tu ts <"$TMP/time"
		cpu_ys=$(calc %.0f "100 * ($tu + $ts - $wu - $ws) / $tm")
		wr=$(sed 's/.* mbps=\([0-9.]*\).*/\1/' "$TMP/w")
		read -r w d rd wk < <(summary_fields "$TMP/rate.json")
		printf '   %-7s %-13s %-12s %-12s %-16s %-15s %s\n' "$([[ $r == 0 ]] && echo max || echo "$r")" "$wr" "$nw" \
			"$(calc %.2f "100 * $d / $w")" "$rd" "$wk" "$cpu_ys"
		if [[ $d -eq 0 && $first_loss == none ]]; then
			best=$wr
		elif [[ $d -ne 0 && $first_loss == none ]]; then
			first_loss=$wr
		fi
	done
	if [[ $first_loss == none ]]; then
		echo "   no loss at any step; highest: ${best} MB/s achieved"
	else
		echo "   highest step with zero loss: ${best} MB/s achieved; loss begins at: ${first_loss} MB/s"
	fi
	echo "   yarasnoop_cpu_pct: its user+sys time (writer's own taken out) over wall time; 100 = one core;"
	echo "   wakeups: times the BPF side woke yarasnoop (kernel.wakeups in the summary)"
	say_cmd "$OUTPUT/yarasnoop --no-control --format json -o /tmp/ev.json -- $OUTPUT/bench/rate_writer -r MBPS -t $secs"
	say_cmd "BENCH_ONLY=rate make bench OUTPUT=$OUTPUT"
}

bench_latency() {
	local n=${BENCH_LATENCY_COUNT:-50}
	section "latency: a matching line written, to its match event"
	need_root || return 0
	mkdir -p "$TMP/lat"
	"$YS" --no-control --format json -o "$TMP/lat.json" -- \
		python3 bench/marker_writer.py "$TMP/lat" "$n" 0.2 "$TMP/lat.times" >/dev/null 2>"$TMP/ys.err"
	python3 - "$TMP/lat.json" "$TMP/lat.times" "$n" <<'PY'
import datetime, json, re, sys
t0 = {int(i): int(t) for i, t in (l.split() for l in open(sys.argv[2]))}
lat = []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") != "match":
        continue
    m = re.search(r"marker-(\d+)$", e["stream"].get("path", ""))
    if not m:
        continue
    t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    ns = int(t.timestamp()) * 10**9 + t.microsecond * 1000
    lat.append((ns - t0[int(m.group(1))]) / 1e6)
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]
print("   markers matched: %d of %s" % (len(lat), sys.argv[3]))
if lat:
    print("   latency ms: min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f" % (lat[0], pct(50), pct(90), pct(99), lat[-1]))
PY
	echo "   default --flush-ms 50: a quiet stream is scanned once its oldest pending byte is 50 ms old"
	say_cmd "$OUTPUT/yarasnoop --no-control --format json -o /tmp/lat.json -- python3 bench/marker_writer.py DIR $n 0.2 /tmp/lat.times"
	say_cmd "BENCH_ONLY=latency make bench OUTPUT=$OUTPUT"
}

# ---- 4. memory ----

bench_mem() {
	local ns=${BENCH_MEM_STREAMS:-1000 10000 100000} burst=${BENCH_MEM_BURST:-60000}
	section "mem: bytes per stream and RSS (bundled rules)"
	# shellcheck disable=SC2086
	"$BIN/streams_mem" -r rules $ns >"$TMP/mem"
	# a stream that once took a burst: what does it keep once quiet?
	"$BIN/streams_mem" -r rules -b "$burst" 1000 >>"$TMP/mem"
	printf '   %-8s %-10s %-8s %-10s %-9s %-8s %-8s %-9s %s\n' streams written_B empty_B pending_B idle_B tail_B buf_cap RSS_MiB RSS_per_stream_B
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	       printf "   %-8s %-10s %-8s %-10s %-9s %-8s %-8s %-9.1f %s\n", v["streams"], v["write_bytes"],
		      v["mem_per_stream_empty"], v["mem_per_stream_pending"], v["mem_per_stream_idle"],
		      v["avg_tail_bytes"], v["avg_buf_cap"], v["rss_idle"] / 1048576, v["rss_per_stream_idle"] }' "$TMP/mem"
	echo "   *_B: ys_table_memory() / streams; empty: just created; pending: whole lines, up to written_B, written;"
	echo "   idle: after the 50 ms deadline scan (and trim); RSS_per_stream: (RSS idle - RSS before) / streams"
	say_cmd "$OUTPUT/bench/streams_mem -r rules $ns"
	say_cmd "$OUTPUT/bench/streams_mem -r rules -b $burst 1000"
}

bench_churn() {
	local secs=${BENCH_CHURN_SECONDS:-30} iv=${BENCH_CHURN_INTERVAL:-5} ys t0 el
	section "churn: memory while thousands of short processes write"
	need_root || return 0
	rm -f "$TMP/ctl"
	# Three short processes an iteration (echo, the pipeline's subshell,
	# cat) and, every fourth, a sh that lives a second between two writes:
	# so that the samples see live streams, not only an empty table.
	# shellcheck disable=SC2016 # expanded by that bash, not this one
	"$YS" --control "$TMP/ctl" -o /dev/null -- bash -c '
		end=$((SECONDS + '"$secs"')); n=0 p=0
		while ((SECONDS < end)); do
			/bin/echo "churn $n user=alice req=$RANDOM took=12ms" >/dev/null
			printf "line %d through a pipe\n" "$n" | /bin/cat >/dev/null
			if ((n % 4 == 0)); then
				/bin/sh -c "echo begin $n; sleep 1; echo end $n" >/dev/null &
				p=$((p + 2))
			fi
			n=$((n + 1))
		done
		wait
		echo $((3 * n + p)) >'"$TMP/churn.count" 2>"$TMP/ys.err" &
	ys=$!
	BG_PIDS+=("$ys")
	wait_socket "$TMP/ctl"
	t0=$(now_ns)
	printf '   %-8s %-8s %-19s %-10s %s\n' t_s streams total_memory_bytes rss_MiB kernel_maps
	while kill -0 "$ys" 2>/dev/null; do
		el=$(calc %.0f "($(now_ns) - $t0) / 1e9")
		if "$YS" stats --format json --control "$TMP/ctl" >"$TMP/stats.json" 2>/dev/null; then
			python3 - "$TMP/stats.json" "$el" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
k = s.get("kernel_maps", {})
print("   %-8s %-8d %-19d %-10.1f %s" % (sys.argv[2], len(s["streams"]), s["total_memory_bytes"],
      s["process"]["rss_bytes"] / 1048576.0, " ".join("%s=%s" % kv for kv in sorted(k.items()))))
PY
		fi
		sleep "$iv"
	done
	stop_bg "$ys"
	# its closing line: "N streams, W bytes written: S scanned, D dropped ..."
	echo "   $(cat "$TMP/churn.count" 2>/dev/null || echo '?') processes in ${secs} s;" \
		"$(sed -n 's/^yarasnoop: \([0-9]*\) streams, \([0-9]*\) bytes written: [0-9]* scanned, \([0-9]*\) dropped.*/\1 streams; \2 bytes written, \3 dropped/p' "$TMP/ys.err")"
	say_cmd "$OUTPUT/yarasnoop --control /tmp/ys.sock -o /dev/null -- bash -c 'LOOP' &"
	say_cmd "$OUTPUT/yarasnoop stats --format json --control /tmp/ys.sock    # every ${iv} s"
	say_cmd "BENCH_ONLY=churn BENCH_CHURN_SECONDS=600 make bench OUTPUT=$OUTPUT    # the 10-minute run"
}

# ---- fail closed: what lossless mode costs, and scaling with workers ----

# "wall-seconds dropped-bytes freezes frozen-ms" of one traced run
gate_run() {
	local t0 t1
	t0=$(now_ns)
	"$YS" --no-control --format json -o "$TMP/gate.ev" "$@" 2>/dev/null || true
	t1=$(now_ns)
	python3 - "$TMP/gate.ev" "$(((t1 - t0) / 1000000))" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l][-1]
print(int(sys.argv[2]) / 1000, s["bytes_dropped"], s["user"]["freezes"], s["user"]["frozen_ms"],
      len([1 for l in open(sys.argv[1]) if '"type":"match"' in l]))
PY
}

bench_gate() {
	local mb=${BENCH_GATE_MB:-128} i t0 t1 cmd
	section "gate: --fail-on-match on ${mb} MiB in 1 MiB writes, a key in one of them"
	need_root || return 0
	cmd=(/usr/bin/python3 tests/helpers/bulk.py big "$mb" $((mb / 2)))
	: >"$TMP/gate.u"; : >"$TMP/gate.l"; : >"$TMP/gate.n"
	for ((i = 0; i < REPS; i++)); do
		note_others
		t0=$(now_ns); "${cmd[@]}"; t1=$(now_ns)
		echo "$(((t1 - t0) / 1000000))" | awk '{ print $1 / 1000 }' >>"$TMP/gate.u"
		gate_run --fail-on-match -- "${cmd[@]}" >>"$TMP/gate.l"
		gate_run --fail-on-match --no-lossless -- "${cmd[@]}" >>"$TMP/gate.n"
	done
	local u l n
	u=$(median <"$TMP/gate.u")
	l=$(cut -d' ' -f1 "$TMP/gate.l" | median)
	n=$(cut -d' ' -f1 "$TMP/gate.n" | median)
	printf '   %-28s %8s s
' "untraced" "$u"
	printf '   %-28s %8s s  %6sx  dropped %s  matches %s  freezes %s  frozen %s ms
' "lossless (default)" "$l" 		"$(calc %.1f "$l / $u")" "$(cut -d' ' -f2 "$TMP/gate.l" | median)" "$(cut -d' ' -f5 "$TMP/gate.l" | median)" 		"$(cut -d' ' -f3 "$TMP/gate.l" | median)" "$(cut -d' ' -f4 "$TMP/gate.l" | median)"
	printf '   %-28s %8s s  %6sx  dropped %s  matches %s
' "--no-lossless" "$n" 		"$(calc %.1f "$n / $u")" "$(cut -d' ' -f2 "$TMP/gate.n" | median)" "$(cut -d' ' -f5 "$TMP/gate.n" | median)"
	echo "   (lossless holds the writer to the scan rate: its time is ${mb} MiB / the scan rate)"
	others_warning
	say_cmd "$OUTPUT/yarasnoop --fail-on-match -- ${cmd[*]}"
}

bench_workers() {
	local mb=${BENCH_WORKERS_MB:-64} w n i r cores
	cores=$(nproc)
	section "workers: lossless throughput, N writers of ${mb} MiB each (1 MiB writes), 1 vs $cores scan workers"
	need_root || return 0
	for n in 1 2 4; do
		for w in 1 "$cores"; do
			: >"$TMP/wk"
			for ((i = 0; i < REPS; i++)); do
				note_others
				gate_run --fail-on-match --workers "$w" -- sh -c \
					"for i in \$(seq $n); do /usr/bin/python3 tests/helpers/bulk.py big $mb -1 & done; wait" >>"$TMP/wk"
			done
			r=$(cut -d' ' -f1 "$TMP/wk" | median)
			printf '   %d writer(s), %d worker(s): %6s s  %7s MB/s  dropped %s\n' "$n" "$w" "$r" \
				"$(calc %.0f "$n * $mb * 1.048576 / $r")" "$(cut -d' ' -f2 "$TMP/wk" | median)"
		done
	done
	others_warning
	say_cmd "$OUTPUT/yarasnoop --fail-on-match --workers W -- sh -c 'for i in \$(seq N); do python3 tests/helpers/bulk.py big $mb -1 & done; wait'"
}

bench_rules() {
	section "rules: each bundled rule alone on 1 MiB of the text that makes it slowest"
	YARASNOOP=$YS python3 bench/rule_speed.py --reps "${BENCH_RULES_REPS:-3}"
	say_cmd "YARASNOOP=$OUTPUT/yarasnoop python3 bench/rule_speed.py -v    # -v: every text of every rule"
}

main() {
	local b
	# main runs in the pipeline's subshell: its traps, its background jobs
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	for b in yarasnoop bench/scan_cost bench/streams_mem bench/rate_writer; do
		if [[ ! -x $OUTPUT/$b ]]; then
			echo "$OUTPUT/$b is missing: run 'make bench OUTPUT=$OUTPUT'" >&2
			return 2
		fi
	done
	machine
	selected dd && bench_dd
	selected bystander && bench_bystander
	selected replay && bench_replay
	selected scancost && bench_scancost
	selected rate && bench_rate
	selected latency && bench_latency
	selected mem && bench_mem
	selected churn && bench_churn
	selected gate && bench_gate
	selected workers && bench_workers
	selected rules && bench_rules
	selected ruleset && bench_ruleset
	printf '\n== done (load average %s)\n' "$(loadavg)"
}

mkdir -p "$BIN"
# one line: bash has read it whole before running it, so the script may be
# edited while it runs
main 2>&1 | tee "$BIN/results.txt"; exit "${PIPESTATUS[0]}"
