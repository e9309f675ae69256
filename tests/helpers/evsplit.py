#!/usr/bin/python3
"""A key split around an eviction: the first half on stdout, then N streams
written by children (PER /dev/null opens each, held open until the end), so
that stdout's stream is the least recently written of all, then the second
half.

    evsplit.py N PER [whole]

With "whole" the whole key comes first and "more\\n" after: the key must be
reported once, not again when the stream goes on after its eviction. With
$EVSPLIT_DIR set the children write files there instead of /dev/null (one
file each stream: for --stream-by file).
"""
import os, resource, sys

n, per = int(sys.argv[1]), int(sys.argv[2])
whole = len(sys.argv) > 3 and sys.argv[3] == "whole"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, per + 64)), hard))

os.write(1, b"AKIAIOSFODNN7EXAMPLE\n" if whole else b"AKIAIOSFODNN")
hold_r, hold_w = os.pipe()
kids = []
for k in range((n + per - 1) // per):
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(hold_w)
        os.close(ready_r)
        d = os.environ.get("EVSPLIT_DIR")
        for i in range(min(per, n - k * per)):
            path = "%s/%d.%d" % (d, k, i) if d else "/dev/null"
            os.write(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), b"x")
        os.close(ready_w)
        os.read(hold_r, 1)
        os._exit(0)
    os.close(ready_w)
    os.read(ready_r, 1)             # its streams are all written
    os.close(ready_r)
    kids.append(pid)
os.write(1, b"more\n" if whole else b"7EXAMPLE\n")
os.close(hold_w)
for p in kids:
    os.waitpid(p, 0)
