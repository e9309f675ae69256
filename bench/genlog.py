#!/usr/bin/env python3
"""Writes a deterministic log-like text file for the scanning benchmarks.

    genlog.py OUT [MEGABYTES] [SEED]

Lines mix web access logs, application key=value logs and the odd stack
trace, so that the rules' atoms see realistic text. Five secrets are planted
at fixed fractions of the file, each matching a different bundled rule, so a
run that reports fewer than five rules has gone wrong.
"""
import random
import sys

out = sys.argv[1]
size = int(float(sys.argv[2]) * 1000 * 1000) if len(sys.argv) > 2 else 50 * 1000 * 1000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)

SECRETS = [
    b"export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
    b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    b"token ghp_0123456789abcdefghijABCDEFGHIJ012345 pushed\n",
    b"-----BEGIN RSA PRIVATE KEY-----\n",
    b"+ curl -fsSL https://get.example.com/install.sh | sudo bash\n",
]
HOSTS = [b"web-%02d" % i for i in range(12)]
USERS = [b"alice", b"bob", b"carol", b"dave", b"erin", b"frank", b"grace", b"heidi"]
PATHS = [b"/api/v1/items", b"/api/v1/users", b"/login", b"/static/app.js",
         b"/healthz", b"/api/v2/orders", b"/search", b"/metrics"]
AGENTS = [b"Mozilla/5.0 (X11; Linux x86_64)", b"curl/7.88.1", b"Go-http-client/1.1",
          b"python-requests/2.31.0", b"kube-probe/1.28"]
WORDS = (b"connection pool cache miss retry timeout upstream request handler worker "
         b"queue flush commit rollback session token refresh scheduler batch index "
         b"shard replica leader follower snapshot compaction").split()
LEVELS = [b"INFO"] * 8 + [b"DEBUG"] * 4 + [b"WARN"] * 2 + [b"ERROR"]


def line(t):
    ts = b"2024-03-01T%02d:%02d:%02d.%06dZ" % (t // 3600 % 24, t // 60 % 60, t % 60, rng.randrange(10**6))
    host = rng.choice(HOSTS)
    k = rng.randrange(10)
    if k < 5:
        ip = b"10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        return b'%s %s nginx[%d]: %s - - "GET %s/%d?page=%d HTTP/1.1" %d %d "-" "%s"\n' % (
            ts, host, rng.randrange(100, 30000), ip, rng.choice(PATHS), rng.randrange(100000),
            rng.randrange(50), rng.choice((200, 200, 200, 304, 404, 500)), rng.randrange(100, 90000),
            rng.choice(AGENTS))
    if k < 9:
        msg = b" ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12)))
        return b"%s %s app[%d]: %s user=%s req=%016x took=%dms %s\n" % (
            ts, host, rng.randrange(100, 30000), rng.choice(LEVELS), rng.choice(USERS),
            rng.getrandbits(64), rng.randrange(1, 2000), msg)
    frames = b"".join(b"    at com.example.%s.%s(%s.java:%d)\n" % (
        rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS), rng.randrange(1, 900))
        for _ in range(rng.randrange(2, 8)))
    return b"%s %s app[%d]: ERROR unhandled exception in %s\n%s" % (
        ts, host, rng.randrange(100, 30000), rng.choice(WORDS), frames)


with open(out, "wb") as f:
    written, t, nxt = 0, 0, 0
    marks = [size * (i + 1) // (len(SECRETS) + 1) for i in range(len(SECRETS))]
    buf = []
    while written < size:
        if nxt < len(marks) and written >= marks[nxt]:
            b = SECRETS[nxt]
            nxt += 1
        else:
            b = line(t)
            t += 1
        buf.append(b)
        written += len(b)
        if len(buf) >= 4096:
            f.write(b"".join(buf))
            buf = []
    f.write(b"".join(buf))
