#!/usr/bin/python3
"""Bulk writers for the fail-closed tests.

  bulk.py big N AT [GO]  N writes of 1 MiB to /dev/null, a key in write AT
                         (-1: none); with GO, then, after a pause, 5 bytes
                         more (so that a gap before them shows) and a wait
                         (at most 900 s: a slow kernel's test may take
                         minutes to say go) for the file GO to exist, the
                         fd still open
  bulk.py burst N AT BS  N MiB to /dev/null in writes of BS bytes, a key in
                         MiB AT: a burst as a program writes a file (Python's
                         test_shutil writes 10 MiB in 8 KiB writes, twice)
  bulk.py files DIR N K  N files of K KiB in DIR, each starting with a key
  bulk.py open DIR N [GO] N files in DIR held open: half a key to the first,
                         a write to every other file, the other half to the
                         first; with GO, waits until the file GO exists
                         (at most 900 s) before closing them
  bulk.py rounds DIR N R [GO] N files in DIR held open, R rounds of a line
                         to each in turn, then a line more to the first 5;
                         with GO, waits for it as open does
"""
import os, sys

KEY = b"AKIAIOSFODNN7EXAMPLE"

def w(fd, b):
    while b:
        b = b[os.write(fd, b):]

def wait_for(path):
    import time
    t = time.time()
    while not os.path.exists(path) and time.time() - t < 900:
        time.sleep(0.05)

def mebibytes(n, at, bs):
    """n MiB of x to /dev/null in writes of bs bytes, a key in MiB at"""
    blk = b"x" * (1 << 20)
    keyed = blk[:1000] + b" " + KEY + b" " + blk[1002 + len(KEY):]
    fd = os.open("/dev/null", os.O_WRONLY)
    for i in range(n):
        b = keyed if i == at else blk
        for o in range(0, len(b), bs):
            w(fd, b[o:o + bs])
    return fd

mode = sys.argv[1]
if mode == "burst":
    mebibytes(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
elif mode == "big":
    fd = mebibytes(int(sys.argv[2]), int(sys.argv[3]), 1 << 20)
    if len(sys.argv) > 4:
        import time
        time.sleep(0.3)
        w(fd, b"tail\n")
        wait_for(sys.argv[4])
elif mode == "files":
    d, n, k = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    body = b" " + KEY + b" \n" + b"y" * (k * 1024 - len(KEY) - 3)
    for i in range(n):
        fd = os.open(os.path.join(d, "f%d" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        w(fd, body)
        os.close(fd)
elif mode == "rounds":
    d, n, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    fds = [os.open(os.path.join(d, "r%d" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
           for i in range(n)]
    for r in range(rounds):
        for fd in fds:
            w(fd, b"round %d\n" % r)
    for fd in fds[:5]:
        w(fd, b"tail\n")
    if len(sys.argv) > 5:
        wait_for(sys.argv[5])
    for fd in fds:
        os.close(fd)
elif mode == "open":
    d, n = sys.argv[2], int(sys.argv[3])
    fds = [os.open(os.path.join(d, "o%d" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
           for i in range(n)]
    w(fds[0], b"id " + KEY[:10])
    for fd in fds[1:]:
        w(fd, b"other\n")
    w(fds[0], KEY[10:] + b" end\n")
    if len(sys.argv) > 4:
        wait_for(sys.argv[4])
    for fd in fds:
        os.close(fd)
