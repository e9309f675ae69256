#!/usr/bin/env bash
# --stream-by file (as root, real BPF): every traced process's writes to
# one file form one stream, so a key split between two processes writing
# one terminal, pipe or log is found, and the match names the process that
# wrote its first byte; the default (a stream per process) does not find
# it. A view ends with its last writer and leaves its tail to the next.
. "$(dirname "$0")/../lib.sh"
need_root "per-file view" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/streams.yar	# aws_example_key: AKIAIOSFODNN7EXAMPLE
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")
PY=/usr/bin/python3
V=$(cd "$(dirname "$0")/../helpers" && pwd)/views.py

# case NAME MODE ARGS...: runs views.py MODE in both views; the key is found
# in the file view only, and its writer is the first half's
case_two() {
	local name=$1; shift
	rm -f "$TMP/log"
	expect_exit "$name, a stream per process" 0 "${YS[@]}" -- $PY "$V" "$@"
	jcheck "... not found" "$EV" 'M == []'
	rm -f "$TMP/log"
	expect_exit "$name, --stream-by file" 0 "${YS[@]}" --stream-by file -- $PY "$V" "$@"
	read -r first second <"$TMP/pids"
	jcheck "... found, once; the match names the writer of the first half ($first)" "$EV" \
		"[(e['rule'], e['writer']['pid']) for e in M] == [('aws_example_key', $first)]"
	jcheck "... every byte scanned, as the kernel counted" "$EV" \
		'SUMMARY["complete"] and SUMMARY["bytes_scanned"] == SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"]'
}
export VIEWS_PIDS=$TMP/pids

case_two "a terminal held by two processes, each writing a half" pty_both
jcheck "... one stream for the terminal, both processes in it" "$EV" \
	"[(e['writers'], e['bytes_written']) for e in ENDS if e['path'].startswith('/dev/pts/')] == [(2, 21)] and M[0]['stream']['path'].startswith('/dev/pts/')"
case_two "two commands after each other writing a half each to a terminal" pty_seq
jcheck "... the first command's stream ended before the second wrote: the second's went on from its tail" "$EV" \
	"[(e['writers'], e['bytes_written']) for e in ENDS if e['path'].startswith('/dev/pts/')] == [(1, 12), (1, 9)] and SUMMARY['user']['streams_resumed'] >= 1"
jcheck "... the match is reported at the key's place in the terminal's bytes (0), by /usr/bin/printf" "$EV" \
	"(M[0]['offset'], M[0]['writer']['comm']) == (0, 'printf')"
case_two "two processes with their own opens of one log, both open, appending a half each" append_both "$TMP/log"
jcheck "... one stream for the log" "$EV" "[e['writers'] for e in ENDS if e['path'] == '$TMP/log'] == [2]"
case_two "two commands appending a half each to one log (>>), one after the other" append_seq "$TMP/log"
# (what waits for file order waits --flush-ms: long enough for a process to start)
YS0=("${YS[@]}")
YS+=(--flush-ms 3000)
case_two "two processes pwriting the second half at 12, then the first at 0" pwrite_two "$TMP/log"
jcheck "... at offset 0: file order across the two processes" "$EV" "M[0]['offset'] == 0"
YS=("${YS0[@]}")
case_two "two writers holding one pipe, a half each" pipe_both
jcheck "... one stream for the pipe" "$EV" "[e['writers'] for e in ENDS if e['path'].startswith('pipe:')] == [2]"

# the writer's name is escaped like every name from a traced process
unset VIEWS_PIDS
expect_exit "a writer named 'evil<newline>match x' writes the first half, text mode" 0 \
	"$YARASNOOP" --no-control -r "$R" --stream-by file -o "$TMP/text" -- $PY "$V" forged
check "... one match line, the name escaped" \
	grep -qx '.* match rule=aws_example_key .* writer_pid=[0-9]* writer_tid=[0-9]* writer_comm="evil\\nmatch x" writer_fd=[0-9]* offset=0 .*' "$TMP/text"
expect_eq "... and nothing else on its own line" 0 "$(grep -vc -e ' match ' -e ' stream_end ' "$TMP/text")"

# ---- an interactive bash under a terminal, with a prompt hook ----
cat >"$TMP/session" <<'SH'
echo hello
printf AKIAIOSFODNN; echo x >/dev/null; printf 7EXAMPLE; echo
ls / >/dev/null
date
/usr/bin/printf ZZZ; /bin/echo x >/dev/null; /usr/bin/printf 'x\n'
SH
expect_exit "bash -i under a pty: a stream per process" 0 "${YS[@]}" -- $PY "$V" bash "$TMP/session"
pty_streams=$($PY -c 'import json,sys; print(len([e for e in map(json.loads, open(sys.argv[1])) if e["type"] == "stream_end" and e["path"].startswith("/dev/pts/")]))' "$EV")
jcheck "... the key split around a redirect by builtins is found ($pty_streams streams on the terminal: bash and each command)" "$EV" \
	"[e['rule'] for e in M] == ['aws_example_key'] and $pty_streams > 3"
expect_exit "bash -i under a pty: --stream-by file" 0 "${YS[@]}" --stream-by file -- $PY "$V" bash "$TMP/session"
jcheck "... one stream for the terminal, every process that wrote it in it" "$EV" \
	"[e['writers'] >= 4 for e in ENDS if e['path'].startswith('/dev/pts/')] == [True]"
jcheck "... the key found, written by bash" "$EV" "[(e['rule'], e['writer']['comm']) for e in M] == [('aws_example_key', 'bash')]"
sed -i 's/ZZZ/AKIAIOSFODNN/; s/x\\n/7EXAMPLE\\n/' "$TMP/session"
expect_exit "... the key split between two commands around a redirect, a stream per process" 0 \
	"${YS[@]}" -- $PY "$V" bash "$TMP/session"
jcheck "... only the builtins' key is found" "$EV" "len(M) == 1 and M[0]['stream']['comm'] == 'bash'"
expect_exit "... --stream-by file" 0 "${YS[@]}" --stream-by file -- $PY "$V" bash "$TMP/session"
# (the second key, printf's, is a second occurrence when a later scan
# finds it, or part of the first when one scan holds both: timing)
jcheck "... the terminal's stream finds it: its first occurrence is the first key, bash's" "$EV" \
	"M and {e['rule'] for e in M} == {'aws_example_key'} and [(e['writer']['comm'], e['occurrence']) for e in M][0] == ('bash', 1) and len({e['stream']['uuid'] for e in M}) == 1"
printf 'echo hello\n/usr/bin/printf AKIAIOSFODNN; /bin/echo x >/dev/null; /usr/bin/printf "7EXAMPLE\\n"\n' >"$TMP/session2"
expect_exit "... the commands' key alone, --stream-by file" 0 "${YS[@]}" --stream-by file -- $PY "$V" bash "$TMP/session2"
jcheck "... found, the writer /usr/bin/printf, not bash" "$EV" "[(e['rule'], e['writer']['comm']) for e in M] == [('aws_example_key', 'printf')]"
expect_exit "... the commands' key alone, a stream per process" 0 "${YS[@]}" -- $PY "$V" bash "$TMP/session2"
jcheck "... not found" "$EV" 'M == []'

# ---- loss stays exact: a member's gap is a gap in its view ----
expect_exit "--stream-by file, 64K ring, two processes flooding one pipe" 0 "${YS[@]}" --stream-by file --no-lossless \
	--ring-size 64K -- sh -c '{ head -c 20000000 /dev/zero & head -c 20000000 /dev/zero; wait; } | cat >/dev/null'
jcheck "... bytes were dropped, and every stream adds up: scanned + dropped + truncated == written" "$EV" \
	'SUMMARY["bytes_dropped"] > 0 and all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
jcheck "... the summary equals the kernel's count" "$EV" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] and SUMMARY["bytes_scanned"] + SUMMARY["bytes_dropped"] + SUMMARY["bytes_truncated"] == SUMMARY["bytes_written"]'
jcheck "... the pipe both heads wrote is one stream" "$EV" "[e['writers'] for e in ENDS if e['path'].startswith('pipe:') and e['bytes_written'] == 40000000] == [2]"

expect_exit "--stream-by with a bad value" 2 "$YARASNOOP" --stream-by inode -a
check "... one line naming the option" grep -qx "yarasnoop: invalid value 'inode' for --stream-by: process or file" "$TMP/err"
echo "1..$_n"
