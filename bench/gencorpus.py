#!/usr/bin/env python3
"""Writes a deterministic mixed corpus for the rule-set benchmarks.

    gencorpus.py OUT [MEGABYTES] [SEED]

What a traced system writes, in stretches of 4 to 256 KiB: logs, shell and
Python scripts, JSON, base64 blobs, UTF-16 text, random binary and
executable-looking binary (MZ and ELF headers, section names, import names,
padding). Nothing is meant to match; whatever does, does in yara too.
"""
import base64
import random
import sys

out = sys.argv[1]
size = int(float(sys.argv[2]) * 1000 * 1000) if len(sys.argv) > 2 else 40 * 1000 * 1000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)

WORDS = (b"the of and to in is for on with as by at from user file data error warning info "
         b"request response server client session token value config update install build "
         b"test result status process thread memory disk network connect close open read "
         b"write return import export function class module package version").split()
SHELL = [b"#!/bin/sh\n", b"set -eu\n", b"for f in *.log; do gzip \"$f\"; done\n",
         b"if [ -d /var/tmp ]; then cd /var/tmp; fi\n", b"echo \"build $VERSION done\"\n",
         b"make -j4 all && make install PREFIX=/usr/local\n", b"apt-get update -qq\n",
         b"tar -czf backup.tgz /etc/nginx\n", b"grep -r TODO src | wc -l\n"]
PY = [b"import os\n", b"import sys, json\n", b"def main(argv):\n", b"    return 0\n",
      b"for i, line in enumerate(open(path)):\n", b"    print(i, line.strip())\n",
      b"class Handler(object):\n", b"    def handle(self, req):\n", b"if __name__ == '__main__':\n"]
SECTIONS = [b".text\0\0\0", b".rdata\0\0", b".data\0\0\0", b".rsrc\0\0\0", b".reloc\0\0"]
IMPORTS = [b"KERNEL32.dll\0", b"GetProcAddress\0", b"LoadLibraryA\0", b"VirtualAlloc\0",
           b"CreateFileW\0", b"ReadFile\0", b"WriteFile\0", b"CloseHandle\0", b"USER32.dll\0",
           b"libc.so.6\0", b"__libc_start_main\0", b"malloc\0", b"printf\0", b"GLIBC_2.34\0"]


def words(n):
    return b" ".join(rng.choice(WORDS) for _ in range(n))


def log(n):
    o = bytearray()
    while len(o) < n:
        o += b"2026-03-%02d %02d:%02d:%02d host-%02d app[%d]: %s id=%08x\n" % (
            rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
            rng.randint(1, 40), rng.randint(100, 99999), words(rng.randint(3, 12)), rng.getrandbits(32))
    return bytes(o[:n])


def script(n):
    o = bytearray()
    src = rng.choice([SHELL, PY])
    while len(o) < n:
        o += rng.choice(src)
        if rng.random() < 0.3:
            o += b"# " + words(rng.randint(2, 9)) + b"\n"
    return bytes(o[:n])


def jsonl(n):
    o = bytearray()
    while len(o) < n:
        o += b'{"ts":%d,"level":"%s","msg":"%s","user":"u%d","ms":%d}\n' % (
            rng.getrandbits(31), rng.choice([b"info", b"warn", b"debug"]), words(rng.randint(2, 8)),
            rng.randint(1, 500), rng.randint(0, 2000))
    return bytes(o[:n])


def b64(n):
    raw = bytes(rng.getrandbits(8) for _ in range(n * 3 // 4 + 3))
    enc = base64.b64encode(raw)
    return b"\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))[:n]


def utf16(n):
    return (words(n // 8) + b"\r\n").decode().encode("utf-16-le")[:n]


def binary(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def executable(n):
    o = bytearray(rng.choice([b"MZ\x90\x00\x03\x00\x00\x00", b"\x7fELF\x02\x01\x01\x00"]))
    o += bytes(56) + b"This program cannot be run in DOS mode.\r\r\n$" + bytes(7)
    while len(o) < n:
        r = rng.random()
        if r < 0.3:
            o += bytes(rng.randint(16, 512))
        elif r < 0.5:
            o += rng.choice(SECTIONS) + bytes(rng.getrandbits(8) for _ in range(32))
        elif r < 0.7:
            o += rng.choice(IMPORTS)
        else:
            o += bytes(rng.getrandbits(8) for _ in range(rng.randint(64, 1024)))
    return bytes(o[:n])


KINDS = [(log, 30), (script, 15), (jsonl, 10), (b64, 10), (utf16, 5), (binary, 15), (executable, 15)]
pick = [k for k, w in KINDS for _ in range(w)]
with open(out, "wb") as f:
    done = 0
    while done < size:
        n = min(rng.randint(4 << 10, 256 << 10), size - done)
        f.write(rng.choice(pick)(n))
        done += n
