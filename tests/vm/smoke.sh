#!/usr/bin/env bash
# The kernel matrix's smoke suite (make vmtest): what depends on the kernel,
# once per --hooks mode, with as few yarasnoop starts as possible (a start
# costs seconds under TCG). One traced session writes by every route it can
# (write, a key split across two writes, writev, pwrite64, pwritev,
# pwritev2, send, sendto, sendmsg), forks and execs grandchildren, reuses
# an fd, pushes 16 MiB through dd, then holds a file open while the test
# reads the live statistics; every byte must be accounted for, as the
# kernel counts it, and the programs released once yarasnoop has gone.
# Then a flood through a 64 KiB ring: loss counted to the byte; and a
# lossless flood the kernel side holds back while yarasnoop is stopped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "kernel smoke" || { echo "1..$_n"; exit 0; }
echo "# kernel $(uname -r), $(nproc) CPU"
# what the tracepoint programs read of each syscall's record, on this kernel
check_syscall_formats
OBJ=$(dirname "$YARASNOOP")/yarasnoop.bpf.o
R=$TMP/smoke.yar
for m in SPLIT_KEY_0123456789 WRITE WRITEV PWRITE PWRITEV PWRITEV2 SEND SENDTO SENDMSG CHILD REUSE_A REUSE_B \
	REUSE_C HELD; do
	echo "rule m_$(tr 'A-Z' 'a-z' <<<"$m") { strings: \$m = \"YS_${m}_MARK\" condition: \$m }"
done >"$R"

# the routes, from one python process: each marker in its own write
cat >"$TMP/routes.py" <<'PY'
import os, select, socket, sys, time
d = sys.argv[1]
def w(fd, b):
    while b:
        b = b[os.write(fd, b):]
w(1, b"prefix YS_SPLIT_KEY_01234")
time.sleep(0.2)            # past --flush-ms: the key's halves in two scans
w(1, b"56789_MARK suffix\n")
w(1, b"YS_WRITE_MARK\n")
os.writev(1, [b"YS_WRI", b"TEV_MA", b"RK\n"])
fd = os.open(d + "/pw", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.pwrite(fd, b"YS_PWRITE_MARK\n", 4096)
os.pwritev(fd, [b"YS_PWRI", b"TEV_MARK\n"], 0)
os.pwritev(fd, [b"YS_PWRITEV2", b"_MARK\n"], 100, os.RWF_SYNC)
os.close(fd)
# send(): glibc makes it sendto(fd, buf, len, flags, NULL, 0)
a, b = socket.socketpair()
a.send(b"YS_SEND_MARK\n")
a.sendmsg([b"YS_SEND", b"MSG_MARK\n"])
# sendto() with an address: a datagram over loopback
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"YS_SENDTO_MARK\n", r.getsockname())
got = b""
b.setblocking(False)
while True:
    try:
        got += b.recv(65536)
    except BlockingIOError:
        break
got += r.recv(4096)
print("received %d bytes" % len(got), file=sys.stderr)
# fd reuse: close, reopen on the same fd, dup2 onto it: three streams
x = os.open(d + "/ra", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
w(x, b"YS_REUSE_A_MARK\n")
os.close(x)
y = os.open(d + "/rb", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
assert x == y
w(y, b"YS_REUSE_B_MARK\n")
z = os.open(d + "/ra", os.O_WRONLY | os.O_APPEND)
os.dup2(z, y)
w(y, b"YS_REUSE_C_MARK\n")
print(y, file=open(d + "/reused_fd", "w"))
# a file held open while the test reads the live statistics, then a bounded
# wait for its go (the fifo opened read-write: the open does not block)
h = os.open(d + "/held", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
w(h, b"YS_HELD_MARK open\n")
os.close(os.open(d + "/written", os.O_WRONLY | os.O_CREAT, 0o600))
go = os.open(d + "/go", os.O_RDWR)
select.select([go], [], [], float(sys.argv[2]))
PY
cat >"$TMP/session.sh" <<'SH'
d=$1 limit=$2
exec >"$d/session.out"
sh -c 'sh -c "echo YS_CHILD_MARK"' || exit 12
dd if=/dev/zero of=/dev/null bs=64K count=256 status=none || exit 13
exec /usr/bin/python3 "$d/routes.py" "$d" "$limit" 2>"$d/routes.err"
SH
mkfifo "$TMP/go"

# the send family is captured once the kernel side has a program for it
if readelf -SW "$OBJ" 2>/dev/null |
	grep -qE '(tracepoint|tp_btf|raw_tp|fexit|fentry|kprobe|kretprobe|ksyscall|kretsyscall)/[^ ]*send'; then
	sends=1
else
	sends=0
fi
HOOKS=${SMOKE_HOOKS:-$("$YARASNOOP" --help 2>&1 | sed -n 's/.*--hooks \([a-z|-]*\).*/\1/p' | tr '|' ' ')}
HOOKS=$(tr ' ' '\n' <<<"$HOOKS" | grep -vx auto | tr '\n' ' ')
[[ -n ${HOOKS// /} ]] || HOOKS=tracepoint
for h in $HOOKS; do
	# trampolines where the kernel takes them: asked for by name
	# (SMOKE_HOOKS, as the matrix's guests do), a refusal fails
	if [[ $h == fexit && -z ${SMOKE_HOOKS:-} ]] &&
		! "$YARASNOOP" --no-control -q --hooks fexit -- true 2>"$TMP/fexit.err"; then
		skip "--hooks fexit: $(head -c 300 "$TMP/fexit.err")"
		continue
	fi
	# this kernel's BTF cut to what the relocations reach (user/kbtf.c)
	"$(dirname "$YARASNOOP")/helpers/btfcut" --hooks "$h" >"$TMP/cut.$h" 2>&1
	check "--hooks $h: relocated against the cut of this kernel's BTF, both objects load as against the whole" \
		test "$(grep -cE '^(yarasnoop|tls): [1-9][0-9]* programs, [0-9]* instructions compared, 0 differ' "$TMP/cut.$h")" -eq 2
	head -n 8 "$TMP/cut.$h" | sed 's/^/# /'
	rm -f "$TMP/written" "$TMP/ev.$h" "$TMP"/pw "$TMP"/r? "$TMP/reused_fd" "$TMP/held"
	# a refused load fails this hook's checks at once, not at every bound
	if ! ys_start "s$h" -r "$R" --format json -o "$TMP/ev.$h" --hooks "$h" -- \
		bash "$TMP/session.sh" "$TMP" "$RUN_LIMIT"; then
		not_ok "--hooks $h: loads, attaches, answers on its control socket: $(head -c 400 "$TMP/s$h.err")"
		continue
	fi
	ok "--hooks $h: loads, attaches, answers on its control socket"
	check "--hooks $h: the session has written" poll test -e "$TMP/written"
	if stats_until "$TMP/st.$h" "[(s['bytes_processed'], s['comm']) for s in S if s['path'] == '$TMP/held'] == [(18, 'python3')] and D['kernel_maps']['streams'] >= 1 and D['kernel_maps']['traced'] >= 1"; then
		ok "--hooks $h: live stats show the held file, 18 bytes scanned, open in the kernel"
	else
		not_ok "--hooks $h: live stats show the held file, 18 bytes scanned, open in the kernel: $(head -c 600 "$TMP/st.$h")"
	fi
	ids=$(prog_ids "$YSPID")
	check "--hooks $h: it holds its programs ($(wc -w <<<"$ids"))" test "$(wc -w <<<"$ids")" -ge 5
	# shellcheck disable=SC2086 # a list of ids
	tps=$(for id in $ids; do bpftool prog show id "$id" 2>/dev/null; done | grep -cE '^[0-9]+: tracepoint ')
	if [[ $h == fexit ]]; then
		expect_eq "--hooks fexit: no syscall tracepoint among them (untraced tasks keep the fast syscall path)" 0 "$tps"
	else
		check "--hooks $h: its syscall tracepoint programs ($tps)" test "$tps" -ge 1
	fi
	check "--hooks $h: the session is let go" fifo_write "$TMP/go" go
	bwait "$YSPID"
	expect_eq "--hooks $h: yarasnoop exits with the session's status" 0 "$?"
	# shellcheck disable=SC2086 # a list of ids
	check "--hooks $h: its programs are released once it has gone (by its ys-release child)" \
		poll progs_released $ids
	fd=$(cat "$TMP/reused_fd" 2>/dev/null || echo -1)
	# the checks over the events, in one python (a start costs a second in a guest)
	python3 - "$TMP/ev.$h" "$h" "$TMP" "$fd" "$sends" "$_n" <<'PY' >"$TMP/checks"
import json, sys
path, h, d, fd, sends = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
n = int(sys.argv[6])
E = [json.loads(l) for l in open(path) if l.strip()]
M = [e for e in E if e["type"] == "match"]
ENDS = [e for e in E if e["type"] == "stream_end"]
S = next((e for e in E if e["type"] == "summary"), {})
rules = lambda: sorted(e["rule"] for e in M)
def check(desc, cond):
    global n
    try:
        ok = bool(cond())
    except Exception as e:
        ok, desc = False, desc + ": " + repr(e)
    n += 1
    print(("ok" if ok else "not ok") + " %d - --hooks %s: %s" % (n, h, desc) + ("" if ok else " | " + json.dumps(E)[:400]))
check("the summary names the hooks in use",
      lambda: S["kernel"]["hooks"] == ("tracepoint" if h == "exit" else h))
check("a key split across two writes is found once, at its offset",
      lambda: [(e["offset"], e["stream"]["fd"]) for e in M if e["rule"] == "m_split_key_0123456789"] == [(7, 1)])
check("write, writev: found", lambda: {"m_write", "m_writev"} <= set(rules()))
check("pwrite64, pwritev, pwritev2: found, and the file's stream has their 48 bytes",
      lambda: {"m_pwrite", "m_pwritev", "m_pwritev2"} <= set(rules()) and
      [e["bytes_written"] for e in ENDS if e["path"] == d + "/pw"] == [15 + 16 + 17])
check("a grandchild (fork, exec) is followed", lambda: [e["stream"]["comm"] for e in M if e["rule"] == "m_child"] == ["sh"])
check("fd reuse: close, reopen and dup2 on fd %d make three streams, three UUIDs" % fd,
      lambda: len({e["stream"]["uuid"] for e in M if e["rule"].startswith("m_reuse_") and e["stream"]["fd"] == fd}) == 3)
check("16 MiB through dd: written is exactly 16777216, and accounted",
      lambda: [(e["bytes_written"], e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"])
               for e in ENDS if e["comm"] == "dd" and e["path"] == "/dev/null"] == [(16 << 20, 16 << 20)])
check("the held file: 18 bytes, ended when the session exited",
      lambda: [(e["bytes_written"], e["bytes_scanned"], e["reason"]) for e in ENDS if e["path"] == d + "/held"] == [(18, 18, "exit")])
check("every stream: scanned + dropped + truncated == written",
      lambda: ENDS and all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS))
check("summary: bytes written == the kernel's count; nothing unseen, unattributed, missed or lost",
      lambda: S["bytes_written"] == S["kernel"]["bytes_written"] and S["bytes_unseen"] == 0 and
      S["kernel"]["bytes_unattributed"] == 0 and S["kernel"]["control_records_dropped"] == 0 and S["kernel"]["missed_runs"] == 0)
if sends:
    check("send, sendto, sendmsg: found", lambda: {"m_send", "m_sendto", "m_sendmsg"} <= set(rules()))
else:
    n += 1
    print("ok %d - --hooks %s: send, sendto, sendmsg # SKIP this build has no program on the send family" % (n, h))
PY
	cat "$TMP/checks"
	_n=$((_n + $(grep -cE '^(not )?ok ' "$TMP/checks")))
done

# a kernel that preempts kernel code gets no trampolines (their programs
# would share per-CPU buffers): the model switched at run time, and back
P=/sys/kernel/debug/sched/preempt
was=$(sed -n 's/.*(\([a-z]*\)).*/\1/p' "$P" 2>/dev/null)
if [[ $was == voluntary || $was == none ]] && [[ " $HOOKS " == *" fexit "* ]] && echo full >"$P" 2>/dev/null; then
	expect_exit "preempt=full: --hooks fexit is refused" 3 "$YARASNOOP" --no-control --hooks fexit -- true
	expect_grep "... saying the kernel preempts kernel code" \
		'^yarasnoop: --hooks fexit: this kernel preempts kernel code \(preempt=full\)' "$TMP/err"
	expect_exit "preempt=full: --hooks auto runs" 0 "$YARASNOOP" --no-control -v -- true
	expect_grep "... on the tracepoints, and -v says why" \
		'^yarasnoop: hooks: tracepoint \(this kernel preempts kernel code \(preempt=full\)' "$TMP/err"
	echo "$was" >"$P"
	check "the preemption model is $was again" grep -q "($was)" "$P"
else
	skip "preempt=full refuses trampolines: this kernel cannot switch its preemption model ($P), or has no trampolines"
fi

# a flood through a tiny ring: the kernel's ring refuses records, the loss is
# counted to the byte, and detection goes on after it
expect_exit "a flood through a 64K ring" 0 "$YARASNOOP" --no-control -r "$TESTDATA/live.yar" --format json \
	-o "$TMP/flood.ev" --ring-size 64K -- "$WRITER" flood 3000
jcheck "the flood: bytes dropped, as many as the kernel counts, every stream accounted" "$TMP/flood.ev" \
	'SUMMARY["bytes_dropped"] > 0 and SUMMARY["bytes_dropped"] == SUMMARY["kernel"]["bytes_dropped"] and all(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] == e["bytes_written"] for e in ENDS)'
jcheck "the flood: written == the kernel's count == 3000 x 64 KiB + 15; no open/close record lost" "$TMP/flood.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] == 3000 * 65536 + 15 and SUMMARY["kernel"]["control_records_dropped"] == 0'
jcheck "the flood: the marker written after it is found" "$TMP/flood.ev" '[e["rule"] for e in M] == ["after_flood"]'

# lossless, and user space cannot act (yarasnoop stopped): the kernel side
# stops the writer itself at half the ring (bpf_send_signal from the write
# path, the command's cgroup in a cgroup array), and nothing is lost
"$YARASNOOP" --no-control -r "$TESTDATA/live.yar" --format json -o "$TMP/held.ev" --lossless --ring-size 1M -- \
	sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done; exec "$2" flood 300 >/dev/null' sh "$TMP/held.go" "$WRITER" &
ys=$!
bg_track "$ys"
check "lossless, a 1M ring: attached, the command waiting" until_attached "$ys"
kill -STOP "$ys"
touch "$TMP/held.go"
check "yarasnoop stopped, 300 x 64 KiB to write: the kernel side stops the writer" \
	poll stopped_match "$WRITER flood 300"
kill -CONT "$ys"
bwait "$ys"
expect_eq "... yarasnoop goes on: the command ends, status 0" 0 "$?"
jcheck "... nothing dropped, every byte scanned, the hold counted, the marker found" "$TMP/held.ev" \
	'SUMMARY["bytes_dropped"] == 0 and SUMMARY["bytes_scanned"] == SUMMARY["bytes_written"] == 300 * 65536 + 15 and SUMMARY["kernel"]["writers_held"] >= 1 and [e["rule"] for e in M] == ["after_flood"]'
echo "1..$_n"
