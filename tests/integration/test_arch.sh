#!/usr/bin/env bash
# make ARCH=arm64 builds the BPF object for arm64 (syscall arguments
# through libbpf's per-architecture register macros), here on x86-64. It is
# built, not loaded: no arm64 kernel runs here.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOST=${OUTPUT:-build}
[[ $HOST == /* ]] || HOST=$ROOT/$HOST
sections() { readelf -SW "$1" | grep -oE '(tracepoint|tp_btf|fexit|fentry|uprobe|uretprobe)/[^ ]+' | sort; }

if [[ $(uname -m) != x86_64 ]]; then
	skip "cross build to arm64 (tested from x86-64)"
	echo "1..$_n"
	exit 0
fi
# a make of its own: not the SANITIZE=1 or other variables of a make that runs us
cross() { timeout -k 10 "$RUN_LIMIT" env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE make -s -C "$ROOT" ARCH=arm64 OUTPUT="$TMP/b" >"$TMP/make.log" 2>&1; }
check "make ARCH=arm64 builds the BPF object and its skeleton" cross
O=$TMP/b/arm64/yarasnoop.bpf.o
check "... an eBPF object" bash -c "file '$O' | grep -q 'eBPF'"
check "... with its skeleton" test -s "$TMP/b/arm64/yarasnoop.skel.h"
check "... that reads arm64's registers: the first syscall argument from orig_x0" \
	bash -c "bpftool btf dump file '$O' | grep -A1 \"'pt_regs___arm64'\" | grep -q orig_x0"
check "... and the other arguments from user_pt_regs" \
	bash -c "bpftool btf dump file '$O' | grep -q \"STRUCT 'user_pt_regs'\""
check "the x86-64 object does not" \
	bash -c "! bpftool btf dump file '$HOST/yarasnoop.bpf.o' | grep -q 'pt_regs___arm64'"
# the trampolines name each architecture's syscall functions; arm64 has no dup2
expect_eq "both objects have the same programs" \
	"$(sections "$HOST/yarasnoop.bpf.o" | grep -vx 'fentry/__x64_sys_dup2' | sed 's|/__x64_sys_|/SYS_|')" \
	"$(sections "$O" | sed 's|/__arm64_sys_|/SYS_|')"
check "... the arm64 object's trampolines are on arm64's syscall functions (__arm64_sys_*)" \
	bash -c "[[ \$(readelf -SW '$O' | grep -cE '(fexit|fentry)/__arm64_sys_') -ge 30 ]] && ! readelf -SW '$O' | grep -q __x64_sys_"
echo "1..$_n"
