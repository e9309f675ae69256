# Helpers for the tests that talk to a running yarasnoop: start it with a
# control socket in $TMP, poll `yarasnoop stats`, drive tests/helpers/holder.py.
# Source after tests/lib.sh. Nothing here waits for a fixed time: every wait
# polls for a condition, bounded (lib.sh's poll and bwait), so that a wedged
# program fails the check instead of hanging the suite.
# shellcheck shell=bash
PY=/usr/bin/python3
HOLDER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/holder.py

# stats_to FILE [SOCK]: the running instance's stats, JSON, in FILE
stats_to() { "$YARASNOOP" stats --control "${2:-$SOCK}" --format json >"$1" 2>"$1.err"; }

# pyeval FILE EXPR: EXPR over D, the JSON object in FILE (one object), true?
pyeval() {
	$PY - "$1" "$2" <<'PY'
import json, sys
D = json.load(open(sys.argv[1]))
S = D.get("streams", []) if isinstance(D, dict) else []
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# jstat DESCRIPTION FILE EXPR: a check over one JSON object (D; S: its streams)
jstat() {
	if pyeval "$2" "$3" 2>"$TMP/jstat.err"; then ok "$1"; else not_ok "$1: false: $3 | $(head -c 700 "$2") $(head -c 300 "$TMP/jstat.err")"; fi
}
# mem_of FILE: total_memory_bytes of the stats in FILE
mem_of() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_memory_bytes"])' "$1"; }
# stats_until FILE EXPR [SOCK]: polls stats until EXPR holds (0) or the limit (1);
# FILE keeps the last answer either way
_stats_holds() { stats_to "$1" "${3:-}" && pyeval "$1" "$2" 2>/dev/null; }
stats_until() { poll _stats_holds "$1" "$2" "${3:-}" || { _stats_said "$1"; return 1; }; }
# (what the last answer held, so that a failed poll says which term failed)
_stats_said() {
	$PY - "$1" <<'PY' 2>&1 | head -c 1500 | sed 's/^/# last answer: /'
import json, sys
D = json.load(open(sys.argv[1]))
print("%d streams;" % len(D.get("streams", [])), {k: v for k, v in D.items() if not isinstance(v, (list, dict))})
PY
}

# ys_start NAME ARGS...: yarasnoop ARGS in the background, control socket
# $TMP/NAME.sock (in $SOCK), stderr in $TMP/NAME.err, pid in $YSPID; waits
# until the socket answers. Fails if it never does, at once if yarasnoop
# has gone (a refused load: no use waiting out the bound), saying why.
ys_start() {
	local name=$1; shift
	SOCK=$TMP/$name.sock
	"$YARASNOOP" --control "$SOCK" "$@" 2>"$TMP/$name.err" &
	YSPID=$!
	bg_track "$YSPID"
	poll gone_or "$YSPID" _ys_answers "$SOCK" "$YSPID" && _alive "$YSPID" && return 0
	echo "# yarasnoop (pid $YSPID) did not answer on $SOCK: $(head -c 300 "$TMP/$name.err" | tr '\n' ' ')"
	return 1
}
_ys_answers() { kill -0 "$2" 2>/dev/null && "$YARASNOOP" stats --control "$1" --format json >/dev/null 2>&1; }
# gone_or PID CMD...: PID has gone, or CMD holds (a poll that ends at once
# when what it waits on can no longer come)
gone_or() { local p=$1; shift; ! _alive "$p" || "$@"; }
# ys_stop [SIGNAL]: stops $YSPID, waits for it, its exit status in $YSRC
ys_stop() {
	kill "-${1:-INT}" "$YSPID" 2>/dev/null
	bwait "$YSPID"
	# shellcheck disable=SC2034  # read by the tests
	YSRC=$?
}

# holder_start NAME: starts tests/helpers/holder.py (pid in $HPID), commands
# through $TMP/NAME.fifo, acks in $TMP/NAME.ack/
holder_start() {
	HFIFO=$TMP/$1.fifo HACK=$TMP/$1.ack _hseq=0
	mkfifo "$HFIFO" && mkdir -p "$HACK" || return 1
	$PY "$HOLDER" "$HFIFO" "$HACK" >/dev/null 2>"$TMP/$1.holder.err" &
	HPID=$!
	bg_track "$HPID"
}
# hcmd COMMAND...: sends one command to the holder and waits for its ack
hcmd() {
	_hseq=$((_hseq + 1))
	# a holder that died would leave the write blocked on the fifo
	timeout $((POLL_LIMIT / 10)) sh -c 'printf "%s\n" "$1" >"$2"' sh "$*" "$HFIFO" || return 1
	poll test -e "$HACK/$_hseq"
}
# prog_ids PID: the ids of the BPF programs PID holds, from its fds
prog_ids() { cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:\s*//p' | sort -u; }
# progs_released ID...: none of these programs exists any more
progs_released() {
	local id
	for id in "$@"; do bpftool prog show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}
no_caps() {
	grep -qE '^CapEff:\s+0+$' /proc/"$1"/status && grep -qE '^CapPrm:\s+0+$' /proc/"$1"/status &&
		grep -qE '^CapBnd:\s+0+$' /proc/"$1"/status
}
# thread_caps PID: "NAME EFF PRM BND NNP" per thread of PID, capability
# sets in hex as /proc shows them (capabilities are a thread's, not the
# process's: each thread has its own)
thread_caps() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v name="$(cat "$t"/comm)" '/^CapEff:/ { e = $2 } /^CapPrm:/ { p = $2 }
			/^CapBnd:/ { b = $2 } /^NoNewPrivs:/ { n = $2 }
			END { print name, e, p, b, n }' "$t"/status
	done
}
# cg_gone PID: the command's cgroup of yarasnoop PID (lossless) is gone,
# wherever cgroup v2 is mounted
cg_gone() { [[ ! -e /sys/fs/cgroup/unified/yarasnoop.$1 && ! -e /sys/fs/cgroup/yarasnoop.$1 ]]; }
# stopped_match PATTERN: the first process whose command line matches
# PATTERN (pgrep -f) is stopped (state T)
stopped_match() {
	local p
	p=$(pgrep -f "$1" | head -1) && [[ $(sed 's/.*) //' /proc/"$p"/stat | cut -d' ' -f1) == T ]]
}
# attached_without_caps PID: PID holds its programs (the write exits, close
# and its family, fork, exec, exit: 5 at least) and has dropped every capability
attached_without_caps() { [[ $(prog_ids "$1" | wc -l) -ge 5 ]] && no_caps "$1"; }
# until_attached PID: polls for that, failing at once when PID has gone
until_attached() { poll gone_or "$1" attached_without_caps "$1" && attached_without_caps "$1"; }
# fd_of PID PATH: the fd on which PID has PATH open
fd_of() {
	local l
	for l in /proc/"$1"/fd/*; do
		[[ $(readlink "$l") == "$2" ]] && { basename "$l"; return 0; }
	done
	return 1
}

# textstat DESCRIPTION FILE EXPR: parses every "Memory statistics:" block in
# FILE (the text of ys_stats_text, live) and checks EXPR over BLOCKS (all
# blocks), B (the last one: {"cached", "total", "evicted", "streams": [{"k",
# "uuid", "pid", "comm", "fd", "path", "bytes", "lines", "rules", "private",
# "rule_bitmap", "pattern_bitmap", "memory", "dropped", "started",
# "last_write", "matched", "suppressed", "undecided", "whole"}]}) and ERRORS (lines
# that break the format). Command and Path are unquoted.
textstat() {
	local d=$1 out
	if out=$($PY - "$2" "$3" 2>&1 <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().split("\n")
FIELDS = [("pid", r"  - PID: (\d+)"), ("comm", r"  - Command: (.*)"), ("fd", r"  - FD: (-?\d+)"),
          ("path", r"  - Path: (.*)"), ("bytes", r"  - Bytes processed: (\d+)"),
          ("lines", r"  - Lines processed: (\d+)"), ("rules", r"  - Non-private rules matched: (\d+)"),
          ("private", r"  - Private rules matched: (\d+)"),
          ("rule_bitmap", r"  - Rule bitmap size: (\d+) bytes"),
          ("pattern_bitmap", r"  - Pattern bitmap size: (\d+) bytes"),
          ("memory", r"  - Memory: (\d+) bytes"), ("dropped", r"  - Bytes dropped: (\d+)"),
          ("started", r"  - Started: (\d{4}-\d\d-\d\dT[0-9:.]+Z)"),
          ("last_write", r"  - Last write: (never|\d{4}-\d\d-\d\dT[0-9:.]+Z)"),
          ("matched", r"  - Rules matched: (.*)"), ("suppressed", r"  - Matches suppressed: (\d+)"),
          ("undecided", r"  - Rules undecided: (\d+)"), ("whole", r"  - Kept whole: (.*)")]
def val(v):
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    return v
BLOCKS, ERRORS = [], []
i = 0
while i < len(lines):
    if lines[i] != "Memory statistics:":
        i += 1
        continue
    b = {"streams": [], "evicted": None}
    m1 = re.fullmatch(r"Total streams cached: (\d+)", lines[i + 1] if i + 1 < len(lines) else "")
    m2 = re.fullmatch(r"Total contexts memory: (\d+) bytes", lines[i + 2] if i + 2 < len(lines) else "")
    if not m1 or not m2:
        ERRORS.append("block at line %d: no totals: %r" % (i, lines[i + 1:i + 3]))
        i += 1
        continue
    b["cached"], b["total"] = int(m1.group(1)), int(m2.group(1))
    i += 3
    m = re.fullmatch(r"Streams evicted: (\d+)", lines[i] if i < len(lines) else "")
    if m:
        b["evicted"] = int(m.group(1))
        i += 1
    while i < len(lines):
        m = re.fullmatch(r"Stream (\d+): ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", lines[i])
        if not m:
            break
        s = {"k": int(m.group(1)), "uuid": m.group(2)}
        for j, (name, rx) in enumerate(FIELDS):
            l = lines[i + 1 + j] if i + 1 + j < len(lines) else ""
            mm = re.fullmatch(rx, l)
            if not mm:
                ERRORS.append("stream %d: line %r is not %r" % (s["k"], l, rx))
                break
            s[name] = val(mm.group(1))
        b["streams"].append(s)
        i += 1 + len(FIELDS)
    if len(b["streams"]) != b["cached"]:
        ERRORS.append("%d streams listed, %d cached" % (len(b["streams"]), b["cached"]))
    if [s["k"] for s in b["streams"]] != list(range(len(b["streams"]))):
        ERRORS.append("stream numbers %r" % [s["k"] for s in b["streams"]])
    BLOCKS.append(b)
B = BLOCKS[-1] if BLOCKS else None
if not eval(sys.argv[2]):
    print("false:", sys.argv[2][:300], "| errors:", ERRORS[:3], "| last block:", repr(B)[:600])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $out"; fi
}
# blocks_in FILE: how many "Memory statistics:" blocks FILE holds
blocks_in() { grep -c '^Memory statistics:$' "$1" 2>/dev/null; }
# full_blocks_at_least FILE N: N blocks, the last one complete (its RSS line)
full_blocks_at_least() { [[ $(blocks_in "$1") -ge $2 && $(grep -c '^Compiled rules: ' "$1") -ge $2 ]]; }

# check_syscall_formats: the tracepoint programs read the syscalls'
# records with the layout their format files give (bpf/syshook.bpf.h): the
# number an int at 8, then padding the kernel need not clear, the return
# value or the arguments from 16. (Read as vmlinux.h's raw_syscalls record,
# a long id, the number took the padding's garbage on one 6.18.44 build:
# nothing was captured.) A check over every format of this kernel.
check_syscall_formats() {
	local fmt
	if fmt=$(syscall_formats); then
		ok "every syscalls tracepoint's record has the layout the programs read (${fmt% } formats)"
	else
		not_ok "syscalls tracepoints' records: a layout the programs do not read: $fmt"
	fi
}
# (the number of formats and the first that differ; fails if any does)
syscall_formats() {
	python3 - /sys/kernel/tracing/events/syscalls <<'PY'
import glob, os, re, sys
bad, n = [], 0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "sys_*", "format"))):
    fields = {m[1]: (int(m[2]), int(m[3])) for m in
              re.finditer(r"field:[^;]*?(\w+);\s*offset:(\d+);\s*size:(\d+);", open(f).read())}
    name = os.path.basename(os.path.dirname(f))
    want = {"__syscall_nr": (8, 4)}
    if name.startswith("sys_exit_"):
        want["ret"] = (16, 8)
    else:
        args = [k for k in fields if not k.startswith("common_") and k != "__syscall_nr"]
        want.update({k: (16 + 8 * i, 8) for i, k in enumerate(args)})
    n += 1
    if any(fields.get(k) != v for k, v in want.items()):
        bad.append(name)
print(n, " ".join(bad[:5]))
sys.exit(1 if bad or n < 100 else 0)
PY
}
