#!/usr/bin/python3
"""What a process does with its fds, for the stream identity and file order
tests: one mode per call. The AWS example key AKIAIOSFODNN7EXAMPLE is
written in two halves, on different fds of one file, unless said otherwise.

    streams.py MODE [ARG...]
"""
import ctypes, fcntl, os, pty, resource, subprocess, sys, threading

A, B = b"AKIAIOSFODNN", b"7EXAMPLE\n"
LOOP = "i=0; while [ $i -lt 40 ]; do echo line; echo err >&2; i=$((i+1)); done"
libc = ctypes.CDLL(None, use_errno=True)


def w(fd, b):
    while b:
        b = b[os.write(fd, b):]


def close_range(lo, hi):
    # the syscall itself, whatever the libc
    if libc.syscall(436, ctypes.c_uint(lo), ctypes.c_uint(hi), ctypes.c_uint(0)):
        raise OSError(ctypes.get_errno(), "close_range")


mode, args = sys.argv[1], sys.argv[2:]
# fd 4000 needs more than the usual soft limit of 1024 open files (a login
# session's, or a VM's pid 1's): as many as the hard limit allows
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if mode == "dash_pipes":
    # stdout and stderr on two pipes: two streams
    r = subprocess.run(["dash", "-c", LOOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.stdout == b"line\n" * 40 and r.stderr == b"err\n" * 40, r
    print(r.returncode)
elif mode == "dash_pty":
    # stdout and stderr on one terminal opened once: one stream
    master, slave = pty.openpty()
    p = subprocess.Popen(["dash", "-c", LOOP], stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    got = b""
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        got += b
    p.wait()
    assert got.count(b"line") == 40 and got.count(b"err") == 40, got
elif mode == "dupfd":
    # the second half through an fd made by F_DUPFD
    w(1, A)
    n = fcntl.fcntl(1, fcntl.F_DUPFD, 10)
    w(n, B)
elif mode == "dup2back":
    # dup2 away to /dev/null and back, as a shell's redirection does
    saved = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
    w(1, A)
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    w(1, b"to /dev/null\n")
    os.dup2(saved, 1)
    os.close(saved)
    w(1, B)
elif mode == "fd4000":
    # a file on fds 3, 2000 and 4000: closing two of them keeps its stream
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(f, 2000)
    os.dup2(f, 4000)
    w(f, A)
    os.close(f)
    os.close(2000)
    w(4000, B)
    os.close(4000)                      # the last fd: the stream ends here
    w(1, b"after\n")
elif mode == "closerange":
    # close_range over fds holding two files, one also held outside it
    x = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    y = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(x, 4000)
    w(x, A)
    w(y, b"y file\n")
    close_range(x, y)                   # y's stream ends, x's goes on at 4000
    w(4000, B)
elif mode == "cloexec":
    # at exec, the O_CLOEXEC file's stream ends, the other's goes on
    c = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    k = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.set_inheritable(k, True)
    w(c, b"closed on exec\n")
    w(k, A)
    os.execv("/bin/sh", ["sh", "-c", 'printf 7EXAMPLE >&%d' % k])
elif mode == "reuse_fd":
    # an fd number reused for another file: another stream
    a = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(a, A)
    os.close(a)
    b = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    assert a == b
    w(b, B)
elif mode == "pwrite_rev":
    # the second half first, then the first: positions say the order
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.pwrite(f, B, len(A))
    os.pwrite(f, A, 0)
    os.pwritev(f, [b"tail", b"-v\n"], len(A) + len(B))
elif mode == "seek":
    # write, seek back, overwrite, append: f_pos before each write
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(f, b"0123456789")
    os.lseek(f, 2, os.SEEK_SET)
    w(f, b"ab")
    os.lseek(f, 0, os.SEEK_END)
    os.writev(f, [b"xy", b"z"])
    os.pwritev(f, [b"-1"], -1, os.RWF_SYNC)  # pwritev2 at offset -1: at f_pos
elif mode == "append":
    # O_APPEND: each write lands at the end, wherever f_pos was
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(f, b"x" * 100)
    g = os.open(args[0], os.O_WRONLY | os.O_APPEND)
    w(g, b"tail1\n")
    w(f, b"y" * 10)                     # another open file: f_pos 110, not the end
    w(g, b"tail2\n")
elif mode == "threads":
    # two threads writing through one fd: positions flagged uncertain
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(f, b"alone\n")
    go = threading.Barrier(2)
    def run(tag):
        go.wait()
        for _ in range(200):
            w(f, tag * 16)
    ts = [threading.Thread(target=run, args=(t,)) for t in (b"a", b"b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
elif mode == "forkshare":
    # parent and child share one struct file: positions flagged uncertain
    # (both writes while both hold it: the child writes, then waits for
    # the parent's write before it exits)
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    w(f, b"before fork\n")
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        w(f, b"child\n")
        os.write(ready_w, b"r")
        os.read(go_r, 1)
        os._exit(0)
    os.read(ready_r, 1)
    w(f, b"parent\n")
    os.write(go_w, b"g")
    os.waitpid(pid, 0)
elif mode == "shareend":
    # the child's file held by its parent too (uncertain, and again: the
    # answer kept while the count stays), then by the child alone (exact),
    # then on two fds of the child's (exact, the count up again)
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        w(f, b"one\n")
        w(f, b"two\n")
        os.write(ready_w, b"r")
        os.read(go_r, 1)
        w(f, b"three\n")
        g = os.dup(f)
        w(g, b"four\n")
        os._exit(0)
    os.read(ready_r, 1)
    os.close(f)
    os.write(go_w, b"g")
    os.waitpid(pid, 0)
elif mode == "dupshare":
    # one process, the file on two fds: positions exact
    f = os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    g = os.dup(f)
    w(f, b"one\n")
    w(g, b"two\n")
else:
    sys.exit("unknown mode " + mode)
