#!/usr/bin/env bash
# replay: the seed's demo output with true figures, JSON, and bad input.
. "$(dirname "$0")/../lib.sh"
R=$TESTDATA/test_multi_stream.yar
IN1=$TESTDATA/test_input1.log IN2=$TESTDATA/test_input2.log

expect_exit "replay of the sample logs succeeds" 0 "$YARASNOOP" replay -r "$R" -i "$IN1" "$IN2" -c 3
cp "$TMP/out" "$TMP/text"
expect_eq "one round line per file per chunk" 6 "$(grep -cE '^Round [1-3] - File [01]: [0-9]+ bytes in [0-9.]+(ns|µs|ms|s), [0-9]+ new matches \(total: [0-9]+\)$' "$TMP/text")"
expect_eq "round bytes add up to file 0's size" "$(stat -c %s "$IN1")" "$(grep -E '^Round . - File 0' "$TMP/text" | awk '{s+=$6} END {print s}')"
expect_grep "cache memory lines" '^        Cache memory usage: [0-9]+ KB \(2 active streams\)$' "$TMP/text"
expect_grep "final block" '^Final memory statistics:$' "$TMP/text"
expect_grep "streams cached" '^Total streams cached: 2$' "$TMP/text"
expect_grep "stream 0 bytes" '^  - Bytes processed: 340$' "$TMP/text"
expect_grep "stream 1 lines" '^  - Lines processed: 5$' "$TMP/text"
expect_grep "bitmaps of 1 byte" '^  - Rule bitmap size: 1 bytes$' "$TMP/text"
expect_eq "non-private rules per stream" "3 2" "$(grep 'Non-private rules matched' "$TMP/text" | awk '{printf "%s%s", sep, $NF; sep=" "}')"
expect_eq "private rules per stream" "1 0" "$(grep ' Private rules matched' "$TMP/text" | awk '{printf "%s%s", sep, $NF; sep=" "}')"
total=$(sed -n 's/^Total contexts memory: \([0-9]*\) bytes$/\1/p' "$TMP/text")
sum=$(sed -n 's/^  - Memory: \([0-9]*\) bytes$/\1/p' "$TMP/text" | awk '{s+=$1} END {print s}')
check "per-stream memory adds up to the total (less the bucket share rounding)" test "$sum" -le "$total" -a $((total - sum)) -lt 2
check "a rule split across chunks (connect ... denied) is found" grep -q '          - test_connect_then_denied' "$TMP/text"
check "nothing captured is printed without --show-strings" bash -c "! grep -q 'hunter2' '$TMP/text'"

expect_exit "JSON replay succeeds" 0 "$YARASNOOP" replay -r "$R" -i "$IN1" "$IN2" -c 4 --format json
check "every JSON line parses" python3 -c "import json,sys; [json.loads(l) for l in open('$TMP/out')]"
last=$(tail -n 1 "$TMP/out")
check "last line is the final summary" python3 -c "
import json; f = json.loads('''$last''')
assert f['type'] == 'final' and len(f['streams']) == 2
s0, s1 = f['streams']
assert s0['input'].endswith('test_input1.log') and s0['bytes_processed'] == 340 and s0['lines_processed'] == 6
assert s0['rules_matched'] == ['test_pattern1', 'test_pattern2', 'test_connect_then_denied'], s0['rules_matched']
assert s0['private_rules_matched'] == 1 and s1['private_rules_matched'] == 0
assert f['total_memory_bytes'] >= s0['memory_bytes'] + s1['memory_bytes']
assert len(s0['uuid']) == 36 and s0['uuid'] != s1['uuid']
"
expect_eq "match events in JSON, once per rule per stream" 5 "$(grep -c '"type":"match"' "$TMP/out")"
check "--show-strings shows matched bytes" bash -c "'$YARASNOOP' replay -s -r '$R' -i '$IN2' --format json | grep -q '\"data\":\"PASSWORD\"'"

# compiled rules work; from another version they are refused by name
yarac "$R" "$TMP/compiled.yarc"
expect_exit "compiled rules load" 0 "$YARASNOOP" replay -r "$TMP/compiled.yarc" -i "$IN1"
printf 'YARA\x01\x00\x00\x00garbage' >"$TMP/other.yarc"
expect_exit "compiled rules of another version: exit 2" 2 "$YARASNOOP" replay -r "$TMP/other.yarc" -i "$IN1"
check "... naming the file and the version" grep -q "other.yarc: compiled rules from another libyara version" "$TMP/err"

# bad input: one line naming the culprit, exit 2
printf 'rule ok { condition: true }\n\nrule bad {\n  strings: $a = "x"\n  condition: $a and\n}\n' >"$TMP/bad.yar"
expect_exit "rule syntax error: exit 2" 2 "$YARASNOOP" replay -r "$TMP/bad.yar" -i "$IN1"
check "... one line naming file and line" bash -c "one_line() { [[ \$(wc -l <\"\$1\") -eq 1 ]]; }; one_line '$TMP/err' && grep -qE 'bad.yar:6: ' '$TMP/err'"
expect_exit "missing rules file: exit 2" 2 "$YARASNOOP" replay -r "$TMP/nope.yar" -i "$IN1"
check "... named" grep -q "rules path $TMP/nope.yar: No such file or directory" "$TMP/err"
mkdir "$TMP/empty"
expect_exit "directory with no rules: exit 2" 2 "$YARASNOOP" replay -r "$TMP/empty" -i "$IN1"
check "... named" grep -q "rules directory $TMP/empty has no .yar or .yara files" "$TMP/err"
printf '// nothing here\n' >"$TMP/none.yar"
expect_exit "empty rule set: exit 2" 2 "$YARASNOOP" replay -r "$TMP/none.yar" -i "$IN1"
check "... named" grep -q "no rules in $TMP/none.yar" "$TMP/err"
mkdir "$TMP/dir"; cp "$R" "$TMP/dir/a.yar"; printf 'rule extra { strings: $e = "INFO" condition: $e }\n' >"$TMP/dir/b.yara"
expect_exit "a rules directory is read" 0 "$YARASNOOP" replay -r "$TMP/dir" -i "$IN1" --format json
check "... both of its files" grep -q '"extra"' "$TMP/out"
expect_exit "-c 0: exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN1" -c 0
check "... named" grep -q "invalid value '0' for --chunks: a number of chunks, 1 or more" "$TMP/err"
expect_exit "-c -1: exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN1" -c -1
expect_exit "missing input: exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$TMP/missing.log"
check "... named" grep -q "input file $TMP/missing.log: No such file or directory" "$TMP/err"
expect_exit "no input: exit 2" 2 "$YARASNOOP" replay -r "$R"
expect_exit "unknown option: exit 2" 2 "$YARASNOOP" replay --bogus -i "$IN1"
check "... named" grep -q "unknown option --bogus" "$TMP/err"
expect_exit "bad --format: exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN1" --format xml
expect_exit "bundled default rules are found" 0 "$YARASNOOP" replay -i "$IN1"
echo "1..$_n"
