#!/usr/bin/python3
"""An interactive shell session under a pseudo-terminal, for the `work`
benchmark: a user typing commands and reading their output.

    pty_session.py ROUNDS [COMMAND [ARG]...]

Starts COMMAND (default: bash --norc --noprofile -i) on a new pty with a
prompt it can recognise (PS1 in the environment), then types ROUNDS rounds of the commands below, each
one after the prompt has come back, reading everything the shell prints, and
last `exit`. Prints the elapsed seconds from the start to the shell's exit
(`elapsed=S`), from its first prompt to its exit (`session=S`: the typing,
without what COMMAND does before the shell prompts, such as a wrapper's
start), and what the terminal received (`bytes=N`); exits with the shell's
status. COMMAND may wrap the shell (`yarasnoop ... -- bash -i`): the
session ends when the last holder of the terminal has gone, the wrapper's
stop included.
"""
import os, pty, select, sys, time

ROUND = [
    "ls -la /usr/bin | head -n 40",
    "grep -c tcp /etc/services",
    "for i in 1 2 3 4 5; do echo \"line $i of the loop\"; done",
    "cat /etc/os-release",
    "ps -e | wc -l",
    "seq 1000 | tail -n 3",
    "env | sort | head -n 5",
    "uname -a; date; id",
    "find /etc -maxdepth 1 -name '*.conf' | head -n 10",
    "echo $((RANDOM % 100)) > /dev/null && echo ok",
]
PROMPT = b"ys-bench-prompt$ "
LIMIT = 600     # seconds a whole session may take


def main():
    rounds = int(sys.argv[1])
    cmd = sys.argv[2:] or ["bash", "--norc", "--noprofile", "-i"]
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PS1"] = PROMPT.decode()
        os.environ["TERM"] = "dumb"
        os.execvp(cmd[0], cmd)
    got = 0
    buf = b""

    def until(marker):
        nonlocal got, buf
        while marker not in buf:
            if time.monotonic() - t0 > LIMIT:
                sys.exit("pty_session: no %r after %d s" % (marker, LIMIT))
            r, _, _ = select.select([fd], [], [], 1.0)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:     # EIO: the shell has gone
                sys.exit("pty_session: the shell ended before %r" % marker)
            got += len(data)
            buf = (buf + data)[-4096:]
        buf = buf[buf.index(marker) + len(marker):]

    # bash --norc takes its prompt from PS1 in the environment (typing it
    # would echo the marker before the prompt itself comes)
    until(PROMPT)
    t1 = time.monotonic()
    for _ in range(rounds):
        for c in ROUND:
            os.write(fd, c.encode() + b"\n")
            until(PROMPT)
    os.write(fd, b"exit\n")
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        got += len(data)
    _, status = os.waitpid(pid, 0)
    t2 = time.monotonic()
    print("elapsed=%.3f session=%.3f bytes=%d" % (t2 - t0, t2 - t1, got))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
