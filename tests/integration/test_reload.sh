#!/usr/bin/env bash
# SIGHUP reloads the rules: compiled whole first; a bad file keeps the rules
# in force (one line naming file and line, monitoring goes on, the exit
# status is the command's); on success the old rules finish what they were
# given, open streams keep their UUID and their kept bytes are rescanned by
# the new rules, so a key written across the reload is found. SIGHUP never
# ends yarasnoop and never reaches the command.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "reload" || { echo "1..$_n"; exit 0; }
RF=$TMP/rules.yar
EV=$TMP/ev
OUT=$TMP/out
cat >"$RF" <<'EOF'
rule ys_old_only { strings: $a = "YS_OLD_RULE_SEES_THIS_MARKER" condition: $a }
EOF
# only the new set has these
cat >"$TMP/new.yar" <<'EOF'
rule aws_access_key_id { strings: $id = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ condition: $id }
rule ys_new_only { strings: $a = "YS_NEW_RULE_MARKER" condition: $a }
EOF
# count_is N REGEX FILE: FILE has N lines matching REGEX (for poll)
count_is() { [[ $(grep -cE -- "$2" "$3") -eq $1 ]]; }
printf 'rule ok { condition: true }\n\nrule broken { strings: $a = "x" condition: $b }\n' >"$TMP/bad.yar"

# waits for go.N before each part (closing OUT after the second ends its
# stream: its final scan); a SIGHUP it got would leave a file
CMD='trap "echo got >'"$TMP"'/cmd_got_hup" HUP
exec >'"$OUT"'
step() { n=0; while [ ! -e '"$TMP"'/go.$1 ] && [ $n -lt '$((RUN_LIMIT * 20))' ]; do sleep 0.05; n=$((n+1)); done; }
printf "YS_OLD_RULE_SEES_THIS_MARKER key AKIAIOSFODNN"
step 1; printf "7EXAMPLE end\n"; exec >/dev/null
step 2; echo "second AKIAI0SFODNN7EXAMPLF" >'"$TMP"'/out2
step 3; echo YS_NEW_RULE_MARKER'
# pending bytes stay pending until the reload: only it can scan them
ys_start r1 -r "$RF" --format json -o "$EV" --flush-ms 60000 --flush-bytes 1M -- sh -c "$CMD"
check "stats: the stream holds its first 45 bytes, unscanned" \
	stats_until "$TMP/st" "[(s['bytes_written'], s['bytes_processed']) for s in S if s['path'] == '$OUT'] == [(45, 0)]"
uuid=$($PY -c 'import json,sys; print([s["uuid"] for s in json.load(open(sys.argv[1]))["streams"] if s["path"] == sys.argv[2]][0])' "$TMP/st" "$OUT")
check "nothing matched yet" bash -c "! grep -q '\"type\":\"match\"' '$EV'"

cp "$TMP/new.yar" "$RF"
kill -HUP "$YSPID"
check "SIGHUP: a reload event, ok, 2 rules from 1 file" \
	poll grep -q '"type":"reload","time":"[^"]*","ok":true,"rules":2,"rule_files":1' "$EV"
check "... yarasnoop runs on" kill -0 "$YSPID"
jcheck "... the old rules scanned the pending bytes first: ys_old_only matched" "$EV" \
	'[(e["rule"], e["stream"]["uuid"]) for e in M] == [("ys_old_only", "'"$uuid"'")]'
check "... stderr says so, in one line" poll grep -q "rules reloaded: 2 rules from 1 files" "$TMP/r1.err"
touch "$TMP/go.1"
check "the key written across the reload is found by the new rule" \
	poll grep -q '"rule":"aws_access_key_id"' "$EV"
jcheck "... in the same stream (same UUID), at its stream offset" "$EV" \
	'[(e["stream"]["uuid"], e["offset"]) for e in M if e["rule"] == "aws_access_key_id"] == [("'"$uuid"'", 33)]'

# ---- a rule file that does not compile ----
cp "$TMP/bad.yar" "$RF"
: >"$TMP/r1.err.before"
cp "$TMP/r1.err" "$TMP/r1.err.before"
kill -HUP "$YSPID"
check "bad rules: a reload event, not ok, naming the 2 rules kept" \
	poll grep -q '"type":"reload","time":"[^"]*","ok":false,"rules":2,"rule_files":1' "$EV"
diff "$TMP/r1.err.before" "$TMP/r1.err" | sed -n 's/^> //p' >"$TMP/bad.err"
check "... one line on stderr" one_line "$TMP/bad.err"
check "... naming the file and line, and that the old rules stay" \
	grep -q "rules not reloaded, the previous ones stay: $RF:3: " "$TMP/bad.err"
check "... yarasnoop runs on" kill -0 "$YSPID"
touch "$TMP/go.2"
check "... and the rules in force still detect" poll grep -q '"path":"'"$TMP"'/out2"' "$EV"
jcheck "... (aws_access_key_id in out2)" "$EV" \
	'any(e["rule"] == "aws_access_key_id" and e["stream"]["path"] == "'"$TMP"'/out2" for e in M)'

# ---- the same rules again: no event lost, none repeated ----
cp "$TMP/new.yar" "$RF"
kill -HUP "$YSPID"
check "a second good reload" poll count_is 2 '"type":"reload","time":"[^"]*","ok":true' "$EV"
touch "$TMP/go.3"
ys_stop_wait() { bwait "$YSPID"; YSRC=$?; }
ys_stop_wait
expect_eq "the command ends: yarasnoop exits with its status, 0, whatever the failed reload" 0 "$YSRC"
check "SIGHUP never reached the command" test ! -e "$TMP/cmd_got_hup"
jcheck "the summary counts each rule by name across the reloads" "$EV" \
	'sorted((r["rule"], r["matches"], r["streams"]) for r in SUMMARY["rules"]) == [("aws_access_key_id", 2, 2), ("ys_new_only", 1, 1), ("ys_old_only", 1, 1)]'
jcheck "... ys_old_only marked as reloaded away" "$EV" \
	'[r.get("reloaded_away", False) for r in SUMMARY["rules"] if r["rule"] == "ys_old_only"] == [True]'
jcheck "every stream accounted: written == scanned, none dropped" "$EV" \
	'all(e["bytes_written"] == e["bytes_scanned"] and e["bytes_dropped"] == 0 for e in ENDS) and SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"]'

# ---- no command: SIGHUP does not end yarasnoop ----
holder_start h
cat "$TMP/new.yar" >"$RF"
ys_start r2 -r "$RF" --format text -o "$TMP/ev2" -p "$HPID"
kill -HUP "$YSPID"
check "-p and SIGHUP: a reload line in the text output" poll grep -qE ' reload status=ok rules=2 rule_files=1$' "$TMP/ev2"
check "... and yarasnoop still runs and answers" _ys_answers "$SOCK" "$YSPID"
hcmd open 1 "$TMP/h.out" && hcmd write 0 'YS_NEW_RULE_MARKER\n'
check "... and detects" poll grep -q "match rule=ys_new_only" "$TMP/ev2"
kill -HUP "$YSPID"
check "a second SIGHUP: still running" poll count_is 2 ' reload status=ok' "$TMP/ev2"
ys_stop INT
expect_eq "SIGINT ends it: exit 0" 0 "$YSRC"

# ---- -q: no note for a good reload, the line for a bad one ----
ys_start r3 -q -r "$RF" -o "$TMP/ev3" -p "$HPID"
kill -HUP "$YSPID"
check "-q: the reload happens" poll grep -q ' reload status=ok' "$TMP/ev3"
cp "$TMP/bad.yar" "$RF"
kill -HUP "$YSPID"
check "-q: a failed reload still says why" poll grep -q "rules not reloaded" "$TMP/r3.err"
ys_stop INT
check "-q: nothing else on stderr (no note, no summary)" test "$(grep -vc "rules not reloaded" "$TMP/r3.err")" -eq 0
echo "1..$_n"
