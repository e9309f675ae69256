#!/usr/bin/env bash
# Churn: thousands of short-lived processes that each write. Afterwards every
# stream has ended, the table is back to empty, its memory to the empty
# table's, and the kernel's maps hold nothing but still-running processes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "churn" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/live.yar
mkfifo "$TMP/go"
long_poll() { POLL_LIMIT=$((POLL_LIMIT * 10)) poll "$@"; }

# ---- a shell loop: 3000 x (a builtin echo to /dev/null, /bin/echo to stdout) ----
# the shell waits before (so that we see the empty table) and after (so that
# we see it again, the shell still running)
"$YARASNOOP" --control "$TMP/sh.sock" -r "$R" --format json -o "$TMP/sh.ev" -- sh -c '
	read x <"$0"
	for i in $(seq 3000); do echo x >/dev/null; /bin/echo y; done
	: >"$1"
	read x <"$0"
	exit 0' "$TMP/go" "$TMP/sh.done" >"$TMP/sh.out" 2>"$TMP/sh.err" &
yp=$!
bg_track "$yp"
SOCK=$TMP/sh.sock
check "the instance answers before the churn" poll _ys_answers "$SOCK" "$yp"
stats_to "$TMP/sh.fresh"
jstat "before: an empty table, one traced process (the shell)" "$TMP/sh.fresh" \
	'S == [] and D["kernel_maps"]["traced"] == 1 and D["kernel_maps"]["streams"] == 0'
fresh=$(mem_of "$TMP/sh.fresh")
check "the shell is let go" fifo_write "$TMP/go"
# 3000 processes: ten poll limits (20 minutes by default), for a guest
# under qemu's emulator, where a traced fork and exec can take half a second
check "the shell's loop runs to its end" long_poll test -e "$TMP/sh.done"
check "after the churn: no stream left in the table or the kernel" stats_until "$TMP/sh.st" \
	'len(S) == 0 and D["kernel_maps"]["streams"] == 0'
expect_eq "after the churn: total memory is the empty table's" "$fresh" "$(mem_of "$TMP/sh.st")"
jstat "after the churn: kernel maps: no streams, no pending write arguments" "$TMP/sh.st" \
	'D["kernel_maps"]["streams"] == 0 and D["kernel_maps"]["args"] == 0'
# the shell wrote (its builtin echo) and is still running: its entry stays
# until it exits, no other process's does
jstat "after the churn: kernel maps: per-process entries only for the live shell" "$TMP/sh.st" \
	'D["kernel_maps"]["procs"] <= 1'
jstat "after the churn: traced holds only the shell, still running" "$TMP/sh.st" 'D["kernel_maps"]["traced"] == 1'
jstat "after the churn: no tombstones" "$TMP/sh.st" 'D["tombstones"] == 0'
check "the shell is let go again" fifo_write "$TMP/go"
bwait "$yp"
expect_eq "the command's status" 0 "$?"
expect_eq "the command wrote its 3000 lines" 3000 "$(grep -cx y "$TMP/sh.out")"
jcheck "every stream ended: stream_end count == streams in the summary (>= 6000)" "$TMP/sh.ev" \
	'len(ENDS) == SUMMARY["streams"] and SUMMARY["streams"] >= 6000'
jcheck "each stream ended once (distinct UUIDs)" "$TMP/sh.ev" 'len({e["uuid"] for e in ENDS}) == len(ENDS)'
jcheck "3000 streams of /bin/echo, 2 bytes each, closed or ended at exit" "$TMP/sh.ev" \
	'len([e for e in ENDS if e["comm"] == "echo" and e["bytes_written"] == 2 and e["reason"] in ("close", "exit")]) == 3000'
jcheck "3000 streams of the shell to /dev/null, 2 bytes each, closed" "$TMP/sh.ev" \
	'len([e for e in ENDS if e["comm"] == "sh" and e["path"] == "/dev/null" and e["bytes_written"] == 2 and e["reason"] == "close"]) == 3000'
jcheck "every stream: scanned + dropped + truncated == written" "$TMP/sh.ev" \
	'all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
jcheck "summary: bytes written == the kernel's count; none unseen, none unattributed" "$TMP/sh.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] and SUMMARY["bytes_unseen"] == 0 and SUMMARY["kernel"]["bytes_unattributed"] == 0 and SUMMARY["kernel"]["control_records_dropped"] == 0'
check "its socket is gone with it" test ! -e "$SOCK"

# ---- -p -f on a long-lived parent that spawns 2000 writers, 8 at a time ----
cat >"$TMP/driver.py" <<'PY'
import os, subprocess, sys
go, done, n, par = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.close(os.open(go, os.O_RDONLY))        # wait for the go
running = []
for i in range(n):
    running.append(subprocess.Popen(["/bin/echo", "churn", str(i)], stdout=subprocess.DEVNULL))
    if len(running) >= par:
        for p in running:
            p.wait()
        running = []
for p in running:
    p.wait()
os.close(os.open(done, os.O_WRONLY | os.O_CREAT, 0o600))
os.close(os.open(go, os.O_RDONLY))        # wait to be let go
PY
$PY "$TMP/driver.py" "$TMP/go" "$TMP/py.done" 2000 8 &
dp=$!
bg_track "$dp"
ys_start py -r "$R" --format json -o "$TMP/py.ev" -p "$dp" -f
check "-p -f: the instance answers" kill -0 "$YSPID"
stats_to "$TMP/py.fresh"
jstat "before: an empty table, the parent traced" "$TMP/py.fresh" 'S == [] and D["kernel_maps"]["traced"] == 1'
fresh=$(mem_of "$TMP/py.fresh")
check "the parent is let go" fifo_write "$TMP/go"
check "the parent has spawned its 2000 writers" long_poll test -e "$TMP/py.done"
check "after the churn: no stream left in the table or the kernel" stats_until "$TMP/py.st" \
	'len(S) == 0 and D["kernel_maps"]["streams"] == 0'
expect_eq "after the churn: total memory is the empty table's" "$fresh" "$(mem_of "$TMP/py.st")"
jstat "after the churn: kernel maps streams, procs, args back to 0" "$TMP/py.st" \
	'(D["kernel_maps"]["streams"], D["kernel_maps"]["procs"], D["kernel_maps"]["args"]) == (0, 0, 0)'
jstat "after the churn: traced holds only the parent" "$TMP/py.st" 'D["kernel_maps"]["traced"] == 1'
jstat "after the churn: no tombstones" "$TMP/py.st" 'D["tombstones"] == 0'
check "the parent is let go again" fifo_write "$TMP/go"
bwait "$dp"
expect_eq "the parent exits 0" 0 "$?"
bwait "$YSPID"
expect_eq "-p: the instance exits 0 when the parent is gone" 0 "$?"
jcheck "2000 streams, each ended once, each the echo of one child" "$TMP/py.ev" \
	'SUMMARY["streams"] == len(ENDS) == 2000 and len({e["uuid"] for e in ENDS}) == 2000 and len({e["pid"] for e in ENDS}) == 2000 and all(e["comm"] == "echo" and e["path"] == "/dev/null" for e in ENDS)'
jcheck "summary: every byte written is scanned, as the kernel counts" "$TMP/py.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"] == SUMMARY["kernel"]["bytes_written"] == sum(len("churn %d\n" % i) for i in range(2000))'
echo "1..$_n"
