#!/usr/bin/env bash
# The control socket of a live instance: its mode, who may use it, stale and
# live socket files, paths that are not sockets, and clients that misbehave.
# After the abuse the instance must still answer and still detect.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "control socket" || { echo "1..$_n"; exit 0; }
CTL=$(dirname "$0")/../helpers/ctlclient.py
R=$TMP/ctl.yar
echo 'rule after_abuse { strings: $a = "YS_AFTER_ABUSE" condition: $a }' >"$R"
echo 'rule before_abuse { strings: $a = "YS_BEFORE_ABUSE" condition: $a }' >>"$R"
# ctl_result FILE: the "result" ctlclient printed
ctl_result() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$1"; }

holder_start h
ys_start c1 -r "$R" --format json -o "$TMP/c1.ev" -p "$HPID"
check "the instance answers on its socket" kill -0 "$YSPID"
hcmd open 1 "$TMP/out" && hcmd write 0 'YS_BEFORE_ABUSE\n'
check "before the abuse: a marker is reported" \
	poll grep -q '"rule":"before_abuse"' "$TMP/c1.ev"

# ---- the socket file ----
expect_eq "the socket is a socket, mode 0600, owned by root" "socket 600 0" "$(stat -c '%F %a %u' "$SOCK")"
ino=$(stat -c %i "$SOCK")

# ---- a non-root peer ----
if command -v setpriv >/dev/null; then
	chmod 711 "$TMP"	# the socket's directory reachable: only the socket's mode stands in the way
	expect_exit "non-root 'stats': refused, exit 3" 3 \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$YARASNOOP" stats --control "$SOCK" --format json
	check "... one line on stderr, naming the socket" one_line "$TMP/err"
	check "... saying why (permission denied)" grep -q "$SOCK.*Permission denied" "$TMP/err"
	check "... and nothing on stdout" test ! -s "$TMP/out"
	# past the file mode: the server's own check of the peer's credentials
	chmod 666 "$SOCK"
	expect_exit "non-root peer past the file mode: refused by the server, exit 3" 3 \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$YARASNOOP" stats --control "$SOCK" --format json
	check "... which says 'root only'" grep -q "error: root only" "$TMP/err"
	check "... and sends no statistics" test ! -s "$TMP/out"
	chmod 600 "$SOCK"
	chmod 700 "$TMP"
	check "after the refusals the instance still answers root" stats_to "$TMP/st"
	jstat "... with its stream" "$TMP/st" "[s['path'] for s in S] == ['$TMP/out0']"
else
	skip "non-root peer (no setpriv)"
fi

# ---- a second instance on the same socket ----
expect_exit "a live socket is not taken over: exit 2" 2 \
	"$YARASNOOP" --control "$SOCK" -r "$R" -p "$HPID"
check "... naming the path" grep -q "$SOCK" "$TMP/err"
check "... in one line" one_line "$TMP/err"
expect_eq "... and the first instance's socket file is untouched" "$ino" "$(stat -c %i "$SOCK" 2>&1)"
check "... and the first instance still answers" stats_to "$TMP/st"

# ---- a stale socket file: nobody listens ----
$PY -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMP/stale.sock"
check "a stale socket file exists, nobody listening" test -S "$TMP/stale.sock"
check "... nobody answers on it" bash -c "! '$YARASNOOP' stats --control '$TMP/stale.sock' >/dev/null 2>&1"
stale_mode=$(stat -c %a "$TMP/stale.sock")
check "... made with another mode than 0600 ($stale_mode)" test "$stale_mode" != 600
SOCK0=$SOCK YSPID0=$YSPID
ys_start stale -r "$R" -p "$HPID"
check "a stale socket is replaced: the new instance answers on it" kill -0 "$YSPID"
expect_eq "... by a socket of its own, mode 0600 (the stale one was $stale_mode)" 600 "$(stat -c %a "$TMP/stale.sock")"
ys_stop INT
expect_eq "... that instance stops cleanly on SIGINT" 0 "$YSRC"
check "... and removes its socket" test ! -e "$TMP/stale.sock"
SOCK=$SOCK0 YSPID=$YSPID0

# ---- paths that are not sockets ----
echo "precious" >"$TMP/regular"
expect_exit "a regular file is not replaced: exit 2" 2 "$YARASNOOP" --control "$TMP/regular" -r "$R" -p "$HPID"
check "... naming the path" grep -q "$TMP/regular.*not a socket" "$TMP/err"
expect_eq "... and the file is left as it was" "precious" "$(cat "$TMP/regular")"
mkdir "$TMP/adir"
expect_exit "a directory: exit 2" 2 "$YARASNOOP" --control "$TMP/adir" -r "$R" -p "$HPID"
check "... naming the path" grep -q "$TMP/adir" "$TMP/err"
check "... and the directory stays" test -d "$TMP/adir"
ln -s "$TMP/regular" "$TMP/alink"
expect_exit "a symlink: exit 2" 2 "$YARASNOOP" --control "$TMP/alink" -r "$R" -p "$HPID"
check "... and it is left alone" test -L "$TMP/alink" -a "$(cat "$TMP/regular")" = precious
expect_exit "'stats' where nobody listens: exit 3" 3 "$YARASNOOP" stats --control "$TMP/nobody.sock"
check "... naming the path" grep -q "$TMP/nobody.sock" "$TMP/err"
expect_exit "'stats --format yaml': exit 2" 2 "$YARASNOOP" stats --control "$SOCK" --format yaml

# ---- clients that misbehave ----
for req in 'junk\n' 'stats yaml\n' '\n' '\x00\xff\xfe\n' 'stats json extra\n' 'STATS JSON\n' \
	'stats json top\n' 'stats json top -1\n' 'stats json top 1000001\n' 'stats json top 99999999999999999999\n' \
	'stats json top 0x10\n' 'stats json sort\n' 'stats json sort size\n' 'stats  json\n' ' stats json\n' \
	'stats json top 1 sort\n' 'stats json\x00 top 1\n'; do
	$PY "$CTL" send "$SOCK" "$req" >"$TMP/r" 2>&1
	expect_eq "junk request '$req': refused with an error line" \
		"error: unknown request; try 'stats json' or 'stats text top 10 sort memory'" "$(ctl_result "$TMP/r")"
done
$PY "$CTL" send "$SOCK" 'stats json top 1 sort memory\n' >"$TMP/r"
expect_eq "'stats json top 1 sort memory' is served" json "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" 'stats text sort bytes top 3\n' >"$TMP/r"
expect_eq "'stats text sort bytes top 3' is served" text "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" 'stats json\r\n' >"$TMP/r"
expect_eq "'stats json' with CRLF is served" json "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" 'stats text\n' >"$TMP/r"
expect_eq "'stats text' is served" text "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" - --repeat A 128 >"$TMP/r"
expect_eq "128 bytes without a newline: refused as too long" "error: request too long" "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" - --repeat A 200 >"$TMP/r"
expect_eq "200 bytes without a newline: refused as too long" "error: request too long" "$(ctl_result "$TMP/r")"
$PY "$CTL" send "$SOCK" - --repeat 'stats json' 100000 >"$TMP/r"
expect_eq "a megabyte without a newline: refused as too long" "error: request too long" "$(ctl_result "$TMP/r")"
check "after the junk the instance still answers" stats_to "$TMP/st"

# half a request, left hanging: the server must close it, and serve others meanwhile
$PY "$CTL" hang "$SOCK" 1 "$TMP/hung1" >"$TMP/hang1" 2>&1 &
hp=$!
bg_track "$hp"
check "a client hangs with half a request" poll test -e "$TMP/hung1"
check "... meanwhile 'stats' is served" stats_to "$TMP/st"
bwait "$hp"
jstat "... and the hanging client is closed by the server, with no reply" "$TMP/hang1" 'D["results"] == {"eof": 1}'

# every slot taken by hanging clients: others are turned away, not blocked
$PY "$CTL" hang "$SOCK" 16 "$TMP/hung16" >"$TMP/hang16" 2>&1 &
hp=$!
bg_track "$hp"
check "16 clients hang with half a request" poll test -e "$TMP/hung16"
$PY "$CTL" send "$SOCK" 'stats json\n' >"$TMP/r"
r=$(ctl_result "$TMP/r")
check "a 17th client is told 'busy' (or served once a slot frees), not left hanging: $r" \
	test "$r" = "error: busy" -o "$r" = json
bwait "$hp"
jstat "the 16 are all closed by the server, with no reply" "$TMP/hang16" 'D["results"] == {"eof": 16}'
check "then 'stats' is served again" stats_until "$TMP/st" 'True'

# 50 clients at once
$PY "$CTL" flood "$SOCK" 50 >"$TMP/flood" 2>&1
jstat "50 clients at once: each served or told busy, none left hanging" "$TMP/flood" \
	'sum(D["results"].values()) == 50 and set(D["results"]) <= {"json", "error: busy"}'
jstat "... and at least the first 16 are served" "$TMP/flood" 'D["results"].get("json", 0) >= 16'
# the stats command itself, turned away: it says why
$PY "$CTL" hang "$SOCK" 16 "$TMP/hung16b" >"$TMP/hang16b" 2>&1 &
hp=$!
bg_track "$hp"
check "16 clients hang again" poll test -e "$TMP/hung16b"
expect_exit "'yarasnoop stats' while every slot is taken: exit 3" 3 "$YARASNOOP" stats --control "$SOCK" --format json
check "... saying the instance is busy" grep -q "error: busy" "$TMP/err"
bwait "$hp"
jstat "... and the 16 are closed by the server" "$TMP/hang16b" 'D["results"] == {"eof": 16}'

# ---- afterwards: still answering, still detecting ----
expect_exit "after the abuse, 'stats' still answers" 0 "$YARASNOOP" stats --control "$SOCK" --format json
jcheck "... with its stream" "$TMP/out" "[s['path'] for s in EVENTS[0]['streams']] == ['$TMP/out0']"
hcmd write 0 'YS_AFTER_ABUSE\n'
check "after the abuse, a marker written is reported" poll grep -q '"rule":"after_abuse"' "$TMP/c1.ev"
jcheck "... once, on the holder's stream" "$TMP/c1.ev" \
	"[(e['rule'], e['stream']['pid'], e['stream']['path']) for e in M] == [('before_abuse', $HPID, '$TMP/out0'), ('after_abuse', $HPID, '$TMP/out0')]"
hcmd exit
bwait "$YSPID"
expect_eq "the instance ends cleanly when its process does" 0 "$?"
check "... removing its socket" test ! -e "$SOCK"
jcheck "... every byte written was scanned" "$TMP/c1.ev" \
	'SUMMARY["bytes_written"] == SUMMARY["bytes_scanned"] == SUMMARY["kernel"]["bytes_written"] == 31'
echo "1..$_n"
