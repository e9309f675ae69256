#!/usr/bin/env bash
# Fail closed: a --fail-on-match gate holds the command back instead of
# dropping bytes (lossless), a partial scan is a failure of its own (exit 5),
# and a slow reader of the events never stalls the capture.
. "$(dirname "$0")/../lib.sh"
need_root "fail-closed gate" || { echo "1..$_n"; exit 0; }
BULK=$(cd "$(dirname "$0")/../helpers" && pwd)/bulk.py
PY=/usr/bin/python3
R=$TESTDATA/../../rules
. "$(dirname "$0")/../helpers/live_lib.sh"
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

# 128 MiB in 1 MiB writes, a key in one of them: the gate sees it
"${YS[@]}" --fail-on-match -- "$PY" "$BULK" big 128 77 2>"$TMP/err" &
ys=$!
bg_track "$ys"
bwait "$ys"
expect_eq "128 MiB with a key in write 77, --fail-on-match: the match fails the gate" 1 "$?"
jcheck "... found, nothing dropped, lossless" "$EV" \
	'[e["rule"] for e in M] == ["aws_access_key_id"] and SUMMARY["bytes_dropped"] == 0 and SUMMARY["kernel"]["bytes_dropped"] == 0 and SUMMARY["user"]["lossless"] and SUMMARY["bytes_scanned"] == 128 << 20 and SUMMARY["complete"]'
# its own cgroup (yarasnoop.PID): other instances on the machine have theirs;
# the guard removes it once empty, a moment after yarasnoop ends
check "... the command ran in a cgroup of its own, removed after" poll cg_gone "$ys"

# The kernel side holds a writer back itself when user space is late: here
# yarasnoop is stopped outright (SIGSTOP) before the command writes 64 MiB
# in 1 MiB writes, so only the BPF side can act. The writer must stop with
# the ring half full, and nothing may be lost once yarasnoop goes on.
"${YS[@]}" --fail-on-match -- sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done; exec "$2" "$3" big 64 40' \
	sh "$TMP/held.go" "$PY" "$BULK" 2>"$TMP/held.err" &
ys=$!
bg_track "$ys"
check "a lossless run, its command waiting to write" poll attached_without_caps "$ys"
kill -STOP "$ys"
touch "$TMP/held.go"
writer="$BULK big 64 40"	# its command line, for pgrep -f
check "yarasnoop stopped, the writer floods: the kernel side stops the writer itself" \
	poll stopped_match "$writer"
# (still stopped a moment later: not a passing state; its written bytes, from
# /proc/PID/io, are less than the whole)
sleep 0.3
wchar() { awk '/^wchar:/ { print $2 }' /proc/"$(pgrep -f "$writer" | head -1)"/io; }
check "... and it stays stopped, part of its 64 MiB written" \
	eval 'stopped_match "$writer" && (( $(wchar) < 64 << 20 ))'
kill -CONT "$ys"
bwait "$ys"
expect_eq "yarasnoop goes on: the writer is continued, the key in write 40 fails the gate" 1 "$?"
jcheck "... nothing dropped, every byte scanned, the hold counted" "$EV" \
	'[e["rule"] for e in M] == ["aws_access_key_id"] and SUMMARY["bytes_dropped"] == 0 and SUMMARY["bytes_scanned"] == 64 << 20 and SUMMARY["kernel"]["writers_held"] >= 1 and SUMMARY["complete"]'

# A command process that leaves the command's cgroup cannot be frozen, and
# the kernel side does not stop it either (it stops only what the freeze
# then holds): its flood is lost, counted, and the gate fails closed.
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
"${YS[@]}" --fail-on-match -- sh -c 'echo $$ >"$4/cgroup.procs"; while [ ! -e "$1" ]; do sleep 0.05; done; exec "$2" "$3" big 64 -1' \
	sh "$TMP/esc.go" "$PY" "$BULK" "$CGROOT" 2>"$TMP/esc.err" &
ys=$!
bg_track "$ys"
check "a command that moved itself out of its cgroup (to $CGROOT)" poll attached_without_caps "$ys"
kill -STOP "$ys"
touch "$TMP/esc.go"
bulk_gone() { ! pgrep -f "$BULK big 64 -1" >/dev/null; }
check "... yarasnoop stopped: the escaped writer is not stopped, it writes its 64 MiB and ends" poll bulk_gone
kill -CONT "$ys"
bwait "$ys"
expect_eq "... the loss fails the gate (5)" 5 "$?"
jcheck "... its bytes dropped and counted, no process held" "$EV" \
	'SUMMARY["bytes_dropped"] > 0 and SUMMARY["kernel"]["writers_held"] == 0 and "bytes dropped" in SUMMARY["incomplete"]'

# A job of an interactive bash (job control: a process group of its own)
# is never stopped by the kernel side: bash would call it stopped and go on
# without it. yarasnoop stopped while the job floods: the session goes on
# as typed, and the bytes the ring could not take are dropped and counted.
timeout -k 10 "$RUN_LIMIT" "$PY" "$(dirname "$BULK")/jobctl.py" 'head -c 64M /dev/zero >/dev/null; echo done-$?' \
	"$YARASNOOP" --no-control -r "$R" --format json -o "$TMP/job.ev" --lossless >"$TMP/job.tty" 2>&1
check "a job-control bash, yarasnoop stopped while a job writes 64 MiB: the job ends as typed" \
	grep -q "done-0" "$TMP/job.tty"
check "... bash never saw it stopped" eval '! grep -q Stopped "$TMP/job.tty"'
jcheck "... its bytes past the ring dropped and counted" "$TMP/job.ev" \
	'SUMMARY["bytes_dropped"] > 0 and SUMMARY["bytes_dropped"] == SUMMARY["kernel"]["bytes_dropped"] and not SUMMARY["complete"]'

# the same without lossless through a small ring: bytes are dropped, the gate fails closed
expect_exit "--no-lossless, 64K ring, no key: the partial scan fails the gate (5)" 5 \
	"${YS[@]}" --fail-on-match --no-lossless --ring-size 64K -- "$PY" "$BULK" big 64 -1
jcheck "... the summary says it is incomplete, and why" "$EV" \
	'not SUMMARY["complete"] and "bytes dropped" in SUMMARY["incomplete"] and SUMMARY["bytes_dropped"] > 0 and not M'
check "... and says so on stderr, in JSON mode too" grep -q "incomplete scan: [0-9]* bytes dropped" "$TMP/err"
expect_exit "--allow-incomplete: the command's status again" 0 \
	"${YS[@]}" --fail-on-match --no-lossless --allow-incomplete --ring-size 64K -- "$PY" "$BULK" big 64 -1
expect_exit "--capture-max truncates: incomplete too" 5 \
	"${YS[@]}" --fail-on-match --capture-max 4K -- "$PY" "$BULK" big 2 -1
jcheck "... naming the truncated bytes" "$EV" '"bytes truncated" in SUMMARY["incomplete"]'
expect_exit "a complete scan without a match: the command's status" 3 \
	"${YS[@]}" --fail-on-match -- sh -c 'echo nothing to see; exit 3'
jcheck "... complete" "$EV" 'SUMMARY["complete"] and SUMMARY["incomplete"] == ""'
expect_exit "--lossless without a command: exit 2" 2 "$YARASNOOP" --no-control --lossless -a
check "... saying why" grep -q "lossless.*needs -- COMMAND" "$TMP/err"

# loss is told as it happens: a flood through a small ring, the stream kept open
"$YARASNOOP" --no-control -r "$R" --format json -o "$TMP/live.ev" --no-lossless --ring-size 256K -- \
	"$PY" "$BULK" big 32 -1 "$TMP/live.go" 2>"$TMP/live.err" &
ysl=$!
bg_track "$ysl"
bg_wait_file() { poll grep -q "$1" "$2"; }
check "a flood into a 256K ring, the writer still open: a loss event names the kernel's drops" \
	bg_wait_file '"type":"loss","time":"[^"]*","reason":"counters","bytes_dropped":[1-9]' "$TMP/live.ev"
check "... and a line on stderr says so" bg_wait_file 'loss: [0-9]* bytes dropped (ring buffer full)' "$TMP/live.err"
check "... and the flooded stream's own loss event names it" \
	bg_wait_file '"type":"loss","time":"[^"]*","reason":"dropped","bytes":[1-9][0-9]*,"stream":{[^}]*"path":"/dev/null"' "$TMP/live.ev"
touch "$TMP/live.go"
bwait "$ysl"
expect_eq "... the command ends, status 0" 0 "$?"
jcheck "... the stream's end counts the same bytes as the summary" "$TMP/live.ev" \
	'sum(e["bytes_dropped"] for e in ENDS) == SUMMARY["bytes_dropped"] > 0'

# a reader that pauses does not stall the capture: 400 files of 64 KiB (25 MiB,
# more than the ring) while nobody reads the events for 3 s
mkdir "$TMP/files"
timeout -k 10 "$RUN_LIMIT" "$YARASNOOP" --no-control -r "$R" --format json --no-lossless -- \
	"$PY" "$BULK" files "$TMP/files" 400 64 2>"$TMP/slow.err" | { sleep 3; cat >"$TMP/slow.ev"; }
jcheck "a reader paused 3 s: the ring never filled, no event was lost" "$TMP/slow.ev" \
	'SUMMARY["kernel"]["records_dropped"] == 0 and SUMMARY["kernel"]["control_records_dropped"] == 0 and SUMMARY["user"]["events_dropped"] == 0'
# (how fast the workers scan is the machine's: what they could not take is
# counted as backlog, per stream, and never silently)
jcheck "... every file: its key reported, or its stream counts dropped bytes" "$TMP/slow.ev" \
	'all(any(m["stream"]["uuid"] == e["uuid"] for m in M) or e["bytes_dropped"] > 0 for e in ENDS if "/files/f" in e["path"]) and len([e for e in ENDS if "/files/f" in e["path"]]) == 400 and SUMMARY["bytes_scanned"] + SUMMARY["bytes_dropped"] == SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"]'

# a burst faster than a worker scans waits in the ring, not dropped, while
# the ring is under half full: 12 MiB at once, one worker (its queue takes
# 14), the key in the last MiB
"${YS[@]}" --no-lossless --workers 1 -- "$PY" "$BULK" big 12 11 2>"$TMP/burst.err"
jcheck "a 12 MiB burst to one worker, not lossless: nothing dropped, the key in its last MiB found" "$EV" \
	'[e["rule"] for e in M] == ["aws_access_key_id"] and SUMMARY["bytes_dropped"] == 0 and SUMMARY["bytes_scanned"] == SUMMARY["kernel"]["bytes_written"] == 12 << 20'
# the workers share 32 MiB of queues, 8 to 16 MiB each (-v says), and an
# idle worker gives back what a burst wrote of its queue past its first
# MiB. (Whether 20 MiB at once are all scanned is a race of the drain with
# the writer on 2 CPUs: BENCHMARKS *work*; here, every byte is accounted.)
"${YS[@]}" -v --workers 8 -- true 2>"$TMP/w8.err"
expect_grep "8 workers: 8 MiB of queue each, as before" '^yarasnoop: scan workers: 8, a queue of 8 MiB each$' "$TMP/w8.err"
rm -f "$TMP/q.go"
ys_start q -v -r "$R" --format json -o "$TMP/q.ev" --no-lossless --workers 2 -- "$PY" "$BULK" big 20 19 "$TMP/q.go"
expect_grep "2 workers: 16 MiB each" '^yarasnoop: scan workers: 2, a queue of 16 MiB each$' "$TMP/q.err"
check "a 20 MiB burst and 5 bytes, then idle: every byte scanned or dropped, and a queue gave its pages back" stats_until "$TMP/q.json" \
	"D['totals']['bytes_scanned'] + D['totals']['bytes_dropped'] == D['totals']['bytes_written'] == (20 << 20) + 5 and D['process']['queue_trims'] >= 1"
jstat "... the queues: 32 MiB in all, at most their first MiB written since (the rest of the burst's pages given back)" "$TMP/q.json" \
	"D['process']['queue_bytes'] == 32 << 20 and D['process']['queue_touched_bytes'] <= 2 * (1 << 20)"
"$YARASNOOP" stats --control "$SOCK" >"$TMP/q.txt" 2>&1
expect_grep "... said in the text statistics too" '^Scan queues: 33554432 bytes \(2 workers\), [0-9]+ written since pages were last given back, [1-9][0-9]* times$' "$TMP/q.txt"
touch "$TMP/q.go"
ys_stop
# ... and past half the drain goes on, dropping that worker's data: a
# burst larger than the queue and the ring, every byte scanned or counted
# (whether the ring fills too is a race of the drain with the writer: a
# drain built with ASan loses it)
"${YS[@]}" --no-lossless --workers 1 -- "$PY" "$BULK" big 96 -1 2>"$TMP/burst2.err"
jcheck "a 96 MiB burst: the drain goes on past half the ring, dropping, every byte counted" "$EV" \
	'SUMMARY["user"]["backlog_bytes_dropped"] > 0 and SUMMARY["bytes_dropped"] == SUMMARY["kernel"]["bytes_dropped"] + SUMMARY["user"]["backlog_bytes_dropped"] and SUMMARY["bytes_scanned"] + SUMMARY["bytes_dropped"] == SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == 96 << 20 and SUMMARY["bytes_scanned"] >= 6 << 20'

# the limits hold over every worker: 121 streams through --max-streams 20
ys_start lim -r "$R" --format json -o "$TMP/lim.ev" --max-streams 20 --workers 2 -- \
	"$PY" "$BULK" open "$TMP/files" 120 "$TMP/lim.go"
# (a worker keeps its newest stream: with 2 workers, one over at most)
check "--max-streams 20, 2 workers, 120 files held open: 20 held (21 at most), the others tombstones" \
	stats_until "$TMP/lim.st" 'len(S) in (20, 21) and D["streams_evicted"] >= 99 and D["tombstones"] == 120 - len(S)'
touch "$TMP/lim.go"
ys_stop
expect_eq "... the command ends, status 0" 0 "$YSRC"
jcheck "... every byte accounted: written == scanned == the kernel's count" "$TMP/lim.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == SUMMARY["bytes_scanned"] and SUMMARY["bytes_unseen"] == 0 and SUMMARY["complete"]'
# ... and no worker evicts a stream another already evicts: 60 files written
# in 5 rounds, so that evicted streams come back while both workers hold
# more than one (two workers that saw the table one over each evicted one,
# and held 19)
mkdir "$TMP/rounds"
ys_start rounds -r "$R" --format json -o "$TMP/rounds.ev" --max-streams 20 --workers 2 -- \
	"$PY" "$BULK" rounds "$TMP/rounds" 60 5 "$TMP/rounds.go"
check "--max-streams 20, 2 workers, 60 files written in 5 rounds: every write in, 20 held (21 at most), never fewer" \
	stats_until "$TMP/rounds.st" 'D["kernel"]["writes"] >= 305 and D["totals"]["bytes_scanned"] == D["kernel"]["bytes_written"] and len(S) in (20, 21) and D["tombstones"] == 60 - len(S)'
touch "$TMP/rounds.go"
ys_stop
expect_eq "... the command ends, status 0" 0 "$YSRC"
# a scan that takes too long is stopped (--scan-timeout): its bytes count as
# timed out, and the streams that wait behind it go on. A regex that scans
# text of 'a's at a few KB/s, one worker: without the limit the second
# stream's key would wait minutes behind the first.
SLOW=$TMP/slow.yar
cat >"$SLOW" <<'EOF'
rule slow_re { strings: $a = /a[^\n]{0,2000}[0-9]/ condition: $a }
rule aws_example_key { strings: $k = "AKIAIOSFODNN7EXAMPLE" condition: $k }
EOF
SLOWW="import os; a = os.open('$TMP/slow.a', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600); os.write(a, b'a' * (256 << 10)); os.close(a); k = os.open('$TMP/slow.k', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600); os.write(k, b'key AKIAIOSFODNN7EXAMPLE\n')"
expect_exit "a slow regex on 256 KiB, --scan-timeout 200, one worker, then a key in another file" 0 \
	"$YARASNOOP" --no-control -r "$SLOW" --format json -o "$EV" --workers 1 --scan-timeout 200 -- "$PY" -c "$SLOWW"
jcheck "... the key is found" "$EV" "[(e['rule'], e['stream']['path']) for e in M] == [('aws_example_key', '$TMP/slow.k')]"
jcheck "... the slow stream's bytes count as timed out, its accounting exact" "$EV" \
	"[(e['bytes_written'], e['bytes_timed_out'] > 0, e['bytes_scanned'] + e['bytes_dropped'] + e['bytes_truncated'] + e['bytes_timed_out']) for e in ENDS if e['path'] == '$TMP/slow.a'] == [(256 << 10, True, 256 << 10)]"
jcheck "... the summary says why it is incomplete" "$EV" \
	'not SUMMARY["complete"] and "scans timed out" in SUMMARY["incomplete"] and SUMMARY["bytes_timed_out"] > 0 and SUMMARY["scans_timed_out"] > 0'
expect_exit "... the 'a's alone, --fail-on-match: nothing matched, the gate fails closed (5)" 5 \
	"$YARASNOOP" --no-control -r "$SLOW" --format json -o "$EV" --workers 1 --scan-timeout 200 --fail-on-match -- \
	"$PY" -c "import os; os.write(1, b'a' * (128 << 10))"
check "... saying so on stderr" grep -q "incomplete scan: .*scans timed out" "$TMP/err"
expect_exit "--scan-timeout with no number: exit 2" 2 "$YARASNOOP" --scan-timeout x -- true
check "... naming the option" grep -q -- "--scan-timeout" "$TMP/err"
echo "1..$_n"
