#!/usr/bin/env bash
# Who wrote it (as root, real BPF, real processes): every event names the
# writer's process as the kernel saw it when it wrote, checked against what
# the process says of itself (/proc/self): credentials, login uid, parent,
# exe, command line, cgroup and container, namespaces; and the context
# follows exec, a rename and setuid without exec, in the order of the writes.
. "$(dirname "$0")/../lib.sh"
need_root "process context" || { echo "1..$_n"; exit 0; }
PY=/usr/bin/python3
H=$(cd "$(dirname "$0")/../helpers" && pwd)
WHO=$H/who.py
R=$TESTDATA/procs.yar
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")
RECDUMP=${OUTPUT:-build}/helpers/recdump
[[ $RECDUMP == /* ]] || RECDUMP=$PWD/$RECDUMP
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CGTEST=
cleanup_cg() {
	[[ -n $CGTEST && -d $CGTEST ]] && find "$CGTEST" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup_cg EXIT

# pcheck DESCRIPTION EXPR: EXPR over the events in $EV: M(rule) the match
# event of a rule in what the process wrote to fd 1 (M(rule, None): on any
# fd; info: files hold the markers of the command line too), P(rule) its
# process, E the events, I(name) what who.py info:$TMP/name wrote.
pcheck() {
	local d=$1 expr=$2 out
	if out=$($PY - "$EV" "$expr" "$TMP" 2>&1 <<'PY'
import json, os, sys
E = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def M(rule, fd=1):
    ms = [e for e in E if e["type"] == "match" and e["rule"] == rule and fd in (None, e["stream"]["fd"])]
    assert len(ms) == 1, "%d matches of %s" % (len(ms), rule)
    return ms[0]
def P(rule): return M(rule)["stream"]["process"]
def I(name): return json.load(open(os.path.join(sys.argv[3], name)))
SUMMARY = next(e for e in E if e["type"] == "summary")
if not eval(sys.argv[2]):
    print("false:", sys.argv[2][:300], "| events:", json.dumps([e for e in E if e["type"] != "summary"])[:1500])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
run() { "${YS[@]}" "$@" >/dev/null 2>"$TMP/err"; }
# release FIFO: lets a process waiting on FIFO go (failing, not hanging,
# when nobody reads it any more)
release() { timeout 30 sh -c 'echo go >"$1"' sh "$1"; }

# ---- the process as it sees itself ----
run -- $PY "$WHO" info:"$TMP/a" w:YS_WHO_MARK_A
pcheck "pid, ppid, credentials of the writer" \
	'P("mark_a")["pid"] == I("a")["pid"] == M("mark_a")["stream"]["pid"] and P("mark_a")["ppid"] == I("a")["ppid"] and all(P("mark_a")[k] == I("a")[k] for k in ("uid", "euid", "gid", "egid"))'
pcheck "exe and argv as /proc/self/exe and /proc/self/cmdline" \
	'P("mark_a")["exe"] == I("a")["exe"] and P("mark_a")["argv"] == I("a")["argv"] and not P("mark_a")["argv_cut"] and not P("mark_a")["exe_outside_root"]'
pcheck "cgroup path, mount and pid namespaces as /proc/self says" \
	'P("mark_a")["cgroup"] == I("a")["cgroup"] and P("mark_a")["mntns"] == I("a")["mntns"] and P("mark_a")["pidns"] == I("a")["pidns"] and P("mark_a")["ns_pid"] == I("a")["pid"]'
pcheck "login uid and session: unset (4294967295) is null" \
	'(P("mark_a")["loginuid"], P("mark_a")["sessionid"]) == tuple(None if v in (None, 4294967295) else v for v in (I("a")["loginuid"], I("a")["sessionid"]))'
if [[ -n $CGROOT ]]; then
	cgid=$(stat -c %i "$CGROOT$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["cgroup"])' "$TMP/a")")
	pcheck "cgroup id is the cgroup directory's inode" "P('mark_a')['cgroup_id'] == $cgid"
else
	skip "cgroup id (no cgroup v2 mounted)"
fi
pcheck "the stream_end names the process too" \
	'[e["process"]["exe"] for e in E if e["type"] == "stream_end" and e["uuid"] == M("mark_a")["stream"]["uuid"]] == [I("a")["exe"]]'

# ---- it changes: setuid without exec, exec, rename ----
run -- $PY "$WHO" w:YS_WHO_MARK_A setuid:65534 w:YS_WHO_MARK_B
pcheck "setuid without exec: the writes after it name the new user" \
	'(P("mark_a")["uid"], P("mark_a")["euid"], P("mark_b")["uid"], P("mark_b")["euid"], P("mark_b")["gid"]) == (0, 0, 65534, 65534, 65534) and M("mark_a")["stream"]["uuid"] == M("mark_b")["stream"]["uuid"]'
run -- /bin/sh -c "printf YS_WHO_MARK_A; exec $PY $WHO w:YS_WHO_MARK_B"
pcheck "exec: one stream; the bytes before name the shell, after the new program" \
	'M("mark_a")["stream"]["uuid"] == M("mark_b")["stream"]["uuid"] and P("mark_a")["exe"] == os.path.realpath("/bin/sh") and P("mark_b")["exe"] == os.path.realpath("'"$PY"'") and P("mark_b")["argv"][1:] == ["'"$WHO"'", "w:YS_WHO_MARK_B"]'
run -- $PY "$WHO" w:YS_WHO_MARK_A rename:ys-renamed w:YS_WHO_MARK_B
pcheck "prctl(PR_SET_NAME): the process's name before and after" \
	'(P("mark_a")["comm"], P("mark_b")["comm"]) == ("python3", "ys-renamed")'

# ---- namespaces and roots ----
if unshare -p -f -m --mount-proc true 2>/dev/null; then
	run -- unshare -p -f -m --mount-proc $PY "$WHO" info:"$TMP/ns" w:YS_WHO_MARK_A
	pcheck "pid namespace: the pid it sees (1) beside the host's" \
		'I("ns")["pid"] == 1 == P("mark_a")["ns_pid"] and P("mark_a")["pid"] != 1 and P("mark_a")["pidns"] == I("ns")["pidns"] and P("mark_a")["mntns"] == I("ns")["mntns"]'
else
	skip "pid namespace (unshare -p refused)"
fi
mkdir -p "$TMP/root"
run -- $PY "$WHO" open:"$TMP/outside.log" chroot:"$TMP/root" wf:/inside.log:YS_WHO_MARK_A wfd:YS_WHO_MARK_B
pcheck "chroot: a file opened after it is named from the writer's root" \
	'M("mark_a", None)["stream"]["path"] == "/inside.log" and os.path.exists("'"$TMP"'/root/inside.log")'
pcheck "chroot: a file opened before, and the exe, are outside that root: named from the namespace's root" \
	'M("mark_b", None)["stream"]["path"] == "'"$TMP"'/outside.log" and M("mark_b", None)["stream"]["process"]["exe_outside_root"] and M("mark_b", None)["stream"]["process"]["exe"] == os.path.realpath("'"$PY"'")'

# ---- containers, from the cgroup path ----
if [[ -n $CGROOT ]] && mkdir "$CGROOT/ys-procs-$$" 2>/dev/null; then
	CGTEST=$CGROOT/ys-procs-$$
	id=$(printf '%s' "ys-procs-$$" | sha256sum | cut -c1-64)
	d="$CGTEST/system.slice/docker-$id.scope"
	mkdir -p "$d"
	run -- /bin/sh -c "echo \$\$ > $d/cgroup.procs && exec $PY $WHO w:YS_WHO_MARK_A"
	pcheck "docker: runtime and id from a cgroup docker-ID.scope" \
		'P("mark_a")["container"] == {"runtime": "docker", "id": "'"$id"'"} and P("mark_a")["cgroup"] == "/ys-procs-'$$'/system.slice/docker-'"$id"'.scope"'
	pod=0a1b2c3d-0000-4000-8000-00000000abcd
	d="$CGTEST/kubepods/burstable/pod$pod/$id"
	mkdir -p "$d"
	run -- /bin/sh -c "echo \$\$ > $d/cgroup.procs && exec $PY $WHO w:YS_WHO_MARK_A"
	pcheck "kubernetes (cgroupfs): container id and pod uid" \
		'P("mark_a")["container"] == {"runtime": "kubernetes", "id": "'"$id"'", "pod": "'"$pod"'"}'
	run -- $PY "$WHO" w:YS_WHO_MARK_A
	pcheck "no container outside one" 'P("mark_a")["container"] is None'
else
	skip "containers (no cgroup v2 to make test cgroups in)"
	skip "containers: kubernetes"
	skip "containers: none"
fi

# ---- login uid: who logged in, through sudo and su ----
if /bin/sh -c 'echo 4242 > /proc/self/loginuid' 2>/dev/null; then
	run -- /bin/sh -c "echo 4242 > /proc/self/loginuid && exec $PY $WHO info:$TMP/l w:YS_WHO_MARK_A"
	pcheck "login uid as the audit subsystem has it" \
		'P("mark_a")["loginuid"] == 4242 == I("l")["loginuid"] and P("mark_a")["uid"] == 0'
else
	skip "login uid (this kernel or container cannot set /proc/self/loginuid)"
fi

# ---- text: the writer named on the event's line, escaped ----
"$YARASNOOP" --no-control -r "$R" -o "$TMP/text" -- $PY "$WHO" n:'a"b
c' w:YS_WHO_MARK_A >/dev/null 2>"$TMP/err"
expect_eq "text: one line for the match" 1 "$(grep -c ' match rule=mark_a ' "$TMP/text")"
expect_grep "text: ppid, uid, exe and the command line, escaped" \
	' match rule=mark_a .* ppid=[0-9]+ uid=0 exe="[^"]*python3[^"]*" cmd=".*who\.py n:a\\"b\\nc w:YS_WHO_MARK_A" offset=' "$TMP/text"

# ---- the records: who comes first, changes are said once ----
"$RECDUMP" -o "$TMP/rec" -- /bin/sh -c "echo a; $PY $WHO threads:50:x; exec $PY $WHO w:y" >/dev/null 2>&1
rcheck() {
	local d=$1 expr=$2 out
	if out=$($PY - "$TMP/rec" "$expr" 2>&1 <<'PY'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
P = [e for e in R if e["t"] == "proc"]
O = [e for e in R if e["t"] == "open"]
def first(t, tgid): return next(i for i, e in enumerate(R) if e["t"] == t and e["tgid"] == tgid)
if not eval(sys.argv[2]):
    print("false:", sys.argv[2][:300], "| procs:", P[:8])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
rcheck "a process's proc record comes before its first stream's open" \
	'O and all(first("proc", o["tgid"]) < first("open", o["tgid"]) for o in O)'
rcheck "setuid in a threaded process: one credentials record, whatever thread writes" \
	'len([p for p in P if p["reason"] == 4]) == 1 and [p["uid"] for p in P if p["reason"] == 4] == [65534]'
rcheck "exec of a process with streams: a proc record with the new program" \
	'len([p for p in P if p["reason"] == 2]) == 1 and bytes.fromhex([p for p in P if p["reason"] == 2][0]["exe"]).decode().endswith(("python3", "python3.11"))'

# ---- memory: contexts are measured ----
FIFO=$TMP/go
mkfifo "$FIFO"
SOCK=$TMP/ys.sock
"$YARASNOOP" --control "$SOCK" -r "$R" --format json -o "$EV" -- $PY "$WHO" w:YS_WHO_MARK_A wait:"$FIFO" >/dev/null 2>"$TMP/err" &
YSPID=$!
n=0
until "$YARASNOOP" stats --control "$SOCK" --format json >"$TMP/st" 2>/dev/null &&
	$PY -c 'import json,sys; p=json.load(open(sys.argv[1]))["process"]; sys.exit(0 if p["process_contexts"] >= 1 and p["process_context_bytes"] > 0 else 1)' "$TMP/st"; do
	n=$((n + 1)); [[ $n -gt 300 ]] && break; sleep 0.1
done
check "stats: process contexts and their bytes while the writer lives" test "$n" -le 300
release "$FIFO"
wait "$YSPID"
pcheck "the run completes with the writer named" 'SUMMARY["complete"] and P("mark_a")["exe"]'

echo "1..$_n"
