#!/usr/bin/env bash
# Loading: the maps are made once, then the programs are dealt to several
# instances of the object loaded at once (one per CPU; YARASNOOP_LOADERS
# sets how many), while the TLS object loads beside them. Whatever the
# count, every program a run uses is loaded exactly once, shares the one
# set of maps, and is attached; the links' last close, the TLS uprobes'
# included, belongs to the ys-release child, and every program is gone once
# that has finished. Real BPF, real processes, as root.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "loading" || { echo "1..$_n"; exit 0; }
command -v bpftool >/dev/null || { skip "loading: bpftool is not installed"; echo "1..$_n"; exit 0; }
DIR=$(dirname "$YARASNOOP")
R=$TESTDATA/tls.yar

# The programs of an object, "NAME SECTION" a line: its global functions
# outside .text (those in .text are subprograms)
progs_of() {
	readelf -SW "$1" | sed -n 's/^ *\[ *\([0-9]*\)\] \([^ ]*\) .*/\1 \2/p' >"$TMP/sections"
	readelf -sW "$1" | awk 'NR == FNR { sec[$1] = $2; next }
		$4 == "FUNC" && $5 == "GLOBAL" && sec[$7] != ".text" && sec[$7] != "" { print $8, sec[$7] }' \
		"$TMP/sections" - | sort
}
# The hooks this kernel gets by default (--hooks auto), as yarasnoop says
HOOKS=$("$YARASNOOP" -v --no-control -o /dev/null -- true 2>&1 | sed -n 's/^yarasnoop: hooks: \([a-z-]*\) .*/\1/p' | head -n 1)
check "the hooks in use are said under -v ($HOOKS)" test -n "$HOOKS"
# what a run loads (user/hooks.c): exit tracepoints, or trampolines; never
# --compat's hook; the io_uring hooks under this kernel's event names
if [[ $HOOKS == fexit ]]; then
	skip_secs='^tracepoint/syscalls/'
else
	skip_secs='^(fexit/|fentry/|tracepoint/syscalls/sys_enter_write)'
fi
skip_progs='on_sys_exit_compat'
uring_ev() { [[ -e /sys/kernel/tracing/events/io_uring/$1 || -e /sys/kernel/debug/tracing/events/io_uring/$1 ]]; }
if uring_ev io_uring_submit_req; then skip_progs+='|on_uring_submit_sqe|on_uring_complete_res'
elif uring_ev io_uring_submit_sqe; then skip_progs+='|on_uring_submit|on_uring_complete'
else skip_progs+='|on_uring_submit|on_uring_complete|on_uring_submit_sqe|on_uring_complete_res'
fi
WANT=$( (progs_of "$DIR/yarasnoop.bpf.o" | awk -v s="$skip_secs" '$2 !~ s { print $1 }' | grep -vxE "$skip_progs"
	progs_of "$DIR/tls.bpf.o" | cut -d' ' -f1) | sort)
# names PID: the names of the programs PID holds, one a line, sorted (a
# program loaded twice shows twice)
names() {
	local id
	for id in $(prog_ids "$1"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])'
	done | sort
}
# maps_of PID: the ids of the maps PID's programs use, one a line, sorted, once each
maps_of() {
	local id
	for id in $(prog_ids "$1"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print("\n".join(map(str, json.load(sys.stdin).get("map_ids", []))))'
	done | sort -un
}
# release_of PID: PID's ys-release child
release_of() { pgrep -P "$1" -x ys-release | head -n 1; }

# the uprobes are set on the libraries that are there (user/tls.c)
TLS_PROGS=
[[ -e /lib/x86_64-linux-gnu/libssl.so.3 ]] && TLS_PROGS+="ssl_write tls_send_ret "
[[ -e /lib/x86_64-linux-gnu/libgnutls.so.30 ]] && TLS_PROGS+="gnutls_send"
[[ -n $TLS_PROGS ]] || skip "loading: no TLS library to set uprobes on"
check "the object has programs to deal ($(wc -l <<<"$WANT"))" test "$(wc -l <<<"$WANT")" -ge 20
for n in 1 2 4; do
	rm -f "$TMP/ev"
	YARASNOOP_LOADERS=$n ys_start "l$n" -r "$R" --format json -o "$TMP/ev" -- sleep 600
	check "$n loader(s): loads, attaches, answers on its control socket" kill -0 "$YSPID"
	got=$(names "$YSPID")
	if [[ $got == "$WANT" ]]; then
		ok "$n loader(s): each program of the run loaded once ($(wc -l <<<"$got"))"
	else
		not_ok "$n loader(s): each program of the run loaded once: $(diff <(echo "$WANT") <(echo "$got") | tr '\n' ' ')"
	fi
	# the maps are the maps instance's: one ring buffer, one traced map
	# for every instance, TLS's included
	rings=0 traced=0
	for m in $(maps_of "$YSPID"); do
		case $(bpftool map show id "$m" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])') in
		rb) rings=$((rings + 1)) ;;
		traced) traced=$((traced + 1)) ;;
		esac
	done
	check "$n loader(s): every instance shares one ring buffer and one traced map ($rings, $traced)" \
		test "$rings:$traced" == 1:1
	rel=$(release_of "$YSPID")
	held=$(for id in $(prog_ids "$rel"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])'
	done | sort -u | tr '\n' ' ')
	for p in tp_exit_write tp_enter_close on_exit_proc tp_exit_splice $TLS_PROGS; do
		check "$n loader(s): ys-release holds a link to $p" grep -qw "$p" <<<"$held"
	done
	ids=$(prog_ids "$YSPID")
	# passed on to the command (a script's background job ignores SIGINT)
	ys_stop TERM
	check "$n loader(s): stopped by SIGTERM, it says so in its status ($YSRC)" test "$YSRC" -ne 0
	# shellcheck disable=SC2086 # a list of ids
	check "$n loader(s): every program is released once ys-release has finished" poll progs_released $ids
done

# a bad count is no count: one loader per CPU
YARASNOOP_LOADERS=x ys_start lx -r "$R" -o /dev/null -- sleep 600
check "YARASNOOP_LOADERS=x: starts all the same" kill -0 "$YSPID"
got=$(names "$YSPID")
check "YARASNOOP_LOADERS=x: each program of the run loaded once" test "$got" == "$WANT"
ys_stop TERM
# the kernel's BTF cut to what the relocations reach (user/kbtf.c): libbpf
# relocates every program as it would against the whole of it
CUT=$DIR/helpers/btfcut
for h in $HOOKS enter-exit; do
	"$CUT" --hooks "$h" >"$TMP/cut.$h" 2>&1
	rc=$?
	check "--hooks $h: each object relocated against the cut is loaded as against the whole BTF (exit $rc)" test $rc -eq 0
	check "--hooks $h: both objects compared, no instruction differs" \
		test "$(grep -cE '^(yarasnoop|tls): [1-9][0-9]* programs, [1-9][0-9]* instructions compared, 0 differ; [1-9][0-9]* rewritten' "$TMP/cut.$h")" -eq 2
done
kept=$(sed -n 's/^cut: \([0-9]*\) of \([0-9]*\) types.*/\1 \2/p' "$TMP/cut.$HOOKS")
check "the cut is a small part of the kernel's BTF ($kept)" awk -v k="$kept" 'BEGIN { split(k, a, " "); exit !(a[1] > 100 && a[1] * 20 < a[2]) }'
"$YARASNOOP" -v -r "$R" --no-control -o /dev/null -- true 2>"$TMP/v.cut"
check "-v says how much of the kernel's BTF it kept" grep -qE '^yarasnoop: kernel BTF: [0-9]+ of its [0-9]+ types kept for the relocations' "$TMP/v.cut"
YARASNOOP_BTF=kernel "$YARASNOOP" -v -r "$R" --no-control -o /dev/null -- true 2>"$TMP/v.whole"
rc=$?
check "YARASNOOP_BTF=kernel: runs, libbpf reading the whole BTF (exit $rc)" \
	grep -q '^yarasnoop: kernel BTF: read whole by libbpf (YARASNOOP_BTF=kernel)' "$TMP/v.whole"
check "YARASNOOP_BTF=kernel: exit 0" test $rc -eq 0
# the verifier's work by function: the write path (capture_write) and the
# copy of one record (emit_piece) are global, validated once per program
# apart from their callers' states (BENCHMARKS.md, Start and stop)
"$DIR/helpers/recdump" --verifier-log "$TMP/vlog" -o /dev/null -- true >/dev/null 2>"$TMP/vstats"
"$(dirname "$0")/../../scripts/verifier_funcs.py" "$TMP/vlog" >"$TMP/vfuncs" 2>&1
check "recdump --verifier-stats: a figure per program" \
	test "$(grep -cE '^verifier: [a-z_0-9]+: [1-9][0-9]* insns processed' "$TMP/vstats")" -ge 20
for f in capture_write emit_piece; do
	n=$(grep -cE "^ *[1-9][0-9]*  [a-z_0-9]+ $f\$" "$TMP/vfuncs")
	check "$f validated on its own in each program of the write path ($n programs)" test "$n" -ge 3
done
# Other runs' ys-release wait while a start attaches (user/deferred_close.c).
# stand_in NAME TYPE BYTE [LEN]: a process holding that lock of /run/yarasnoop.release
# (r: shared, as starts hold byte 0 while they attach; w: exclusive, as a
# ys-release holds it an instant), in $STAND once it holds it
LOCKF=/run/yarasnoop.release
stand_in() {
	$PY - "$TMP/$1" "$2" "$3" "${4:-1}" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open("/run/yarasnoop.release", os.O_RDWR | os.O_CREAT, 0o600)
kind = fcntl.F_RDLCK if sys.argv[2] == "r" else fcntl.F_WRLCK
fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, struct.pack("hhqqi", kind, 0, int(sys.argv[3]), int(sys.argv[4]), 0))
open(sys.argv[1], "w").close()
time.sleep(600)
PY
	STAND=$!
	bg_track "$STAND"
	poll test -e "$TMP/$1"
}
# stop_held SECONDS: stops $YSPID; SECONDS later, how many of its programs
# ($loaded, ids in $ids) its ys-release still holds ($held)
stop_held() {
	local rel
	rel=$(release_of "$YSPID")
	ids=$(prog_ids "$YSPID")
	loaded=$(wc -w <<<"$ids")
	ys_stop TERM
	sleep "$1"
	held=$(prog_ids "$rel" | wc -l)
}
stand_in gate r 0
check "a stand-in start holds the gate" test -e "$TMP/gate"
check "the lock file is root's, mode 0600, a regular file" test "$(stat -c '%U %a %F' "$LOCKF")" == "root 600 regular empty file"
ys_start gate -v -r "$R" --no-tls -o /dev/null -- sleep 600
check "a start beside another start attaching is not held" kill -0 "$YSPID"
check "... and passes the gate (nothing said under -v)" test "$(grep -c "cannot lock $LOCKF" "$TMP/gate.err")" -eq 0
stop_held 1
check "its ys-release closes nothing while a start holds the gate ($held of $loaded programs held)" \
	test "$held" -eq "$loaded"
kill "$STAND"
bwait "$STAND"
# shellcheck disable=SC2086 # a list of ids
check "once the gate is let go, its ys-release closes every link" poll progs_released $ids
# the queue is bounded (the kernel takes 64 programs a tracepoint): a
# ys-release that finds its 24 places taken closes at once, gate or not
stand_in gate2 r 0
gate2=$STAND
stand_in queue w 2 24
queue=$STAND
ys_start full -r "$R" --no-tls -o /dev/null -- sleep 600
stop_held 2
check "the release queue full (24 waiting), a run's ys-release closes while a start holds the gate ($held of $loaded programs held after 2 s)" \
	test "$held" -lt "$loaded"
# shellcheck disable=SC2086 # a list of ids
check "... every link" poll progs_released $ids
kill "$gate2" "$queue"
bwait "$gate2"
bwait "$queue"
# a ys-release stopped at the gate: a start waits a second, no more
stand_in closing w 0
ys_start stuck -v -r "$R" --no-tls -o /dev/null -- sleep 600
check "a start whose predecessor's ys-release is stuck at the gate goes on" kill -0 "$YSPID"
check "... and says so under -v" grep -q "cannot lock $LOCKF (Resource temporarily unavailable)" "$TMP/stuck.err"
ys_stop TERM
kill "$STAND"
bwait "$STAND"
echo "1..$_n"
