#!/usr/bin/env bash
# -o cannot be turned against a root yarasnoop: no symlink followed, nothing
# but a regular file of ours (or -), created 0600, never a blocked open;
# --append; SIGHUP reopens it (logrotate), with the same checks. Live and
# replay alike.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
R=$TMP/o.yar
echo 'rule o_mark { strings: $a = "YS_OUT_MARK" condition: $a }' >"$R"
IN=$TMP/in.txt
printf 'x YS_OUT_MARK y\n' >"$IN"
cd "$TMP" || exit 1

# ---- refused before anything is opened: replay needs no root ----
echo "precious" >"$TMP/target"
ln -s "$TMP/target" "$TMP/link"
expect_exit "replay -o SYMLINK: refused, exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/link"
check "... in one line" one_line "$TMP/err"
check "... naming the file and why" grep -q "output file $TMP/link: a symbolic link" "$TMP/err"
expect_eq "... and the link's target is untouched" "precious" "$(cat "$TMP/target")"

mkfifo "$TMP/fifo"
expect_exit "replay -o FIFO with no reader: refused at once, exit 2 (not a blocked open)" 2 \
	timeout 20 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/fifo"
check "... saying it is a FIFO" grep -q "output file $TMP/fifo: a FIFO" "$TMP/err"
# a FIFO that has a reader would open: it is refused all the same
sleep 30 <>"$TMP/fifo" &
holder=$!
bg_track "$holder"
expect_exit "replay -o FIFO with a reader: refused, exit 2" 2 timeout 20 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/fifo"
kill "$holder"

expect_exit "replay -o a device (/dev/zero): refused, exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN" -o /dev/zero
check "... saying it is a device" grep -q "output file /dev/zero: a device" "$TMP/err"
expect_exit "replay -o a directory: refused, exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP"
expect_exit "replay -o /dev/null (the one device taken): exit 0" 0 "$YARASNOOP" replay -r "$R" -i "$IN" -o /dev/null

echo "theirs" >"$TMP/theirs"
chown 65534 "$TMP/theirs"
expect_exit "replay -o a file of another user: refused, exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/theirs"
check "... naming its owner" grep -q "owned by uid 65534" "$TMP/err"
expect_eq "... and it is untouched" "theirs" "$(cat "$TMP/theirs")"

echo "linked" >"$TMP/hl_a"
ln "$TMP/hl_a" "$TMP/hl_b"
expect_exit "replay -o a file with two hard links: refused, exit 2" 2 "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/hl_b"
expect_eq "... and neither name is truncated" "linked" "$(cat "$TMP/hl_a")"

# ---- created 0600, whatever the umask; truncated, or appended to ----
(umask 000 && "$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/new.ev" --format json)
expect_eq "replay -o creates the file 0600 even under umask 000" 600 "$(stat -c %a "$TMP/new.ev")"
check "... with the match in it" grep -q '"rule":"o_mark"' "$TMP/new.ev"
n1=$(wc -l <"$TMP/new.ev")
"$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/new.ev" --format json
expect_eq "without --append an existing file is truncated" "$n1" "$(wc -l <"$TMP/new.ev")"
"$YARASNOOP" replay -r "$R" -i "$IN" -o "$TMP/new.ev" --format json --append
expect_eq "--append keeps what the file held" $((2 * n1)) "$(wc -l <"$TMP/new.ev")"
"$YARASNOOP" replay -r "$R" -i "$IN" -o - --format json >"$TMP/dash.ev"
check "-o - is standard output" grep -q '"rule":"o_mark"' "$TMP/dash.ev"

need_root "live -o" || { echo "1..$_n"; exit 0; }
YS=("$YARASNOOP" --no-control -r "$R")

# ---- live: the same checks ----
expect_exit "live -o SYMLINK: refused, exit 2" 2 "${YS[@]}" -o "$TMP/link" -- sh -c 'echo YS_OUT_MARK >/dev/null'
expect_eq "... the target untouched" "precious" "$(cat "$TMP/target")"
expect_exit "live -o FIFO: refused at once, exit 2" 2 timeout 20 "${YS[@]}" -o "$TMP/fifo" -- sh -c 'echo YS_OUT_MARK >/dev/null'
expect_exit "live -o a device: refused, exit 2" 2 "${YS[@]}" -o /dev/zero -- true
expect_exit "live -o a file of another user: refused, exit 2" 2 "${YS[@]}" -o "$TMP/theirs" -- true
rm -f "$TMP/live.ev"
(umask 022 && "${YS[@]}" -s --format json -o "$TMP/live.ev" -- sh -c 'echo YS_OUT_MARK >/dev/null')
expect_eq "live -o creates 0600 (events may hold captured bytes: -s)" 600 "$(stat -c %a "$TMP/live.ev")"
check "... and the captured bytes are in it" grep -q '"data":"YS_OUT_MARK"' "$TMP/live.ev"
"${YS[@]}" --format json --append -o "$TMP/live.ev" -- sh -c 'echo YS_OUT_MARK >/dev/null'
expect_eq "live --append: two summaries in the file" 2 "$(grep -c '"type":"summary"' "$TMP/live.ev")"

# ---- a full disk on -o: exit 4, saying so ----
mkdir "$TMP/small"
if mount -t tmpfs -o size=16k tmpfs "$TMP/small" 2>/dev/null; then
	head -c 12288 /dev/zero >"$TMP/small/fill"
	expect_exit "-o on a full file system: exit 4" 4 "${YS[@]}" -o "$TMP/small/ev" -- \
		sh -c 'for i in $(seq 300); do echo YS_OUT_MARK >/dev/null; done'
	check "... naming the file and the error" grep -q "writing $TMP/small/ev failed: No space left on device" "$TMP/err"
	umount "$TMP/small"
else
	skip "-o on a full file system (cannot mount a tmpfs)"
fi

# ---- SIGHUP: logrotate's postrotate ----
GO=$TMP/go
# writes a marker per line of its fifo-less protocol: a file per step
# (each wait bounded: RUN_LIMIT seconds)
WR='i=0; while [ $i -lt 3 ]; do n=0; while [ ! -e '"$GO"'.$i ] && [ $n -lt '$((RUN_LIMIT * 20))' ]; do sleep 0.05; n=$((n+1)); done; echo YS_OUT_MARK >/dev/null; i=$((i+1)); done'
"${YS[@]}" --format json -o "$TMP/rot.ev" -- sh -c "$WR" 2>"$TMP/rot.err" &
ys=$!
bg_track "$ys"
touch "$GO.0"
check "first match in the file" poll grep -qs '"rule":"o_mark"' "$TMP/rot.ev"
mv "$TMP/rot.ev" "$TMP/rot.ev.1"
kill -HUP "$ys"
check "after SIGHUP the file is there again (reopened)" poll test -e "$TMP/rot.ev"
check "... yarasnoop still runs" kill -0 "$ys"
expect_eq "... created 0600" 600 "$(stat -c %a "$TMP/rot.ev")"
touch "$GO.1"
check "the next match goes to the new file" poll grep -qs '"rule":"o_mark"' "$TMP/rot.ev"
expect_eq "... and the rotated file keeps only the first" 1 "$(grep -c '^{"type":"match",.*"rule":"o_mark"' "$TMP/rot.ev.1")"
# a symlink planted where the next file will be: refused, events stay where they were
mv "$TMP/rot.ev" "$TMP/rot.ev.2"
ln -s "$TMP/target" "$TMP/rot.ev"
kill -HUP "$ys"
check "a symlink at the path on SIGHUP: one line naming it" poll grep -q "output file $TMP/rot.ev: a symbolic link; not reopened" "$TMP/rot.err"
touch "$GO.2"
bwait "$ys"
rc=$?
expect_eq "... yarasnoop goes on and ends with the command's status" 0 "$rc"
expect_eq "... the link's target untouched" "precious" "$(cat "$TMP/target")"
check "... and the events went on to the file already open" \
	bash -c "grep -q '\"rule\":\"o_mark\"' '$TMP/rot.ev.2' && grep -q '\"type\":\"summary\"' '$TMP/rot.ev.2'"
echo "1..$_n"
