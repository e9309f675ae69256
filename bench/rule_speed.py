#!/usr/bin/python3
"""Each bundled rule's scanning speed on the text that makes it slowest.

  bench/rule_speed.py [-v] [-r RULES_DIR] [--size BYTES] [--reps N] [--only RULE,...]

For every rule of RULES_DIR (default rules/), each adversarial text below is
repeated to SIZE bytes (default 1 MiB) and replayed through yarasnoop with
that rule alone, in 64 KiB writes, as live capture scans them. The time is
the scanning alone: replay's CPU time (user + system) less that of the same
replay of an empty file (start and rule compilation); CPU time, not wall
time, because the machine may be busy with other work. The figure is the
fastest of REPS runs (default 3), as other work only ever slows a run down.
Prints, per rule, its slowest text and MB/s (with -v
every text's), then the whole bundled set on the slowest text of all.

An adversarial text repeats what starts a rule's match (its atom) with what
keeps the match going without completing it: the regex engine then verifies
every atom over the longest span the rule allows. Every rule's own literals
are tried too, so a rule added without an entry here is still measured.
"""
import argparse, os, re, resource, subprocess, sys, tempfile

ADVERSARIAL = {
    "shadow_hash_line": ["a:$6$", "root:$6$" + "a" * 200, "a:$1$abcdefgh:1:", "x:$y$" + "./" * 100 + ":"],
    "curl_pipe_shell": ["curl ", "wget\t", "curl " + "a" * 256 + "\n", "curl x|sudo -a -b -c "],
    "shell_process_substitution_fetch": ["sh <(", "bash -c \"$(", "sh    ", "zsh <( curl"],
    "reverse_shell_dev_tcp": [">/dev/tcp/", ">& /dev/tcp/" + "a" * 64, "exec 5<>/dev/tcp/", "> /dev/udp/a/"],
    "reverse_shell_netcat_exec": ["nc ", "nc -e ", "netcat.traditional ", "nc -c /usr/bin/"],
    "reverse_shell_mkfifo": ["mkfifo x sh -i ", "mkfifo ", "mkfifo x /bin/bash -i ", "mkfifo sh -i nc"],
    "reverse_shell_scripting": ["socket.socket(", "use Socket;", "TCPSocket.new(", "fsockopen(",
                                "TCPSocket.new( exec ", "fsockopen(system("],
    "reverse_shell_socat": ["socat exec:/bin/sh ", "socat tcp: ", "socat ", "SOCAT EXEC:/BIN/BASH TCP4:"],
    "aws_access_key_id": ["AKIA", "AKIA" + "A" * 20, "ASIA0"],
    "aws_secret_access_key": ["aws_secret_access_key=", "AWS_SECRET_ACCESS_KEY = '" + "a" * 39],
    "github_token": ["ghp_", "ghp_" + "a" * 35, "github_pat_" + "a" * 22 + "_"],
    "gitlab_token": ["glpat-", "glpat-" + "a" * 19],
    "slack_token": ["xoxb-", "xoxb-123456-", "xoxb-123456789012345-" + "a" * 80],
    "google_api_key": ["AIza", "AIza" + "a" * 34],
    "stripe_secret_key": ["sk_live_", "sk_live_" + "a" * 99],
    "ssh_private_key": ["-----BEGIN OPENSSH PRIVATE KEY----"],
    "pem_private_key": ["-----BEGIN ", "-----BEGIN RSA PRIVATE KEY----"],
    "pgp_private_key": ["-----BEGIN PGP PRIVATE KEY BLOCK----"],
}



def split_rules(path):
    """(name, text) of each rule of a .yar file: imports and comments kept out."""
    text = open(path).read()
    out = []
    for m in re.finditer(r"^(?:private |global )*rule\s+(\w+)[^{]*\{.*?^\}", text, re.M | re.S):
        out.append((m.group(1), m.group(0)))
    return out


def literals(rule_text):
    """Plain strings of a rule and the literal runs of its regexes, for the
    texts of rules this file does not know."""
    m = re.search(r"^\s*strings:(.*?)^\s*condition:", rule_text, re.M | re.S)
    strings = m.group(1) if m else ""
    lits = re.findall(r'=\s*"((?:[^"\\]|\\.)+)"', strings)
    for rx in re.findall(r"=\s*/((?:[^/\\\n]|\\.)+)/", strings):
        lits += [s.replace("\\", "") for s in re.findall(r"(?:\\.|[A-Za-z0-9_ :=<>$-]){3,}", rx)]
    return [s for s in lits if s.strip()]


def cpu_seconds(ys, rule_file, data_file):
    """CPU time (user + system) of one replay: on a busy machine CPU time
    is what the scan costs, where wall time also counts the waits."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([ys, "replay", "-r", rule_file, "-i", data_file, "--chunk-size", "64K", "-o", "/dev/null"],
                       capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        sys.exit(f"rule_speed: replay failed on {rule_file}: {r.stderr.strip()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def scan_seconds(ys, rule_file, data_file, empty):
    """The scan alone: the replay less the same replay of an empty file
    (start, rule compilation)."""
    return cpu_seconds(ys, rule_file, data_file) - cpu_seconds(ys, rule_file, empty)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules"))
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    ys = os.environ.get("YARASNOOP", "build/yarasnoop")
    only = set(filter(None, a.only.split(",")))
    tmpdir = tempfile.TemporaryDirectory()
    tmp = tmpdir.name
    texts = {}
    empty = os.path.join(tmp, "empty")
    open(empty, "w").close()

    def text_file(unit):
        if unit not in texts:
            path = os.path.join(tmp, f"t{len(texts)}")
            raw = unit.encode()
            with open(path, "wb") as f:
                f.write((raw * (a.size // len(raw) + 1))[:a.size])
            texts[unit] = path
        return texts[unit]

    def mbps(rule_file, unit):
        secs = min(scan_seconds(ys, rule_file, text_file(unit), empty) for _ in range(a.reps))
        return a.size / 1e6 / secs if secs > 0 else float("inf")

    print(f"   {'rule':34} {'MB/s':>9}  slowest text (repeated to {a.size} bytes)")
    worst_all = (float("inf"), None)
    for fn in sorted(os.listdir(a.r)):
        if not fn.endswith((".yar", ".yara")):
            continue
        for name, body in split_rules(os.path.join(a.r, fn)):
            if only and name not in only:
                continue
            rule_file = os.path.join(tmp, name + ".yar")
            with open(rule_file, "w") as f:
                f.write(body + "\n")
            units = list(dict.fromkeys(ADVERSARIAL.get(name, []) + literals(body)))
            res = sorted((mbps(rule_file, u), u) for u in units)
            print(f"   {name:34} {res[0][0]:9.1f}  {res[0][1]!r}")
            if a.v:
                for v, u in res[1:]:
                    print(f"   {'':34} {v:9.1f}  {u!r}")
            worst_all = min(worst_all, res[0])
    if not only:
        every = os.path.join(tmp, "all.yar")
        with open(every, "w") as f:
            for fn in sorted(os.listdir(a.r)):
                if fn.endswith((".yar", ".yara")):
                    f.write(open(os.path.join(a.r, fn)).read() + "\n")
        print(f"   {'(every bundled rule)':34} {mbps(every, worst_all[1]):9.1f}  {worst_all[1]!r}")
    print(f"   CPU time of replay in 64 KiB writes less that of an empty file, fastest of {a.reps}")
    tmpdir.cleanup()


if __name__ == "__main__":
    main()
