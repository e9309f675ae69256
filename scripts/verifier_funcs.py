#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where the verifier's work goes: instructions processed, per program and
per function it walked them in (a global function is validated on its own,
once per program that calls it; a static one is walked inside its caller).

    build/helpers/recdump --verifier-log vlog.txt -o /dev/null -- true
    scripts/verifier_funcs.py vlog.txt [PROGRAM FUNCTION]

With PROGRAM and FUNCTION: that function's instructions by source line
(the log's "; line" comments), the costliest first."""
import re
import signal
import sys

BEGIN = re.compile(r"libbpf: prog '([^']+)': -- BEGIN PROG LOAD LOG --")
FUNC = re.compile(r"Validating (\S+)\(\) func#")
INSN = re.compile(r"^\d+: \(")


def count(path, prog_want=None, func_want=None):
    counts = {}
    prog = func = None
    src = "?"
    with open(path, errors="replace") as f:
        for line in f:
            m = BEGIN.match(line)
            if m:
                prog, func = m.group(1), "(program)"
                continue
            m = FUNC.match(line)
            if m:
                func = m.group(1)
                continue
            if line.startswith("; "):
                src = line[2:].strip()
                continue
            if not prog or not INSN.match(line):
                continue
            if prog_want is None:
                key = (prog, func)
            elif prog == prog_want and func == func_want:
                key = src
            else:
                continue
            counts[key] = counts.get(key, 0) + 1
    return counts


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        counts = count(*sys.argv[1:])
    except OSError as e:
        sys.exit(f"verifier_funcs: {sys.argv[1]}: {e.strerror}")
    if not counts:
        sys.exit(f"verifier_funcs: no instructions in {sys.argv[1]}: "
                 "a log from recdump --verifier-log (level 2)?")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:7d}  {' '.join(key) if isinstance(key, tuple) else key}")
    print(f"{sum(counts.values()):7d}  in all")


if __name__ == "__main__":
    main()
