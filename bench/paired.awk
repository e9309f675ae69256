# paired.awk: reads lines "A B" (one rep's two sides, run next to each
# other) and prints "median low high conf": the median of the ratios B/A and
# the distribution-free interval for it, from the k-th smallest to the k-th
# largest ratio, k the largest for which the interval holds the true median
# with probability conf >= 95 % (X ~ Bin(n, 1/2) ratios below it: nothing is
# assumed of how the times spread). Fewer than 6 pairs can give no such
# interval: "median - - -". Lines whose A is not positive are skipped.
$1 > 0 { r[++n] = $2 / $1 }
END {
	if (!n) { print "nan - - -"; exit }
	for (i = 2; i <= n; i++)	# insertion sort: n is a few dozen
		for (j = i; j > 1 && r[j - 1] > r[j]; j--) { t = r[j]; r[j] = r[j - 1]; r[j - 1] = t }
	med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
	# the interval [r[k], r[n-k+1]] misses the median with probability
	# 2 P(X < k); c is C(n, i), tail is P(X <= i)
	c = 1; tail = 0; k = 0
	for (i = 0; i < n / 2; i++) {
		tail += c / 2 ^ n
		if (1 - 2 * tail < 0.95)
			break
		k = i + 1; conf = 1 - 2 * tail
		c = c * (n - i) / (i + 1)
	}
	if (!k)
		printf "%.3f - - -\n", med
	else
		printf "%.3f %.3f %.3f %.1f\n", med, r[k], r[n - k + 1], 100 * conf
}
