#!/usr/bin/python3
"""Turns YARA 4.2.3's own rule tests (tests/test-rules.c) into data for
tests/integration/test_yara_suite: one JSON line per case, with the rule
source, the scanned bytes and what test-rules.c expects.

Run once, when the cases are (re)made, on a YARA source tree:

    git -C yara archive v4.2.3 tests | tar -x -C /tmp/yara-4.2.3
    tests/yara-suite/gen_cases.py /tmp/yara-4.2.3 tests/data/yara-tests

It reads the C source as C would: line splices, adjacent string literals,
escapes (\\xHH... takes every hex digit, as C does), the TEXT_* macros of
tests/util.h, the byte arrays of tests/blob.h, the function's own `str`
and `blob` variables, and the data files the cases name (copied beside; the byte arrays of
tests/blob.h the cases scan too, as files/NAME.bin, for other tests).
A case it cannot read is left out and counted; none is invented."""
import base64, json, os, re, shutil, sys

CALLS = {
    "assert_true_rule": ("rule", True, "strlen"),
    "assert_false_rule": ("rule", False, "strlen"),
    "assert_true_rule_blob": ("rule", True, "sizeof"),
    "assert_false_rule_blob": ("rule", False, "sizeof"),
    "assert_true_rule_file": ("rule", True, "file"),
    "assert_false_rule_file": ("rule", False, "file"),
    "assert_true_regexp": ("regexp", True, "strlen"),
    "assert_false_regexp": ("regexp", False, "strlen"),
    "assert_match_count": ("count", None, "strlen"),
}


def splice(src):
    return src.replace("\\\n", "")


def strip_comments(src):
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            out.append(" ")
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def c_string(body):
    """Bytes of a C string literal's body."""
    out, i = bytearray(), 0
    simple = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39, "a": 7,
              "b": 8, "f": 12, "v": 11, "?": 63}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("latin-1")
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            j = i + 2
            while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16) & 0xFF)
            i = j
        elif e in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8) & 0xFF)
            i = j
        elif e in simple:
            out.append(simple[e])
            i += 2
        else:
            raise ValueError("escape \\" + e)
    return bytes(out)


TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*))', re.S)


def literal(expr, env):
    """A concatenation of string literals and names of known strings."""
    expr, out, pos = expr.strip(), b"", 0
    if expr == "NULL":
        return None
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError("cannot read " + expr[pos:pos + 40])
        if m.group(1) is not None:
            out += c_string(m.group(1))
        elif m.group(2) in env:
            out += env[m.group(2)]
        else:
            raise ValueError("unknown name " + m.group(2))
        pos = m.end()
        if expr[pos:].strip() == "":
            break
    return out


def byte_array(init):
    vals = []
    for tok in init.replace("\n", " ").split(","):
        tok = tok.strip()
        if not tok:
            continue
        vals.append(int(tok, 0) & 0xFF)
    return bytes(vals)


def macros(text):
    env = {}
    for name, body in re.findall(r"#define\s+(TEXT_\w+)\s+(.*)", text):
        env[name] = literal(body, env)
    return env


def arrays(text):
    env = {}
    for name, init in re.findall(r"uint8_t\s+(\w+)\[\]\s*=\s*\{(.*?)\};", text, re.S):
        env[name] = byte_array(init)
    return env


def split_args(s):
    args, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    args.append("".join(cur))
    return args


def call_at(src, start):
    """The argument text of the call whose '(' is at start, and its end."""
    depth, i = 0, start
    while True:
        c = src[i]
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return src[start + 1:i], i
        i += 1


def main():
    src_dir, out_dir = sys.argv[1], sys.argv[2]
    rules_c = strip_comments(splice(open(os.path.join(src_dir, "tests/test-rules.c"), encoding="latin-1").read()))
    env = macros(splice(open(os.path.join(src_dir, "tests/util.h"), encoding="latin-1").read()))
    env.update(arrays(strip_comments(open(os.path.join(src_dir, "tests/blob.h"), encoding="latin-1").read())))
    os.makedirs(os.path.join(out_dir, "files"), exist_ok=True)
    cases, skipped, files, blobs = [], {}, set(), set()
    funcs = [(m.start(), m.group(1)) for m in re.finditer(r"\n(?:static\s+)?void\s+(test_\w+)\s*\(", rules_c)]
    name_re = re.compile(r"\b(" + "|".join(sorted(CALLS, key=len, reverse=True)) + r")\s*\(")
    for fi, (fstart, fname) in enumerate(funcs):
        fend = funcs[fi + 1][0] if fi + 1 < len(funcs) else len(rules_c)
        body = rules_c[fstart:fend]
        local = dict(env)
        for kind, name, init in re.findall(r"(char\s*\*|uint8_t)\s*(\w+)(?:\[\])?\s*=\s*(\{.*?\}|[^;]*);", body, re.S):
            try:
                local[name] = byte_array(init[1:-1]) if init.startswith("{") else literal(init, local)
                if kind == "uint8_t" and not init.startswith("{"):
                    local[name] += b"\0"  # an array's sizeof counts the literal's NUL
            except ValueError:
                pass
        for m in name_re.finditer(body):
            call = m.group(1)
            args_s, _ = call_at(body, m.end() - 1)
            line = rules_c.count("\n", 0, fstart + m.start()) + 1
            args = split_args(args_s)
            what, expect, datakind = CALLS[call]
            try:
                if what == "regexp":
                    rule = b'rule test { strings: $a = /' + literal(args[0], local) + b'/ condition: $a }'
                else:
                    rule = literal(args[0], local)
                arg = args[1].strip()
                if datakind == "file":
                    path = literal(arg, local).decode()
                    data = open(os.path.join(src_dir, path), "rb").read()
                    files.add(path)
                elif datakind == "sizeof":
                    data = local[arg] if arg in local else literal(arg, local) + b"\0"
                    if arg.endswith("_FILE"):
                        blobs.add(arg)
                else:
                    data = literal(arg, local)
                    # tests/util.c scans "dummy" when given NULL
                    data = b"dummy" if data is None else data.split(b"\0")[0]
                count = int(args[2].strip(), 0) if what == "count" else None
            except (ValueError, KeyError, IndexError, OSError) as e:
                skipped[call] = skipped.get(call, 0) + 1
                continue
            case = {"id": len(cases), "line": line, "function": fname, "call": call,
                    "rule": rule.decode("latin-1"), "expect": expect, "count": count}
            if datakind == "file":
                case["file"] = os.path.basename(path)
            else:
                case["data"] = base64.b64encode(data).decode()
            cases.append(case)
    for path in sorted(files):
        shutil.copy(os.path.join(src_dir, path), os.path.join(out_dir, "files", os.path.basename(path)))
    for name in sorted(blobs):
        open(os.path.join(out_dir, "files", name + ".bin"), "wb").write(env[name])
    with open(os.path.join(out_dir, "cases.jsonl"), "w") as f:
        for c in cases:
            f.write(json.dumps(c, sort_keys=True) + "\n")
    print(f"{len(cases)} cases, {len(files)} data files, {len(blobs)} blobs; left out (unreadable): {skipped}")


main()
