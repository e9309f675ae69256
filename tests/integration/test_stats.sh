#!/usr/bin/env bash
# Per-stream memory statistics of a live instance, with real BPF and real
# processes: SIGUSR1, --stats-interval (text and JSON), `yarasnoop stats`
# (JSON schema, text), and memory that moves with the streams held.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "live stats" || { echo "1..$_n"; exit 0; }

# 10 rules (a 2-byte rule bitmap), 9 strings (a 2-byte pattern bitmap), one
# private rule seen through a public one
R=$TMP/stats.yar
{
	echo 'rule visible_mark { strings: $a = "YS_VISIBLE" condition: $a }'
	echo 'private rule private_mark { strings: $a = "YS_PRIVATE" condition: $a }'
	echo 'rule uses_private { condition: private_mark }'
	for i in 0 1 2 3 4 5 6; do echo "rule filler_$i { strings: \$a = \"YS_FILLER_NEVER_$i\" condition: \$a }"; done
} >"$R"

# ---- SIGUSR1 and `yarasnoop stats` on a traced long-running process ----
holder_start h1
ys_start s1 -r "$R" --format json -o "$TMP/s1.ev" -p "$HPID"
check "the instance starts and its control socket answers" kill -0 "$YSPID"
stats_to "$TMP/fresh"
jstat "a fresh instance: no streams, and its table's memory" "$TMP/fresh" 'S == [] and D["total_memory_bytes"] > 0'
fresh=$(mem_of "$TMP/fresh")
workers=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["process"]["workers"])' "$TMP/fresh")
hcmd open 2 "$TMP/f" && hcmd write 0 'first line\nYS_VISIBLE here\n' && hcmd write 0 'partial' &&
	hcmd write 0 ' end\n' && hcmd write 1 'YS_PRIVATE\nno newline at the end'
check "the holder did what it was told" test -e "$HACK/5"
# what was written, byte for byte
b0=$(printf 'first line\nYS_VISIBLE here\npartial end\n' | wc -c) l0=3
b1=$(printf 'YS_PRIVATE\nno newline at the end' | wc -c) l1=1
expect_eq "f0 on disk holds what the holder wrote" "$b0" "$(stat -c %s "$TMP/f0")"
fd0=$(fd_of "$HPID" "$TMP/f0") fd1=$(fd_of "$HPID" "$TMP/f1") hcomm=$(cat /proc/"$HPID"/comm)
# the stream is scanned once its data is --flush-ms old: wait for it, then look
check "stats catch up with the writes" stats_until "$TMP/st1" \
	"sorted((s['path'], s['bytes_processed']) for s in S) == [('$TMP/f0', $b0), ('$TMP/f1', $b1)]"
check "no statistics on stderr before SIGUSR1 (no --stats-interval)" test "$(blocks_in "$TMP/s1.err")" -eq 0
kill -USR1 "$YSPID"
check "SIGUSR1 prints a block on stderr" poll full_blocks_at_least "$TMP/s1.err" 1
cp "$TMP/s1.err" "$TMP/usr1"
expect_eq "SIGUSR1: one block" 1 "$(blocks_in "$TMP/usr1")"
textstat "SIGUSR1: the block follows the format, line by line" "$TMP/usr1" \
	'not ERRORS and B["cached"] == 2 and len(B["streams"]) == 2'
P0="[s for s in B['streams'] if s['path'] == '$TMP/f0'][0]"
P1="[s for s in B['streams'] if s['path'] == '$TMP/f1'][0]"
textstat "SIGUSR1: f0's PID, Command and FD are the holder's" "$TMP/usr1" \
	"(${P0}['pid'], ${P0}['comm'], ${P0}['fd']) == ($HPID, '$hcomm', $fd0)"
textstat "SIGUSR1: f0's bytes and lines processed are what it wrote ($b0, $l0)" "$TMP/usr1" \
	"(${P0}['bytes'], ${P0}['lines']) == ($b0, $l0)"
textstat "SIGUSR1: f1's bytes and lines processed are what it wrote ($b1, $l1), FD $fd1" "$TMP/usr1" \
	"(${P1}['bytes'], ${P1}['lines'], ${P1}['fd']) == ($b1, $l1, $fd1)"
textstat "SIGUSR1: rules matched: f0 one public rule, f1 one public and one private" "$TMP/usr1" \
	"(${P0}['rules'], ${P0}['private'], ${P1}['rules'], ${P1}['private']) == (1, 0, 1, 1)"
textstat "SIGUSR1: after the seed's lines, activity: started, last write, the rule with its occurrences, kept whole" "$TMP/usr1" \
	"${P0}['started'] <= ${P0}['last_write'] and ${P0}['matched'].endswith(' (1)') and (${P0}['suppressed'], ${P0}['undecided'], ${P0}['whole']) == (0, 0, 'yes')"
textstat "SIGUSR1: 10 rules, 9 strings: 2-byte bitmaps" "$TMP/usr1" \
	'all((s["rule_bitmap"], s["pattern_bitmap"]) == (2, 2) for s in B["streams"])'
textstat "SIGUSR1: nothing dropped; every stream has memory" "$TMP/usr1" \
	'all(s["dropped"] == 0 and s["memory"] > 0 for s in B["streams"])'
textstat "SIGUSR1: the streams' memory adds up to the total (bucket share rounded down)" "$TMP/usr1" \
	'0 <= B["total"] - sum(s["memory"] for s in B["streams"]) < len(B["streams"])'
# the same streams as the JSON stats, UUID for UUID
stats_to "$TMP/st1"
textstat "SIGUSR1 and 'stats' name the same streams by the same UUIDs" "$TMP/usr1" \
	"sorted((s['uuid'], s['path']) for s in B['streams']) == sorted((s['uuid'], s['path']) for s in __import__('json').load(open('$TMP/st1'))['streams'])"
kill -USR1 "$YSPID"
check "a second SIGUSR1, a second block" poll full_blocks_at_least "$TMP/s1.err" 2
check "SIGUSR1 does not stop the instance" kill -0 "$YSPID"

# ---- yarasnoop stats --format json: the schema and its figures ----
stats_to "$TMP/st1"
expect_eq "stats --format json: one line" 1 "$(wc -l <"$TMP/st1")"
jstat "stats: one object of type stats" "$TMP/st1" 'isinstance(D, dict) and D["type"] == "stats"'
I='lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0'
jstat "stats: top-level fields and types" "$TMP/st1" \
	"($I)(D['total_memory_bytes']) and isinstance(D['streams'], list) and isinstance(D['process'], dict) and isinstance(D['kernel_maps'], dict) and ($I)(D['tombstones'])"
jstat "stats: every stream has the documented fields, with their types" "$TMP/st1" \
	"all(isinstance(s['uuid'], str) and len(s['uuid']) == 36 and isinstance(s['comm'], str) and isinstance(s['path'], str) and isinstance(s['fd'], int) and all(($I)(s[k]) for k in ('pid', 'bytes_processed', 'lines_processed', 'rules_matched', 'private_rules_matched', 'memory_bytes', 'bytes_dropped')) for s in S)"
# (rules_bytes comes from glibc's heap counters: 0 under ASan, which replaces the allocator)
jstat "stats: process rss_bytes > 0, rules_bytes a count" "$TMP/st1" \
	"($I)(D['process']['rss_bytes']) and D['process']['rss_bytes'] > 0 and ($I)(D['process']['rules_bytes'])"
jstat "stats: kernel_maps counts traced, args, streams, procs" "$TMP/st1" \
	"all(($I)(D['kernel_maps'][k]) for k in ('traced', 'args', 'streams', 'procs'))"
jstat "stats: sum of memory_bytes <= total, and total - sum < number of streams" "$TMP/st1" \
	"sum(s['memory_bytes'] for s in S) <= D['total_memory_bytes'] and D['total_memory_bytes'] - sum(s['memory_bytes'] for s in S) < len(S)"
jstat "stats: the holder's two streams, with what it wrote" "$TMP/st1" \
	"sorted((s['pid'], s['comm'], s['fd'], s['path'], s['bytes_processed'], s['lines_processed'], s['rules_matched'], s['private_rules_matched'], s['bytes_dropped']) for s in S) == [($HPID, '$hcomm', $fd0, '$TMP/f0', $b0, $l0, 1, 0, 0), ($HPID, '$hcomm', $fd1, '$TMP/f1', $b1, $l1, 1, 1, 0)]"
jstat "stats: each stream's activity: start and last write times, occurrences per rule, suppressed, undecided, kept whole" "$TMP/st1" \
	"all(s['start_time'] <= s['last_write_time'] and [o['count'] for o in s['occurrences']] == [1] and (s['matches_suppressed'], s['rules_undecided'], s['exact']) == (0, 0, 'whole') for s in S)"
jstat "stats: the kernel holds one traced process with two streams" "$TMP/st1" \
	"(D['kernel_maps']['traced'], D['kernel_maps']['streams'], D['kernel_maps']['procs'], D['tombstones']) == (1, 2, 1, 0)"
"$YARASNOOP" stats --control "$SOCK" >"$TMP/st1.txt" 2>"$TMP/st1.txt.err"
expect_eq "stats (text): exit 0" 0 "$?"
expect_eq "stats (text): starts with 'Memory statistics:'" "Memory statistics:" "$(head -n 1 "$TMP/st1.txt")"
textstat "stats (text): the same block, with the holder's figures" "$TMP/st1.txt" \
	"not ERRORS and len(BLOCKS) == 1 and sorted((s['path'], s['bytes'], s['lines'], s['pid']) for s in B['streams']) == [('$TMP/f0', $b0, $l0, $HPID), ('$TMP/f1', $b1, $l1, $HPID)]"
"$YARASNOOP" stats --control "$SOCK" --format text >"$TMP/st1.txt2" 2>&1
textstat "stats --format text: the same" "$TMP/st1.txt2" 'not ERRORS and len(BLOCKS) == 1 and B["cached"] == 2'
check "stats (text) ends with the process figures" grep -qE '^Process RSS: [1-9][0-9]* bytes$' "$TMP/st1.txt"

# ---- memory moves with the streams held: 1, 10, 100, then back ----
hcmd closeall
check "closed streams leave the table" stats_until "$TMP/st0" 'len(S) == 0 and D["kernel_maps"]["streams"] == 0'
expect_eq "after its streams closed, the total is the empty table's" "$fresh" "$(mem_of "$TMP/st0")"
declare -A total after
for n in 1 10 100; do
	hcmd open "$n" "$TMP/m$n." && hcmd writeall "$(printf 'y%.0s' $(seq 99))\n"
	check "N=$n: $n streams of 100 bytes, scanned" stats_until "$TMP/m$n" \
		"len(S) == $n and all(s['bytes_processed'] == 100 for s in S)"
	jstat "N=$n: stream memory adds up to the total" "$TMP/m$n" \
		"0 <= D['total_memory_bytes'] - sum(s['memory_bytes'] for s in S) < len(S)"
	total[$n]=$(mem_of "$TMP/m$n")
	hcmd closeall
	check "N=$n: closing them empties the table" stats_until "$TMP/a$n" 'len(S) == 0 and D["kernel_maps"]["streams"] == 0'
	after[$n]=$(mem_of "$TMP/a$n")
	# each worker's table shrank back to its 16 buckets in a new block:
	# 128 bytes as malloc hands them out (a chunk it does not split can hold
	# up to 31 bytes more than asked), so each may differ from its first
	check "N=$n: closed, total memory drops back to the empty tables' (${after[$n]} vs $fresh at the start, $workers workers)" \
		test "${after[$n]}" -ge $((fresh - 32 * workers)) -a "${after[$n]}" -le $((fresh + 32 * workers))
done
check "total memory grows with N: empty $fresh < N=1 ${total[1]} < N=10 ${total[10]} < N=100 ${total[100]}" \
	test "$fresh" -lt "${total[1]}" -a "${total[1]}" -lt "${total[10]}" -a "${total[10]}" -lt "${total[100]}"
# a stream costs about the same whether there are 1, 10 or 100 of them
one=$((total[1] - fresh))
check "N=10 holds at least 9/10 of 10 times one stream's memory ($((total[10] - fresh)) vs $one)" \
	test $((10 * (total[10] - fresh))) -ge $((9 * 10 * one))
check "N=100 holds at least 9/10 of 100 times one stream's memory ($((total[100] - fresh)) vs $one)" \
	test $((10 * (total[100] - fresh))) -ge $((9 * 100 * one))
hcmd exit
check "the holder exits 0" bwait "$HPID"
# -p: the instance ends when its process has gone
bwait "$YSPID"
expect_eq "-p: the instance exits 0 once the process is gone" 0 "$?"
jcheck "each of the 113 streams ended once, every byte scanned" "$TMP/s1.ev" \
	'len(ENDS) == SUMMARY["streams"] == 113 and len({e["uuid"] for e in ENDS}) == 113 and all(e["bytes_written"] == e["bytes_scanned"] for e in ENDS) and SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == 111 * 100 + '"$b0 + $b1"
check "its control socket is removed when it exits" test ! -e "$SOCK"

# ---- --stats-interval: text on stderr, JSON events in the output ----
mkfifo "$TMP/rel"
"$YARASNOOP" --no-control -r "$R" --stats-interval 1 -o "$TMP/i1.ev" -- \
	sh -c 'printf "hi\n"; read x <"$0"' "$TMP/rel" >"$TMP/i1.out" 2>"$TMP/i1.err" &
ip=$!
bg_track "$ip"
check "text: --stats-interval 1 prints the block again and again" poll full_blocks_at_least "$TMP/i1.err" 2
check "the command is let go" fifo_write "$TMP/rel" ""
bwait "$ip"
expect_eq "text: the command ends, status 0" 0 "$?"
textstat "text: every periodic block follows the format" "$TMP/i1.err" 'not ERRORS and len(BLOCKS) >= 2'
textstat "text: the block shows the command's stream: sh, 3 bytes, 1 line" "$TMP/i1.err" \
	'any(s["comm"] == "sh" and s["bytes"] == 3 and s["lines"] == 1 for b in BLOCKS for s in b["streams"])'
check "text: no stats in the event output" bash -c "! grep -q 'Memory statistics' '$TMP/i1.ev'"

"$YARASNOOP" --no-control -r "$R" --format json --stats-interval 1 -o "$TMP/i2.ev" -- \
	sh -c 'printf "hi\n"; read x <"$0"' "$TMP/rel" >"$TMP/i2.out" 2>"$TMP/i2.err" &
ip=$!
bg_track "$ip"
check "json: --stats-interval 1 emits stats events again and again" \
	poll bash -c "[[ \$(grep -c '^{\"type\":\"stats\"' '$TMP/i2.ev' 2>/dev/null) -ge 2 ]]"
check "the command is let go" fifo_write "$TMP/rel" ""
bwait "$ip"
expect_eq "json: the command ends, status 0" 0 "$?"
jcheck "json: the stats events have the schema of 'yarasnoop stats'" "$TMP/i2.ev" \
	'len([e for e in EVENTS if e["type"] == "stats"]) >= 2 and all(set(e) >= {"total_memory_bytes", "streams", "process", "kernel_maps", "tombstones"} and e["process"]["rss_bytes"] > 0 for e in EVENTS if e["type"] == "stats")'
jcheck "json: a stats event shows the command's stream: sh, 3 bytes, 1 line" "$TMP/i2.ev" \
	'any(s["comm"] == "sh" and s["bytes_processed"] == 3 and s["lines_processed"] == 1 for e in EVENTS if e["type"] == "stats" for s in e["streams"])'
jcheck "json: stats events come before the summary, which is last" "$TMP/i2.ev" 'EVENTS[-1]["type"] == "summary"'
expect_eq "json: no text block on stderr" 0 "$(blocks_in "$TMP/i2.err")"

echo "1..$_n"
