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
#     routes     cost of the route hooks (blind routes, TLS uprobes, --compat)
#                to untraced and traced processes: dd, send(), SSL_write, ioctl, mmap
#     filters    the same per kind of target (-p, -u, -C, --cgroup); verifier figures
#     replay     scanning throughput vs the yara CLI, overlap amplification
#     jobs       replay --jobs 1, 2, 4 on 4 and 8 inputs: aggregate throughput
#     scancost   fixed cost per scan at 10, 200, 2000 rules
#     rate       end to end: a writer at 50..800 MB/s and flat out, loss
#     latency    write-to-report latency of a matching line
#     mem        bytes per stream and RSS at 1k, 10k, 100k streams
#     churn      memory over a run of thousands of short processes
#     gate       --fail-on-match on 128 MiB of 1 MiB writes: lossless vs not, vs untraced
#     workers    lossless throughput with 1, 2, 4 writers and 1 vs N scan workers
#     rules      each bundled rule's MB/s on the text that makes it slowest
#     start      yarasnoop -- true: how long it takes, and where it goes; with the
#                kernel's whole BTF, one loader, --no-tls, right after another run
#     hooks      each --hooks mode: untraced and traced dd, side by side
#     work       real workloads (make -j2, python tests, tar czf, a shell
#                under a pty), traced and untraced
#     ruleset    a real rule set (BENCH_RULESET=DIR, not shipped): replay vs yara,
#                fixed cost per scan, tiny writes, 1000 slow live streams
#
# Knobs, with their defaults:
#   BENCH_REPS=5             repetitions of each side of a ratio
#   BENCH_DD_SECONDS=1       how long untraced dd runs (its count is calibrated)
#   BENCH_DD_BS="64 4096 65536"
#   BENCH_HOOKS="tracepoint fexit enter-exit"   the --hooks modes dd, bystander and hooks
#                            compare (those this kernel refuses are left out, and said)
#   BENCH_ROUTE_N=100000     iterations of each route loop (mmap: a quarter, dd: 4x)
#   BENCH_ROUTES_BASE=PATH   routes: also a yarasnoop built without the route hooks
#   BENCH_START_BASE=PATH    start: also this yarasnoop (another build), alternating
#   BENCH_ROUTE_KINDS="dd64 send ssl uring ioctl mmap"   the routes workloads (uring: io_uring WRITEs)
#   BENCH_LOG_MB=50          size of the generated log for replay
#   BENCH_JOBS_MB=16         size of each generated log for jobs   BENCH_JOBS="1 2 4"
#   BENCH_SCAN_MS=500        time per scancost measurement
#   BENCH_RATES="50 100 200 400 800 0"   MB/s; 0 is as fast as possible
#   BENCH_RATE_SECONDS=3     per rate step
#   BENCH_LATENCY_COUNT=50   markers, one per 200 ms
#   BENCH_MEM_STREAMS="1000 10000 100000"  BENCH_MEM_BURST=60000 (bytes, at 1000 streams)
#   BENCH_CHURN_SECONDS=30   BENCH_CHURN_INTERVAL=5 (seconds between samples)
#   BENCH_GATE_MB=128        BENCH_WORKERS_MB=64 (per writer)
#   BENCH_RULES_REPS=3       runs of each rule on each text (the fastest counts)
#   BENCH_FLOORS="tp_sys_exit_write fexit_sys_write fexit_vfs_write" (hooks: no-op programs)
#   BENCH_WORK="make python tar shell"   BENCH_WORK_REPS=7 (6 at least for an interval)
#   BENCH_WORK_PYTESTS="test_json test_re test_collections test_shutil test_os"
#   BENCH_WORK_TREE=/usr/include (tar's)   BENCH_WORK_ROUNDS=20 (the shell's)
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
HOOKS=${BENCH_HOOKS:-tracepoint fexit enter-exit}
TMP=$(mktemp -d /tmp/ys-bench.XXXXXX)
BG_PIDS=()
HOOKS_REFUSED=()

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

# HOOKS, less the modes yarasnoop refuses on this kernel (fexit where
# trampolines are refused: this host), which go to HOOKS_REFUSED; once
hooks_here() {
	local h ok=()
	[[ -n ${HOOKS_CHECKED:-} ]] && return 0
	HOOKS_CHECKED=1
	for h in $HOOKS; do
		if "$YS" --no-control -q --hooks "$h" -o /dev/null -- true 2>"$TMP/hk.err"; then
			ok+=("$h")
		else
			HOOKS_REFUSED+=("--hooks $h: $(head -c 200 "$TMP/hk.err")")
		fi
	done
	HOOKS=${ok[*]}
}
# hooks_refused: says which modes hooks_here() left out
hooks_refused() {
	local r
	for r in "${HOOKS_REFUSED[@]}"; do echo "   refused here: $r"; done
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# paired A B: line i of file A and of file B (column 1) are one rep's two
# sides; bench/paired.awk gives the median ratio B/A and its 95 % interval
paired() {
	paste -d' ' <(cut -d' ' -f1 "$1") <(cut -d' ' -f1 "$2") | awk -f bench/paired.awk
}

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

# Waits for a control socket: it appears once the BPF programs are attached
# (at most 30 s: seconds in a TCG guest)
wait_socket() {
	local i
	for ((i = 0; i < 600; i++)); do
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
	hooks_here
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
			released
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
	hooks_refused
	echo "   dropped_pct: share of the traced bytes lost (ring buffer full); lost bytes are not copied into"
	echo "   the ring, so with heavy loss the ratio understates what capturing every byte would cost"
	others_warning
	say_cmd "dd if=/dev/zero of=/dev/null bs=BS count=COUNT"
	say_cmd "$OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -- dd if=/dev/zero of=/dev/null bs=BS count=COUNT"
	say_cmd "BENCH_ONLY=dd make bench OUTPUT=$OUTPUT"
}

# ys_on_sleeper HOOKS PID: yarasnoop --hooks HOOKS tracing PID (a sleeping
# process), in the background (its pid in YS_BG), once attached
ys_on_sleeper() {
	rm -f "$TMP/ctl"
	"$YS" --control "$TMP/ctl" --hooks "$1" -o /dev/null -p "$2" 2>"$TMP/ys.err" &
	YS_BG=$!
	BG_PIDS+=("$YS_BG")
	wait_socket "$TMP/ctl"
}

# bystander_table VARIANT...: untraced dd with no yarasnoop vs while
# yarasnoop runs with each VARIANT ("label|options"; SP, a sleeping
# process, is set), alternating, for each block size.
bystander_table() {
	local bs n i v ys us ts
	printf '   %-7s %-16s %-9s %-15s %-15s %s\n' bs yarasnoop count no_yarasnoop_s yarasnoop_on_s ratio
	for bs in ${BENCH_DD_BS:-64 4096 65536}; do
		dd_count "$bs"
		n=$DD_N
		: >"$TMP/u"
		for ((v = 1; v <= $#; v++)); do
			: >"$TMP/t.$v"
		done
		for ((i = 0; i < REPS; i++)); do
			note_others
			released
			dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
			dd_seconds "$TMP/dd.err" >>"$TMP/u"
			for ((v = 1; v <= $#; v++)); do
				rm -f "$TMP/ctl"
				# shellcheck disable=SC2086 # the variant's options, split
				"$YS" --control "$TMP/ctl" -o /dev/null ${!v#*|} 2>"$TMP/ys.err" &
				ys=$!
				BG_PIDS+=("$ys")
				wait_socket "$TMP/ctl"
				dd if=/dev/zero of=/dev/null bs="$bs" count="$n" 2>"$TMP/dd.err"
				dd_seconds "$TMP/dd.err" >>"$TMP/t.$v"
				stop_bg "$ys"
			done
		done
		us=$(median <"$TMP/u")
		for ((v = 1; v <= $#; v++)); do
			ts=$(median <"$TMP/t.$v")
			printf '   %-7s %-16s %-9s %-15s %-15s %s\n' "$bs" "${!v%%|*}" "$n" "$us" "$ts" "$(calc %.2f "$ts / $us")"
		done
	done
}

bench_bystander() {
	local sp h variants=()
	section "bystander: cost to a process yarasnoop does not trace"
	need_root || return 0
	hooks_here
	echo "   untraced dd, with no yarasnoop vs while 'yarasnoop -p PID' traces a sleeping process"
	sleep 100000 &
	sp=$!
	BG_PIDS+=("$sp")
	for h in $HOOKS; do
		variants+=("$h|--hooks $h -p $sp")
	done
	bystander_table "${variants[@]}"
	stop_bg "$sp"
	hooks_refused
	others_warning
	say_cmd "sleep 1000 & $OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -p \$! &"
	say_cmd "dd if=/dev/zero of=/dev/null bs=BS count=COUNT    # with and without the line above"
	say_cmd "BENCH_ONLY=bystander make bench OUTPUT=$OUTPUT"
}

# route_cmd KIND N: the command line of one workload of bench_routes
route_cmd() {
	case $1 in
	dd64) echo "dd if=/dev/zero of=/dev/null bs=64 count=$2" ;;
	ssl) echo "$BIN/route_loop ssl $2 $TMP/cert.pem $TMP/key.pem" ;;
	uring) echo "$OUTPUT/helpers/uring loop $2 64 /dev/null" ;;
	*) echo "$BIN/route_loop $1 $2" ;;
	esac
}

# route_secs FILE: the workload's own elapsed seconds from its output
route_secs() {
	local s
	s=$(dd_seconds "$1")
	[[ -n $s ]] && { echo "$s"; return; }
	grep -E '^[0-9.]+$' "$1" | tail -n 1
}

bench_routes() {
	local kinds=${BENCH_ROUTE_KINDS:-dd64 send ssl uring ioctl mmap} cfgs="default no-tls compat" k n i c sp ys us ts args bin
	# a yarasnoop without the route hooks (main before them), to tell their share
	[[ -n ${BENCH_ROUTES_BASE:-} ]] && cfgs="base $cfgs"
	section "routes: cost of the route hooks to untraced and traced processes"
	need_root || return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
		-days 1 -subj /CN=localhost >/dev/null 2>&1
	echo "   untraced: the workload with no yarasnoop vs while 'yarasnoop -p PID' traces a sleeping"
	echo "   process, with the default hooks (blind routes + TLS uprobes), --no-tls, and --compat"
	[[ -n ${BENCH_ROUTES_BASE:-} ]] && echo "   base: $BENCH_ROUTES_BASE, a yarasnoop without the route hooks, same command"
	sleep 100000 &
	sp=$!
	BG_PIDS+=("$sp")
	printf '   %-7s %-8s %-12s' workload n no_ys_s
	for c in $cfgs; do printf ' %-10s' "$c"; done
	echo "  ratios to no_ys ($cfgs)"
	for k in $kinds; do
		n=${BENCH_ROUTE_N:-100000}
		[[ $k == mmap ]] && n=$((n / 4))
		[[ $k == dd64 ]] && n=$((n * 4))
		: >"$TMP/u"
		for c in $cfgs; do : >"$TMP/t.$c"; done
		for ((i = 0; i < REPS; i++)); do
			note_others
			# shellcheck disable=SC2046
			$(route_cmd "$k" "$n") >"$TMP/w.out" 2>&1
			route_secs "$TMP/w.out" >>"$TMP/u"
			for c in $cfgs; do
				args=()
				bin=$YS
				[[ $c == no-tls ]] && args=(--no-tls)
				[[ $c == compat ]] && args=(--compat)
				[[ $c == base ]] && bin=$BENCH_ROUTES_BASE
				rm -f "$TMP/ctl"
				"$bin" --control "$TMP/ctl" "${args[@]}" -o /dev/null -p "$sp" 2>"$TMP/ys.err" &
				ys=$!
				BG_PIDS+=("$ys")
				wait_socket "$TMP/ctl"
				# shellcheck disable=SC2046
				$(route_cmd "$k" "$n") >"$TMP/w.out" 2>&1
				route_secs "$TMP/w.out" >>"$TMP/t.$c"
				stop_bg "$ys"
			done
		done
		us=$(median <"$TMP/u")
		printf '   %-7s %-8s %-12s' "$k" "$n" "$us"
		for c in $cfgs; do printf ' %-10s' "$(median <"$TMP/t.$c")"; done
		printf ' '
		for c in $cfgs; do printf ' %s' "$(calc %.2f "$(median <"$TMP/t.$c") / $us")"; done
		echo
	done
	stop_bg "$sp"
	echo "   traced: the workload run by yarasnoop (-- CMD, default hooks) vs alone"
	printf '   %-7s %-8s %-12s %-12s %s\n' workload n alone_s traced_s ratio
	for k in $kinds; do
		[[ $k == send || $k == ssl || $k == uring ]] || continue
		n=${BENCH_ROUTE_N:-100000}
		: >"$TMP/u"; : >"$TMP/t"
		for ((i = 0; i < REPS; i++)); do
			note_others
			# shellcheck disable=SC2046
			$(route_cmd "$k" "$n") >"$TMP/w.out" 2>&1
			route_secs "$TMP/w.out" >>"$TMP/u"
			# shellcheck disable=SC2046
			"$YS" --no-control -o /dev/null -- $(route_cmd "$k" "$n") >"$TMP/w.out" 2>"$TMP/ys.err"
			route_secs "$TMP/w.out" >>"$TMP/t"
		done
		us=$(median <"$TMP/u"); ts=$(median <"$TMP/t")
		printf '   %-7s %-8s %-12s %-12s %s\n' "$k" "$n" "$us" "$ts" "$(calc %.2f "$ts / $us")"
	done
	others_warning
	say_cmd "sleep 1000 & $OUTPUT/yarasnoop --no-control [--no-tls|--compat] -o /dev/null -p \$! &"
	say_cmd "$OUTPUT/bench/route_loop send|ssl|ioctl|mmap N [CERT KEY]    # with and without the line above"
	say_cmd "$OUTPUT/helpers/uring loop N 64 /dev/null    # io_uring WRITEs of 64 B, one at a time, likewise"
	say_cmd "$OUTPUT/yarasnoop --no-control -o /dev/null -- $OUTPUT/bench/route_loop send|ssl N [CERT KEY]"
	say_cmd "$OUTPUT/yarasnoop --no-control -o /dev/null -- $OUTPUT/helpers/uring loop N 64 /dev/null"
	say_cmd "BENCH_ONLY=routes make bench OUTPUT=$OUTPUT"
}

# What each kind of target costs the processes it does not trace: -p is a
# map lookup per write; -u reads the writer's credentials, --cgroup asks
# whether the writer is in the subtree, at every write of every process.
bench_filters() {
	local sp cg=
	section "filters: cost to a process yarasnoop does not trace, per kind of target"
	need_root || return 0
	echo "   untraced dd, with no yarasnoop vs while yarasnoop traces: -p a sleeping process, -u a uid"
	echo "   nobody writes as, -C a name nobody has, --cgroup an empty cgroup"
	sleep 100000 &
	sp=$!
	BG_PIDS+=("$sp")
	local root
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	if [[ -n $root ]] && mkdir -p "$root/ys-bench-$$"; then
		cg=$root/ys-bench-$$
	fi
	bystander_table "-p|-p $sp" "-u 4242|-u 4242" "-C|-C ys-nobody" ${cg:+"--cgroup|--cgroup $cg"}
	stop_bg "$sp"
	if [[ -n $cg ]]; then rmdir "$cg"; fi
	others_warning
	echo "   the verifier's figures per program (instructions processed, time), from loading the BPF side:"
	"$OUTPUT/helpers/recdump" --verifier-stats -o /dev/null -- true 2>&1 | sed 's/^/   /'
	say_cmd "$OUTPUT/yarasnoop --no-control -o /dev/null -u 4242 &    # or -p PID, -C NAME, --cgroup PATH"
	say_cmd "dd if=/dev/zero of=/dev/null bs=BS count=COUNT    # with and without the line above"
	say_cmd "$OUTPUT/helpers/recdump --verifier-stats -o /dev/null -- true"
	say_cmd "BENCH_ONLY=filters make bench OUTPUT=$OUTPUT"
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

bench_jobs() {
	local mb=${BENCH_JOBS_MB:-16} jobs=${BENCH_JOBS:-1 2 4} n j i k t0 size logs f f0 f1 cpu
	section "jobs: replay --jobs on N generated logs of ${mb} MB, --chunk-size 64K, bundled rules"
	logs=()
	for ((k = 1; k <= 8; k++)); do
		# deterministic, so kept between runs until the generator changes
		f=$BIN/jobs-log-${mb}MB-$k.txt
		[[ -s $f && $f -nt bench/genlog.py ]] || python3 bench/genlog.py "$f" "$mb" "$k"
		logs+=("$f")
	done
	: >"$TMP/empty"
	echo "   $(nproc) CPUs online; wall: the whole process; net: wall less replay of an empty file (its start)"
	printf '   %-7s %-5s %-7s %-7s %-9s %-6s %-6s %-8s %-10s %s\n' inputs jobs wall_s net_s net_MB/s ratio cpu_s job_cpu own_MB/s rules
	for n in 4 8; do
		size=0
		for ((k = 0; k < n; k++)); do size=$((size + $(stat -c %s "${logs[k]}"))); done
		: >"$TMP/j0"
		for j in $jobs; do : >"$TMP/j$j.t"; : >"$TMP/j$j.c"; : >"$TMP/j$j.m"; done
		# the sides alternate, each rep in another order, with the start
		# (an empty file) measured among them
		for ((i = 0; i < REPS; i++)); do
			t0=$(now_ns)
			"$YS" replay -i "$TMP/empty" -o /dev/null
			echo $(($(now_ns) - t0)) >>"$TMP/j0"
			for j in $( ((i % 2)) && echo "$jobs" | tr ' ' '\n' | tac || echo "$jobs"); do
				t0=$(now_ns)
				/usr/bin/time -f '%U %S' -o "$TMP/j$j.time" "$YS" replay -v -j "$j" --chunk-size 64K \
					-i "${logs[@]:0:n}" -o "$TMP/j$j.out" 2>"$TMP/j$j.err"
				echo $(($(now_ns) - t0)) >>"$TMP/j$j.t"
				awk '{ print $1 + $2 }' "$TMP/j$j.time" >>"$TMP/j$j.c"
				# the busiest job's own CPU time (replay -v)
				sed -n 's/.* jobs, CPU seconds \([0-9. ]*\) (.*/\1/p' "$TMP/j$j.err" |
					tr ' ' '\n' | sort -g | tail -n 1 >>"$TMP/j$j.m"
			done
		done
		f0=$(median <"$TMP/j0")
		f1=$(median <"$TMP/j1.t")
		for j in $jobs; do
			f=$(median <"$TMP/j$j.t")
			m=$(median <"$TMP/j$j.m")
			printf '   %-7s %-5s %-7s %-7s %-9s %-6s %-6s %-8s %-10s %s\n' "$n" "$j" "$(calc %.3f "$f / 1e9")" \
				"$(calc %.3f "($f - $f0) / 1e9")" "$(calc %.0f "$size * 1e3 / ($f - $f0)")" \
				"$(calc %.2f "($f1 - $f0) / ($f - $f0)")" "$(median <"$TMP/j$j.c")" "$m" \
				"$(calc %.0f "$size / 1e6 / $m")" \
				"$(grep -h 'Non-private rules matched' "$TMP/j$j.out" | awk '{ s += $NF } END { print s }')"
		done
	done
	echo "   ratio: net MB/s over --jobs 1's, same inputs; cpu_s: user + system of the process;"
	echo "   job_cpu: CPU seconds of the busiest job's thread (replay -v); own_MB/s: the input over job_cpu,"
	echo "   what the jobs would scan if each had a CPU of its own; rules: rules matched, all streams"
	echo "   start: replay of an empty file $(calc %.3f "$f0 / 1e9") s; medians of $REPS, the sides alternating"
	say_cmd "for k in 1 2 3 4 5 6 7 8; do python3 bench/genlog.py /tmp/log\$k $mb \$k; done"
	say_cmd "$OUTPUT/yarasnoop replay -v -j J --chunk-size 64K -i /tmp/log1 ... /tmp/logN -o /dev/null"
	say_cmd "BENCH_ONLY=jobs make bench OUTPUT=$OUTPUT"
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

# ---- start, hooks, real work ----

# Waits (at most 10 s) until no yarasnoop that has exited still releases
# its tracepoints in a child (ys-release): until then every process still
# takes the kernel's syscall-tracing path, which would slow a baseline.
released() {
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -x ys-release >/dev/null || return 0
		sleep 0.1
	done
}

# start_run CFG: one yarasnoop -- date +%s%N of configuration CFG; appends
# exec-to-command and exec-to-exit (ns) to $TMP/st.CFG.exec and .total
start_run() {
	local bin=$YS tx t0 t1 env=()
	case $1 in
	base) bin=$BENCH_START_BASE ;;
	serial) env=(YARASNOOP_LOADERS=1) ;;
	whole) env=(YARASNOOP_BTF=kernel) ;;
	notls) ;;
	# right after another run: its ys-release detaches while this one attaches
	again) "$YS" --no-control -o /dev/null -- true >/dev/null 2>&1 ;;
	baseagain)
		bin=$BENCH_START_BASE
		"$bin" --no-control -o /dev/null -- true >/dev/null 2>&1
		;;
	esac
	t0=$(now_ns)
	tx=$(env "${env[@]}" "$bin" --no-control -o /dev/null $([[ $1 == notls ]] && echo --no-tls) \
		-- date +%s%N 2>/dev/null)
	t1=$(now_ns)
	echo $((tx - t0)) >>"$TMP/st.$1.exec"
	echo $((t1 - t0)) >>"$TMP/st.$1.total"
}

# ours_released BEFORE: waits (at most 10 s) until every ys-release that is
# not in BEFORE (the pids there were before our run: other engineers') is gone
ours_released() {
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -x ys-release | grep -qvxF -f <(printf '%s\n' $1 0) || return 0
		sleep 0.1
	done
	return 1
}

bench_start() {
	local n=$((REPS * 2)) i t1 cfg before cfgs="this whole serial notls again"
	section "start: yarasnoop -- date, from exec to the command's exec (start) and to exit (total)"
	need_root || return 0
	[[ -n ${BENCH_START_BASE:-} ]] && cfgs="base $cfgs baseagain"
	for cfg in $cfgs; do
		: >"$TMP/st.$cfg.exec"; : >"$TMP/st.$cfg.total"; : >"$TMP/st.$cfg.rel"
	done
	# the configurations alternate, so that a machine that gets busier
	# slows them alike
	for ((i = 0; i < n; i++)); do
		for cfg in $cfgs; do
			note_others
			before=$(pgrep -x ys-release || true)
			start_run "$cfg"
			# how long the kernel's release takes after we are gone, in
			# our child; the next run starts after it
			t1=$(now_ns)
			ours_released "$before" && echo $(($(now_ns) - t1)) >>"$TMP/st.$cfg.rel"
		done
	done
	printf '   %-64s %9s %9s %9s\n' "median of $n runs each, ms" start total released
	for cfg in $cfgs; do
		case $cfg in
		this) d="this binary (TLS on, the default with -- CMD)" ;;
		serial) d="... its programs loaded by one thread (YARASNOOP_LOADERS=1)" ;;
		whole) d="... libbpf given the kernel's whole BTF (YARASNOOP_BTF=kernel)" ;;
		again) d="... right after another run, its hooks still being released" ;;
		notls) d="... --no-tls" ;;
		base) d="BENCH_START_BASE ($BENCH_START_BASE)" ;;
		baseagain) d="... BENCH_START_BASE right after another of its runs" ;;
		esac
		printf '   %-64s %9.1f %9.1f %9s\n' "$d" "$(calc %.1f "$(median <"$TMP/st.$cfg.exec") / 1e6")" \
			"$(calc %.1f "$(median <"$TMP/st.$cfg.total") / 1e6")" \
			"$( [[ -s $TMP/st.$cfg.rel ]] && calc %.1f "$(median <"$TMP/st.$cfg.rel") / 1e6" || echo -)"
	done
	echo "   start: to the command's exec; total: to yarasnoop's exit; released: then until its"
	echo "   ys-release child has closed the last link (the kernel's detach, after yarasnoop has gone;"
	echo "   -: not seen within 10 s, or other engineers' ys-release came and went meanwhile)"
	# where the start goes, from the system calls that mark each phase
	if command -v strace >/dev/null; then
		strace --seccomp-bpf -f -ttt -T -e trace=execve,bpf -o "$TMP/st.strace" \
			"$YS" --no-control -o /dev/null -- true 2>/dev/null
		python3 - "$TMP/st.strace" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
t0, main = float(lines[0].split()[1]), lines[0].split()[0]
marks = {}
def mark(k, t):
    marks.setdefault(k, t - t0)
for l in lines:
    pid, t = l.split()[0], float(l.split()[1])
    if "BPF_BTF_LOAD" in l: mark("btf", t)
    elif "BPF_MAP_CREATE" in l and "progs" not in marks: marks["maps_end"] = t - t0
    elif "BPF_PROG_LOAD" in l and "BPF_PROG_TYPE_SOCKET_FILTER" not in l and re.search(r"insn_cnt=\d{3,}", l):
        mark("progs", t)
    elif "BPF_LINK_CREATE" in l: mark("attach", t)
    elif pid != main and "execve(" in l and "= 0" in l: mark("exec", t)
ph = [("libraries, rules, vmlinux BTF parsed", 0, marks.get("btf")),
      ("maps created", marks.get("btf"), marks.get("maps_end")),
      ("CO-RE relocations", marks.get("maps_end"), marks.get("progs")),
      ("programs verified and loaded", marks.get("progs"), marks.get("attach")),
      ("attached, targets set, command started", marks.get("attach"), marks.get("exec"))]
print("   one run under strace (which slows it), phase by phase, ms:")
for name, a, b in ph:
    if a is not None and b is not None:
        print("   %-44s %.1f" % ("  " + name, (b - a) * 1000))
# the costliest bpf() calls, by map or program name (the kernel's share)
cost = {}
for l in lines:
    m = re.search(r"bpf\((BPF_\w+), \{(.*)\}, \d+\) = .*<([\d.]+)>", l)
    if m:
        n = re.search(r'(?:map|prog)_name="(\w*)"', m.group(2))
        k = m.group(1)[4:].lower() + (" " + n.group(1) if n and n.group(1) else "")
        cost[k] = cost.get(k, 0) + float(m.group(3))
print("   in the kernel: bpf() %.1f ms in all; the costliest: %s" % (1000 * sum(cost.values()), ", ".join(
    "%s %.1f" % kv for kv in sorted(((k, 1000 * v) for k, v in cost.items()), key=lambda kv: -kv[1])[:8])))
PY
	else
		echo "   (strace is not installed: no phases)"
	fi
	others_warning
	say_cmd "time $OUTPUT/yarasnoop --no-control -o /dev/null -- true"
	say_cmd "strace --seccomp-bpf -f -ttt -e trace=execve,bpf $OUTPUT/yarasnoop --no-control -o /dev/null -- true"
	say_cmd "BENCH_ONLY=start [BENCH_START_BASE=/tmp/ysmain/build/yarasnoop] make bench OUTPUT=$OUTPUT"
}

# Hook cost, side by side in one run, for the kernel it runs on: untraced dd
# with nothing attached vs while yarasnoop runs with each --hooks mode, and
# dd traced with each mode. In a vmtest guest too:
#   BENCH_ONLY=hooks scripts/vmtest.sh -k 6.1 -- scripts/bench.sh
# floor_start NAME: bench/hook_floor NAME attached (0), or refused (1)
floor_start() {
	local i
	"$BIN/hook_floor" "$1" >"$TMP/fl.out" 2>"$TMP/fl.err" &
	FLOOR_PID=$!
	BG_PIDS+=("$FLOOR_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q '^attached' "$TMP/fl.out" && return 0
		kill -0 "$FLOOR_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
stop_floor() { stop_bg "$FLOOR_PID"; }

bench_hooks() {
	local i h sp n n64 row
	local -a rows refused=()
	section "hooks: what each --hooks mode costs, on $(uname -r)"
	need_root || return 0
	hooks_here
	sleep 100000 &
	sp=$!
	BG_PIDS+=("$sp")
	dd_count 64
	n64=$DD_N
	dd_count 4096
	rows=("untraced 64 none")
	# the floor: a no-op program on each kind of hook (those this kernel takes)
	for h in ${BENCH_FLOORS:-tp_sys_exit_write fexit_sys_write fexit_vfs_write}; do
		if floor_start "$h"; then
			rows+=("floor 64 $h")
		else
			refused+=("$h: $(head -c 200 "$TMP/fl.err")")
		fi
		stop_floor
	done
	for h in $HOOKS; do rows+=("untraced 64 $h"); done
	for h in $HOOKS; do rows+=("traced 64 $h"); done
	rows+=("untraced 4096 none")
	for h in $HOOKS; do rows+=("traced 4096 $h"); done
	for ((i = 0; i < REPS; i++)); do
		note_others
		for row in "${rows[@]}"; do
			set -- $row
			n=$([[ $2 == 64 ]] && echo "$n64" || echo "${DD_COUNT[4096]}")
			released
			if [[ $1 == untraced && $3 == none ]]; then
				dd if=/dev/zero of=/dev/null bs="$2" count="$n" 2>"$TMP/dd.err"
			elif [[ $1 == floor ]]; then
				floor_start "$3"
				dd if=/dev/zero of=/dev/null bs="$2" count="$n" 2>"$TMP/dd.err"
				stop_floor
			elif [[ $1 == untraced ]]; then
				ys_on_sleeper "$3" "$sp"
				dd if=/dev/zero of=/dev/null bs="$2" count="$n" 2>"$TMP/dd.err"
				stop_bg "$YS_BG"
			else
				"$YS" --no-control --hooks "$3" -o /dev/null -- \
					dd if=/dev/zero of=/dev/null bs="$2" count="$n" 2>"$TMP/dd.err"
			fi
			dd_seconds "$TMP/dd.err" >>"$TMP/hk.$1.$2.$3"
		done
	done
	stop_bg "$sp"
	printf '   %-40s %-6s %-10s %-9s %s\n' dd bs count median_s ratio
	for row in "${rows[@]}"; do
		set -- $row
		n=$([[ $2 == 64 ]] && echo "$n64" || echo "${DD_COUNT[4096]}")
		case $1:$3 in
		untraced:none) row="untraced, nothing attached" ;;
		floor:*) row="untraced, no-op $3" ;;
		untraced:*) row="untraced, yarasnoop --hooks $3" ;;
		*) row="traced, --hooks $3" ;;
		esac
		printf '   %-40s %-6s %-10s %-9s %s\n' "$row" "$2" "$n" \
			"$(median <"$TMP/hk.$1.$2.$3")" \
			"$(calc %.2f "$(median <"$TMP/hk.$1.$2.$3") / $(median <"$TMP/hk.untraced.$2.none")")"
	done
	echo "   ratio: to untraced dd with nothing attached, same bs; medians of $REPS, alternating in each round"
	echo "   no-op NAME: bench/hook_floor.bpf.c's program NAME alone (one hash lookup): the hook's own cost"
	for h in "${refused[@]}"; do echo "   refused here: $h"; done
	hooks_refused
	others_warning
	say_cmd "sleep 1000 & $OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -p \$! &   # untraced, --hooks HOOKS"
	say_cmd "$OUTPUT/yarasnoop --no-control --hooks HOOKS -o /dev/null -- dd if=/dev/zero of=/dev/null bs=BS count=COUNT"
	say_cmd "BENCH_ONLY=hooks BENCH_HOOKS='$HOOKS' make bench OUTPUT=$OUTPUT"
}

# WORK_CMD: the workload's command line; WORK_TRACED: the same, traced
work_cmd() {
	local w=$1 tv=(/usr/bin/time -f '%e %U %S' -o "$TMP/inner")
	local ys=("$YS" --no-control --format json -o "$TMP/work.json")
	case $w in
	make)
		# the project's own build, from clean, outside the tree's build dirs
		WORK_CMD=(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -j2 OUTPUT="$TMP/work-build")
		WORK_PRE="rm -rf $TMP/work-build" ;;
	python)
		WORK_CMD=(/usr/bin/python3 -m test -q ${BENCH_WORK_PYTESTS:-test_json test_re test_collections test_shutil test_os})
		WORK_PRE=: ;;
	tar)
		WORK_CMD=(tar czf "$TMP/work.tgz" -C "$(dirname "${BENCH_WORK_TREE:-/usr/include}")" "$(basename "${BENCH_WORK_TREE:-/usr/include}")")
		WORK_PRE="rm -f $TMP/work.tgz" ;;
	shell)
		# yarasnoop on the shell, inside the terminal: as a user runs it on a root shell
		WORK_CMD=(python3 bench/pty_session.py "${BENCH_WORK_ROUNDS:-20}" "${tv[@]}" bash --norc --noprofile -i)
		WORK_TRACED=(python3 bench/pty_session.py "${BENCH_WORK_ROUNDS:-20}" "${ys[@]}" -- "${tv[@]}" bash --norc --noprofile -i)
		WORK_PRE=:
		return ;;
	esac
	WORK_TRACED=("${ys[@]}" -- "${tv[@]}" "${WORK_CMD[@]}")
	WORK_CMD=("${tv[@]}" "${WORK_CMD[@]}")
}

# work_once W SIDE: runs workload W (untraced or traced), appends
# "wall outer_cpu inner_cpu" to $TMP/wk.W.SIDE
work_once() {
	local w=$1 side=$2 wall ou os iw iu is
	eval "$WORK_PRE"
	: >"$TMP/inner"
	if [[ $side == untraced ]]; then
		/usr/bin/time -f '%e %U %S' -o "$TMP/outer" "${WORK_CMD[@]}" >"$TMP/work.out" 2>&1
	else
		/usr/bin/time -f '%e %U %S' -o "$TMP/outer" "${WORK_TRACED[@]}" >"$TMP/work.out" 2>&1
		summary_fields "$TMP/work.json" >>"$TMP/wk.$w.sum" 2>/dev/null || echo "- - - -" >>"$TMP/wk.$w.sum"
	fi || echo "   $w ($side) failed: $(tail -n 3 "$TMP/work.out" | tr '\n' ' ' | head -c 300)"
	# (time's last line: a first one says when the command failed)
	read -r wall ou os < <(tail -n 1 "$TMP/outer") || true
	read -r iw iu is < <(tail -n 1 "$TMP/inner") || true
	# the pty session times itself: from its first prompt (the typing; the
	# 4th column: from the driver's start, yarasnoop's start included)
	local whole=$wall
	if [[ $w == shell ]]; then
		whole=$(sed -n 's/^elapsed=\([0-9.]*\) .*/\1/p' "$TMP/work.out")
		wall=$(sed -n 's/^elapsed=[0-9.]* session=\([0-9.]*\) .*/\1/p' "$TMP/work.out")
	fi
	echo "$wall $(calc %.3f "$ou + $os") $(calc %.3f "$iu + $is") $whole" >>"$TMP/wk.$w.$side"
}

bench_work() {
	local reps=${BENCH_WORK_REPS:-7} w i side uw tw uc tc ys_cpu sum pm plo phi pconf pint verdict
	local -a works
	section "work: real workloads, untraced and traced (default settings, bundled rules)"
	need_root || return 0
	for w in ${BENCH_WORK:-make python tar shell}; do
		if [[ $w == python ]] && ! /usr/bin/python3 -c 'import test.test_json' 2>/dev/null; then
			echo "   python: skipped, the stdlib's tests are missing (libpython3.11-testsuite: scripts/install-deps.sh bench)"
			continue
		fi
		works+=("$w")
	done
	if perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
		echo "   hardware counters: not supported here (perf stat -e instructions); CPU is user+sys time from rusage"
	fi
	for ((i = 0; i < reps; i++)); do
		note_others
		for w in "${works[@]}"; do
			work_cmd "$w"
			# which side goes first alternates too: the first of a pair
			# finds the caches as the other workload left them
			for side in $( ((i % 2)) && echo traced untraced || echo untraced traced); do
				released
				work_once "$w" "$side"
			done
		done
	done
	printf '   %-7s %-10s %-9s %-6s %-7s %-13s %-10s %-14s %-14s %-9s %-13s %-11s %s\n' workload untraced_s traced_s ratio \
		paired interval_95 vs_1.05 work_cpu_untr_s work_cpu_trac_s cpu_ratio yarasnoop_cpu written_MB dropped_pct
	for w in "${works[@]}"; do
		read -r pm plo phi pconf < <(paired "$TMP/wk.$w.untraced" "$TMP/wk.$w.traced")
		if [[ $plo == - ]]; then pint="-" verdict="n<6"
		else
			pint="$plo-$phi"
			if awk "BEGIN { exit !($phi <= 1.05) }"; then verdict=within
			elif awk "BEGIN { exit !($plo > 1.05) }"; then verdict=over
			else verdict=undecided
			fi
		fi
		uw=$(cut -d' ' -f1 "$TMP/wk.$w.untraced" | median); tw=$(cut -d' ' -f1 "$TMP/wk.$w.traced" | median)
		uc=$(cut -d' ' -f3 "$TMP/wk.$w.untraced" | median); tc=$(cut -d' ' -f3 "$TMP/wk.$w.traced" | median)
		ys_cpu=$(awk '{ print $2 - $3 }' "$TMP/wk.$w.traced" | median)
		[[ $w == shell ]] && ys_cpu=$(calc %.3f "$ys_cpu - $(awk '{ print $2 - $3 }' "$TMP/wk.$w.untraced" | median)")
		sum=$(awk '$1 != "-" { w = $1; d = $2 } END { printf "%.1f %.2f", w / 1e6, w ? 100 * d / w : 0 }' "$TMP/wk.$w.sum")
		printf '   %-7s %-10s %-9s %-6s %-7s %-13s %-10s %-14s %-14s %-9s %-13s %-11s %s\n' "$w" "$uw" "$tw" "$(calc %.3f "$tw / $uw")" \
			"$pm" "$pint" "$verdict" "$uc" "$tc" "$(calc %.3f "$tc / $uc")" "$ys_cpu" $sum
	done
	if [[ " ${works[*]} " == *" shell "* ]]; then
		uw=$(cut -d' ' -f4 "$TMP/wk.shell.untraced" | median); tw=$(cut -d' ' -f4 "$TMP/wk.shell.traced" | median)
		echo "   shell: from its first prompt to its exit (yarasnoop's stop included); from the start, yarasnoop's start"
		echo "   included: $uw s untraced, $tw s traced, $(calc %.3f "$tw / $uw")x (the start alone: the 'start' section)"
	fi
	echo "   medians of $reps, untraced and traced alternating (and which goes first); *_s: wall seconds; ratio: of the"
	echo "   medians; paired: the median of each rep's traced/untraced (the two run next to each other, so a machine"
	echo "   slower for a minute slows both), interval_95: where that median is with >= 95 % confidence (order"
	echo "   statistics, no spread assumed; 6 reps at least), vs_1.05: the issue's target, 'within' or 'over' only when"
	echo "   the whole interval is; work_cpu: the workload's"
	echo "   user+sys (its hooks' cost lands there); yarasnoop_cpu: yarasnoop's own user+sys (draining,"
	echo "   scanning), which competes with the workload for the $(nproc) cores; written/dropped: the last traced run"
	others_warning
	say_cmd "/usr/bin/time $OUTPUT/yarasnoop --no-control -o /dev/null -- make -s -j2 OUTPUT=/tmp/b   # and without"
	say_cmd "/usr/bin/time $OUTPUT/yarasnoop --no-control -o /dev/null -- python3 -m test -q ${BENCH_WORK_PYTESTS:-test_json test_re test_collections test_shutil test_os}"
	say_cmd "/usr/bin/time $OUTPUT/yarasnoop --no-control -o /dev/null -- tar czf /tmp/t.tgz ${BENCH_WORK_TREE:-/usr/include}"
	say_cmd "python3 bench/pty_session.py ${BENCH_WORK_ROUNDS:-20} $OUTPUT/yarasnoop --no-control -o /dev/null -- bash --norc --noprofile -i"
	say_cmd "BENCH_ONLY=work make bench OUTPUT=$OUTPUT"
}

main() {
	local b
	# main runs in the pipeline's subshell: its traps, its background jobs
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	for b in yarasnoop bench/scan_cost bench/streams_mem bench/rate_writer bench/route_loop bench/hook_floor helpers/recdump; do
		if [[ ! -x $OUTPUT/$b ]]; then
			echo "$OUTPUT/$b is missing: run 'make bench OUTPUT=$OUTPUT'" >&2
			return 2
		fi
	done
	machine
	selected dd && bench_dd
	selected bystander && bench_bystander
	selected routes && bench_routes
	selected filters && bench_filters
	selected replay && bench_replay
	selected jobs && bench_jobs
	selected scancost && bench_scancost
	selected rate && bench_rate
	selected latency && bench_latency
	selected mem && bench_mem
	selected churn && bench_churn
	selected gate && bench_gate
	selected workers && bench_workers
	selected rules && bench_rules
	selected start && bench_start
	selected hooks && bench_hooks
	selected work && bench_work
	selected ruleset && bench_ruleset
	printf '\n== done (load average %s)\n' "$(loadavg)"
}

mkdir -p "$BIN"
# one line: bash has read it whole before running it, so the script may be
# edited while it runs
main 2>&1 | tee "$BIN/results.txt"; exit "${PIPESTATUS[0]}"
