# shellcheck shell=bash
# Small helpers for test/bench/run.sh and report.sh.

die() { echo "bench: $*" >&2; exit 1; }
phase() { echo "bench: == $* ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2; }
note() { echo "bench:    $*" >&2; }

# record FIGURE VARIANT REP METRIC VALUE: one raw number.
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }

# line_time LOG ERE: kernel timestamp (seconds, float) of the first matching line.
line_time() {
	grep -Em1 -- "$2" "$1" | sed -n 's/^\[ *\([0-9]\{1,\}\.[0-9]\{1,\}\)\].*/\1/p'
}
