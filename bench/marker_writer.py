#!/usr/bin/env python3
"""Writes a line the bundled rules match, once per interval, for the latency
benchmark.

    marker_writer.py DIR COUNT INTERVAL_S TIMES_FILE

Marker i goes to a new file DIR/marker-NNN, so each is a new stream
(yarasnoop reports a rule once per stream). The file stays open for the
whole interval: a close would make yarasnoop scan at once, and what we want
is the delay of an ordinary write to a stream that stays open. CLOCK_REALTIME
just before each write goes to TIMES_FILE as "i ns" lines, written at the
end so that it does not interleave with the markers.
"""
import os
import sys
import time

d, n, interval, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
line = b"deploy: export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
times = []
for i in range(n):
    fd = os.open("%s/marker-%03d" % (d, i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t = time.clock_gettime_ns(time.CLOCK_REALTIME)
    os.write(fd, line)
    times.append("%d %d\n" % (i, t))
    time.sleep(interval)
    os.close(fd)
with open(out, "w") as f:
    f.writelines(times)
