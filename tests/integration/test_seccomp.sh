#!/usr/bin/env bash
# Once attached, yarasnoop runs under a seccomp allow-list on every thread:
# a call it does not need fails with EPERM (it is not killed for it), and it
# goes on capturing and scanning. The forbidden calls are made from inside
# the real process (tests/helpers/sysinject): what an exploit of libyara
# would try.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "seccomp" || { echo "1..$_n"; exit 0; }
R=$TMP/s.yar
echo 'rule s_mark { strings: $a = "YS_SECCOMP_MARK" condition: $a }' >"$R"
GO=$TMP/go

ys_start s1 -v -r "$R" --format json -o "$TMP/ev" -- \
	sh -c "i=0; while [ ! -e $GO ] && [ \$i -lt $((RUN_LIMIT * 20)) ]; do sleep 0.05; i=\$((i + 1)); done; echo YS_SECCOMP_MARK >/dev/null"
# its command (its other child is ys-release, which holds the BPF links)
CMDPID=$(pgrep -P "$YSPID" -x sh)
check "running: /proc/PID/status says Seccomp: 2 (filter)" grep -qE '^Seccomp:\s+2$' "/proc/$YSPID/status"
check "... on every thread" bash -c "for t in /proc/$YSPID/task/*/status; do grep -qE '^Seccomp:\s+2$' \$t || exit 1; done"
check "-v says how many calls are allowed and that one was refused" \
	grep -qE "seccomp: [0-9]+ system calls allowed, every other fails with EPERM" "$TMP/s1.err"

INJECT=$(dirname "$YARASNOOP")/helpers/sysinject
if [[ $(uname -m) == x86_64 ]]; then
	# each NAME=NR,ARGS made by its main thread, stopped in epoll_wait;
	# the raw result, -1 being -EPERM. execve(NULL) would fail with -EFAULT
	# (-14) if the kernel got to look at it: -EPERM is the filter. (gdb's
	# inferior calls did this until a kernel refused its write of the FPU
	# state; the helper sets the general registers only)
	timeout 60 "$INJECT" "$YSPID" socket=41,2,1,0 execve=59,0,0,0 ptrace=101,0,0,0,0 \
		setuid=105,0 getpid=39 kill1=62,1,0 "killcmd=62,$CMDPID,0" >"$TMP/inj.out" 2>&1
	expect_eq "socket() from inside yarasnoop: -EPERM" "socket -1" "$(grep ^socket "$TMP/inj.out")"
	expect_eq "execve(): -EPERM" "execve -1" "$(grep ^execve "$TMP/inj.out")"
	# LeakSanitizer needs ptrace at exit: SANITIZE=1 builds allow it
	if grep -q __asan_init "$YARASNOOP"; then
		skip "ptrace(): refused (a SANITIZE=1 build allows it for LeakSanitizer)"
	else
		expect_eq "ptrace(): -EPERM" "ptrace -1" "$(grep ^ptrace "$TMP/inj.out")"
	fi
	expect_eq "setuid(0): -EPERM" "setuid -1" "$(grep ^setuid "$TMP/inj.out")"
	expect_eq "getpid(), which it needs, still works" "getpid $YSPID" "$(grep ^getpid "$TMP/inj.out")"
	expect_eq "kill() of another process (init): -EPERM" "kill1 -1" "$(grep ^kill1 "$TMP/inj.out")"
	expect_eq "kill() of the command it runs: allowed" "killcmd 0" "$(grep ^killcmd "$TMP/inj.out")"
else
	skip "forbidden calls from inside the process (tests/helpers/sysinject knows x86-64's registers)"
fi
check "after the refused calls yarasnoop still runs" kill -0 "$YSPID"
check "... and answers its control socket" _ys_answers "$SOCK" "$YSPID"
kill -HUP "$YSPID"
check "... and reloads its rules (open, read, list a directory under the filter)" \
	poll grep -q '"type":"reload","time":"[^"]*","ok":true' "$TMP/ev"
kill -USR1 "$YSPID"
check "... and prints statistics on SIGUSR1" poll grep -q "^Memory statistics:" "$TMP/s1.err"
touch "$GO"
bwait "$YSPID"
expect_eq "... and ends with the command's status" 0 "$?"
jcheck "... having found the marker written after all that" "$TMP/ev" '[e["rule"] for e in M] == ["s_mark"]'
jcheck "... with every byte accounted" "$TMP/ev" 'SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"] and SUMMARY["bytes_dropped"] == 0'
echo "1..$_n"
