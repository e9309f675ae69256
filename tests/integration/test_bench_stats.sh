#!/usr/bin/env bash
# The interval the benchmarks give for a median ratio (bench/paired.awk) is
# the order-statistics interval: checked against an exact binomial count
# computed here independently (python's math.comb) for every n from 1 to 60,
# on ratios in random order.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AWK=$ROOT/bench/paired.awk

# for n = 1..60: $TMP/pairs.N and the line expected of them, in one python
python3 -c '
import math, os, random, sys
for n in range(1, 61):
    r = [0.9 + i / 100 for i in range(1, n + 1)]
    s = list(r); random.Random(n).shuffle(s)
    with open(os.path.join(sys.argv[1], "pairs.%d" % n), "w") as f:
        for i, x in enumerate(s):
            a = 2.0 + i % 3
            f.write("%r %r\n" % (a, a * x))
    med = r[(n - 1) // 2] if n % 2 else (r[n // 2 - 1] + r[n // 2]) / 2
    k = 0
    for j in range(1, n // 2 + 1):
        miss = 2 * sum(math.comb(n, i) for i in range(j)) / 2 ** n
        if 1 - miss >= 0.95:
            k, conf = j, 1 - miss
    with open(os.path.join(sys.argv[1], "want.%d" % n), "w") as f:
        f.write("%.3f %.3f %.3f %.1f\n" % (med, r[k - 1], r[n - k], 100 * conf) if k else "%.3f - - -\n" % med)
' "$TMP"
bad=()
for n in $(seq 1 60); do
	got=$(awk -f "$AWK" "$TMP/pairs.$n")
	want=$(cat "$TMP/want.$n")
	[[ $got == "$want" ]] || bad+=("n=$n: '$got', not '$want'")
done
expect_eq "n = 1..60 pairs: the median and its interval are the exact binomial ones" "" "${bad[*]}"
expect_eq "5 pairs: no interval at 95 % (the widest holds the median at 93.75 %)" \
	"0.930 - - -" "$(awk -f "$AWK" "$TMP/pairs.5")"
expect_eq "6 pairs: the interval is the smallest to the largest ratio, 96.9 %" \
	"0.935 0.910 0.960 96.9" "$(awk -f "$AWK" "$TMP/pairs.6")"
expect_eq "a line whose untraced side is 0 is left out" \
	"0.935 0.910 0.960 96.9" "$(printf '0 5\n' | cat - "$TMP/pairs.6" | awk -f "$AWK")"
expect_eq "no pairs: nan" "nan - - -" "$(awk -f "$AWK" </dev/null)"
echo "1..$_n"
