#!/usr/bin/env bash
# make soak: yarasnoop under churn and floods for SOAK_SECONDS (default 120),
# traced with -- COMMAND. Reports lost bytes, memory over time (sampled
# through the control socket) and any error; fails only on a broken
# invariant (accounting, a crash, a leak of kernel map entries), never on
# speed.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
YS=$PWD/$OUTPUT/yarasnoop
SECS=${SOAK_SECONDS:-120}
SAMPLE=${SOAK_SAMPLE_SECONDS:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root" >&2; exit 2; }

# the workload: churn of short processes, 64 KiB floods, a 1-byte writer,
# and a marker every few seconds that must be found each time
cat >"$T/load.sh" <<'LOAD'
#!/bin/sh
end=$(( $(date +%s) + $1 ))
( while [ "$(date +%s)" -lt "$end" ]; do for i in 1 2 3 4 5 6 7 8 9 10; do /bin/echo "churn $i" >/dev/null; done; done ) &
( while [ "$(date +%s)" -lt "$end" ]; do dd if=/dev/zero of=/dev/null bs=64K count=2000 status=none; sleep 1; done ) &
( while [ "$(date +%s)" -lt "$end" ]; do printf 'a'; done >/dev/null ) &
( n=0; while [ "$(date +%s)" -lt "$end" ]; do n=$((n + 1)); sh -c "echo AKIAIOSFODNN7EXAMPLE $n" >/dev/null; sleep 3; done; echo "$n" >"$2/markers" ) &
wait
LOAD
chmod +x "$T/load.sh"

"$YS" --format json -o "$T/ev" --control "$T/sock" -- "$T/load.sh" "$SECS" "$T" 2>"$T/err" &
ys=$!
printf '%8s %14s %14s %8s %8s %8s\n' "seconds" "stream_bytes" "rss_bytes" "streams" "k.strms" "k.procs"
start=$(date +%s)
while kill -0 "$ys" 2>/dev/null; do
	sleep "$SAMPLE"
	"$YS" stats --control "$T/sock" --format json >"$T/stats" 2>/dev/null || continue
	python3 - "$T/stats" "$(( $(date +%s) - start ))" >>"$T/samples" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernel_maps"]
print("%8s %14d %14d %8d %8d %8d" % (sys.argv[2], d["total_memory_bytes"], d["process"]["rss_bytes"],
                                    len(d["streams"]), k["streams"], k["procs"]))
PY
	tail -n 1 "$T/samples"
done
wait "$ys"
rc=$?
python3 - "$T/ev" "$T/samples" "$rc" "$T/err" "$(cat "$T/markers" 2>/dev/null || echo 0)" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rc, markers = int(sys.argv[3]), int(sys.argv[5])
summ = next(e for e in ev if e["type"] == "summary")
ends = [e for e in ev if e["type"] == "stream_end"]
found = sum(1 for e in ev if e["type"] == "match" and e["rule"] == "aws_access_key_id")
samples = [l.split() for l in open(sys.argv[2])]
problems = []
if rc != 0:
    problems.append("yarasnoop exited %d" % rc)
if any(e["bytes_scanned"] + e["bytes_dropped"] + e["bytes_truncated"] != e["bytes_written"] for e in ends):
    problems.append("a stream's bytes do not add up")
if summ["bytes_written"] != summ["kernel"]["bytes_written"]:
    problems.append("written %d != kernel's %d" % (summ["bytes_written"], summ["kernel"]["bytes_written"]))
if len(ends) != summ["streams"]:
    problems.append("%d stream_end events for %d streams" % (len(ends), summ["streams"]))
if found < markers:
    problems.append("%d of %d markers found" % (found, markers))
err = open(sys.argv[4]).read().strip().splitlines()
print("streams %d, bytes written %d, scanned %d, dropped %d (%.3f%%), truncated %d" % (
    summ["streams"], summ["bytes_written"], summ["bytes_scanned"], summ["bytes_dropped"],
    100.0 * summ["bytes_dropped"] / max(1, summ["bytes_written"]), summ["bytes_truncated"]))
print("markers found %d of %d; kernel: missed runs %d, control records dropped %d" % (
    found, markers, summ["kernel"]["missed_runs"], summ["kernel"]["control_records_dropped"]))
if samples:
    print("stream memory first %s last %s bytes; rss first %s last %s bytes" % (
        samples[0][1], samples[-1][1], samples[0][2], samples[-1][2]))
print("stderr:", *(["  " + l for l in err] or ["  (nothing)"]), sep="\n")
print("PROBLEMS: " + "; ".join(problems) if problems else "no problem found")
sys.exit(1 if problems else 0)
PY
