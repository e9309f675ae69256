#!/usr/bin/python3
"""Random differential fuzzer: random rules (plain, hex and regex strings,
every modifier, \\b and \\B, anchors; conditions with at, in, counts,
offsets, lengths, of, not, filesize, uint8) over random data with planted
matches, replayed at many chunkings against the yara command.

Each batch is one rule file of many independent rules and a few data
files, so that one yara and one replay run cover them all:
  - kept whole (the default --exact-size), every stream's rules and
    per-string counts equal yara's;
  - in windows (--exact-size 0, and a cap smaller than the files, with a
    64-byte --window so that windows are many), no rule is ever reported
    that yara does not report: no false positive, ever.

  diff_fuzz.py [--seed N] [--batches N | --seconds S] [--keep]
Exits 1 on the first batch that breaks, leaving its files (--keep: always)
and printing how to replay it."""
import argparse, base64, json, os, random, re, shutil, subprocess, sys, tempfile, time

YS = os.environ.get("YARASNOOP", "build/yarasnoop")
ALPHA = b"ab-_ x.\n\x00A1"
CHUNKS = [1, 2, 3, 7, 16, 61, 300, 0]
WINDOW_CHUNKS = [1, 3, 7, 16, 61, 300]


def word(rng, n):
    return bytes(rng.choice(b"abxA1-_ .") for _ in range(n))


def text_string(rng):
    s = word(rng, rng.randint(2, 6)).replace(b"\\", b"").replace(b'"', b"")
    mods = []
    kind = rng.random()
    if kind < 0.12 and len(s) >= 3:
        mods.append(rng.choice(["base64", "base64wide"]))
        if rng.random() < 0.3:
            mods.append("wide")
    else:
        for m in ("nocase", "wide", "ascii", "fullword", "xor"):
            if rng.random() < 0.25:
                mods.append(m)
        if "xor" in mods and "nocase" in mods:
            mods.remove("nocase")
    if rng.random() < 0.15:
        mods.append("private")
    lit = "".join(chr(c) if 0x20 <= c < 0x7f else f"\\x{c:02x}" for c in s)
    return f'"{lit}" ' + " ".join(mods), s


def hex_string(rng):
    parts, plain = [], b""
    for i in range(rng.randint(2, 5)):
        r = rng.random()
        if r < 0.6 or i == 0:
            b = rng.choice(ALPHA)
            parts.append(f"{b:02X}")
            plain += bytes([b])
        elif r < 0.75:
            parts.append("??")
            plain += b"x"
        elif r < 0.9:
            a = rng.randint(0, 3)
            parts.append(f"[{a}-{a + rng.randint(0, 4)}]")
            plain += b"x" * a
        else:
            x, y = rng.choice(ALPHA), rng.choice(ALPHA)
            parts.append(f"( {x:02X} | {y:02X} )")
            plain += bytes([x])
    if parts[-1].startswith("[") or parts[-1] == "??":
        b = rng.choice(ALPHA)
        parts.append(f"{b:02X}")
        plain += bytes([b])
    mods = "private" if rng.random() < 0.1 else ""
    return "{ " + " ".join(parts) + " } " + mods, plain


def regex_string(rng):
    atoms, plain = [], b""
    for _ in range(rng.randint(2, 5)):
        r = rng.random()
        if r < 0.55:
            c = rng.choice(b"abx1-_")
            atoms.append(re.escape(chr(c)) if chr(c) in "-_" else chr(c))
            plain += bytes([c])
        elif r < 0.65:
            atoms.append("[ab]")
            plain += b"a"
        elif r < 0.72:
            atoms.append(".")
            plain += b"x"
        elif r < 0.8:
            atoms.append(rng.choice(["\\b", "\\B"]))
        elif r < 0.86:
            atoms.append(rng.choice(["\\s", "\\w", "\\d"]))
            plain += b" "
        else:
            atoms.append("(a|bx)")
            plain += b"a"
    if atoms and rng.random() < 0.5 and not atoms[-1].startswith("\\"):
        atoms[-1] += rng.choice(["*", "+", "?", "{1,3}", "{0,2}"])
    if all(a in ("\\b", "\\B") for a in atoms):
        atoms.append("a")
        plain += b"a"
    body = "".join(atoms)
    if rng.random() < 0.08:
        body = "^" + body
    if rng.random() < 0.08:
        body += "$"
    flags = rng.choice(["", "", "i", "s"])
    mods = [m for m in ("nocase", "wide", "ascii", "fullword", "private") if rng.random() < 0.15]
    return f"/{body}/{flags} " + " ".join(mods), plain


def condition(rng, ids, depth=0):
    a = rng.choice(ids)
    n = a[1:]
    r = rng.random()
    if depth < 2 and r < 0.25:
        op = rng.choice(["and", "or"])
        return f"({condition(rng, ids, depth + 1)} {op} {condition(rng, ids, depth + 1)})"
    if depth < 2 and r < 0.32:
        return f"not {condition(rng, ids, depth + 1)}"
    leaves = [
        lambda: a,
        lambda: f"#{n} {rng.choice(['>', '>=', '==', '<', '!='])} {rng.randint(0, 4)}",
        lambda: f"{a} at {rng.randint(0, 40)}",
        lambda: f"{a} in ({rng.randint(0, 50)}..{rng.randint(50, 3000)})",
        lambda: f"@{n}[{rng.randint(1, 3)}] {rng.choice(['<', '>'])} {rng.randint(0, 2000)}",
        lambda: f"!{n}[1] {rng.choice(['<', '>', '=='])} {rng.randint(1, 12)}",
        lambda: f"{rng.choice(['any', 'all', 'none', '2'])} of them",
        lambda: f"any of them in ({rng.randint(0, 100)}..{rng.randint(100, 2000)})",
        lambda: f"#{n} in (0..{rng.randint(10, 2000)}) > {rng.randint(0, 2)}",
        lambda: f"filesize {rng.choice(['<', '>'])} {rng.randint(10, 3000)}",
        lambda: f"uint8({rng.randint(0, 30)}) == 0x{rng.choice(ALPHA):02x}",
        lambda: f"{a} and {rng.choice(ids)}",
    ]
    return rng.choice(leaves)()


def make_rules(rng, nrules):
    rules, plants = [], []
    for i in range(nrules):
        strs = []
        for k in range(rng.randint(1, 3)):
            kind = rng.random()
            src, plain = (text_string if kind < 0.45 else hex_string if kind < 0.65 else regex_string)(rng)
            strs.append((f"$s{k}", src))
            plants.append(plain)
        ids = [s[0] for s in strs]
        cond = condition(rng, ids)
        for sid in ids:  # every string referenced, without changing much
            if sid not in cond.replace("#", "$").replace("@", "$").replace("!", "$") and "them" not in cond:
                cond = f"({cond}) or #{sid[1:]} > 99999"
        priv = "private " if rng.random() < 0.05 else ""
        rules.append(f"{priv}rule r{i} {{\n  strings:\n" +
                     "".join(f"    {sid} = {src}\n" for sid, src in strs) +
                     f"  condition:\n    {cond}\n}}\n")
    return rules, plants


def make_data(rng, plants, size):
    out = bytearray()
    while len(out) < size:
        r = rng.random()
        if r < 0.5:
            out += bytes(rng.choice(ALPHA) for _ in range(rng.randint(0, 40)))
        else:
            p = rng.choice(plants)
            if rng.random() < 0.2:
                p = p.upper()
            if rng.random() < 0.2:
                p = b"".join(bytes([c, 0]) for c in p)
            if rng.random() < 0.1:
                p = base64.b64encode(b"x" * rng.randint(0, 2) + p)
            out += p
    return bytes(out[:size])


def yara_truth(rules_path, files):
    """{file: ({rules}, {(rule, id): count})} from one yara run per file."""
    truth = {}
    for f in files:
        r = subprocess.run(["yara", "-s", "-w", rules_path, f], capture_output=True)
        if r.returncode:
            return None, r.stderr.decode("latin-1")
        rules, counts, cur = set(), {}, None
        for line in r.stdout.decode("latin-1").splitlines():
            m = re.match(r"^0x[0-9a-f]+:(\$\w*): ", line)
            if m and cur:
                counts[(cur, m.group(1))] = counts.get((cur, m.group(1)), 0) + 1
            elif not m:
                cur = line.split(" ", 1)[0]
                rules.add(cur)
        truth[f] = (rules, counts)
    return truth, ""


def replay(rules_path, files, chunk, exact):
    args = [YS, "replay", "-r", rules_path, "--format", "json", "--exact-size", str(exact)]
    if exact < (1 << 20):
        # a small window, so that windows are many even on these files
        args += ["--window", "64"]
    args += ["--chunk-size", str(chunk)] if chunk else ["-c", "1"]
    for f in files:
        args += ["-i", f]
    r = subprocess.run(args, capture_output=True)
    if r.returncode:
        return None, " ".join(args) + ": " + r.stderr.decode("latin-1")[:300]
    out = {}
    for st in json.loads(r.stdout.decode().splitlines()[-1])["streams"]:
        rules = set(st["rules_matched"])
        counts = {}
        for s in st["strings"]:
            if s["rule"] in rules and not s.get("private"):
                counts[(s["rule"], s["id"])] = counts.get((s["rule"], s["id"]), 0) + s["count"]
        out[st["input"]] = (rules, counts)
    return out, " ".join(args)


def batch(rng, d):
    """Returns a list of problems (empty: the batch passed) and the number of runs."""
    while True:
        rules, plants = make_rules(rng, rng.randint(10, 30))
        path = os.path.join(d, "rules.yar")
        open(path, "w").write("".join(rules))
        files = []
        for i in range(rng.randint(2, 5)):
            f = os.path.join(d, f"data{i}")
            open(f, "wb").write(make_data(rng, plants, rng.choice([0, 1, 5, 40, 300, 1500, 4000])))
            files.append(f)
        truth, err = yara_truth(path, files)
        if truth is not None:
            break
        # a rule yara refuses (a generated regex it cannot take): again
        if not re.search(r"error", err):
            return [f"yara failed: {err[:200]}"], 0
    problems, runs = [], 0
    for exact in (1 << 20, 0, 256):
        for c in CHUNKS if exact else WINDOW_CHUNKS:
            got, cmd = replay(path, files, c, exact)
            runs += 1
            if got is None:
                problems.append(cmd)
                continue
            for f in files:
                want_r, want_c = truth[f]
                got_r, got_c = got[f]
                size = os.path.getsize(f)
                fp = got_r - want_r
                if fp:
                    problems.append(f"FALSE POSITIVE {sorted(fp)} in {os.path.basename(f)}: {cmd}")
                elif size <= exact and (got_r != want_r or got_c != want_c):
                    problems.append(f"kept whole, {os.path.basename(f)}: rules {sorted(got_r ^ want_r)} "
                                    f"counts {sorted(set(got_c.items()) ^ set(want_c.items()))[:4]}: {cmd}")
    return problems, runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--batches", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t0, n, runs = time.time(), 0, 0
    while (a.batches and n < a.batches) or (a.seconds and time.time() - t0 < a.seconds):
        d = tempfile.mkdtemp(prefix="ys-diff-fuzz-")
        problems, r = batch(rng, d)
        runs += r
        n += 1
        if problems:
            for p in problems[:5]:
                print(f"not ok - seed {a.seed} batch {n}: {p}")
            print(f"# files kept in {d}")
            sys.exit(1)
        if not a.keep:
            shutil.rmtree(d)
    print(f"ok - seed {a.seed}: {n} batches, {runs} replay runs, no false positive, "
          f"kept-whole streams equal yara")


main()
