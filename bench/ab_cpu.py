#!/usr/bin/python3
"""yarasnoop's own CPU time for a traced dd, two builds side by side.

    bench/ab_cpu.py BIN_A BIN_B [REPS]

Runs `BIN -- dd if=/dev/zero of=OF bs=BS count=N` with the bundled rules for
each case below, alternating A and B REPS times (default 5), and prints the
medians of the CPU time (user + sys) of yarasnoop and its dd together
(getrusage of the children: every thread of yarasnoop, and dd, whose share
is the same on both sides) and their ratio B / A. For a change's cost:
    git archive main | tar -x -C /tmp/main && make -C /tmp/main
    bench/ab_cpu.py /tmp/main/build/yarasnoop build/yarasnoop
"""
import os, resource, statistics, subprocess, sys, tempfile

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules")


def cpu_of(binary, of, bs, count):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "--no-control", "-r", RULES, "--format", "json", "-o", "/dev/null", "--",
                    "dd", "if=/dev/zero", "of=" + of, "bs=%d" % bs, "count=%d" % count],
                   stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    a, b = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "out")
        for of, bs, count in (("/dev/null", 64, 300000), (f, 4096, 50000), (f, 64, 300000)):
            ta, tb = [], []
            for _ in range(reps):
                ta.append(cpu_of(a, of, bs, count))
                tb.append(cpu_of(b, of, bs, count))
            ma, mb = statistics.median(ta), statistics.median(tb)
            print("dd of=%s bs=%d count=%d: A %.3f s, B %.3f s (medians of %d; spread A %.2f-%.2f, "
                  "B %.2f-%.2f), B/A %.2f" % ("FILE" if of == f else of, bs, count, ma, mb, reps,
                                               min(ta), max(ta), min(tb), max(tb), mb / ma))


main()
