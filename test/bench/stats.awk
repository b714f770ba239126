# Summary statistics of one column of numbers (one per line, empty lines ignored).
# Prints: n median min max q1 q3 (q1/q3 by linear interpolation, as R type 7).
# Usage: awk -f stats.awk < numbers
function q(p,   h, lo) {
	h = (n - 1) * p + 1
	lo = int(h)
	if (lo >= n) return v[n]
	return v[lo] + (h - lo) * (v[lo + 1] - v[lo])
}
$1 != "" { v[++n] = $1 + 0 }
END {
	if (n == 0) { print "0 NA NA NA NA NA"; exit }
	# insertion sort: n is small
	for (i = 2; i <= n; i++) {
		x = v[i]
		for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
		v[j + 1] = x
	}
	printf "%d %.6g %.6g %.6g %.6g %.6g\n", n, q(0.5), v[1], v[n], q(0.25), q(0.75)
}
