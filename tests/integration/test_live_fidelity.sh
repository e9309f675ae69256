#!/usr/bin/env bash
# Detection fidelity, live, with real BPF and real processes (as root):
# every occurrence of a rule in a stream, numbered, capped by --max-matches;
# rules a later byte can make false, decided when the stream ends; stream
# externals (filename, filepath, extension, filetype) from what the
# process writes to; -d.
. "$(dirname "$0")/../lib.sh"
need_root "live fidelity" || { echo "1..$_n"; exit 0; }
EV=$TMP/ev
R=$TMP/occ.yar
cat >"$R" <<'EOF'
rule key { strings: $k = /YSKEY_[A-Z]{6}/ condition: $k }
rule never_x { strings: $x = "YS_NEVER_X" condition: not $x }
rule small { strings: $s = "YSKEY_" condition: filesize < 200 and $s }
EOF
YS=("$YARASNOOP" --no-control -r "$R" --format json -o "$EV")

# three keys in one stream, the third after the first two were scanned
expect_exit "three keys, one stream" 0 "${YS[@]}" -- sh -c \
	'printf "a YSKEY_AAAAAA b\n"; sleep 0.3; printf "c YSKEY_BBBBBB d\n"; sleep 0.3; printf "e YSKEY_CCCCCC\n"'
cp "$EV" "$TMP/three"
jcheck "each key is reported, numbered 1, 2, 3, at its own offset" "$TMP/three" \
	'[(e["rule"], e["occurrence"], e["offset"]) for e in M if e["rule"] == "key"] == [("key", 1, 2), ("key", 2, 19), ("key", 3, 36)]'
jcheck "a rule a later byte can make false is reported once the stream ends, not before" "$TMP/three" \
	'[e["rule"] for e in M][-1] in ("never_x", "small") and {e["rule"] for e in M} == {"key", "never_x", "small"} and all(e["occurrence"] == 1 for e in M if e["rule"] != "key")'
jcheck "stream_end counts the occurrences, nothing suppressed or undecided, kept whole" "$TMP/three" \
	'[(o["rule"], o["count"]) for e in ENDS if e["fd"] == 1 for o in e["occurrences"] if o["rule"] == "key"] == [("key", 3)] and all(e["matches_suppressed"] == 0 and e["rules_undecided"] == 0 and e["exact"] == "whole" for e in ENDS if e["fd"] == 1)'

expect_exit "--max-matches 2" 0 "${YS[@]}" --max-matches 2 -- sh -c \
	'printf "a YSKEY_AAAAAA b\n"; sleep 0.3; printf "c YSKEY_BBBBBB d\n"; sleep 0.3; printf "e YSKEY_CCCCCC\n"'
jcheck "--max-matches 2: two events, the third counted as suppressed" "$EV" \
	'[e["occurrence"] for e in M if e["rule"] == "key"] == [1, 2] and [e["matches_suppressed"] for e in ENDS if e["fd"] == 1] == [1] and [o["count"] for e in ENDS if e["fd"] == 1 for o in e["occurrences"] if o["rule"] == "key"] == [3]'

# past --exact-size a stream's end cannot decide "not $x" if x may have
# been anywhere: counted undecided, never reported
# (the pauses let it be scanned, so that the end no longer holds the x)
expect_exit "a stream past --exact-size" 0 "${YS[@]}" --exact-size 1K -- sh -c \
	'printf "YS_NEVER_X\n"; sleep 0.3; i=0; while [ $i -lt 100 ]; do printf "%050d\n" $i; i=$((i + 1)); done; sleep 0.3; echo end'
jcheck "past --exact-size: not \$x is not reported, and counted undecided" "$EV" \
	'not any(e["rule"] == "never_x" for e in M) and [(e["exact"], e["rules_undecided"] >= 1) for e in ENDS if e["fd"] == 1] == [("size", True)]'

# a gate fails closed: an undecided rule is an incomplete scan
cat >"$TMP/gate.yar" <<'EOF2'
rule never_x { strings: $x = "YS_NEVER_X" condition: not $x }
EOF2
expect_exit "--fail-on-match, a rule left undecided past --exact-size: exit 5" 5 \
	"$YARASNOOP" --no-control -r "$TMP/gate.yar" --fail-on-match --exact-size 1K --format json -o "$EV" -- sh -c \
	'printf "YS_NEVER_X\n"; sleep 0.3; i=0; while [ $i -lt 100 ]; do printf "%050d\n" $i; i=$((i + 1)); done; sleep 0.3; echo end'
check "... saying so" grep -q "incomplete scan: .*rules undecided" "$TMP/err"
jcheck "the summary counts it" "$EV" 'SUMMARY["rules_undecided"] == 1 and not SUMMARY["complete"]'
expect_exit "kept whole, the same stream is decided: exit 0" 0 \
	"$YARASNOOP" --no-control -r "$TMP/gate.yar" --fail-on-match --format json -o "$EV" -- sh -c \
	'printf "YS_NEVER_X\n"; sleep 0.3; i=0; while [ $i -lt 100 ]; do printf "%050d\n" $i; i=$((i + 1)); done; sleep 0.3; echo end'

# stream externals from the file written; -d over them
SB=$TESTDATA/rules/signature-base
mkdir -p "$TMP/etc"
expect_exit "writing a sudoers file" 0 "$YARASNOOP" --no-control -r "$SB" --format json -o "$EV" -- sh -c \
	"printf 'alice ALL=(ALL) NOPASSWD: /usr/bin/vim \n' > '$TMP/etc/sudoers'; printf 'alice ALL=(ALL) NOPASSWD: /usr/bin/vim \n' > '$TMP/etc/other'"
jcheck "filename and filepath come from the file written: sudoers matches, other does not" "$EV" \
	"[(e['rule'], e['stream']['path']) for e in M] == [('VULN_Linux_Sudoers_Commands', '$TMP/etc/sudoers')]"
expect_exit "the same with -d filename=passwd" 0 "$YARASNOOP" --no-control -r "$SB" -d filename=passwd --format json -o "$EV" -- sh -c \
	"printf 'alice ALL=(ALL) NOPASSWD: /usr/bin/vim \n' > '$TMP/etc/sudoers'"
jcheck "-d filename=passwd: no match" "$EV" 'M == []'
cat >"$TMP/kind.yar" <<'EOF'
rule on_pipe { strings: $m = "YS_KIND_MARK" condition: $m and filetype == "pipe" }
rule on_file { strings: $m = "YS_KIND_MARK" condition: $m and filetype == "regular" and extension == ".txt" }
EOF
expect_exit "a pipe and a .TXT file" 0 "$YARASNOOP" --no-control -r "$TMP/kind.yar" --format json -o "$EV" -- sh -c \
	"echo YS_KIND_MARK | cat >/dev/null; echo YS_KIND_MARK > '$TMP/f.TXT'"
jcheck "filetype and extension: the pipe is a pipe, the file regular with extension .txt" "$EV" \
	"sorted((e['rule'], e['stream']['path'].startswith('pipe:')) for e in M) == [('on_file', False), ('on_pipe', True)]"

echo "1..$_n"
