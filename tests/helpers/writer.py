#!/usr/bin/python3
"""Writes in the ways the live tests need: one mode per call."""
import ctypes, os, sys, time

def w(fd, b):
    while b:
        b = b[os.write(fd, b):]

mode = sys.argv[1]
if mode == "split":
    # one key in two writes, far enough apart to be two scans
    w(1, b"prefix YS_SPLIT_KEY_01234")
    time.sleep(0.15)
    w(1, b"56789 suffix\n")
elif mode == "writev":
    os.writev(1, [b"YS_WRI", b"TEV_MA", b"RKER\n"])
elif mode == "pwrite":
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.pwrite(fd, b"YS_PWRITE_MARKER\n", 4096)
    os.pwritev(fd, [b"YS_PWRITEV", b"_MARKER\n"], 0)
    os.pwritev(fd, [b"YS_PWRITEV", b"_MARKER\n"], 100, os.RWF_SYNC)  # pwritev2
    os.close(fd)
elif mode == "fdreuse":
    a = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(a, b"first file YS_MARK\n")
    os.close(a)
    b = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    assert a == b
    w(b, b"second file YS_MARK\n")
    c = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND)
    os.dup2(c, b)              # dup2 onto the fd: a third stream on it
    w(b, b"third YS_MARK\n")
    print(b, flush=True)
elif mode == "comm":
    # a name that tries to forge events: quote, newline, JSON
    libc = ctypes.CDLL(None)
    libc.prctl(15, ctypes.c_char_p(b'x"}\n{"type":"'), 0, 0, 0)  # PR_SET_NAME
    w(1, b"YS_MARK with a forged comm\n")
elif mode == "flood":
    # fill the ring, then a marker after it
    chunk = b"\0" * 65536
    fd = os.open("/dev/null", os.O_WRONLY)
    for _ in range(int(sys.argv[2])):
        w(fd, chunk)
    w(1, b"YS_AFTER_FLOOD\n")
elif mode == "big":
    w(1, b"x" * int(sys.argv[2]))
elif mode == "sleepmark":
    time.sleep(float(sys.argv[2]))
    w(1, b"YS_MARK after sleeping\n")
elif mode == "huge":
    # one write of N bytes in one call, from memory that is mostly zero
    fd = os.open("/dev/null", os.O_WRONLY)
    buf = bytearray(int(sys.argv[2]))
    buf[100:107] = b"YS_MARK"
    n = os.write(fd, buf)
    assert n == len(buf), n
elif mode == "iovecs":
    # 1024 iovecs, a marker cut across every boundary between them
    blob = (b"." * 32 + b"YS_WRITEV_MARKER") * 1024
    # cut 20 bytes off the 48-byte pattern: every marker straddles two iovecs
    vec = [blob[:20]] + [blob[20 + 48 * i:20 + 48 * (i + 1)] for i in range(1022)] + [blob[20 + 48 * 1022:]]
    assert len(vec) == 1024 and sum(map(len, vec)) == len(blob)
    n = os.writev(1, vec)
    assert n == sum(map(len, vec)), n
    print(n, file=sys.stderr)
elif mode == "nuls":
    w(1, b"\0" * 5000 + b"YS_MA" + b"\0" * 0)
    w(1, b"RK" + b"\0" * 5000 + b"\xff\xfe" * 1000)
elif mode == "bytewise":
    text = b"a" * int(sys.argv[2]) + b" YS_MARK " + b"b" * 100
    for i in range(len(text)):
        os.write(1, text[i:i + 1])
elif mode == "holdopen":
    # after a pause (to be attached to), write on fd 1 and keep it open
    time.sleep(float(sys.argv[2]))
    w(1, b"YS_MARK before the end\n")
    time.sleep(float(sys.argv[3]))
else:
    sys.exit("unknown mode " + mode)
