#!/usr/bin/env bash
# --hooks: BPF trampolines where the kernel takes them, the syscall
# tracepoints where it does not, and saying which (as root). This host's
# kernel refuses trampolines; the kernel matrix's guests take them
# (tests/vm/smoke.sh runs both there): each branch asserts its own kernel.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
need_root "hooks" || { echo "1..$_n"; exit 0; }
EV=$TMP/ev
YS=("$YARASNOOP" --no-control -r "$TESTDATA/live.yar" --format json -o "$EV")
# why a kernel gets no trampolines: it refuses them, or would preempt them
REFUSED='the kernel refuses to (load|attach) an fexit program on __(x64|arm64)_sys_write: .+|this kernel preempts kernel code .+|cannot tell whether this kernel preempts .+'
SPLIT='[e["rule"] for e in M] == ["split_key"] and SUMMARY["bytes_written"] == SUMMARY["kernel"]["bytes_written"] > 0'

expect_exit "--hooks auto (the default) -v" 0 "${YS[@]}" -v -- "$WRITER" split
cp "$TMP/err" "$TMP/auto.err"
auto=$(sed -n 's/^yarasnoop: hooks: \([a-z-]*\) (.*)$/\1/p' "$TMP/auto.err")
expect_grep "-v says which hooks auto chose, and why" '^yarasnoop: hooks: (fexit|tracepoint) \(.+\)$' "$TMP/auto.err"
jcheck "the summary names them ($auto), and the split key is found by them" "$EV" \
	"SUMMARY['kernel']['hooks'] == '$auto' and $SPLIT"
if [[ $auto == tracepoint ]]; then
	expect_grep "auto fell back: -v says the kernel refuses a trampoline on the write syscall (or would preempt one)" \
		"^yarasnoop: hooks: tracepoint \\(($REFUSED)\\)\$" \
		"$TMP/auto.err"
	rm -f "$EV" "$TMP/ran"
	expect_exit "--hooks fexit where the kernel refuses trampolines: exit 3" 3 \
		"${YS[@]}" --hooks fexit -- sh -c "touch '$TMP/ran'"
	check "... one line on stderr" one_line "$TMP/err"
	expect_grep "... naming --hooks fexit, the kernel's refusal and the way out" \
		"^yarasnoop: --hooks fexit: ($REFUSED); --hooks auto falls back to the syscall tracepoints\$" \
		"$TMP/err"
	check "... and nothing was started or written: no command, no events" \
		test ! -e "$TMP/ran" -a ! -s "$EV"
else
	expect_exit "--hooks fexit" 0 "${YS[@]}" --hooks fexit -- "$WRITER" split
	jcheck "--hooks fexit: the summary says fexit, the split key is found" "$EV" \
		"SUMMARY['kernel']['hooks'] == 'fexit' and $SPLIT"
fi

# the records of this kernel's syscalls tracepoints (live_lib.sh)
check_syscall_formats

# ... and the programs read the number as those 4 bytes: no 8-byte load at
# the context's offset 8 before the first call (where r1 is the context)
ctx_loads() {
	llvm-objdump -d "$(dirname "$YARASNOOP")/yarasnoop.bpf.o" | python3 -c '
import re, sys
sec, top, n, wide, narrow = None, False, 0, [], 0
for line in sys.stdin:
    m = re.match(r"Disassembly of section (\S+):", line)
    if m:
        sec, top = m[1], m[1].startswith("tracepoint/syscalls/")
        n += top
        continue
    if not top:
        continue
    if re.search(r"\bcall\b", line):
        top = False
    elif "*(u64 *)(r1 + 8)" in line:
        wide.append(sec)
    elif "*(u32 *)(r1 + 8)" in line:
        narrow += 1
print(n, narrow, " ".join(wide))
sys.exit(1 if wide or not narrow or n < 5 else 0)'
}
if loads=$(ctx_loads); then
	ok "the syscalls tracepoint programs read the number as an int (sections, int loads: $loads)"
else
	not_ok "a syscalls tracepoint program reads 8 bytes at the number's offset (sections, int loads, wide: $loads)"
fi

for h in tracepoint exit enter-exit; do
	want=$h
	[[ $h == exit ]] && want=tracepoint	# its old name
	expect_exit "--hooks $h" 0 "${YS[@]}" --hooks "$h" -- "$WRITER" split
	jcheck "--hooks $h: the summary says $want, the split key is found" "$EV" \
		"SUMMARY['kernel']['hooks'] == '$want' and $SPLIT"
done

# the statistics say it too, live and in text
ys_start hk -r "$TESTDATA/live.yar" -o "$TMP/hk.ev" --hooks tracepoint -- sleep 30
stats_to "$TMP/hk.json"
jstat "stats (JSON): the hooks in use" "$TMP/hk.json" 'D["kernel"]["hooks"] == "tracepoint"'
"$YARASNOOP" stats --control "$SOCK" >"$TMP/hk.txt" 2>&1
expect_grep "stats (text): the hooks in use, and why" '^Hooks: tracepoint \(chosen with --hooks\)$' "$TMP/hk.txt"
ys_stop
expect_grep "the text summary names them" '^yarasnoop: Hooks: tracepoint \(chosen with --hooks\)$' "$TMP/hk.err"

expect_exit "a bad --hooks: exit 2" 2 "${YS[@]}" --hooks trampoline -- true
check "... one line" one_line "$TMP/err"
expect_grep "... naming the value and the choices" \
	"^yarasnoop: invalid value 'trampoline' for --hooks: auto\|(tracepoint\|)?fexit\|enter-exit$" "$TMP/err"
echo "1..$_n"
