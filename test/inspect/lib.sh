# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the inspect test scripts: filters, PASS/FAIL/SKIP counting, and assertions
# on `verity-root inspect` ($VR). Source after setting VR; pass the script's arguments
# (test names to run, all when none) to inspect_filters.

passed=0 failed=0 skipped=0
filters=()
out=""
rc=0

inspect_filters() { filters=("$@"); }

selected() {
    [ ${#filters[@]} -eq 0 ] || printf '%s\n' "${filters[@]}" | grep -qx -- "$1"
}
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; echo "$out" | tail -n 6 | sed 's/^/    /'; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

run() { out=$("$VR" "$@" 2>&1); rc=$?; }

check() { # NAME EXPECTED_RC REGEX -- inspect args
    local name=$1 want=$2 re=$3
    shift 4
    selected "$name" || return 0
    run inspect "$@"
    if [ "$rc" -ne "$want" ]; then fail "$name" "exit $rc, expected $want"
    elif ! echo "$out" | grep -Eq -- "$re"; then fail "$name" "output does not match /$re/"
    else pass "$name"; fi
}

check_json() { # NAME JQ-EXPRESSION(must print true) -- inspect args
    local name=$1 expr=$2
    shift 3
    selected "$name" || return 0
    run inspect --json "$@"
    if [ "$(echo "$out" | jq -r "$expr" 2>&1)" = true ]; then pass "$name"
    else fail "$name" "jq '$expr' is not true"; fi
}

check_printable() { # NAME -- inspect args: every output byte is printable ASCII or a newline
    local name=$1
    shift 2
    selected "$name" || return 0
    run inspect "$@"
    if LC_ALL=C grep -q '[^[:print:]]' <<< "$out"; then fail "$name" "output has a byte that is not printable ASCII"
    else pass "$name"; fi
}

# The closing line that test/run-tests.sh reads; exit status 1 when anything failed.
summary() {
    if [ "$skipped" -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    [ "$failed" -eq 0 ]
}
