#!/usr/bin/env bash
# Live capture with real BPF and real processes (as root).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "live capture" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/live.yar
# events go to their own file: the commands print to stdout too
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

# a key split across two writes
expect_exit "split key: command's status" 0 "${YS[@]}" -- "$WRITER" split
cp "$EV" "$TMP/split"
jcheck "a key split across two writes is found, once" "$TMP/split" \
	'[e["rule"] for e in M] == ["split_key"] and M[0]["stream"]["fd"] == 1 and M[0]["offset"] == 7'
jcheck "its stream accounts every byte" "$TMP/split" \
	'any(e["bytes_written"] == 38 and e["bytes_scanned"] == 38 and e["rules_matched"] == ["split_key"] for e in ENDS)'

# writev, pwrite64, pwritev, pwritev2
expect_exit "writev" 0 "${YS[@]}" -- "$WRITER" writev
jcheck "writev is captured across its iovecs" "$EV" '[e["rule"] for e in M] == ["writev_mark"]'
expect_exit "pwrite" 0 "${YS[@]}" -- "$WRITER" pwrite "$TMP/pw"
# the two pwritev markers: one match event or two (one a scan), both matches
jcheck "pwrite64, pwritev and pwritev2 are captured" "$EV" \
	'sorted(set(e["rule"] for e in M)) == ["pwrite_mark", "pwritev_mark"] and sum(len(e["strings"]) for e in M if e["rule"] == "pwritev_mark") == 2 and any(e["bytes_written"] == 17 + 18 + 18 and e["path"].endswith("/pw") for e in ENDS)'

# children and grandchildren
expect_exit "children" 0 "${YS[@]}" -- sh -c 'sh -c "echo YS_CHILD_MARKER"; true'
jcheck "a grandchild's write is caught" "$EV" \
	'len(M) == 1 and M[0]["rule"] == "child_mark" and M[0]["stream"]["pid"] != 0'

# fd reuse and dup2: new streams, new UUIDs
expect_exit "fd reuse" 0 "${YS[@]}" -- "$WRITER" fdreuse "$TMP/a" "$TMP/b"
fd=$(head -n 1 "$TMP/out")   # the writer prints the reused fd
jcheck "closing and reopening an fd, then dup2 onto it, gives three streams with three UUIDs" "$EV" \
	"len({e['stream']['uuid'] for e in M if e['stream']['fd'] == $fd}) == 3 and {e['reason'] for e in ENDS if e['fd'] == $fd} == {'close', 'exit'}"

# 64 MiB through dd, accounted to the byte
expect_exit "64 MiB dd" 0 "${YS[@]}" -- dd if=/dev/zero of=/dev/null bs=1M count=64 status=none
jcheck "64 MiB: written is exactly 67108864 and scanned + dropped + truncated == written" "$EV" \
	'[(e["bytes_written"], e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"]) for e in ENDS if e["path"] == "/dev/null"] == [(67108864, 67108864)]'
jcheck "... and the totals agree with the kernel's own count" "$EV" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] and SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"] + SUMMARY["bytes_dropped"] + SUMMARY["bytes_truncated"] and SUMMARY["bytes_dropped"] == SUMMARY["kernel"]["bytes_dropped"] + SUMMARY["user"]["backlog_bytes_dropped"]'

# --capture-max: the rest of a write is truncated, and counted
expect_exit "capture cap" 0 "${YS[@]}" --capture-max 4K -- "$WRITER" big 100000
jcheck "--capture-max 4K on a 100000-byte write: 4096 scanned, 95904 truncated" "$EV" \
	'[(e["bytes_scanned"], e["bytes_truncated"], e["bytes_dropped"]) for e in ENDS if e["fd"] == 1] == [(4096, 95904, 0)]'

# exit status and --fail-on-match
expect_exit "the command's exit status is ours" 42 "${YS[@]}" -- sh -c 'exit 42'
expect_exit "a command killed by a signal: 128 + signal" 143 "${YS[@]}" -- sh -c 'kill -TERM $$'
expect_exit "--fail-on-match with a match: 1" 1 "${YS[@]}" --fail-on-match -- "$WRITER" writev
expect_exit "--fail-on-match without a match: the command's status" 0 "${YS[@]}" --fail-on-match -- echo nothing here
expect_exit "a command that cannot be executed: 127" 127 "${YS[@]}" -- /nonexistent/cmd
check "... saying so" grep -q "cannot execute /nonexistent/cmd: No such file or directory" "$TMP/err"

# a flood through a tiny ring buffer: loss counted exactly, and on we go
expect_exit "flood through a 64K ring" 0 "${YS[@]}" --ring-size 64K -- "$WRITER" flood 3000
cp "$EV" "$TMP/flood"
jcheck "the flood loses bytes, and says how many" "$TMP/flood" \
	'SUMMARY["bytes_dropped"] > 0 and SUMMARY["bytes_dropped"] == SUMMARY["kernel"]["bytes_dropped"] + SUMMARY["user"]["backlog_bytes_dropped"]'
jcheck "every stream: scanned + dropped + truncated == written" "$TMP/flood" \
	'all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
jcheck "the totals equal the kernel's count of bytes written" "$TMP/flood" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == 3000 * 65536 + 15 and SUMMARY["kernel"]["control_records_dropped"] == 0'
jcheck "after the flood, detection goes on" "$TMP/flood" '[e["rule"] for e in M] == ["after_flood"]'

# -p PID: attach to a running process; exit when it has gone
holder_start p
ys_start p -r "$R" --format json -o "$TMP/p.ev" -p "$HPID"
check "-p PID: attached" kill -0 "$YSPID"
hcmd open 1 "$TMP/p" && hcmd write 0 'YS_MARK\n' && hcmd exit
check "-p: the process did what it was told, and exited" bwait "$HPID"
bwait "$YSPID"
expect_eq "-p: yarasnoop exits 0 once the process has gone" 0 "$?"
jcheck "-p: the process's write is caught" "$TMP/p.ev" "len(M) == 1 and M[0]['stream']['pid'] == $HPID"
expect_exit "-p with no such process: exit 2" 2 "${YS[@]}" -p 999999999
check "... naming it" grep -q "no process with pid 999999999" "$TMP/err"

# -C COMM: processes by name, started later (once yarasnoop answers, it is
# attached; at SIGINT it drains what they wrote)
ln -s "$WRITER" "$TMP/ys_comm_tst"
ys_start comm -r "$R" --format json -o "$TMP/comm.out" -C ys_comm_tst
check "-C: attached" kill -0 "$YSPID"
/usr/bin/python3 "$WRITER" sleepmark 0 >/dev/null   # another name: not traced
"$TMP/ys_comm_tst" writev >/dev/null
ys_stop INT
expect_eq "-C: SIGINT, exit 0" 0 "$YSRC"
jcheck "-C: the named process is traced, others are not" "$TMP/comm.out" \
	'[e["rule"] for e in M] == ["writev_mark"] and M[0]["stream"]["comm"] == "ys_comm_tst"'
jcheck "SIGINT ends open streams with reason shutdown, or they had closed" "$TMP/comm.out" \
	'SUMMARY is not None and all(e["reason"] in ("close", "exit", "shutdown") for e in ENDS)'

# -a: everything but ourselves
ys_start all -r "$R" --format json -o "$TMP/all.out" -a
check "-a: attached" kill -0 "$YSPID"
"$WRITER" writev >/dev/null
ys_stop TERM
expect_eq "-a: SIGTERM, exit 0" 0 "$YSRC"
jcheck "-a: any process is traced" "$TMP/all.out" '"writev_mark" in [e["rule"] for e in M]'
jcheck "-a: but never yarasnoop itself" "$TMP/all.out" "all(e['pid'] != $YSPID for e in ENDS)"

# --fd: only some fds
expect_exit "--fd 2" 0 "${YS[@]}" --fd 2 -- /usr/bin/python3 -c 'import os; os.write(1, b"YS_MARK\n"); os.write(2, b"YS_MARK\n")'
jcheck "--fd 2: only fd 2 is captured" "$EV" '[e["stream"]["fd"] for e in M] == [2] and all(e["fd"] == 2 for e in ENDS)'

# escaping: a comm made to forge events stays inside its string
expect_exit "forged comm" 0 "${YS[@]}" -- "$WRITER" comm
jcheck "a comm with a quote and a newline cannot forge an event" "$EV" \
	'len(M) == 1 and M[0]["stream"]["comm"] == "x" + chr(92) + chr(34) + "}" + chr(92) + "n{" + chr(92) + chr(34) + "type" + chr(92) + chr(34) + ":" + chr(92) + chr(34) and all(e["type"] in ("match", "stream_end", "summary") for e in EVENTS)'
expect_exit "forged comm, text" 0 "$YARASNOOP" --no-control -r "$R" -o "$EV" -- "$WRITER" comm
expect_eq "text: one line for the match, one for its stream" 2 "$(grep -cE '^[0-9]{4}-' "$EV")"
expect_eq "text: no other lines" 2 "$(wc -l <"$EV")"
check "text: comm is quoted and escaped" grep -qF 'comm="x\"}\n{\"type\":\""' "$EV"
check "nothing captured is printed without -s" bash -c "! grep -q 'forged comm' '$EV'"

# enter and exit hooks (arguments stashed at enter) must agree with exit only
EE=(--hooks enter-exit)
expect_exit "enter-exit: writev" 0 "${YS[@]}" "${EE[@]}" -- "$WRITER" writev
jcheck "enter-exit: writev is captured across its iovecs" "$EV" '[e["rule"] for e in M] == ["writev_mark"]'
expect_exit "enter-exit: pwrite" 0 "${YS[@]}" "${EE[@]}" -- "$WRITER" pwrite "$TMP/pw"
jcheck "enter-exit: pwrite64, pwritev and pwritev2 are captured" "$EV" \
	'sorted(set(e["rule"] for e in M)) == ["pwrite_mark", "pwritev_mark"] and sum(len(e["strings"]) for e in M if e["rule"] == "pwritev_mark") == 2 and any(e["bytes_written"] == 17 + 18 + 18 and e["path"].endswith("/pw") for e in ENDS)'
expect_exit "enter-exit: split key" 0 "${YS[@]}" "${EE[@]}" -- "$WRITER" split
jcheck "enter-exit: a key split across two writes is found" "$EV" '[e["rule"] for e in M] == ["split_key"]'
expect_exit "enter-exit: 1024 iovecs" 0 "${YS[@]}" "${EE[@]}" -- "$WRITER" iovecs
jcheck "enter-exit: 1024 iovecs, every byte" "$EV" \
	'any(e["bytes_written"] == e["bytes_scanned"] == 1024 * 48 for e in ENDS) and [e["rule"] for e in M] == ["writev_mark"]'
expect_exit "enter-exit: flood through a 64K ring" 0 "${YS[@]}" "${EE[@]}" --ring-size 64K -- "$WRITER" flood 3000
jcheck "enter-exit: the flood's loss is exact, detection goes on" "$EV" \
	'SUMMARY["bytes_dropped"] > 0 and all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS) and SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] and [e["rule"] for e in M] == ["after_flood"]'
expect_exit "bad --hooks: exit 2" 2 "${YS[@]}" --hooks both -- true

# environment errors: exit 3 with advice
if command -v setpriv >/dev/null; then
	expect_exit "not root: exit 3" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$YARASNOOP" --no-control -r "$R" -- true
	check "... saying what to do" grep -q "needs root, or CAP_BPF and CAP_PERFMON" "$TMP/err"
fi
expect_exit "a kernel without BTF: exit 3" 3 env YARASNOOP_TEST_VMLINUX_BTF=/nonexistent/vmlinux "${YS[@]}" -- true
check "... saying what it needs" grep -q "CONFIG_DEBUG_INFO_BTF=y" "$TMP/err"
expect_exit "no target: exit 2" 2 "${YS[@]}"
expect_exit "two kinds of target: exit 2" 2 "${YS[@]}" -a -p 1
expect_exit "bad --ring-size: exit 2" 2 "${YS[@]}" --ring-size 1000 -- true
expect_exit "bad --max-memory: exit 2" 2 "${YS[@]}" --max-memory 12XB -- true
check "... naming the option and the value" grep -q "invalid value '12XB' for --max-memory" "$TMP/err"
echo "1..$_n"
