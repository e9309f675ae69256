#!/usr/bin/env bash
# The man page renders without a warning, names every option that --help
# lists for every command (and so does README), and `make install` puts it
# where man finds it.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PAGE=$ROOT/man/yarasnoop.8

groff -man -ww -z "$PAGE" 2>"$TMP/groff.err"
check "groff -man -ww: no warning" test ! -s "$TMP/groff.err"
MANWIDTH=80 man --warnings -l "$PAGE" >"$TMP/page" 2>"$TMP/man.err"
check "man -l renders it, no warning" bash -c "test -s '$TMP/page' && test ! -s '$TMP/man.err'"
check "... its sections" bash -c "for s in NAME SYNOPSIS DESCRIPTION TARGET OPTIONS SIGNALS OUTPUT 'EXIT STATUS' SECURITY FILES EXAMPLES; do grep -qx \"\$s\" '$TMP/page' || exit 1; done"
groff -man -Tascii "$PAGE" 2>/dev/null | col -b >"$TMP/ascii"
expect_eq "... the version it documents is the binary's" \
	"$("$YARASNOOP" --version | awk '{print $2}')" "$(sed -n 's/^\.TH YARASNOOP 8 [^ ]* "yarasnoop \([^"]*\)".*/\1/p' "$PAGE")"

# options_of CMD...: every -x and --long option the usage lists
options_of() {
	"$YARASNOOP" "$@" --help | grep -E '^  +-' | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z-]*' | tr -d ' ,' | sort -u
}
for cmd in live replay stats; do
	args=()
	[[ $cmd != live ]] && args=("$cmd")
	options_of "${args[@]}" >"$TMP/opts.$cmd"
	check "$cmd --help lists options ($(wc -l <"$TMP/opts.$cmd"))" test "$(wc -l <"$TMP/opts.$cmd")" -ge 4
	missing=() readme_missing=()
	while read -r o; do
		grep -qE -- "(^|[^A-Za-z-])$o([^A-Za-z-]|$)" "$TMP/ascii" || missing+=("$o")
		grep -qE -- "(^|[^A-Za-z-])$o([^A-Za-z-]|$)" "$ROOT/README.md" || readme_missing+=("$o")
	done <"$TMP/opts.$cmd"
	expect_eq "every option of '$cmd --help' is in the man page" "" "${missing[*]}"
	expect_eq "every option of '$cmd --help' is in README.md" "" "${readme_missing[*]}"
done
check "the man page names the replay and stats commands" \
	bash -c "grep -q 'yarasnoop replay' '$TMP/ascii' && grep -q 'yarasnoop stats' '$TMP/ascii'"

# make install puts it where man -M finds it
make -s -C "$ROOT" install OUTPUT="${OUTPUT:-build}" PREFIX="$TMP/pfx" >"$TMP/install.out" 2>&1
check "make install PREFIX=...: exit 0" test $? -eq 0
check "... installs share/man/man8/yarasnoop.8, mode 0644" test "$(stat -c %a "$TMP/pfx/share/man/man8/yarasnoop.8" 2>&1)" = 644
MANWIDTH=80 man -M "$TMP/pfx/share/man" 8 yarasnoop >"$TMP/installed" 2>/dev/null
check "... where man -M finds it" grep -q "scan what processes write with YARA rules" "$TMP/installed"
echo "1..$_n"
