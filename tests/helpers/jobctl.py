#!/usr/bin/python3
"""An interactive bash (job control on) under a pty, run by yarasnoop.

  jobctl.py LINE YARASNOOP ARGS...   runs YARASNOOP ARGS... -- bash --norc -i
                                     in a pty, stops yarasnoop (SIGSTOP),
                                     types LINE, continues yarasnoop after
                                     1.5 s, then types exit; prints what the
                                     terminal showed and yarasnoop's status
"""
import os, pty, select, signal, sys, time

line, argv = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv + ["--", "/bin/bash", "--norc", "-i"])
out = b""

def read_for(t):
    global out
    end = time.time() + t
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return

read_for(2)
os.kill(pid, signal.SIGSTOP)
os.write(fd, line + b"\n")
read_for(1.5)
os.kill(pid, signal.SIGCONT)
read_for(10)
os.write(fd, b"exit\n")
read_for(3)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nstatus", os.waitstatus_to_exitcode(status))
