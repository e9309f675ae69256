#!/usr/bin/python3
"""Processes that write one file together, for the --stream-by file tests.
The AWS example key AKIAIOSFODNN7EXAMPLE is written in two halves by two
processes (real programs where it matters: /usr/bin/printf), and each mode
prints the pids of the writers of the halves, first half first, to stdout
(or to the file named by $VIEWS_PIDS when stdout is the file written).

    views.py MODE [ARG...]
"""
import ctypes, os, pty, select, subprocess, sys, time

A, B = b"AKIAIOSFODNN", b"7EXAMPLE\n"
PRINTF = "/usr/bin/printf"


def say_pids(*pids):
    line = " ".join(str(p) for p in pids) + "\n"
    path = os.environ.get("VIEWS_PIDS")
    if path:
        with open(path, "w") as f:
            f.write(line)
    else:
        sys.stdout.write(line)


def drain(master, until_exit=None, marker=None, timeout=30):
    """Reads the pty master until EOF, a marker, or the process exits."""
    got, end = b"", time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                b = os.read(master, 65536)
            except OSError:
                break
            if not b:
                break
            got += b
            if marker and marker in got:
                return got
        elif until_exit and until_exit.poll() is not None:
            break
    return got


def wait_hold(fd):
    """Blocks until the other end of a pipe closes."""
    os.read(fd, 1)


def two_writers(setup, close_in_child=()):
    """Forks two children: child i runs setup(i, half) to get its write,
    the second writes once the first has, and both hold on (their files
    open) until the parent calls the returned release(). Returns (pids,
    release)."""
    gate_r, gate_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pids = []
    for i, half in enumerate((A, B)):
        pid = os.fork()
        if pid == 0:
            for fd in close_in_child:
                os.close(fd)
            write = setup(i, half)
            os.close(hold_w)
            if i == 1:
                os.close(gate_w)
                wait_hold(gate_r)
            write()
            if i == 0:
                os.close(gate_w)
            wait_hold(hold_r)
            os._exit(0)
        pids.append(pid)
    os.close(gate_w)

    def release():
        os.close(hold_w)
        for p in pids:
            os.waitpid(p, 0)
    return pids, release


mode, args = sys.argv[1], sys.argv[2:]

if mode == "pty_seq":
    # two commands, one after the other, write the halves to one terminal
    # that only their parent (which never writes to it) holds open
    master, slave = pty.openpty()
    pids = []
    for half in (A, B):
        p = subprocess.Popen([PRINTF, half.decode().replace("\n", "\\n")], stdout=slave)
        p.wait()
        pids.append(p.pid)
    os.close(slave)
    got = drain(master)
    assert b"AKIAIOSFODNN7EXAMPLE" in got.replace(b"\r", b""), got
    say_pids(*pids)

elif mode == "pty_both":
    # two processes hold the terminal, each writes a half, in order
    master, slave = pty.openpty()
    pids, release = two_writers(lambda i, half: lambda: os.write(slave, half), (master,))
    os.close(slave)
    got = drain(master, marker=b"EXAMPLE")
    release()
    say_pids(*pids)

elif mode == "append_seq":
    # two commands append the halves to one log, one after the other
    pids = []
    for half in (A, B):
        with open(args[0], "ab") as f:
            p = subprocess.Popen([PRINTF, half.decode().replace("\n", "\\n")], stdout=f)
            p.wait()
        pids.append(p.pid)
    say_pids(*pids)

elif mode == "append_both":
    # two processes with their own opens of one log, both open throughout
    os.close(os.open(args[0], os.O_WRONLY | os.O_CREAT, 0o600))

    def append(i, half):
        f = os.open(args[0], os.O_WRONLY | os.O_APPEND)
        return lambda: os.write(f, half)
    pids, release = two_writers(append)
    # the second has written once the file holds both halves
    for _ in range(3000):
        if os.path.getsize(args[0]) >= len(A) + len(B):
            break
        time.sleep(0.01)
    release()
    say_pids(*pids)

elif mode == "pwrite_two":
    # two processes, their own opens: the second half at 12 first, then
    # the first at 0 (exact positions: the view puts them in file order)
    pids = []
    for half, pos in ((B, len(A)), (A, 0)):
        pid = os.fork()
        if pid == 0:
            f = os.open(args[0], os.O_WRONLY | os.O_CREAT, 0o600)
            os.pwrite(f, half, pos)
            os._exit(0)
        os.waitpid(pid, 0)
        pids.append(pid)
    say_pids(pids[1], pids[0])

elif mode == "pipe_both":
    # two writers of one pipe, both holding it, halves in order; a reader
    r, w = os.pipe()
    pids, release = two_writers(lambda i, half: lambda: os.write(w, half), (r,))
    os.close(w)
    got = b""
    while b"EXAMPLE" not in got:
        got += os.read(r, 4096)
    release()
    assert os.read(r, 4096) == b""
    say_pids(*pids)

elif mode == "forged":
    # a writer whose name holds a newline writes the first half to a pipe
    # it shares with the second's writer
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None)
        libc.prctl(15, b"evil\nmatch x", 0, 0, 0)   # PR_SET_NAME
        os.write(w, A)
        os._exit(0)
    os.waitpid(pid, 0)
    os.write(w, B)
    os.close(w)
    os.read(r, 4096)

elif mode == "bash":
    # an interactive bash under a terminal, with a prompt hook; each line
    # of the script file (arg 0) is typed at its prompt
    lines = open(args[0]).read().splitlines()
    env = dict(os.environ, PS1="PROMPT> ", HISTFILE="/dev/null", TERM="dumb",
               PROMPT_COMMAND='printf "\\033]0;%s\\007" "${PWD##*/}"')
    pid, master = pty.fork()
    if pid == 0:
        os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], env)
    out = drain(master, marker=b"PROMPT> ")
    for line in lines:
        os.write(master, line.encode() + b"\n")
        out += drain(master, marker=b"PROMPT> ")
    os.write(master, b"exit\n")
    out += drain(master)
    os.waitpid(pid, 0)
    # the transcript is not printed: this process is traced too
    assert out.count(b"PROMPT> ") == len(lines) + 1, out

else:
    sys.exit("unknown mode " + mode)
