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
"$YARASNOOP" --no-control -r "$R" -o "$EV" --workers 2 -- sleep "$RUN_LIMIT" &
ys=$!
bg_track "$ys"
check "running, its programs attached: no capability left (effective, permitted, bounding)" \
	poll attached_without_caps "$ys"
# every thread's own: the main and output threads and the scan workers
# (libyara on what traced processes wrote) none, the drain thread
# CAP_SYS_PTRACE (bit 19: /proc/PID/maps and fd of root's processes) and
# nothing else; no bounding set, no_new_privs, in each
tcaps() { thread_caps "$ys" >"$TMP/caps" && python3 -c 'import sys
T = [l.split() for l in open(sys.argv[1])]
N = sorted(t[0] for t in T)
C = {t[0]: tuple(int(x, 16) for x in t[1:4]) + (t[4],) for t in T}
sys.exit(not eval(sys.argv[2]))' "$TMP/caps" "$1"; }
check "... its threads: the main one, an output thread, a drain thread and 2 scan workers" \
	poll tcaps 'N == sorted(["yarasnoop", "ys-output", "ys-drain", "ys-scan", "ys-scan"])'
check "... the main and output threads and every scan worker hold no capability" \
	poll tcaps 'C["yarasnoop"] == C["ys-output"] == (0, 0, 0, "1") and all(t[1:] == ["0000000000000000", "0000000000000000", "0000000000000000", "1"] for t in T if t[0] == "ys-scan")'
check "... the drain thread CAP_SYS_PTRACE alone, no bounding set" \
	poll tcaps 'C["ys-drain"] == (1 << 19, 1 << 19, 0, "1")'
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

# -p: no command to wait for, so the main thread applies the seccomp filter
# (which forbids capset) at once; every thread must have dropped first
sleep "$RUN_LIMIT" &
sl=$!
bg_track "$sl"
"$YARASNOOP" --no-control -r "$R" -o "$EV" --workers 2 -p "$sl" 2>"$TMP/p.err" &
ys=$!
bg_track "$ys"
check "-p: the drain thread CAP_SYS_PTRACE alone, the others none" \
	poll tcaps 'N == sorted(["yarasnoop", "ys-output", "ys-drain", "ys-scan", "ys-scan"]) and C["yarasnoop"] == C["ys-output"] == (0, 0, 0, "1") and C["ys-drain"] == (1 << 19, 1 << 19, 0, "1") and all(t[1:] == ["0000000000000000", "0000000000000000", "0000000000000000", "1"] for t in T if t[0] == "ys-scan")'
kill -INT "$ys"
bwait "$ys"
kill "$sl"
check "... and no thread said it could not drop them" eval '! grep -q "could not drop" "$TMP/p.err"'

# lossless: the cgroup guard (a process of its own) holds CAP_DAC_OVERRIDE
# alone (bit 1: the cgroup2 root is read-only, and it removes the command's
# cgroup there); the drain thread, there before the command's first
# instruction, also CAP_KILL (bit 5: it continues writers the kernel side
# stopped)
"$YARASNOOP" --no-control -r "$R" -o "$EV" --lossless --workers 2 -- \
	sh -c 'cat /proc/$PPID/task/*/comm >"$1"; while [ ! -e "$2" ]; do sleep 0.05; done' sh "$TMP/threads" "$TMP/go" &
ys=$!
bg_track "$ys"
guard_up() {
	g=$(pgrep -P "$1" -x yarasnoop-guard) && thread_caps "$g" >"$TMP/gcaps" &&
		[[ $(cat "$TMP/gcaps") == "yarasnoop-guard 0000000000000002 0000000000000002 0000000000000000 1" ]]
}
check "--lossless: the cgroup guard holds CAP_DAC_OVERRIDE alone, no bounding set, no_new_privs" poll guard_up "$ys"
check "... the drain thread CAP_SYS_PTRACE and CAP_KILL" \
	poll eval 'thread_caps "$ys" | grep -qx "ys-drain 0000000000080020 0000000000080020 0000000000000000 1"'
check "... the command saw the drain thread already running when it started" \
	poll grep -qx ys-drain "$TMP/threads"
touch "$TMP/go"
bwait "$ys"
expect_eq "... the command ends, status 0" 0 "$?"
check "... and the guard removed its cgroup" poll cg_gone "$ys"
echo "1..$_n"
