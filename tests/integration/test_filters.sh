#!/usr/bin/env bash
# Filters that mean what they say (as root, real BPF, real processes): -C
# takes a list and matches a process's name at exec and at rename, children
# only with -f; -u matches the credentials at the write; --cgroup traces a
# cgroup v2 subtree, daemons included; --exclude-comm; -p runs while a
# traced process lives and says why it stops; yarasnoop never traces itself.
# Each traced process writes a marker (tests/data/procs.yar): what must be
# found is found, what must not is not.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "filters" || { echo "1..$_n"; exit 0; }
H=$(cd "$(dirname "$0")/../helpers" && pwd)
WHO=$H/who.py
R=$TESTDATA/procs.yar
EV=$TMP/ev
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=
cleanup_cg() {
	[[ -n $CG && -d $CG ]] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
}

# names of our own (1 to 15 bytes): programs run through symlinks to dash
# take them at exec
NA=ysa$$ NB=ysb$$ NC=ysc$$
mkdir -p "$TMP/bin"
for n in $NA $NB $NC; do ln -s "$(readlink -f /bin/sh)" "$TMP/bin/$n"; done

# found DESCRIPTION WANT NOT: the rules in WANT (letters) matched, those in
# NOT did not, in the events of $EV
found() {
	local d=$1 want=$2 not=$3 out
	if out=$($PY - "$EV" "$want" "$not" 2>&1 <<'PY'
import json, sys
E = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = {e["rule"][-1].upper() for e in E if e["type"] == "match"}
want, no = set(sys.argv[2]), set(sys.argv[3])
if not (want <= got and not (no & got)):
    print("matched %s; wanted %s, not %s" % ("".join(sorted(got)), sys.argv[2], sys.argv[3]))
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
# mark X: the marker of rule mark_x
mark() { printf 'YS_WHO_MARK_%s' "$1"; }
# release FIFO: lets a process waiting on FIFO go (failing, not hanging,
# when nobody reads it any more)
release() { timeout 30 sh -c 'echo go >"$1"' sh "$1"; }
# done_when FILE: waits for a step's touch (a process that writes and goes)
done_when() { poll test -e "$1"; }

# ---- -C: a list, at exec and at rename; children only with -f ----
mkfifo "$TMP/f1"
# already running, named before we start
$PY "$WHO" rename:$NA wait:"$TMP/f1" w:"$(mark G)" touch:"$TMP/g" >/dev/null &
bg_track $!
poll grep -qx $NA /proc/$!/comm
ys_start c1 -r "$R" --format json -o "$EV" -C $NA,$NB || not_ok "yarasnoop -C did not start: $(cat "$TMP/c1.err")"
"$TMP/bin/$NA" -c "printf $(mark A)" >/dev/null
"$TMP/bin/$NB" -c "printf $(mark B)" >/dev/null
"$TMP/bin/$NC" -c "printf $(mark C)" >/dev/null
"$TMP/bin/$NA" -c "$PY $WHO w:$(mark D); true" >/dev/null
$PY "$WHO" rename:$NB w:"$(mark E)" rename:other w:"$(mark F)" >/dev/null
release "$TMP/f1"
done_when "$TMP/g"
ys_stop TERM
found "-C a,b: both names, at exec, at rename, and running before the start" ABEG CDF
expect_grep "-C: the events name the process" '"rule":"mark_a".*"comm":"'$NA'"' "$EV"

ys_start c2 -r "$R" --format json -o "$EV" -C $NA -f || not_ok "yarasnoop -C -f did not start"
"$TMP/bin/$NA" -c "$PY $WHO w:$(mark D); true" >/dev/null
"$TMP/bin/$NB" -c "$PY $WHO w:$(mark C); true" >/dev/null
ys_stop TERM
found "-C with -f: the children of a named process, whatever they exec" D C

# ---- -u: the credentials at the write ----
ys_start u1 -r "$R" --format json -o "$EV" -u 65534 || not_ok "yarasnoop -u did not start"
setpriv --reuid 65534 --regid 65534 --clear-groups $PY "$WHO" w:"$(mark A)" >/dev/null
$PY "$WHO" w:"$(mark B)" fork setuid:65534 w:"$(mark C)" >/dev/null
$PY "$WHO" seteuid:65534 w:"$(mark D)" seteuid:0 w:"$(mark E)" >/dev/null
$PY "$WHO" w:"$(mark F)" >/dev/null
ys_stop TERM
found "-u: setpriv, fork + setuid without exec, seteuid and back" ACD BEF

# ---- --cgroup: a subtree, daemons included ----
if [[ -n $CGROOT ]] && mkdir -p "$CGROOT/ys-filters-$$/sub"; then
	CG=$CGROOT/ys-filters-$$
	trap 'cleanup_cg; _live_cleanup' EXIT
	expect_exit "--cgroup that is not a cgroup: usage error" 2 "$YARASNOOP" --no-control --cgroup "$TMP" -r "$R"
	check "--cgroup error: one line naming the path" one_line "$TMP/err"
	expect_grep "--cgroup error: says where cgroup v2 is" "--cgroup $TMP: not a cgroup v2 directory \(cgroup v2 is mounted at $CGROOT\)" "$TMP/err"
	# the cgroup as /proc/PID/cgroup names it, relative to the mount
	ys_start g1 -r "$R" --format json -o "$EV" --cgroup "/ys-filters-$$" || not_ok "yarasnoop --cgroup did not start: $(cat "$TMP/g1.err")"
	/bin/sh -c "echo \$\$ > $CG/cgroup.procs && exec $PY $WHO w:$(mark A)" >/dev/null
	/bin/sh -c "echo \$\$ > $CG/sub/cgroup.procs && exec $PY $WHO w:$(mark B)" >/dev/null
	/bin/sh -c "echo \$\$ > $CG/cgroup.procs && exec $PY $WHO daemon w:$(mark C) touch:$TMP/c" >/dev/null
	done_when "$TMP/c"
	$PY "$WHO" w:"$(mark D)" >/dev/null
	ys_stop TERM
	found "--cgroup: the cgroup, below it, a daemon started there; not outside" ABC D
	# yarasnoop in the cgroup it traces
	/bin/sh -c "echo \$\$ > $CG/cgroup.procs && exec $YARASNOOP --no-control -v -r $R --format json -o $EV --cgroup $CG" 2>"$TMP/self.err" &
	YSPID=$!
	bg_track $YSPID
	poll grep -qs "dropped every capability" "$TMP/self.err"
	/bin/sh -c "echo \$\$ > $CG/cgroup.procs && exec $PY $WHO w:$(mark A)" >/dev/null
	ys_stop TERM
	found "--cgroup holding yarasnoop: others in it are traced" A ""
	jcheck "... and yarasnoop itself is not" "$EV" \
		"SUMMARY and all(e['pid'] != $YSPID for e in ENDS) and all(e['stream']['pid'] != $YSPID for e in M)"
else
	for d in "usage error" "one line" "where" "subtree" "itself" "itself (2)"; do
		skip "--cgroup $d (no cgroup v2 to make a test cgroup in)"
	done
fi

# ---- --exclude-comm ----
"$YARASNOOP" --no-control -r "$R" --format json -o "$EV" --exclude-comm $NC,$NB -- /bin/sh -c \
	"printf $(mark A); $TMP/bin/$NC -c 'printf $(mark B)'; $PY $WHO w:$(mark C) rename:$NB w:$(mark D)" >/dev/null 2>"$TMP/err"
found "--exclude-comm: an excluded name, at exec and at rename" AC BD

# ---- -p: while a traced process lives, and why it stops ----
mkfifo "$TMP/p1" "$TMP/p2"
$PY "$WHO" wait:"$TMP/p1" daemon wait:"$TMP/p2" w:"$(mark A)" >/dev/null &
P=$!
ys_start p1 -v -r "$R" --format json -o "$EV" -p $P -f || not_ok "yarasnoop -p did not start"
release "$TMP/p1"
wait $P
poll grep -q "process $P exited" "$TMP/p1.err"
check "-p -f: still running when the process is gone and its daemon lives" kill -0 "$YSPID"
release "$TMP/p2"
wait "$YSPID"
expect_eq "-p -f: ends by itself when the daemon exits" 0 $?
found "-p -f: the daemon's write" A ""
expect_grep "-p -f: says why it stopped" "stopping: every traced process has exited \(-p -f" "$TMP/p1.err"

$PY "$WHO" wait:"$TMP/p1" daemon wait:"$TMP/p2" w:"$(mark B)" touch:"$TMP/b" >/dev/null &
P=$!
ys_start p2 -r "$R" --format json -o "$EV" -p $P || not_ok "yarasnoop -p did not start"
release "$TMP/p1"
wait $P
wait "$YSPID"
expect_eq "-p without -f: ends when the process exits, its children untraced" 0 $?
expect_grep "-p: says why it stopped" "stopping: every traced process has exited \(-p; the last was $P\)" "$TMP/p2.err"
release "$TMP/p2"
done_when "$TMP/b"

echo "1..$_n"
