#!/usr/bin/env bash
# The systemd unit: installed by `make install` naming the installed
# binary, accepted by `systemd-analyze verify`, sandboxed; and the
# capabilities it leaves yarasnoop (CapabilityBoundingSet) are enough to
# load, attach, capture and answer on the control socket, none of them too
# many for our own check.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/live_lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PFX=$TMP/pfx
UNIT=$PFX/lib/systemd/system/yarasnoop.service

make -s -C "$ROOT" install OUTPUT="${OUTPUT:-build}" PREFIX="$PFX" >"$TMP/install.out" 2>&1
check "make install PREFIX=...: exit 0" test $? -eq 0
check "... installs lib/systemd/system/yarasnoop.service" test -f "$UNIT"
check "... naming the installed binary" grep -qx "ExecStart=$PFX/bin/yarasnoop --format json \$YARASNOOP_ARGS" "$UNIT"
check "... reload is SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$UNIT"
check "... JSON lines to the journal" bash -c "grep -qx 'StandardOutput=journal' '$UNIT' && grep -q -- '--format json' '$UNIT'"
for d in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/run' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'RestrictAddressFamilies=AF_UNIX' 'ProtectKernelModules=yes' 'MemoryDenyWriteExecute=yes' 'SystemCallArchitectures=native'; do
	check "... sandboxed: $d" grep -qx "$d" "$UNIT"
done
if command -v systemd-analyze >/dev/null; then
	MANPATH=$PFX/share/man: systemd-analyze verify "$UNIT" >"$TMP/verify" 2>&1
	rc=$?
	expect_eq "systemd-analyze verify: exit 0" 0 "$rc"
	check "... and nothing to say" test ! -s "$TMP/verify"
	# the verifier does look: a misspelt directive is reported
	sed 's/^ProtectSystem=strict$/ProtectSystem=strictly/' "$UNIT" >"$TMP/bad.service"
	MANPATH=$PFX/share/man: systemd-analyze verify "$TMP/bad.service" >"$TMP/verify.bad" 2>&1
	check "... while a broken copy is reported, by line" grep -q "bad.service:[0-9]*: .*strictly" "$TMP/verify.bad"
else
	skip "systemd-analyze verify (not installed)"
fi

need_root "the unit's capabilities" || { echo "1..$_n"; exit 0; }
# CAP_BPF CAP_PERFMON ... -> +bpf,+perfmon,...
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)
check "the unit bounds the capabilities ($caps)" test -n "$caps"
R=$TMP/svc.yar
echo 'rule svc_mark { strings: $a = "YS_SERVICE_MARK" condition: $a }' >"$R"
svc() {
	setpriv --bounding-set="-all,$1" --inh-caps=-all --ambient-caps=-all -- \
		"$PFX/bin/yarasnoop" --control "$TMP/svc.sock" -q -r "$R" --format json -o "$TMP/svc.ev" "${@:2}"
}
expect_exit "with only the unit's capabilities yarasnoop loads, attaches and runs a command" 0 \
	svc "$caps" -- sh -c 'echo YS_SERVICE_MARK >/dev/null'
jcheck "... and captures and scans" "$TMP/svc.ev" '[e["rule"] for e in M] == ["svc_mark"] and SUMMARY["bytes_dropped"] == 0'
for c in bpf perfmon; do
	fewer=$(tr , '\n' <<<"$caps" | grep -vx "+$c" | paste -sd,)
	expect_exit "without CAP_${c^^}: refused, exit 3 (it is needed)" 3 svc "$fewer" -- true
done
echo "1..$_n"
