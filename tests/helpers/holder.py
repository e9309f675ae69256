#!/usr/bin/python3
"""A long-lived process that opens, writes and closes files on command, for
the stats, control and limits tests.

    holder.py FIFO ACKDIR

Reads one command a line from FIFO; after command number K (from 1) it
creates the empty file ACKDIR/K. It never writes anything but what it is
told to, so the only streams it has are the files it was told to write to
(the ack is an open(O_CREAT) without a write: no stream).

    open N PREFIX    open N more files PREFIX0, PREFIX1, ... (truncated)
    write I TEXT     write TEXT to the I-th open file (\\n in TEXT: newline)
    writeall TEXT    write TEXT to every open file
    big I N          write N bytes of 'x' to the I-th open file, in one write
    closeall         close every open file
    exit             exit 0 (acked first)
"""
import os, sys

fifo, ackdir = sys.argv[1], sys.argv[2]
files = []
# O_RDWR: the fifo never reads end-of-file between the test's writes
fd = os.open(fifo, os.O_RDWR)
buf = b""
seq = 0


def w(f, b):
    while b:
        b = b[os.write(f, b):]


def text(s):
    return s.replace("\\n", "\n").encode()


while True:
    while b"\n" not in buf:
        chunk = os.read(fd, 4096)
        if not chunk:
            sys.exit(0)
        buf += chunk
    line, buf = buf.split(b"\n", 1)
    cmd, _, rest = line.decode().partition(" ")
    if cmd == "open":
        n, prefix = rest.split(" ", 1)
        base = len(files)
        for i in range(int(n)):
            files.append(os.open(prefix + str(base + i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    elif cmd == "write":
        i, _, t = rest.partition(" ")
        w(files[int(i)], text(t))
    elif cmd == "writeall":
        for f in files:
            w(f, text(rest))
    elif cmd == "big":
        i, n = rest.split()
        w(files[int(i)], b"x" * int(n))
    elif cmd == "closeall":
        for f in files:
            os.close(f)
        files = []
    elif cmd != "exit":
        sys.exit("holder: unknown command " + cmd)
    seq += 1
    os.close(os.open(os.path.join(ackdir, str(seq)), os.O_WRONLY | os.O_CREAT, 0o600))
    if cmd == "exit":
        sys.exit(0)
