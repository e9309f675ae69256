#!/usr/bin/env bash
# The route matrix: every route by which a traced process can move bytes
# out is either scanned (a match on the marker) or declared (a blind event
# naming the route), never neither. Real processes, real BPF, as root.
. "$(dirname "$0")/../lib.sh"
need_root "route matrix" || { echo "1..$_n"; exit 0; }
ROUTES=$PWD/$OUTPUT/helpers/routes
ROUTES32=$PWD/$OUTPUT/helpers/routes32
URING=$PWD/$OUTPUT/helpers/uring
# io_uring writes are captured where the prep imports the buffers (6.15 on,
# struct iou_vec; bpf/uring.bpf.h), declared before
UR=io_uring
bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "^\[[0-9]*\] STRUCT 'iou_vec'" && UR=match
R=$TESTDATA/routes.yar
EV=$TMP/ev
SRC=$TMP/src
# the source of the fd-to-fd routes, written by the test, not the traced process
printf 'xx YS_ROUTE_MARK_src_END yy\n' >"$SRC"
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

# route ROUTE EXPECT [YARASNOOP OPTIONS]: runs the matrix program for ROUTE
# and checks the events: EXPECT is "match" or the blind route's name
route() {
	local r=$1 want=$2 rc; shift 2
	if [[ $r == tee ]]; then
		# stdin: a pipe an untraced cat fills
		cat "$SRC" | "${YS[@]}" "$@" -- "$ROUTES" tee >"$TMP/out" 2>"$TMP/err"
	elif [[ $r == ia32 ]]; then
		"${YS[@]}" "$@" -- "$ROUTES32" >"$TMP/out" 2>"$TMP/err"
	elif [[ $r == uring_* ]]; then
		# through liburing (tests/helpers/uring.c)
		"${YS[@]}" "$@" -- "$URING" "${r#uring_}" >"$TMP/out" 2>"$TMP/err"
	else
		"${YS[@]}" "$@" -- "$ROUTES" "$r" "$SRC" >"$TMP/out" 2>"$TMP/err"
	fi
	rc=$?
	if [[ $rc -eq 77 ]]; then skip "$r: not offered by this kernel or file system"; return; fi
	if [[ $rc -ne 0 ]]; then not_ok "$r: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
	if [[ $want == match ]]; then
		jcheck "$r: the marker is scanned and found" "$EV" \
			'any(e["rule"] == "route_mark" for e in M)'
	else
		jcheck "$r: declared as route $want, naming the process" "$EV" \
			"any(e['type'] == 'blind' and e['route'] == '$want' and e['comm'] in ('routes', 'routes32', 'uring') and e['pid'] > 0 for e in EVENTS) and SUMMARY['blind']['$want']['calls'] >= 1"
	fi
}

route write match
route sendto match
route sendmsg match
route sendmmsg match
route tcp match
route sockmix match
route vmsplice match
route splice splice
route tee tee
route sendfile sendfile
route copy_file_range copy_file_range
route file_clone file_clone
route mmap_shared mmap_shared
route mprotect mmap_shared
route shm shm
route msgsnd msgsnd
route mq_send mq_send
route xattr xattr
route process_vm_writev process_vm_writev
route ptrace_poke ptrace_poke
route tiocsti tiocsti
route keyring keyring
route hostname hostname
route aio aio
route io_uring $UR
route io_uring_send $UR
route uring_write $UR
route uring_writev $UR
route uring_send $UR
route uring_sendmsg $UR
route uring_send_zc $UR
route uring_fixed_file $UR
route uring_async $UR
route uring_sqpoll $UR
route uring_write_fixed io_uring
route ia32 ia32
route ia32 compat --compat
route int80 compat --compat

# curl -d to a plain HTTP listener on loopback (curl sends with send())
/usr/bin/python3 - "$TMP/port" <<'PY' >/dev/null 2>&1 &
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok\n")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
srv=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/port ]] && break; sleep 0.1; done
expect_exit "curl -d to a local HTTP listener: runs" 0 "${YS[@]}" -- curl -s -o /dev/null -d key=YS_ROUTE_MARK_curl_END "http://127.0.0.1:$(cat "$TMP/port")/"
kill "$srv"; wait "$srv" 2>/dev/null
jcheck "curl -d: the posted secret is found in curl's socket stream" "$EV" \
	"any(e['rule'] == 'route_mark' and e['stream']['comm'] == 'curl' and e['stream']['path'].startswith('socket:[') for e in M)"

# nothing missing: every route the program knows is in the list above
known=$({ "$ROUTES" list; "$URING" list | sed 's/^/uring_/'; } | sort | tr '\n' ' ')
tested=$(sed -n 's/^route \([a-z0-9_]*\) .*/\1/p' "$0" | sort -u | grep -v '^ia32$' | tr '\n' ' ')
expect_eq "every route of the matrix program is checked" "$known" "$tested"

# bytes: what the kernel said each call moved
route sendfile sendfile
jcheck "sendfile: the source file is named and its bytes counted" "$EV" \
	"[(e['path'], e['src_fd'] >= 0, e['bytes']) for e in EVENTS if e['type'] == 'blind'] == [('$SRC', True, 28)] and SUMMARY['blind_bytes'] == 28"
route uring_write_fixed io_uring
jcheck "io_uring: a declared WRITE_FIXED's bytes come from its completion" "$EV" \
	"[e['op'] for e in EVENTS if e['type'] == 'blind'] == ['WRITE_FIXED'] and SUMMARY['blind']['io_uring']['bytes'] == len('YS_ROUTE_MARK_uring_write_fixed_END') and SUMMARY['blind']['io_uring']['calls_unsized'] == 0"

# sockets: one stream per socket, whatever route wrote to it; bytes exact
route sockmix match
jcheck "write() and send() on one socket are one stream: a marker split across them is found" "$EV" \
	"len({e['stream']['uuid'] for e in M}) == 1 and M[0]['stream']['path'].startswith('socket:[') and any(e['path'] == M[0]['stream']['path'] and e['bytes_written'] == len('YS_ROUTE_MARK_sockmix_END') for e in ENDS)"
route sendmmsg match
jcheck "sendmmsg: each message's bytes, in order, in the socket's stream" "$EV" \
	"any(e['path'].startswith('socket:[') and e['bytes_written'] == len('YS_ROUTE_MARK_sendmmsg_END') and e['bytes_scanned'] == e['bytes_written'] for e in ENDS)"

# the captured routes' invariant holds beside blind bytes, counted apart
"${YS[@]}" -- sh -c "$ROUTES sendto; $ROUTES sendfile $SRC" >"$TMP/out" 2>"$TMP/err"
jcheck "captured: written == scanned + dropped + truncated; blind bytes apart" "$EV" \
	'SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"] + SUMMARY["bytes_dropped"] + SUMMARY["bytes_truncated"] and SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] and SUMMARY["blind_bytes"] == 28 and any(e["rule"] == "route_mark" for e in M)'
expect_grep "JSON mode warns on stderr too" 'warning: process [0-9]+ "routes" moved bytes by sendfile' "$TMP/err"
expect_grep "... and the summary's warning names the route" 'warning: not scanned: 1 calls by sendfile \(28 bytes\)' "$TMP/err"

# text mode: the event, and the warning on stderr
"$YARASNOOP" --no-control -r "$R" -o "$EV" -- "$ROUTES" splice "$SRC" >"$TMP/out" 2>"$TMP/err"
expect_grep "text: a blind line with route, fd, source and bytes" \
	"blind route=splice pid=[0-9]+ tid=[0-9]+ comm=\"routes\" fd=[0-9]+ src_fd=[0-9]+ path=\"$SRC\" bytes=28" "$EV"
expect_grep "text: warned on stderr" 'moved bytes by splice' "$TMP/err"

# once per process and route; every call counted
"${YS[@]}" -- sh -c "$ROUTES sendfile $SRC; $ROUTES sendfile $SRC" >"$TMP/out" 2>"$TMP/err"
jcheck "two processes, one route: two events, two processes counted" "$EV" \
	"len([e for e in EVENTS if e['type'] == 'blind']) == 2 and SUMMARY['blind']['sendfile']['processes'] == 2"
"${YS[@]}" -- /usr/bin/python3 -c "
import os, socket
a, b = socket.socketpair()
f = os.open('$SRC', os.O_RDONLY)
for i in range(50):
    os.sendfile(a.fileno(), f, 0, 10)
    b.recv(100)
" >"$TMP/out" 2>"$TMP/err"
jcheck "one process, 50 sendfiles: one event, 50 calls, 500 bytes" "$EV" \
	"len([e for e in EVENTS if e['type'] == 'blind']) == 1 and SUMMARY['blind']['sendfile']['calls'] == 50 and SUMMARY['blind']['sendfile']['bytes'] == 500"

# the gate: bytes by a blind route make a --fail-on-match run incomplete
expect_exit "--fail-on-match, no match, a blind route: 5 (incomplete)" 5 \
	"${YS[@]}" --fail-on-match -- "$ROUTES" sendfile "$SRC"
expect_exit "--fail-on-match, a match wins: 1" 1 \
	"${YS[@]}" --fail-on-match -- sh -c "$ROUTES write; $ROUTES sendfile $SRC"
expect_exit "--fail-on-match, no match, no blind route: the command's status" 3 \
	"${YS[@]}" --fail-on-match -- sh -c 'echo nothing; exit 3'

# escaping: a forged comm stays inside its string in the blind event
ln -s "$ROUTES" "$TMP/x\"}
{\"type"
"${YS[@]}" -- "$TMP/x\"}
{\"type" sendfile "$SRC" >"$TMP/out" 2>"$TMP/err"
jcheck "a forged comm cannot forge an event from a blind record" "$EV" \
	'[e["comm"] for e in EVENTS if e["type"] == "blind"] == ["x" + chr(92) + chr(34) + "}" + chr(92) + "n{" + chr(92) + chr(34) + "type"] and all(e["type"] in ("blind", "stream_end", "summary", "loss") for e in EVENTS)'
check "... nor a line on stderr" bash -c "! grep -q '^{' '$TMP/err'"

# untraced processes are not declared: one runs while a traced one waits
"${YS[@]}" -- sh -c "touch $TMP/ready; while [ ! -e $TMP/done ]; do sleep 0.05; done" \
	>"$TMP/out" 2>"$TMP/err" &
ysp=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/ready ]] && break; sleep 0.1; done
"$ROUTES" sendfile "$SRC" >/dev/null
touch "$TMP/done"
wait "$ysp"
jcheck "a process that is not traced is never declared" "$EV" \
	'not any(e["type"] == "blind" for e in EVENTS) and SUMMARY["blind_calls"] == 0'

# live: stats give the per-process, per-route counts while the process runs
"$YARASNOOP" --control "$TMP/c.sock" -r "$R" -o /dev/null -- /usr/bin/python3 -c "
import os, socket, time
a, b = socket.socketpair()
f = os.open('$SRC', os.O_RDONLY)
for i in range(10):
    os.sendfile(a.fileno(), f, 0, 7)
while not os.path.exists('$TMP/release'):
    time.sleep(0.05)
" 2>/dev/null &
ysp=$!
for ((i = 0; i < 300; i++)); do
	"$YARASNOOP" stats --control "$TMP/c.sock" --format json >"$TMP/st" 2>/dev/null &&
		/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(p["route"] == "sendfile" and p["calls"] == 10 for p in d["blind_processes"]) else 1)' "$TMP/st" 2>/dev/null && break
	sleep 0.1
done
touch "$TMP/release"
wait "$ysp"
jcheck "stats: a running process's blind calls and bytes, per route" "$TMP/st" \
	"[(p['route'], p['calls'], p['bytes']) for p in EVENTS[0]['blind_processes']] == [('sendfile', 10, 70)] and EVENTS[0]['blind']['sendfile']['calls'] == 10"

# -p on processes that took a route before yarasnoop attached: a 32-bit
# image, a writable shared mapping of a file, a SysV segment, from /proc
"$ROUTES32" wait >/dev/null &
p32=$!
/usr/bin/python3 - "$TMP/mapped" "$TMP/mapready" <<'PY' &
import mmap, os, signal, sys
f = open(sys.argv[1], "w+b")
f.truncate(4096)
m = mmap.mmap(f.fileno(), 4096)
open(sys.argv[2], "w").close()
signal.pause()
PY
pmap=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/mapready ]] && break; sleep 0.1; done
"$YARASNOOP" --no-control -r "$R" --format json -o "$EV" -p "$p32,$pmap" 2>"$TMP/err" &
ysp=$!
for ((i = 0; i < 300; i++)); do grep -q '"route":"mmap_shared"' "$EV" 2>/dev/null && break; sleep 0.1; done
kill "$p32" "$pmap"
wait "$ysp"
jcheck "-p: a 32-bit process found running is declared (ia32)" "$EV" \
	"any(e['type'] == 'blind' and e['route'] == 'ia32' and e['pid'] == $p32 for e in EVENTS)"
jcheck "-p: a writable shared mapping made before attach is declared, with its file" "$EV" \
	"any(e['type'] == 'blind' and e['route'] == 'mmap_shared' and e['pid'] == $pmap and e['path'] == '$TMP/mapped' and e['length'] == 4096 for e in EVENTS)"
jcheck "... and counted in the summary" "$EV" \
	"SUMMARY['blind']['ia32']['calls'] == 1 and SUMMARY['blind']['mmap_shared']['calls'] == 1"

echo "1..$_n"
