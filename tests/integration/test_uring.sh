#!/usr/bin/env bash
# io_uring capture (bpf/uring.bpf.h): writes and sends by io_uring go into
# the file's stream as write() does, with the completion's exact byte count;
# what cannot be captured is declared; a completion whose submission was not
# seen is counted. Requests made through Debian's liburing
# (tests/helpers/uring.c) by real processes, real BPF, as root.
. "$(dirname "$0")/../lib.sh"
need_root "io_uring capture" || { echo "1..$_n"; exit 0; }
URING=$PWD/$OUTPUT/helpers/uring
RECDUMP=$PWD/$OUTPUT/helpers/recdump
R=$TESTDATA/routes.yar
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

if ! "$URING" write >/dev/null 2>&1; then
	skip "io_uring is not offered here"
	echo "1..$_n"; exit 0
fi
# kernels before 6.15 (no struct iou_vec) leave some imports to the issue:
# there io_uring is declared (test_routes.sh checks that)
if ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "^\[[0-9]*\] STRUCT 'iou_vec'"; then
	skip "io_uring capture: this kernel's io_uring imports buffers at issue"
	echo "1..$_n"; exit 0
fi

# CASE: traced, its marker is found in one stream whose bytes are all
# written and scanned, with nothing declared
captured() {
	local c=$1 mlen
	mlen=$(printf 'YS_ROUTE_MARK_uring_%s_END' "$c" | wc -c)
	"${YS[@]}" -- "$URING" "$c" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [[ $rc -eq 77 ]]; then skip "$c: not offered by this kernel"; return; fi
	if [[ $rc -ne 0 ]]; then not_ok "$c: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
	jcheck "$c: captured: the marker is found, its $mlen bytes written and scanned, nothing declared" "$EV" \
		"len(M) == 1 and M[0]['rule'] == 'route_mark' and [(e['bytes_written'], e['bytes_scanned']) for e in ENDS if e['uuid'] == M[0]['stream']['uuid']] == [($mlen, $mlen)] and SUMMARY['blind_calls'] == 0 and SUMMARY['bytes_written'] == SUMMARY['kernel']['bytes_written']"
}
captured write
captured writev
captured send
captured sendmsg
captured send_zc
captured fixed_file	# a registered file: its stream is the file's
captured async		# issued and completed by an io-wq worker thread
captured sqpoll		# submitted by the ring's kernel thread

# a registered buffer is not read from user memory: declared, bytes from the completion
"${YS[@]}" -- "$URING" write_fixed >"$TMP/out" 2>"$TMP/err"
jcheck "WRITE_FIXED: declared (io_uring, op WRITE_FIXED), its bytes counted, not scanned" "$EV" \
	"[(e['route'], e['op']) for e in EVENTS if e['type'] == 'blind'] == [('io_uring', 'WRITE_FIXED')] and SUMMARY['blind']['io_uring']['bytes'] == len('YS_ROUTE_MARK_uring_write_fixed_END') and not M"
expect_exit "--fail-on-match: a declared io_uring write makes the run incomplete" 5 \
	"${YS[@]}" --fail-on-match -- "$URING" write_fixed

# one stream for write() and io_uring on the same file; the position exact
"${YS[@]}" -- "$URING" mixed "$TMP/mixed" >"$TMP/out" 2>"$TMP/err"
jcheck "write() then io_uring WRITE on one file: one stream, the marker split across them found" "$EV" \
	"len(M) == 1 and M[0]['stream']['path'] == '$TMP/mixed' and [e['bytes_written'] for e in ENDS if e['path'] == '$TMP/mixed'] == [len('YS_ROUTE_MARK_uring_mixed_END')]"
"$RECDUMP" -o "$TMP/rec" -- "$URING" mixed "$TMP/mixed" >/dev/null 2>&1
jcheck "... the io_uring record: route 21, stream offset and file position 14, a position not in doubt" "$TMP/rec" \
	"[(e['route'], e['off'], e['pos'], e['flags']) for e in EVENTS if e['t'] == 'write'] == [(1, 0, 0, 1), (21, 14, 14, 1)]"

# a short write: the bytes past the completion's result were not written
cat >"$TMP/short.yar" <<'EOF'
rule written { strings: $m = "YS_ROUTE_MARK_uring_short_written_END" condition: $m }
rule unwritten { strings: $m = "YS_ROUTE_MARK_uring_short_unwritten_END" condition: $m }
EOF
"$YARASNOOP" --no-control -r "$TMP/short.yar" --format json -o "$EV" -- "$URING" short >"$TMP/out" 2>"$TMP/err"
res=$(head -1 "$TMP/out")
jcheck "short WRITE ($res of 8192 bytes): its pipe stream has the result's bytes; a marker past them is not reported" "$EV" \
	"[e['rule'] for e in M] == ['written'] and [(e['bytes_written'], e['bytes_scanned']) for e in ENDS if e['path'].startswith('pipe:')] == [($res, $res)] and SUMMARY['bytes_written'] == SUMMARY['kernel']['bytes_written']"

# the window between submission and the kernel's read: the buffer changed
# after submission (the SEND waits behind a full socket) is scanned as sent
"${YS[@]}" -- "$URING" toctou_early >"$TMP/out" 2>"$TMP/err"
expect_grep "changed after submission: the peer receives the marker" 'peer_saw_marker=1' "$TMP/out"
jcheck "... and yarasnoop finds it (the bytes are read at completion)" "$EV" \
	"any(e['stream']['path'].startswith('socket:') for e in M)"

# the window yarasnoop leaves (README, io_uring): bytes the kernel has
# already sent, changed before the request completes, are scanned as changed
"${YS[@]}" -- "$URING" toctou_late >"$TMP/out" 2>"$TMP/err"
expect_grep "changed after the kernel sent it: the peer receives the marker" 'peer_saw_marker=1' "$TMP/out"
jcheck "... yarasnoop scans the 262144 bytes as they are at completion: no match (the documented window)" "$EV" \
	"not M and [(e['bytes_written'], e['bytes_scanned']) for e in ENDS if e['path'].startswith('socket:')] == [(262144, 262144)]"

# a completion whose submission was made before yarasnoop attached: counted
rm -f "$TMP/ready" "$TMP/go"
"$URING" pending "$TMP/ready" "$TMP/go" >/dev/null 2>&1 &
up=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/ready ]] && break; sleep 0.1; done
"$YARASNOOP" --control "$TMP/c.sock" -r "$R" --format json -o "$EV" -p "$up" 2>"$TMP/err" &
ysp=$!
for ((i = 0; i < 300; i++)); do
	"$YARASNOOP" stats --control "$TMP/c.sock" >/dev/null 2>&1 && break
	sleep 0.1
done
touch "$TMP/go"
wait "$up"; urc=$?
wait "$ysp"
expect_eq "the pending SEND completes" 0 "$urc"
jcheck "a completion never matched to a submission: declared as io_uring (op SEND), counted with its bytes" "$EV" \
	"[(e['route'], e['op'], e['pid']) for e in EVENTS if e['type'] == 'blind'] == [('io_uring', 'SEND', $up)] and SUMMARY['blind']['io_uring']['calls'] == 1 and SUMMARY['blind']['io_uring']['bytes'] == len('YS_ROUTE_MARK_uring_pending_END') and SUMMARY['blind']['io_uring']['processes'] == 1"

# --fd: an io_uring write to another fd is left out, as write() to it is
"${YS[@]}" --fd 2 -- "$URING" write >"$TMP/out" 2>"$TMP/err"
jcheck "--fd 2: an io_uring WRITE to fd 1 is neither captured nor declared" "$EV" \
	"not M and SUMMARY['bytes_written'] == 0 and SUMMARY['blind_calls'] == 0"
"${YS[@]}" --fd 1 -- "$URING" write >"$TMP/out" 2>"$TMP/err"
jcheck "--fd 1: ... and one to fd 1 is captured" "$EV" "len(M) == 1 and M[0]['stream']['fd'] == 1"

# an untraced process's requests are neither captured nor counted
"${YS[@]}" -- sh -c "touch $TMP/ready2; while [ ! -e $TMP/done2 ]; do sleep 0.05; done" \
	>"$TMP/out" 2>"$TMP/err" &
ysp=$!
for ((i = 0; i < 300; i++)); do [[ -e $TMP/ready2 ]] && break; sleep 0.1; done
"$URING" write >/dev/null
"$URING" write_fixed >/dev/null
touch "$TMP/done2"
wait "$ysp"
jcheck "an untraced process's io_uring writes: not captured, not declared" "$EV" \
	"not M and SUMMARY['bytes_written'] == 0 and SUMMARY['blind_calls'] == 0"

echo "1..$_n"
