#!/usr/bin/env bash
# Detection across eviction (as root, real BPF): an evicted stream leaves a
# tombstone with its tail, so a key split around the eviction is found
# when the stream goes on; a match found before the eviction is not
# reported again; tails over their budget are dropped oldest first, and a
# stream that goes on without its tail makes the scan incomplete.
. "$(dirname "$0")/../lib.sh"
need_root "detection across eviction" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/streams.yar	# aws_example_key: AKIAIOSFODNN7EXAMPLE
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")
PY=/usr/bin/python3
E=$(cd "$(dirname "$0")/../helpers" && pwd)/evsplit.py

# the checks every run here must pass: every stream adds up, and the
# totals are the kernel's
ACCOUNTING='all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS) and SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == sum(e["bytes_written"] for e in ENDS) and len({e["uuid"] for e in ENDS}) == len(ENDS)'
# stdout's streams (the first half's, evicted; the one that went on)
OUT='[e for e in ENDS if e["fd"] == 1 and e["comm"] == "python3" and e["path"] == "'$TMP/out'"]'

expect_exit "--max-streams 64: half a key, 2000 streams by 20 children, the other half" 0 \
	"${YS[@]}" --max-streams 64 -- $PY "$E" 2000 100
jcheck "... the first half's stream was evicted; the one that went on found the key, at offset 0" "$EV" \
	"[e['reason'] for e in $OUT] == ['evicted', 'exit'] and [(e['rule'], e['offset'], e['stream']['uuid']) for e in M] == [('aws_example_key', 0, $OUT[1]['uuid'])]"
jcheck "... from its tombstone's tail: its bytes written are its own (9), its offsets go on (12)" "$EV" \
	"[e['bytes_written'] for e in $OUT] == [12, 9] and SUMMARY['user']['streams_resumed'] >= 1 and SUMMARY['complete']"
# (how many are evicted depends on how far one worker lags the other: the
# closes of one lower the count the other holds)
jcheck "... accounting exact, with hundreds of tombstones come and gone" "$EV" "SUMMARY['streams_evicted'] >= 500 and $ACCOUNTING"
expect_exit "... text mode" 0 "$YARASNOOP" --no-control -r "$R" -o "$TMP/text" --max-streams 64 -- $PY "$E" 2000 100
check "... prints the evictions" test "$(grep -c ' stream_end .* reason=evicted ' "$TMP/text")" -ge 500
check "... and the match" grep -q ' match rule=aws_example_key .* fd=1 .* offset=0 ' "$TMP/text"

expect_exit "the whole key, 2000 streams, then more bytes" 0 "${YS[@]}" --max-streams 64 -- $PY "$E" 2000 100 whole
jcheck "... the key is reported once, by the stream that wrote it: not again from the tail" "$EV" \
	"[e['reason'] for e in $OUT] == ['evicted', 'exit'] and [e['stream']['uuid'] for e in M] == [$OUT[0]['uuid']] and $ACCOUNTING"

mkdir -p "$TMP/files"
expect_exit "--stream-by file, --max-streams 64: the same with 2000 files" 0 env EVSPLIT_DIR="$TMP/files" \
	"${YS[@]}" --stream-by file --max-streams 64 -- $PY "$E" 2000 100
jcheck "... the file's view was evicted, and the view that went on found the key, written by the same process" "$EV" \
	"[e['reason'] for e in $OUT] == ['evicted', 'exit'] and [(e['rule'], e['offset'], e['writer']['pid']) for e in M] == [('aws_example_key', 0, $OUT[0]['pid'])] and $ACCOUNTING"

# at the default limits (65536 streams): 75,000 (lossless: 75,000 stream_end
# lines would overflow the output queue, and the checks sum them)
expect_exit "default limits: half a key, 75,000 streams by 75 children, the other half" 0 \
	"${YS[@]}" --lossless -- $PY "$E" 75000 1000
jcheck "... the first half's stream was evicted, the key found" "$EV" \
	"[e['reason'] for e in $OUT] == ['evicted', 'exit'] and [(e['rule'], e['offset']) for e in M] == [('aws_example_key', 0)]"
jcheck "... 75,002 streams, thousands evicted (at most 9,466), accounting exact" "$EV" \
	"SUMMARY['streams'] == 75002 and 5000 < SUMMARY['streams_evicted'] <= 9466 and SUMMARY['complete'] and SUMMARY['user']['events_dropped'] == 0 and $ACCOUNTING"

# tails have a budget, a quarter of --max-memory: over it, the oldest go
# (6000 streams: their tails pass 16K whatever the allocator's block sizes)
expect_exit "--max-memory 64K (16K of tails), --max-streams 64: 6000 streams" 0 \
	"${YS[@]}" --max-memory 64K --max-streams 64 -- $PY "$E" 6000 200
jcheck "... tails were dropped, the oldest, stdout's, among them: the key is not found" "$EV" \
	"SUMMARY['user']['tails_dropped'] > 100 and M == [] and $OUT[0]['reason'] == 'evicted' and $OUT[-1]['bytes_written'] == 9"
jcheck "... and the summary says why the scan is incomplete" "$EV" \
	'not SUMMARY["complete"] and "1 streams went on after an eviction without their tail" in SUMMARY["incomplete"]'
expect_exit "... --fail-on-match: the gate fails closed" 5 \
	"${YS[@]}" --fail-on-match --max-memory 64K --max-streams 64 -- $PY "$E" 6000 200
check "... saying why on stderr" grep -q "incomplete scan: .*without their tail" "$TMP/err"
echo "1..$_n"
