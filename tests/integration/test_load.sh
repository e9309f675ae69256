#!/usr/bin/env bash
# Loading: the maps are made once, then the programs are dealt to several
# instances of the object loaded at once (one per CPU; YARASNOOP_LOADERS
# sets how many), while the TLS object loads beside them. Whatever the
# count, every program a run uses is loaded exactly once, shares the one
# set of maps, and is attached; the links' last close, the TLS uprobes'
# included, belongs to the ys-release child, and every program is gone once
# that has finished. Real BPF, real processes, as root.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "loading" || { echo "1..$_n"; exit 0; }
command -v bpftool >/dev/null || { skip "loading: bpftool is not installed"; echo "1..$_n"; exit 0; }
DIR=$(dirname "$YARASNOOP")
R=$TESTDATA/tls.yar

# The programs of an object, "NAME SECTION" a line: its global functions
# outside .text (those in .text are subprograms)
progs_of() {
	readelf -SW "$1" | sed -n 's/^ *\[ *\([0-9]*\)\] \([^ ]*\) .*/\1 \2/p' >"$TMP/sections"
	readelf -sW "$1" | awk 'NR == FNR { sec[$1] = $2; next }
		$4 == "FUNC" && $5 == "GLOBAL" && sec[$7] != ".text" && sec[$7] != "" { print $8, sec[$7] }' \
		"$TMP/sections" - | sort
}
# The hooks this kernel gets by default (--hooks auto), as yarasnoop says
HOOKS=$("$YARASNOOP" -v --no-control -o /dev/null -- true 2>&1 | sed -n 's/^yarasnoop: hooks: \([a-z-]*\) .*/\1/p' | head -n 1)
check "the hooks in use are said under -v ($HOOKS)" test -n "$HOOKS"
# what a run loads (user/hooks.c): exit tracepoints, or trampolines; never
# --compat's hook; the io_uring hooks under this kernel's event names
if [[ $HOOKS == fexit ]]; then
	skip_secs='^tracepoint/syscalls/'
else
	skip_secs='^(fexit/|fentry/|tracepoint/syscalls/sys_enter_write)'
fi
skip_progs='on_sys_exit_compat'
uring_ev() { [[ -e /sys/kernel/tracing/events/io_uring/$1 || -e /sys/kernel/debug/tracing/events/io_uring/$1 ]]; }
if uring_ev io_uring_submit_req; then skip_progs+='|on_uring_submit_sqe|on_uring_complete_res'
elif uring_ev io_uring_submit_sqe; then skip_progs+='|on_uring_submit|on_uring_complete'
else skip_progs+='|on_uring_submit|on_uring_complete|on_uring_submit_sqe|on_uring_complete_res'
fi
WANT=$( (progs_of "$DIR/yarasnoop.bpf.o" | awk -v s="$skip_secs" '$2 !~ s { print $1 }' | grep -vxE "$skip_progs"
	progs_of "$DIR/tls.bpf.o" | cut -d' ' -f1) | sort)
# names PID: the names of the programs PID holds, one a line, sorted (a
# program loaded twice shows twice)
names() {
	local id
	for id in $(prog_ids "$1"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])'
	done | sort
}
# maps_of PID: the ids of the maps PID's programs use, one a line, sorted, once each
maps_of() {
	local id
	for id in $(prog_ids "$1"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print("\n".join(map(str, json.load(sys.stdin).get("map_ids", []))))'
	done | sort -un
}
# release_of PID: PID's ys-release child
release_of() { pgrep -P "$1" -x ys-release | head -n 1; }

# the uprobes are set on the libraries that are there (user/tls.c)
TLS_PROGS=
[[ -e /lib/x86_64-linux-gnu/libssl.so.3 ]] && TLS_PROGS+="ssl_write ssl_write_ret "
[[ -e /lib/x86_64-linux-gnu/libgnutls.so.30 ]] && TLS_PROGS+="gnutls_send"
[[ -n $TLS_PROGS ]] || skip "loading: no TLS library to set uprobes on"
check "the object has programs to deal ($(wc -l <<<"$WANT"))" test "$(wc -l <<<"$WANT")" -ge 20
for n in 1 2 4; do
	rm -f "$TMP/ev"
	YARASNOOP_LOADERS=$n ys_start "l$n" -r "$R" --format json -o "$TMP/ev" -- sleep 600
	check "$n loader(s): loads, attaches, answers on its control socket" kill -0 "$YSPID"
	got=$(names "$YSPID")
	if [[ $got == "$WANT" ]]; then
		ok "$n loader(s): each program of the run loaded once ($(wc -l <<<"$got"))"
	else
		not_ok "$n loader(s): each program of the run loaded once: $(diff <(echo "$WANT") <(echo "$got") | tr '\n' ' ')"
	fi
	# the maps are the maps instance's: one ring buffer, one traced map
	# for every instance, TLS's included
	rings=0 traced=0
	for m in $(maps_of "$YSPID"); do
		case $(bpftool map show id "$m" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])') in
		rb) rings=$((rings + 1)) ;;
		traced) traced=$((traced + 1)) ;;
		esac
	done
	check "$n loader(s): every instance shares one ring buffer and one traced map ($rings, $traced)" \
		test "$rings:$traced" == 1:1
	rel=$(release_of "$YSPID")
	held=$(for id in $(prog_ids "$rel"); do
		bpftool prog show id "$id" --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])'
	done | sort -u | tr '\n' ' ')
	for p in tp_exit_write tp_enter_close on_exit_proc tp_exit_splice $TLS_PROGS; do
		check "$n loader(s): ys-release holds a link to $p" grep -qw "$p" <<<"$held"
	done
	ids=$(prog_ids "$YSPID")
	# passed on to the command (a script's background job ignores SIGINT)
	ys_stop TERM
	check "$n loader(s): stopped by SIGTERM, it says so in its status ($YSRC)" test "$YSRC" -ne 0
	# shellcheck disable=SC2086 # a list of ids
	check "$n loader(s): every program is released once ys-release has finished" poll progs_released $ids
done

# a bad count is no count: one loader per CPU
YARASNOOP_LOADERS=x ys_start lx -r "$R" -o /dev/null -- sleep 600
check "YARASNOOP_LOADERS=x: starts all the same" kill -0 "$YSPID"
got=$(names "$YSPID")
check "YARASNOOP_LOADERS=x: each program of the run loaded once" test "$got" == "$WANT"
ys_stop TERM
echo "1..$_n"
