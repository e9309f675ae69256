#!/usr/bin/python3
"""Talks to yarasnoop's control socket the ways a client should not, for
tests/integration/test_control.sh. Prints one JSON object: what came back.

    ctlclient.py send PATH REQUEST      REQUEST as a Python bytes literal body,
                                        e.g. 'junk\\n' or 'A' * 200 via --repeat
    ctlclient.py send PATH - --repeat C N    C repeated N times, no newline
    ctlclient.py flood PATH N           N clients at once, each 'stats json\\n'
    ctlclient.py hang PATH N [SENTINEL] N clients that send half a request
                                        and wait; SENTINEL is created once all
                                        are connected; prints how each ended

An answer is classified as "json" (one stats object), "text" (a stats block),
"error: ..." (the server's refusal line), "eof" (closed, nothing sent),
"reset" (connection reset), or "timeout" (nothing after 30 s: a hang).
"""
import ast, json, os, socket, struct, sys, threading

TIMEOUT = 30


def classify(data):
    if data is None:
        return "timeout"
    if not data:
        return "eof"
    if data.startswith(b"error:"):
        return data.decode(errors="replace").strip()
    if data.startswith(b"Memory statistics:\n"):
        return "text"
    try:
        obj = json.loads(data)
        if data.endswith(b"\n") and data.count(b"\n") == 1 and obj.get("type") == "stats":
            return "json"
    except ValueError:
        pass
    return "other:" + data[:80].decode(errors="replace")


def client():
    """A blocking socket, as `yarasnoop stats` uses, whose connect, sends and
    receives give up after TIMEOUT (then: "timeout")."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tv = struct.pack("ll", TIMEOUT, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    return s


def read_all(s):
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data
            data += b
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b"RESET" if not data else data


def one(path, req):
    s = client()
    try:
        try:
            s.connect(path)
        except BlockingIOError:
            return "timeout"
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass    # refused before we were done: read why
        except BlockingIOError:
            return "timeout"
        data = read_all(s)
        return "reset" if data == b"RESET" else classify(data)
    except OSError as e:
        return "oserror:" + e.strerror
    finally:
        s.close()


mode, path = sys.argv[1], sys.argv[2]
if mode == "send":
    if sys.argv[3] == "-":
        req = sys.argv[5].encode() * int(sys.argv[6])
    else:
        req = ast.literal_eval("b'" + sys.argv[3] + "'")
    print(json.dumps({"result": one(path, req)}))
elif mode == "flood":
    n = int(sys.argv[3])
    res = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        res[i] = one(path, b"stats json\n")
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    counts = {}
    for r in res:
        counts[r] = counts.get(r, 0) + 1
    print(json.dumps({"results": counts}))
elif mode == "hang":
    n = int(sys.argv[3])
    socks = []
    for _ in range(n):
        s = client()
        s.connect(path)
        s.sendall(b"stats js")     # no newline: half a request
        socks.append(s)
    if len(sys.argv) > 4:
        os.close(os.open(sys.argv[4], os.O_WRONLY | os.O_CREAT, 0o600))
    res = [classify(read_all(s)) for s in socks]
    counts = {}
    for r in res:
        counts[r] = counts.get(r, 0) + 1
    print(json.dumps({"results": counts}))
else:
    sys.exit("unknown mode " + mode)
