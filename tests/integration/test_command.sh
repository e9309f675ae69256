#!/usr/bin/env bash
# The command yarasnoop runs (-- COMMAND): it dies with a killed yarasnoop
# (PR_SET_PDEATHSIG), it is killed when yarasnoop must stop, and --user
# runs it unprivileged; it gets back what yarasnoop took for itself.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "the command" || { echo "1..$_n"; exit 0; }
R=$TMP/c.yar
echo 'rule c_mark { strings: $a = "YS_CMD_MARK" condition: $a }' >"$R"
YS=("$YARASNOOP" --no-control -r "$R")

# a directory the unprivileged command can write to
chmod 711 "$TMP"
PUB=$TMP/pub
mkdir -m 1777 "$PUB"

# gone: no such process, or a zombie (killed, not yet reaped by init)
gone() { [[ ! -e /proc/$1/stat ]] || [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
# pid_in FILE: a command that writes its pid there, then sleeps
PIDWAIT='echo $$ >'

# ---- SIGKILL yarasnoop: the command does not outlive it ----
for who in root nobody; do
	args=()
	[[ $who == nobody ]] && args=(--user nobody)
	rm -f "$PUB/pid"
	"${YS[@]}" -o "$TMP/k.ev" "${args[@]}" -- sh -c "$PIDWAIT $PUB/pid.tmp; mv $PUB/pid.tmp $PUB/pid; exec sleep 300" \
		2>/dev/null &
	ys=$!
	bg_track "$ys"
	check "($who) the command runs" poll test -s "$PUB/pid"
	pid=$(cat "$PUB/pid")
	check "($who) ... and is yarasnoop's child" test "$(awk '{print $4}' "/proc/$pid/stat")" = "$ys"
	kill -KILL "$ys"
	bwait "$ys" 2>/dev/null
	check "($who) SIGKILL yarasnoop: the command is killed too" poll gone "$pid"
	kill -KILL "$pid" 2>/dev/null
done

# ---- yarasnoop must stop (its output went away): the command is killed ----
rm -f "$TMP/pid"
timeout 120 "${YS[@]}" -- sh -c "$PIDWAIT $TMP/pid; while :; do echo YS_CMD_MARK >/dev/null; sleep 0.1; done" \
	2>"$TMP/err" | head -c 1 >/dev/null
rc=${PIPESTATUS[0]}
expect_eq "closed output pipe: yarasnoop stops with exit 4 (not a wait for the endless command)" 4 "$rc"
check "... saying why" grep -q "writing standard output failed: Broken pipe" "$TMP/err"
check "... and the command is gone" gone "$(cat "$TMP/pid")"

# ---- --user ----
expect_exit "--user nobody -- COMMAND: runs, exit 0" 0 "${YS[@]}" --format json -o "$TMP/u.ev" --user nobody -- \
	sh -c 'echo "$(id -u) $(id -g) $(id -G) $HOME $USER $LOGNAME $(grep ^CapEff /proc/self/status | cut -f2)" >'"$PUB/ids"'; echo YS_CMD_MARK'
read -r uid gid groups home user logname capeff <"$PUB/ids"
expect_eq "... as uid 65534, gid 65534, nobody's groups only" "65534 65534 65534" "$uid $gid $groups"
expect_eq "... with nobody's HOME, USER, LOGNAME" "$(getent passwd nobody | cut -d: -f6) nobody nobody" "$home $user $logname"
expect_eq "... and no capability" 0000000000000000 "$capeff"
jcheck "... and traced: its marker is found" "$TMP/u.ev" '[e["rule"] for e in M] == ["c_mark"]'
expect_exit "--user nobody: the command cannot become root again" 0 "${YS[@]}" --user nobody -- \
	python3 -c 'import os, sys
try:
    os.setuid(0)
except PermissionError:
    sys.exit(0)
sys.exit(1)'
expect_exit "--user 65534 (a uid) works as well" 0 "${YS[@]}" --user 65534 -- sh -c 'test "$(id -u)" = 65534'
expect_exit "--user an unknown user: exit 2" 2 "${YS[@]}" --user no_such_user_ys -- true
check "... one line naming it" bash -c "[[ \$(wc -l <'$TMP/err') -eq 1 ]] && grep -q \"unknown user 'no_such_user_ys' (--user)\" '$TMP/err'"
expect_exit "--user with no command: exit 2" 2 "${YS[@]}" --user nobody -a
expect_exit "--user nobody, a command nobody may not run: exit 127" 127 "${YS[@]}" --user nobody -- /root/no-such-dir/x

# ---- what yarasnoop took for itself, the command gets back ----
# (a SANITIZE=1 build: AddressSanitizer zeroes the limit itself unless told not to)
out=$(ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0 \
	bash -c 'ulimit -c 1234; exec "$@"' sh "${YS[@]}" -q -- bash -c 'ulimit -c' 2>&1)
expect_eq "the command's core limit is its own, not yarasnoop's 0" 1234 "$out"
out=$("${YS[@]}" -q -- sh -c 'grep ^SigBlk /proc/self/status | cut -f2' 2>&1)
expect_eq "... and no signal blocked" 0000000000000000 "$out"
echo "1..$_n"
