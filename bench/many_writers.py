#!/usr/bin/env python3
"""Many streams writing slowly at once, for the live rule-set benchmark.

    many_writers.py DIR STREAMS BYTES_PER_SECOND SECONDS [DELAY [MARK_AT]]

Opens STREAMS files in DIR, waits DELAY seconds (default 1: time for a
tracer to attach), then for SECONDS writes to every file, ten times a
second, a line of log text so that each gets BYTES_PER_SECOND bytes a
second. MARK_AT seconds in (default: half way) one line of stream 0 is
YS_LATENCY_MARK_<16 hex digits>, for a rule to catch. At the end prints one
line: lines and bytes written, the CPU this process used itself, and when
(CLOCK_REALTIME, ns) the mark was written."""
import os
import random
import resource
import sys
import time

d, n, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
delay = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
mark_at = float(sys.argv[6]) if len(sys.argv) > 6 else secs / 2
marked = 0
rng = random.Random(3)
fds = [os.open(os.path.join(d, f"s{i}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) for i in range(n)]
per = max(1, rate // 10)
words = b"GET POST /api/v1/items status=200 user=alice cache miss retry upstream INFO WARN".split()
time.sleep(delay)
t0 = time.monotonic()
tick, lines, total = 0, 0, 0
while True:
    now = time.monotonic()
    if now - t0 >= secs:
        break
    for k, fd in enumerate(fds):
        line = b" ".join(rng.choice(words) for _ in range(12))
        line = (line * (per // len(line) + 1))[:per - 1] + b"\n"
        if k == 0 and not marked and now - t0 >= mark_at:
            line = b"YS_LATENCY_MARK_%016x\n" % rng.getrandbits(64)
            marked = time.time_ns()
        total += os.write(fd, line)
        lines += 1
    tick += 1
    wait = t0 + tick * 0.1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
for fd in fds:
    os.close(fd)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(f"lines={lines} bytes={total} seconds={time.monotonic() - t0:.2f} "
      f"cpu_s={ru.ru_utime + ru.ru_stime:.2f} mark_ns={marked}")
