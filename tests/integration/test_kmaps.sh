#!/usr/bin/env bash
# The kernel side's tables (as root, real BPF): sized from the limits, a
# full one reported as it happens (not only at exit) and failing the gate;
# frozen once the targets are in, so that no process, root included, can
# untrace itself through bpf(); and a traced process calling bpf() is
# reported, a go at yarasnoop's own objects failing the gate.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "kernel maps" || { echo "1..$_n"; exit 0; }
H=$(cd "$(dirname "$0")/../helpers" && pwd)
WHO=$H/who.py
R=$TESTDATA/procs.yar
EV=$TMP/ev
command -v bpftool >/dev/null || { skip "bpftool is missing"; echo "1..$_n"; exit 0; }

# release FIFO: lets a process waiting on FIFO go (failing, not hanging,
# when nobody reads it any more)
release() { timeout 30 sh -c 'echo go >"$1"' sh "$1"; }
# map_id NAME FILE: the id of our map NAME, as -v printed it in FILE
map_id() { sed -n "s/^yarasnoop: map $1 id \([0-9]*\)$/\1/p" "$2"; }
# le32 N: N as four little-endian bytes for bpftool
le32() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

# ---- sized from the limits ----
mkfifo "$TMP/hold"
$PY "$WHO" wait:"$TMP/hold" w:YS_WHO_MARK_A >/dev/null &
P=$!
ys_start s1 -v -r "$R" --format json -o "$EV" --max-streams 10000 -p $P || not_ok "yarasnoop did not start: $(cat "$TMP/s1.err")"
stats_to "$TMP/st"
tasks=$(( $(cat /proc/sys/kernel/pid_max) < $(cat /proc/sys/kernel/threads-max) ? $(cat /proc/sys/kernel/pid_max) : $(cat /proc/sys/kernel/threads-max) ))
jstat "--max-streams 10000: the kernel's stream table holds 40000" "$TMP/st" \
	"D['kernel_maps']['streams_max'] == 40000 and D['kernel_maps']['procs_max'] == min(40000, max($tasks, 1024))"
jstat "the traced table holds as many processes as the system can have" "$TMP/st" \
	"D['kernel_maps']['traced_max'] == min(max($tasks, 1024), 1 << 22)"

# ---- frozen: nobody changes them through bpf(), root included ----
traced=$(map_id traced "$TMP/s1.err")
streams=$(map_id streams "$TMP/s1.err")
check "-v names our maps' ids" test -n "$traced" -a -n "$streams"
bpftool map lookup id "$traced" key $(le32 $P) >"$TMP/lookup" 2>&1
check "the traced map can be read: the process is in it" test $? -eq 0
bpftool map delete id "$traced" key $(le32 $P) >"$TMP/bt" 2>&1
rc=$?
check "bpftool map delete on traced, as root: refused" test $rc -ne 0
expect_grep "... for want of permission (the map is frozen)" "Operation not permitted" "$TMP/bt"
bpftool map update id "$traced" key $(le32 1) value 1 0 0 0 1 0 0 0 >"$TMP/bt" 2>&1
check "bpftool map update on traced, as root: refused" test $? -ne 0
bpftool map update id "$streams" key 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 \
	value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 >"$TMP/bt" 2>&1
check "bpftool map update on streams: refused" test $? -ne 0
release "$TMP/hold"
wait $P
wait "$YSPID"
found_a() { grep -q '"rule":"mark_a"' "$EV"; }
check "the process is still traced after the attempts: its marker is found" found_a

# ---- a traced process that goes for our maps fails the gate ----
# it reads our map's id where -v printed it before the command was let run
# go_for_maps STEP: yarasnoop in the background, its command going for the
# traced map, then STEP, then waiting on $TMP/tw (released by the caller)
go_for_maps() {
	rm -f "$TMP/tw" && mkfifo "$TMP/tw"
	"$YARASNOOP" --no-control -v -r "$R" --format json -o "$EV" --fail-on-match --no-lossless -- /bin/sh -c \
		"id=\$(sed -n 's/^yarasnoop: map traced id \([0-9]*\)\$/\1/p' $TMP/t.err); bpftool map delete id \$id key $(le32 1) 2>$TMP/t.bt; $1; read x <$TMP/tw" \
		>/dev/null 2>"$TMP/t.err" &
	YSPID=$!
	bg_track $YSPID
}
bpf_loss() { grep -q '"type":"loss",.*"bpf_calls_on_yarasnoop":' "$EV"; }
go_for_maps "printf YS_WHO_MARK_B"
poll bpf_loss
check "a traced process goes for our map: a loss event says so while it runs" bpf_loss
release "$TMP/tw"
wait "$YSPID"
expect_eq "... a match still wins (exit 1)" 1 $?
expect_grep "... its delete was refused" "Operation not permitted" "$TMP/t.bt"
jcheck "... its bpf() calls on our map are events: by id, then the delete, object named" "$EV" \
	"[(e['cmd'], e['object']) for e in EVENTS if e['type'] == 'bpf' and e['ours']][:2] == [('map_get_fd_by_id', 'traced'), ('map_delete_elem', 'traced')]"
jcheck "... the summary is incomplete, and says why" "$EV" \
	"not SUMMARY['complete'] and 'on yarasnoop' in SUMMARY['incomplete'] and SUMMARY['user']['bpf_calls_on_yarasnoop'] >= 2"
jcheck "... its marker, written after, is found" "$EV" "[m['rule'] for m in M] == ['mark_b']"
go_for_maps "true"
release "$TMP/tw"
wait "$YSPID"
expect_eq "... and with nothing matched, the gate fails closed (exit 5)" 5 $?

# ---- other bpf() calls: told once per process, not a failure ----
"$YARASNOOP" --no-control -r "$R" --format json -o "$EV" --fail-on-match --no-lossless -- $PY -c '
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("<IIII", 2, 4, 4, 1), 128)  # an array map
for _ in range(3):
    fd = libc.syscall(321, 0, attr, 128)
    assert fd >= 0, os.strerror(ctypes.get_errno())
    os.close(fd)
' >/dev/null 2>"$TMP/err"
expect_eq "bpf() on maps of its own: not a failure (exit 0)" 0 $?
jcheck "... told once per process: map_create, not ours" "$EV" \
	"[(e['cmd'], e['ours'], e['object']) for e in EVENTS if e['type'] == 'bpf'] == [('map_create', False, None)] and SUMMARY['user']['bpf_calls_other'] == 3 and SUMMARY['complete']"

# ---- every object of ours is known, the TLS object's too ----
# (bpftool link show opens each link by id: ours are events, by name)
"$YARASNOOP" --no-control --tls -r "$R" --format json -o "$EV" -- bpftool link show >/dev/null 2>"$TMP/err"
expect_eq "bpftool link show, traced, with --tls: exit 0 (no --fail-on-match)" 0 $?
jcheck "... the links it opens of ours are named: the write hooks, the route hooks, the TLS uprobes" "$EV" \
	"{'tp_exit_write', 'tp_exit_sendfil', 'tls uprobe'} <= {e['object'] for e in EVENTS if e['type'] == 'bpf' and e['ours']} and not SUMMARY['complete']"

# ---- a full stream table is loss, told while it happens ----
# --max-streams 4096: a kernel table of 16384 (its least); 16500 files
mkdir "$TMP/files"
rm -f "$TMP/hold" && mkfifo "$TMP/hold"
"$YARASNOOP" --no-control -r "$R" --format json -o "$EV" --max-streams 4096 --fail-on-match --no-lossless -- \
	$PY "$WHO" files:16500:"$TMP/files" wait:"$TMP/hold" >/dev/null 2>"$TMP/err" &
YSPID=$!
bg_track $YSPID
live_loss() { grep -q '"type":"loss","time":"[^"]*","reason":"counters",.*"streams_full":' "$EV"; }
poll live_loss
check "a full stream table: the loss event comes while the writer still runs" live_loss
release "$TMP/hold"
wait "$YSPID"
expect_eq "... the gate fails closed (exit 5)" 5 $?
jcheck "... writes and bytes in no stream, counted per reason" "$EV" \
	"SUMMARY['kernel']['streams_full'] >= 100 and SUMMARY['kernel']['bytes_map_full'] == 5 * SUMMARY['kernel']['streams_full'] and 'bytes in no stream' in SUMMARY['incomplete']"
jcheck "... the loss events count no more than the summary" "$EV" \
	"0 < sum(e.get('streams_full', 0) for e in EVENTS if e['type'] == 'loss') <= SUMMARY['kernel']['streams_full']"
"$YARASNOOP" --no-control -r "$R" --max-streams 4096 --no-lossless -- $PY "$WHO" files:16500:"$TMP/files" >/dev/null 2>"$TMP/err"
expect_grep "... text mode: the loss on stderr, with what to do" "loss: .*[0-9]+ writes in no stream: the kernel's stream table was full \(--max-streams\)" "$TMP/err"

echo "1..$_n"
