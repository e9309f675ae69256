#!/usr/bin/env bash
# --max-streams and --max-memory: the least recently written streams are
# evicted (stream_end "evicted", counted in stats), a later write on an
# evicted fd starts a new stream whose offsets go on where the old one ended,
# and no byte is counted twice or lost.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "limits and eviction" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/live.yar	# generic_mark: YS_MARK
D=$TMP/d
mkdir -p "$D"
mkfifo "$TMP/release"
# release: lets a waiting writer (below) exit
release() { check "the writer is let go" fifo_write "$TMP/release"; }

# The writer: 6 files, a write to each, then a second write to file 0;
# with "wait" it then says so (an empty file, no write) and waits on a fifo.
cat >"$TMP/six.py" <<'PY'
import os, sys
d, mode = sys.argv[1], sys.argv[2]
fds = [os.open(f"{d}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) for i in range(6)]
for i, fd in enumerate(fds):
    os.write(fd, f"first write to file {i}\n".encode())
os.write(fds[0], b"second write to file 0, YS_MARK after eviction\n")
if mode == "wait":
    os.close(os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT, 0o600))
    os.close(os.open(sys.argv[4], os.O_RDONLY))
PY
first=$(printf 'first write to file 0\n' | wc -c)
second=$(printf 'second write to file 0, YS_MARK after eviction\n' | wc -c)
mark_at=$((first + $(printf 'second write to file 0, ' | wc -c)))

# ---- --max-streams 3: six streams, then the first again ----
"$YARASNOOP" --control "$TMP/l1.sock" -r "$R" --format json -o "$TMP/l1.ev" --max-streams 3 --workers 1 -- \
	"$PY" "$TMP/six.py" "$D" wait "$TMP/l1.done" "$TMP/release" 2>"$TMP/l1.err" &
yp=$!
bg_track "$yp"
SOCK=$TMP/l1.sock
check "--max-streams 3: the writer has written" poll test -e "$TMP/l1.done"
check "stats: 4 evictions, 3 streams held: f4, f5 and f0 again" stats_until "$TMP/l1.st" \
	"D['streams_evicted'] == 4 and sorted(s['path'] for s in S) == ['$D/f0', '$D/f4', '$D/f5']"
jstat "stats: the streams held never exceed the limit, and add up" "$TMP/l1.st" \
	'len(S) == 3 and 0 <= D["total_memory_bytes"] - sum(s["memory_bytes"] for s in S) < 3'
check "stats: f0's new stream has processed only its second write ($second bytes)" stats_until "$TMP/l1.st" \
	"[s['bytes_processed'] for s in S if s['path'] == '$D/f0'] == [$second]"
jstat "stats: the kernel still has 6 open streams; 3 evicted ones wait for their close (tombstones)" "$TMP/l1.st" \
	'D["kernel_maps"]["streams"] == 6 and D["tombstones"] == 3'
"$YARASNOOP" stats --control "$SOCK" >"$TMP/l1.txt" 2>&1
check "stats (text) counts the evictions too" grep -qx 'Streams evicted: 4' "$TMP/l1.txt"
release
bwait "$yp"
expect_eq "the command's status" 0 "$?"
EV=$TMP/l1.ev
jcheck "4 streams evicted, least recently written first: f0, f1, f2, then f3" "$EV" \
	"[e['path'] for e in ENDS if e['reason'] == 'evicted'] == ['$D/f0', '$D/f1', '$D/f2', '$D/f3']"
jcheck "the summary counts them: 7 streams, 4 evicted" "$EV" 'SUMMARY["streams"] == 7 and SUMMARY["streams_evicted"] == 4'
jcheck "f0: two streams, two UUIDs, evicted then exit" "$EV" \
	"[e['reason'] for e in ENDS if e['fd'] == ENDS[0]['fd'] and e['pid'] == ENDS[0]['pid']] == ['evicted', 'exit'] and len({e['uuid'] for e in ENDS if e['path'] == '$D/f0'}) == 2"
jcheck "f0: the evicted stream wrote $first bytes, the new one goes on from there with $second" "$EV" \
	"[e['bytes_written'] for e in ENDS if e['path'] == '$D/f0'] == [$first, $second]"
expect_eq "f0 on disk: both writes" $((first + second)) "$(stat -c %s "$D/f0")"
jcheck "the marker in the second write is reported at its offset in the fd's stream ($mark_at)" "$EV" \
	"[(e['rule'], e['offset'], e['stream']['path']) for e in M] == [('generic_mark', $mark_at, '$D/f0')]"
jcheck "the match names the new stream, not the evicted one" "$EV" \
	"M[0]['stream']['uuid'] == [e['uuid'] for e in ENDS if e['reason'] == 'exit' and e['path'] == '$D/f0'][0]"
jcheck "every stream_end: scanned + dropped + truncated == written" "$EV" \
	'all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
total=$(cat "$D"/f* | wc -c)
jcheck "summary: bytes written == the kernel's count == what the files hold ($total)" "$EV" \
	"SUMMARY['bytes_written'] == SUMMARY['kernel']['bytes_written'] == $total and SUMMARY['bytes_unseen'] == 0"
jcheck "each UUID ends once" "$EV" 'len({e["uuid"] for e in ENDS}) == len(ENDS) == 7'

# the same, with a writer that exits at once: the new stream keeps its name
rm -f "$D"/f*
expect_exit "--max-streams 3, a writer that exits at once" 0 \
	"$YARASNOOP" --no-control -r "$R" --format json -o "$TMP/l2.ev" --max-streams 3 --workers 1 -- "$PY" "$TMP/six.py" "$D" exit
jcheck "the stream that follows an eviction has the evicted one's pid, comm, fd and path" "$TMP/l2.ev" \
	"[(e['pid'], e['comm'], e['fd'], e['path']) for e in ENDS if e['reason'] == 'exit' and e['fd'] == [x for x in ENDS if x['reason'] == 'evicted'][0]['fd']] == [(e['pid'], e['comm'], e['fd'], e['path']) for e in ENDS if e['reason'] == 'evicted'][:1]"
jcheck "... and so does its match event" "$TMP/l2.ev" \
	"len(M) == 1 and (M[0]['stream']['comm'], M[0]['stream']['path']) == ('python3', '$D/f0')"
jcheck "... and the accounting holds" "$TMP/l2.ev" \
	"[e['bytes_written'] for e in ENDS if e['fd'] == [x for x in ENDS if x['reason'] == 'evicted'][0]['fd']] == [$first, $second] and SUMMARY['bytes_written'] == SUMMARY['kernel']['bytes_written']"

# ---- a traced process that keeps its files open: tombstones come and go ----
holder_start h
ys_start l3 -r "$R" --format json -o "$TMP/l3.ev" --max-streams 3 --workers 1 -p "$HPID"
stats_to "$TMP/l3.fresh"
fresh=$(mem_of "$TMP/l3.fresh")
hcmd open 6 "$D/c" && hcmd writeall 'abc\n'
check "-p, --max-streams 3, 6 files written: 3 evicted, 3 held" stats_until "$TMP/l3.st" \
	"D['streams_evicted'] == 3 and sorted(s['path'] for s in S) == ['$D/c3', '$D/c4', '$D/c5'] and all(s['bytes_processed'] == 4 for s in S)"
jstat "... 3 tombstones for the evicted, the kernel has all 6" "$TMP/l3.st" 'D["tombstones"] == 3 and D["kernel_maps"]["streams"] == 6'
hcmd write 0 'again YS_MARK\n'
check "a write to evicted c0: a 4th eviction (c3), c0 held again" stats_until "$TMP/l3.st" \
	"D['streams_evicted'] == 4 and sorted(s['path'] for s in S) == ['$D/c0', '$D/c4', '$D/c5']"
jstat "... c0's tombstone is taken, c3's added" "$TMP/l3.st" 'D["tombstones"] == 3'
check "... and its marker is reported" poll grep -q '"rule":"generic_mark"' "$TMP/l3.ev"
hcmd closeall
check "all closed: no streams, in the table or the kernel" stats_until "$TMP/l3.st" \
	'len(S) == 0 and D["kernel_maps"]["streams"] == 0'
jstat "... no tombstone left" "$TMP/l3.st" 'D["tombstones"] == 0'
expect_eq "... memory back to the empty table's" "$fresh" "$(mem_of "$TMP/l3.st")"
hcmd exit
bwait "$YSPID"
expect_eq "the instance ends with its process" 0 "$?"
jcheck "7 streams, each ended once: 4 evicted, 3 closed" "$TMP/l3.ev" \
	'len(ENDS) == 7 and len({e["uuid"] for e in ENDS}) == 7 and sorted(e["reason"] for e in ENDS) == ["close"] * 3 + ["evicted"] * 4'
jcheck "c0's marker at its offset in the fd's stream (4 + 6)" "$TMP/l3.ev" \
	"[(e['offset'], e['stream']['path']) for e in M] == [(10, '$D/c0')]"
jcheck "bytes written: 6 x 4 + 14, as the kernel counts" "$TMP/l3.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == 38 and SUMMARY["bytes_unseen"] == 0'

# ---- --max-memory 8K: streams that hold pending data ----
rm -f "$D"/f*
cat >"$TMP/mem.py" <<'PY'
import os, sys
d = sys.argv[1]
fds = [os.open(f"{d}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) for i in range(6)]
for i, fd in enumerate(fds):
    os.write(fd, b"YS_MARK " + b"x" * 1992)
os.write(fds[0], b"y" * 1000)
os.close(os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o600))
os.close(os.open(sys.argv[3], os.O_RDONLY))
PY
# --flush-ms 60000: nothing is scanned before its time, the data stays held
"$YARASNOOP" --control "$TMP/l4.sock" -r "$R" --format json -o "$TMP/l4.ev" --max-memory 8K --workers 1 \
	--flush-ms 60000 -- "$PY" "$TMP/mem.py" "$D" "$TMP/l4.done" "$TMP/release" 2>"$TMP/l4.err" &
yp=$!
bg_track "$yp"
SOCK=$TMP/l4.sock
check "--max-memory 8K: the writer has written" poll test -e "$TMP/l4.done"
check "stats: f0 held again, after evictions" stats_until "$TMP/l4.st" \
	"D['streams_evicted'] >= 1 and '$D/f0' in [s['path'] for s in S] and sum(s['bytes_processed'] for s in S) == 0"
jstat "stats: total memory within 8K ($(mem_of "$TMP/l4.st") bytes, $($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["streams"]))' "$TMP/l4.st") streams)" \
	"$TMP/l4.st" 'D["total_memory_bytes"] <= 8192'
jstat "stats: the held streams hold their pending data (f0 1000 bytes, the others 2000)" "$TMP/l4.st" \
	"all(s['memory_bytes'] > (1000 if s['path'] == '$D/f0' else 2000) for s in S)"
release
bwait "$yp"
expect_eq "the command's status" 0 "$?"
EV=$TMP/l4.ev
jcheck "streams were evicted for memory" "$EV" \
	'SUMMARY["streams_evicted"] >= 1 and SUMMARY["streams_evicted"] == len([e for e in ENDS if e["reason"] == "evicted"])'
jcheck "an evicted stream is scanned to its end first: its marker is reported" "$EV" \
	'all(e["bytes_scanned"] == e["bytes_written"] == 2000 and e["rules_matched"] == ["generic_mark"] for e in ENDS if e["reason"] == "evicted")'
jcheck "every file's marker is reported once, 6 in all" "$EV" \
	"sorted(e['stream']['path'] for e in M) == ['$D/f%d' % i for i in range(6)] and all(e['offset'] == 0 for e in M)"
jcheck "f0: evicted at 2000 bytes, then 1000 more in a new stream" "$EV" \
	"[(e['reason'], e['bytes_written']) for e in ENDS if e['path'] == '$D/f0'] == [('evicted', 2000), ('exit', 1000)]"
jcheck "every stream_end: scanned + dropped + truncated == written" "$EV" \
	'all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
jcheck "summary: bytes written == the kernel's count == 13000" "$EV" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == SUMMARY["bytes_scanned"] == 13000'
echo "1..$_n"
