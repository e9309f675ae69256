#!/usr/bin/env bash
# Faults yarasnoop must survive, and what it must not leak.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "hardening" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/live.yar
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

# one write of 1 GiB: a capped capture, exact accounting, bounded memory
expect_exit "a 1 GiB write in one call" 0 "${YS[@]}" -v -- "$WRITER" huge $((1 << 30))
jcheck "1 GiB: 1 MiB captured, the rest truncated, to the byte" "$EV" \
	'[(e["bytes_written"], e["bytes_scanned"], e["bytes_truncated"], e["bytes_dropped"]) for e in ENDS if e["path"] == "/dev/null"] == [(1 << 30, 1 << 20, (1 << 30) - (1 << 20), 0)]'
jcheck "... and the marker in it is found" "$EV" '[e["rule"] for e in M] == ["generic_mark"]'

# writev with 1024 iovecs, markers cut across them
expect_exit "writev of 1024 iovecs" 0 "${YS[@]}" -- "$WRITER" iovecs
jcheck "1024 iovecs: every byte captured, markers across iovec edges found" "$EV" \
	'any(e["bytes_written"] == e["bytes_scanned"] == 1024 * 48 for e in ENDS) and [e["rule"] for e in M] == ["writev_mark"]'

# binary data full of NULs
expect_exit "binary data" 0 "${YS[@]}" -- "$WRITER" nuls
jcheck "NUL-filled binary data: a marker split across writes is found" "$EV" \
	'[e["rule"] for e in M] == ["generic_mark"] and any(e["bytes_written"] == 12007 and e["bytes_scanned"] == 12007 for e in ENDS)'

# a stream of 1-byte writes
expect_exit "20000 one-byte writes" 0 "${YS[@]}" -- "$WRITER" bytewise 20000
jcheck "one-byte writes: the marker is found, every byte accounted" "$EV" \
	'[e["rule"] for e in M] == ["generic_mark"] and any(e["bytes_written"] == e["bytes_scanned"] == 20109 for e in ENDS)'

# our output goes away: a clear error, exit 4, not a SIGPIPE death
timeout -k 10 "$RUN_LIMIT" "$YARASNOOP" --no-control -r "$R" --format json -- \
	sh -c 'for i in 1 2 3 4 5 6; do echo YS_MARK; sleep 0.1; done' 2>"$TMP/err" | head -c 1 >/dev/null
rc=${PIPESTATUS[0]}
expect_eq "closed output pipe: exit 4" 4 "$rc"
check "... saying so" grep -q "writing standard output failed: Broken pipe" "$TMP/err"
# (-o refuses devices: a full -o file system is in test_output_file.sh)
"$YARASNOOP" --no-control -r "$R" -- sh -c 'echo YS_MARK >/dev/null' >/dev/full 2>"$TMP/err"
expect_eq "full disk (standard output on /dev/full): exit 4" 4 "$?"
check "... saying so" grep -q "writing standard output failed: No space left on device" "$TMP/err"

# SIGTERM and SIGINT: every open stream ends, reason shutdown; what was
# written just before is drained from the ring and scanned first
for sig in TERM INT; do
	holder_start "h$sig"
	ys_start "s$sig" -r "$R" --format json -o "$EV" -p "$HPID"
	hcmd open 1 "$TMP/held$sig" && hcmd write 0 'YS_MARK before the end\n'
	check "SIG$sig: the traced process wrote and holds its file open" test -s "$TMP/held${sig}0"
	ys_stop "$sig"
	expect_eq "SIG$sig: clean exit" 0 "$YSRC"
	jcheck "SIG$sig: the open stream ends with reason shutdown, its bytes accounted" "$EV" \
		'[(e["reason"], e["bytes_written"], e["bytes_scanned"]) for e in ENDS] == [("shutdown", 23, 23)] and SUMMARY is not None'
	hcmd exit
done

# capabilities: none left once attached; the BPF side goes with the process
"$YARASNOOP" --no-control -r "$R" -o "$EV" -- sleep "$RUN_LIMIT" &
ys=$!
bg_track "$ys"
check "running, its programs attached: no capability left (effective, permitted, bounding)" \
	poll attached_without_caps "$ys"
ids=$(prog_ids "$ys")
check "running: it holds its BPF programs (prog ids from fdinfo)" test "$(echo "$ids" | wc -w)" -ge 5
kids=$(pgrep -P "$ys")
kill -KILL "$ys"
bwait "$ys"
# shellcheck disable=SC2086 # a list of pids
kill $kids 2>/dev/null
# freed after an RCU grace period: poll for it
# shellcheck disable=SC2086 # a list of ids
check "killed with SIGKILL: every one of its BPF programs is released" poll progs_released $ids
echo "1..$_n"
