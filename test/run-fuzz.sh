#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs each libFuzzer target for SECONDS on its seed corpus (copied, so seeds stay clean).
# Usage: test/run-fuzz.sh DIR SECONDS
set -u
dir=$1
seconds=$2
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$dir"/fuzz-*; do
    [ -x "$f" ] || continue
    name=${f##*/}
    mkdir -p "$work/$name"
    [ -d "test/fuzz/corpus/$name" ] && cp -r "test/fuzz/corpus/$name/." "$work/$name/"
    if "$f" -max_total_time="$seconds" -print_final_stats=0 -artifact_prefix="$work/" "$work/$name" \
        > "$work/$name.log" 2>&1; then
        echo "ok   fuzz $name: $(grep -cE '^#[0-9]+' "$work/$name.log") progress lines, no crash in ${seconds}s"
        passed=$((passed + 1))
    else
        echo "---- fuzz $name crashed:"
        tail -n 40 "$work/$name.log"
        ls "$work"/crash-* "$work"/leak-* 2>/dev/null
        failed=$((failed + 1))
    fi
done
[ $((passed + failed)) -gt 0 ] || { echo "no fuzz targets in $dir"; failed=1; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
