#!/usr/bin/python3
"""Steps of a traced process for the process-context and filter tests, one
per argument, run in order:

  w:TEXT          write TEXT to fd 1
  wf:PATH:TEXT    open PATH (create, append), write TEXT, close
  open:PATH       open PATH (create, append) and keep it: wfd writes there
  wfd:TEXT        write TEXT to the file of the last open
  info:FILE       write who this process is, as it sees itself, to FILE (JSON)
  setuid:N        setgroups([]), setgid(N), setuid(N): every id, no exec
  seteuid:N       the effective uid only (back with seteuid:0)
  rename:NAME     prctl(PR_SET_NAME): the name the kernel keeps (comm)
  chroot:DIR      chroot(DIR) and chdir("/")
  fork            the rest runs in a child; the parent waits for it
  daemon          the rest runs in a grandchild in its own session; the
                  parent returns at once (a daemon's double fork)
  wait:FIFO       read a line from FIFO (the test says go)
  touch:FILE      create FILE (tells the test a step was reached)
  threads:N:TEXT  write TEXT, setuid(65534), then N writes of TEXT from
                  each of two threads, alternately
  files:N:DIR     write a line to each of N new files in DIR, keeping all open
  sleep:SEC
  exec ARGV...    exec the remaining arguments (the last step)
  n:ANYTHING      nothing (an argument to put in the command line)
"""
import ctypes, json, os, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)
keep = []


def w(fd, b):
    while b:
        b = b[os.write(fd, b):]


def info(path):
    cg = ""
    for line in open("/proc/self/cgroup"):
        if line.startswith("0::"):
            cg = line[3:].rstrip("\n")
    try:
        login = int(open("/proc/self/loginuid").read())
        session = int(open("/proc/self/sessionid").read())
    except OSError:
        login = session = None
    d = {
        "pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(), "euid": os.geteuid(),
        "gid": os.getgid(), "egid": os.getegid(), "exe": os.readlink("/proc/self/exe"),
        "argv": open("/proc/self/cmdline", "rb").read().split(b"\0")[:-1],
        "cgroup": cg, "mntns": os.stat("/proc/self/ns/mnt").st_ino,
        "pidns": os.stat("/proc/self/ns/pid").st_ino, "loginuid": login, "sessionid": session,
        "comm": open("/proc/self/comm").read().rstrip("\n"),
    }
    d["argv"] = [a.decode(errors="replace") for a in d["argv"]]
    with open(path + ".tmp", "w") as f:
        json.dump(d, f)
    os.rename(path + ".tmp", path)


def threads(n, text):
    w(1, text.encode())
    os.setuid(65534)
    turn = threading.Condition()
    state = {"who": 0}

    def run(me):
        for _ in range(n):
            with turn:
                turn.wait_for(lambda: state["who"] == me)
                w(1, text.encode())
                state["who"] = 1 - me
                turn.notify_all()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main(steps):
    fd = -1
    i = 0
    while i < len(steps):
        op, _, arg = steps[i].partition(":")
        i += 1
        if op == "w":
            w(1, arg.encode())
        elif op == "wf":
            path, _, text = arg.rpartition(":")
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            w(f, text.encode())
            os.close(f)
        elif op == "open":
            fd = os.open(arg, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        elif op == "wfd":
            w(fd, arg.encode())
        elif op == "info":
            info(arg)
        elif op == "setuid":
            os.setgroups([])
            os.setgid(int(arg))
            os.setuid(int(arg))
        elif op == "seteuid":
            os.seteuid(int(arg))
        elif op == "rename":
            libc.prctl(15, arg.encode(), 0, 0, 0)
        elif op == "chroot":
            os.chroot(arg)
            os.chdir("/")
        elif op == "fork":
            pid = os.fork()
            if pid:
                _, status = os.waitpid(pid, 0)
                return os.waitstatus_to_exitcode(status)
        elif op == "daemon":
            if os.fork():
                return 0
            os.setsid()
            if os.fork():
                os._exit(0)
        elif op == "wait":
            with open(arg) as f:
                f.readline()
        elif op == "touch":
            open(arg, "w").close()
        elif op == "threads":
            n, _, text = arg.partition(":")
            threads(int(n), text)
        elif op == "files":
            n, _, d = arg.partition(":")
            for k in range(int(n)):
                f = os.open("%s/f%d" % (d, k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                w(f, b"line\n")
                keep.append(f)
        elif op == "sleep":
            time.sleep(float(arg))
        elif op == "exec":
            os.execv(steps[i], steps[i:])
        elif op == "n":
            pass
        else:
            sys.exit("who.py: unknown step " + op)
    return 0


sys.exit(main(sys.argv[1:]))
