#!/usr/bin/env bash
# What people read: the text summary at exit (totals, duration, rules,
# streams that wrote most), JSON's summary (every field kept, duration_ms
# and rules added), -q (nothing unless incomplete), and `yarasnoop stats`
# with totals since start, --top and --sort.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "summary" || { echo "1..$_n"; exit 0; }
R=$TMP/s.yar
cat >"$R" <<'EOF'
rule a_mark { strings: $a = "YS_SUM_A" condition: $a }
rule b_mark { strings: $b = "YS_SUM_B" condition: $b }
rule never { strings: $n = "YS_SUM_NEVER" condition: $n }
EOF
YS=("$YARASNOOP" --no-control -r "$R")
# two streams match a_mark (one of them twice), one b_mark; one big stream
CMD='echo YS_SUM_A YS_SUM_A >/dev/null; echo YS_SUM_A >/dev/null; echo YS_SUM_B >/dev/null
head -c 100000 /dev/zero >/dev/null; sleep 1.2'

# ---- text ----
expect_exit "text mode: exit 0" 0 "${YS[@]}" -- sh -c "$CMD"
sed 's/^yarasnoop: //' "$TMP/err" >"$TMP/sum"
check "several lines" test "$(wc -l <"$TMP/sum")" -ge 8
check "the totals line" grep -qE '^[0-9]+ streams, [0-9]+ bytes written: [0-9]+ scanned, 0 dropped \(0 ring buffer full, 0 scan backlog\), 0 truncated \(--capture-max\); 3 rule matches$' "$TMP/sum"
check "the run's duration (at least the command's 1.2 s)" \
	bash -c "grep -E '^Ran [0-9.]+ s' '$TMP/sum' | awk '{exit !(\$2 >= 1.2)}'"
check "rules: 2 of 3 matched" grep -qx 'Rules matched: 2 of 3 loaded' "$TMP/sum"
expect_eq "... a_mark first (most matches), then b_mark; 'never' not listed" \
	"  a_mark: 2 matches in 2 streams|  b_mark: 1 match in 1 stream" \
	"$(grep -E '^  [ab]_mark|never' "$TMP/sum" | paste -sd'|')"
check "the streams that wrote most" grep -qx 'Streams that wrote most:' "$TMP/sum"
check "... the 100000-byte stream first, named (comm, path, the writer)" \
	bash -c "grep -A1 -x 'Streams that wrote most:' '$TMP/sum' | tail -1 | grep -qE '^  100000 bytes stream=[0-9a-f-]{36} pid=[0-9]+ tid=[0-9]+ comm=\"head\" fd=1 path=\"/dev/null\" ppid=[0-9]+ uid=0 exe=\"[^\"]*/head\" cmd=\"head -c 100000 /dev/zero\" rules=\$'"
check "... a matching stream names its rules" grep -qE '^  [0-9]+ bytes stream=.* rules=a_mark$' "$TMP/sum"
expect_eq "... all 4 streams (fewer than --top's default 5)" 4 "$(grep -cE '^  [0-9]+ bytes stream=' "$TMP/sum")"
"${YS[@]}" --top 2 -- sh -c "$CMD" >/dev/null 2>"$TMP/err2"
expect_eq "--top 2: two" 2 "$(grep -cE '^yarasnoop:   [0-9]+ bytes stream=' "$TMP/err2")"
"${YS[@]}" --top 0 -- sh -c "$CMD" >/dev/null 2>"$TMP/err3"
check "--top 0: no list" bash -c "! grep -q 'Streams that wrote most' '$TMP/err3'"
expect_exit "--top abc: exit 2" 2 "${YS[@]}" --top abc -- true
check "... naming the option" grep -q "invalid value 'abc' for --top" "$TMP/err"

# ---- -q ----
expect_exit "-q, a complete scan: exit 0" 0 "${YS[@]}" -q -- sh -c "$CMD"
check "... and nothing on stderr" test ! -s "$TMP/err"
expect_exit "-q, bytes truncated (--capture-max 16): exit 0" 0 "${YS[@]}" -q --capture-max 16 -- sh -c "$CMD"
check "... the totals line, saying what was not scanned" \
	grep -qE '^yarasnoop: [0-9]+ streams, .* [1-9][0-9]* truncated \(--capture-max\)' "$TMP/err"
check "... and why the scan is incomplete" grep -qE '^yarasnoop: incomplete scan: [0-9]+ bytes truncated$' "$TMP/err"
check "... and nothing else" test "$(wc -l <"$TMP/err")" -eq 2

# ---- JSON ----
expect_exit "JSON: exit 0" 0 "${YS[@]}" --format json -o "$TMP/ev" -- sh -c "$CMD"
check "JSON, complete: nothing on stderr" test ! -s "$TMP/err"
jcheck "the summary keeps every field" "$TMP/ev" \
	'set(["type", "streams", "streams_evicted", "bytes_written", "bytes_scanned", "bytes_dropped", "bytes_truncated", "bytes_unseen", "rules_matched", "kernel", "records_malformed"]) <= set(SUMMARY) and set(["writes", "bytes_written", "bytes_dropped", "bytes_unattributed", "control_records_dropped", "missed_runs"]) <= set(SUMMARY["kernel"])'
jcheck "... adds duration_ms (at least 1200)" "$TMP/ev" 'isinstance(SUMMARY["duration_ms"], int) and SUMMARY["duration_ms"] >= 1200'
jcheck "... and rules: matches and streams per rule that matched" "$TMP/ev" \
	'SUMMARY["rules_loaded"] == 3 and sorted((r["rule"], r["namespace"], r["matches"], r["streams"]) for r in SUMMARY["rules"]) == [("a_mark", "default", 2, 2), ("b_mark", "default", 1, 1)]'
jcheck "... which add up to rules_matched" "$TMP/ev" 'sum(r["matches"] for r in SUMMARY["rules"]) == SUMMARY["rules_matched"] == len(M)'
"${YS[@]}" --format json -o "$TMP/ev" --capture-max 16 -- sh -c "$CMD" 2>"$TMP/err"
check "JSON, incomplete: the totals line on stderr all the same" \
	grep -qE '^yarasnoop: [0-9]+ streams, .* [1-9][0-9]* truncated' "$TMP/err"

# ---- stats: totals since start, --top, --sort ----
holder_start h
ys_start st -r "$R" --format json -o "$TMP/st.ev" -p "$HPID"
hcmd open 3 "$TMP/f" && hcmd write 0 'YS_SUM_A\n' && hcmd big 1 5000 && hcmd big 2 300
check "three streams open" stats_until "$TMP/st" 'len(S) == 3 and sum(s["bytes_written"] for s in S) == 5309'
"$YARASNOOP" stats --control "$SOCK" --format json --top 2 >"$TMP/top"
jstat "--top 2: the two that wrote most, most first" "$TMP/top" \
	'[(s["path"], s["bytes_written"]) for s in S] == [("'"$TMP"'/f1", 5000), ("'"$TMP"'/f2", 300)] and D["streams_cached"] == 3'
"$YARASNOOP" stats --control "$SOCK" --format json --sort memory >"$TMP/mem"
jstat "--sort memory: every stream, most memory first" "$TMP/mem" \
	'len(S) == 3 and [s["memory_bytes"] for s in S] == sorted([s["memory_bytes"] for s in S], reverse=True)'
"$YARASNOOP" stats --control "$SOCK" --format json >"$TMP/all"
jstat "no --top, no --sort: every stream, oldest first" "$TMP/all" '[s["path"][-2:] for s in S] == ["f0", "f1", "f2"]'
jstat "totals since start: streams seen, bytes, match events" "$TMP/all" \
	'D["totals"]["streams_seen"] == 3 and D["totals"]["bytes_written"] == 5309 and D["totals"]["match_events"] == 1 and D["totals"]["duration_ms"] >= 0'
jstat "... per rule, counting the open stream that matched" "$TMP/all" \
	'[(r["rule"], r["matches"], r["streams"]) for r in D["totals"]["rules"]] == [("a_mark", 1, 1)]'
"$YARASNOOP" stats --control "$SOCK" --format text --top 1 >"$TMP/top.txt"
textstat "text --top 1: one stream block, the biggest" "$TMP/top.txt" 'len(B["streams"]) == 1 and B["streams"][0]["path"] == "'"$TMP"'/f1" and B["cached"] == 3'
check "... says how many of how many are listed, and in what order" grep -qx 'Streams listed: 1 of 3, most bytes written first' "$TMP/top.txt"
check "... then the totals since start" grep -qE '^Totals since start \([0-9.]+ s\):$' "$TMP/top.txt"
check "... streams seen, bytes" bash -c "grep -qx '  Streams seen: 3' '$TMP/top.txt' && grep -qx '  Bytes written: 5309 (scanned [0-9]*, dropped 0, truncated 0)' '$TMP/top.txt' || grep -qE '^  Bytes written: 5309 \\(scanned [0-9]+, dropped 0, truncated 0\\)$' '$TMP/top.txt'"
check "... and the rules" bash -c "grep -qx '  Rules matched: 1 of 3 loaded' '$TMP/top.txt' && grep -qx '    a_mark: 1 match in 1 stream' '$TMP/top.txt'"
expect_exit "stats --sort size: exit 2" 2 "$YARASNOOP" stats --control "$SOCK" --sort size
expect_exit "stats --top -1: exit 2" 2 "$YARASNOOP" stats --control "$SOCK" --top -1
hcmd closeall
ys_stop INT
expect_eq "it stops cleanly" 0 "$YSRC"
echo "1..$_n"
