#!/usr/bin/env bash
# Stream identity and file order, kernel side (as root, real BPF): a stream
# is one process's open file whatever fds point at it; it ends with the
# process's last fd on the file; regular files' records carry positions.
# yarasnoop itself for what a user sees, tests/helpers/recdump for the
# records the kernel sends.
. "$(dirname "$0")/../lib.sh"
need_root "stream identity" || { echo "1..$_n"; exit 0; }
R=$TESTDATA/streams.yar
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")
PY=/usr/bin/python3
H=$(cd "$(dirname "$0")/../helpers" && pwd)
S=$H/streams.py
RECDUMP=${OUTPUT:-build}/helpers/recdump
FDTRICKS=${OUTPUT:-build}/helpers/fdtricks
[[ $RECDUMP == /* ]] || RECDUMP=$PWD/$RECDUMP
[[ $FDTRICKS == /* ]] || FDTRICKS=$PWD/$FDTRICKS

# rcheck DESCRIPTION FILE EXPR: EXPR over the records recdump wrote in FILE:
# R all, W writes (data as bytes), O opens (path as str), C closes, X exits,
# K the kernel's counters; ids(path) the stream ids of a path. Every check
# also asserts that no stream and no process entry is left in the maps.
rcheck() {
	local d=$1 f=$2 expr=$3 out
	if out=$($PY - "$f" "$expr" 2>&1 <<'PY'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for e in R:
    if "data" in e: e["data"] = bytes.fromhex(e["data"])
    if "path" in e: e["path"] = bytes.fromhex(e["path"]).decode(errors="replace")
W = [e for e in R if e["t"] == "write"]
O = [e for e in R if e["t"] == "open"]
C = [e for e in R if e["t"] == "close"]
X = [e for e in R if e["t"] == "exit"]
K = next(e for e in R if e["t"] == "kstats")
def ids(path): return [e["id"] for e in O if e["path"] == path]
def close_of(i): return next(e for e in C if e["id"] == i)
def idx(e): return R.index(e)
def rebuild(i):
    # the file as the writes of stream i left it, applied at their positions
    b = bytearray()
    for e in W:
        if e["id"] != i: continue
        assert e["flags"] & 1, e
        end = e["pos"] + len(e["data"])
        b.extend(b"\0" * max(0, end - len(b)))
        b[e["pos"]:end] = e["data"]
    return bytes(b)
ok = eval(sys.argv[2]) and K["streams_map"] == 0 and K["procs_map"] == 0 and K["ctrl_dropped"] == 0
if not ok:
    print("false:", sys.argv[2][:300], "| K:", K, "| records:", [{k: v for k, v in e.items() if k not in ("tid", "ino", "dev", "mode")} for e in R if e["t"] != "kstats"][:14])
    sys.exit(1)
PY
	); then ok "$d"; else not_ok "$d: $(printf '%s' "$out" | head -c 1500)"; fi
}
# rec FILE ARGS...: recdump -o FILE ARGS...
rec() { local f=$1; shift; "$RECDUMP" -o "$f" "$@" >/dev/null 2>"$f.err" || echo "recdump failed: $(cat "$f.err")" >>"$f.err"; }

# ---- one stream per file the shell writes ----
expect_exit "dash loop, stdout and stderr on two pipes" 0 "${YS[@]}" -- $PY "$S" dash_pipes
jcheck "... two streams for dash, 40 lines on each pipe" "$EV" \
	'sorted((e["bytes_written"], e["lines"], e["path"].startswith("pipe:")) for e in ENDS if e["comm"] == "dash") == [(160, 40, True), (200, 40, True)]'
expect_exit "dash loop, stdout and stderr on one pty" 0 "${YS[@]}" -- $PY "$S" dash_pty
jcheck "... one stream for dash, both outputs in it" "$EV" \
	'[(e["bytes_written"], e["lines"], e["path"].startswith("/dev/pts/")) for e in ENDS if e["comm"] == "dash"] == [(360, 80, True)]'
expect_exit "dash loop, stdout and stderr on one file opened once" 0 "${YS[@]}" -- \
	dash -c 'exec >"$1" 2>&1; i=0; while [ $i -lt 40 ]; do echo line; echo err >&2; i=$((i+1)); done' sh "$TMP/once"
jcheck "... one stream" "$EV" \
	"[(e['bytes_written'], e['lines'], e['reason']) for e in ENDS if e['path'] == '$TMP/once'] == [(360, 80, 'exit')]"

# ---- a key split around redirections is one stream, and found ----
split_case() { # NAME SCRIPT
	expect_exit "split key around $1" 0 "${YS[@]}" -- dash -c "$2"
	jcheck "... found, in one stream of dash's stdout" "$EV" \
		'[e["rule"] for e in M] == ["aws_example_key"] and len([e for e in ENDS if e["comm"] == "dash" and e["bytes_written"] == 20]) == 1'
}
split_case "a redirection to /dev/null" 'printf AKIAIOSFODNN; echo x >/dev/null; printf 7EXAMPLE'
split_case "2>&1" 'printf AKIAIOSFODNN 2>&1; echo x >/dev/null 2>&1; printf 7EXAMPLE 2>&1'
split_case "a saved fd (F_DUPFD)" 'exec 5>&1; printf AKIAIOSFODNN >&5; exec 5>&-; printf 7EXAMPLE'
split_case "stdout moved away and back (dup2 there and back)" 'exec 6>&1 >/dev/null; echo x; exec >&6 6>&-; printf AKIAIOSFODNN; { echo y; } >/dev/null; printf 7EXAMPLE'
expect_exit "split key: second half through F_DUPFD's fd" 0 "${YS[@]}" -- $PY "$S" dupfd
jcheck "... found, one stream" "$EV" '[e["rule"] for e in M] == ["aws_example_key"] and [e["bytes_written"] for e in ENDS if e["comm"] == "python3"] == [21]'
expect_exit "split key: dup2 to /dev/null and back" 0 "${YS[@]}" -- $PY "$S" dup2back
jcheck "... found; /dev/null is a stream of its own" "$EV" \
	'[e["rule"] for e in M] == ["aws_example_key"] and sorted(e["bytes_written"] for e in ENDS if e["comm"] == "python3") == [13, 21]'

# ---- where streams end ----
rec "$TMP/r" -- $PY "$S" fd4000 "$TMP/f4000"
rcheck "a file on fds 3, 2000, 4000: one stream, ended at the close of its last fd (4000)" "$TMP/r" \
	'(lambda i: len(ids("'"$TMP/f4000"'")) == 1 and (close_of(i)["bytes"], close_of(i)["reason"], close_of(i)["fd"]) == (21, 0, 4000) and [e["fd"] for e in W if e["id"] == i] == [3, 4000])(ids("'"$TMP/f4000"'")[0])'
rcheck "... before the process's next write" "$TMP/r" \
	'idx(close_of(ids("'"$TMP/f4000"'")[0])) < idx(next(e for e in W if e["data"] == b"after\n"))'
rec "$TMP/r" -- $PY "$S" closerange "$TMP/crx" "$TMP/cry"
rcheck "close_range: the file held only in the range ends there" "$TMP/r" \
	'(lambda c: c["reason"] == 0 and c["bytes"] == 7)(close_of(ids("'"$TMP/cry"'")[0]))'
rcheck "... the file also held outside it goes on, then ends at exit" "$TMP/r" \
	'(lambda i: [(e["off"], e["fd"]) for e in W if e["id"] == i] == [(0, 3), (12, 4000)] and close_of(i)["reason"] == 3 and close_of(i)["bytes"] == 21)(ids("'"$TMP/crx"'")[0])'
rec "$TMP/r" -- $PY "$S" cloexec "$TMP/ce" "$TMP/ck"
rcheck "exec: the O_CLOEXEC file's stream ends (reason exec) before the new program writes" "$TMP/r" \
	'(lambda c: c["reason"] == 2 and c["bytes"] == 15 and idx(c) < idx(W[-1]))(close_of(ids("'"$TMP/ce"'")[0]))'
rcheck "... the inherited file's stream goes on across exec" "$TMP/r" \
	'(lambda i: [(e["off"], e["data"]) for e in W if e["id"] == i] == [(0, b"AKIAIOSFODNN"), (12, b"7EXAMPLE")] and close_of(i)["reason"] == 3)(ids("'"$TMP/ck"'")[0])'
expect_exit "split key across exec on an inherited fd" 0 "${YS[@]}" -- $PY "$S" cloexec "$TMP/ce" "$TMP/ck"
jcheck "... found; the O_CLOEXEC file ends with reason exec" "$EV" \
	"[e['rule'] for e in M] == ['aws_example_key'] and [e['reason'] for e in ENDS if e['path'] == '$TMP/ce'] == ['exec']"
rec "$TMP/r" -- $PY "$S" reuse_fd "$TMP/ra" "$TMP/rb"
rcheck "an fd reused for another file: another stream" "$TMP/r" \
	'len(ids("'"$TMP/ra"'")) == len(ids("'"$TMP/rb"'")) == 1 and ids("'"$TMP/ra"'") != ids("'"$TMP/rb"'") and close_of(ids("'"$TMP/ra"'")[0])["reason"] == 0'
expect_exit "split key on one fd number, two files" 0 "${YS[@]}" -- $PY "$S" reuse_fd "$TMP/ra" "$TMP/rb"
jcheck "... not found: two streams, two UUIDs" "$EV" \
	"M == [] and len({e['uuid'] for e in ENDS if e['path'] in ('$TMP/ra', '$TMP/rb')}) == 2"
rec "$TMP/r" -- bash -c 'ulimit -n 8192; exec 3>"$1"; exec 7000>&3 3>&-; printf x >&7000; exec 7000>&-; printf y >"$1"' sh "$TMP/hi"
rcheck "bash with its file on fd 7000: the stream ends when its last fd closes, before the file is opened again" "$TMP/r" \
	'(lambda i: close_of(i)["reason"] == 0 and close_of(i)["bytes"] == 1 and idx(close_of(i)) < idx(O[1]))(ids("'"$TMP/hi"'")[0]) and len(ids("'"$TMP/hi"'")) == 2'

# ---- closed where no hook sees it: found at exit, never lost ----
if [[ $(uname -m) == x86_64 ]]; then
	rec "$TMP/r" -- "$FDTRICKS" unseen "$TMP/un"
	rcheck "a file closed by a 32-bit close(): its stream ends at exit as unseen, bytes exact" "$TMP/r" \
		'(lambda c: c["reason"] == 4 and c["bytes"] == 12)(close_of(ids("'"$TMP/un"'")[0])) and X[-1]["unseen"] == 1 and K["streams_unseen"] == 1'
	rec "$TMP/r" -- "$FDTRICKS" reuse "$TMP/ua" "$TMP/ub"
	rcheck "... and its struct file reused for another file: a new stream, the old one ended" "$TMP/r" \
		'ids("'"$TMP/ua"'") != ids("'"$TMP/ub"'") and close_of(ids("'"$TMP/ua"'")[0])["reason"] in (1, 4) and [e["data"] for e in W if e["id"] == ids("'"$TMP/ub"'")[0]] == [b"7EXAMPLE"]'
	expect_exit "yarasnoop: a stream closed unseen" 0 "${YS[@]}" -- "$FDTRICKS" unseen "$TMP/un"
	jcheck "... ends with reason unseen, every byte accounted" "$EV" \
		"[(e['reason'], e['bytes_written'], e['bytes_scanned']) for e in ENDS if e['path'] == '$TMP/un'] == [('unseen', 12, 12)] and SUMMARY['kernel']['streams_unseen'] == 1"
	check "... and says so on stderr" grep -q "1 streams were closed by a route yarasnoop does not hook" "$TMP/err"
else
	skip "32-bit close() from a 64-bit process (x86-64 only)"
fi

# ---- file order: positions ----
for hooks in exit enter-exit; do
	rec "$TMP/r" --hooks $hooks -- $PY "$S" pwrite_rev "$TMP/pw"
	rcheck "$hooks: pwrite of the second half first: positions 12 then 0, exact" "$TMP/r" \
		'[(e["pos"], e["flags"], e["route"]) for e in W if e["id"] == ids("'"$TMP/pw"'")[0]] == [(12, 1, 3), (0, 1, 3), (21, 1, 5), (25, 1, 5)]'
	rcheck "$hooks: ... the writes put at their positions are the file" "$TMP/r" \
		'rebuild(ids("'"$TMP/pw"'")[0]) == open("'"$TMP/pw"'", "rb").read() and b"AKIAIOSFODNN7EXAMPLE" in rebuild(ids("'"$TMP/pw"'")[0])'
	rec "$TMP/r" --hooks $hooks -- $PY "$S" seek "$TMP/sk"
	rcheck "$hooks: lseek back, writev, pwritev2 at -1: each write at the position it took" "$TMP/r" \
		'[e["pos"] for e in W if e["id"] == ids("'"$TMP/sk"'")[0]] == [0, 2, 10, 12, 13] and rebuild(ids("'"$TMP/sk"'")[0]) == open("'"$TMP/sk"'", "rb").read()'
	rec "$TMP/r" --hooks $hooks -- $PY "$S" append "$TMP/ap"
	rcheck "$hooks: O_APPEND writes at the end, the other open file at its own position" "$TMP/r" \
		'[(e["fd"], e["pos"], e["flags"]) for e in W] == [(3, 0, 1), (4, 100, 1), (3, 100, 1), (4, 110, 1)]'
done
rec "$TMP/r" -- $PY "$S" dupshare "$TMP/ds"
rcheck "one file on two fds of one thread: positions exact" "$TMP/r" \
	'[(e["fd"], e["pos"], e["flags"]) for e in W] == [(3, 0, 1), (4, 4, 1)] and K["pos_uncertain"] == 0'
rec "$TMP/r" -- $PY "$S" threads "$TMP/th"
rcheck "two threads writing through one fd: every write of theirs flagged uncertain" "$TMP/r" \
	'W[0]["flags"] == 1 and len(W) == 401 and all(e["flags"] == 3 for e in W[1:]) and K["pos_uncertain"] == 400 and {e["tid"] for e in W[1:]} != {W[0]["tid"]}'
rec "$TMP/r" -- $PY "$S" forkshare "$TMP/fs"
rcheck "parent and child sharing a struct file: flagged uncertain after the fork" "$TMP/r" \
	'[e["flags"] for e in W if e["id"] in ids("'"$TMP/fs"'")] == [1, 3, 3] and len(ids("'"$TMP/fs"'")) == 2'
rec "$TMP/r" -- $PY "$S" shareend "$TMP/se"
rcheck "a child's file held by its parent too, then by the child alone, then on two of its fds: uncertain twice, then exact" "$TMP/r" \
	'[(e["pos"], e["flags"]) for e in W if e["id"] in ids("'"$TMP/se"'")] == [(0, 3), (4, 3), (8, 1), (14, 1)]'
rec "$TMP/r" -- $PY "$S" dupfd
rcheck "pipes, ttys, devices: no position" "$TMP/r" 'all(e["flags"] == 0 and e["pos"] == 0 for e in W)'
echo "1..$_n"
