#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every test suite of `make check` and ends with one "N passed, N failed" line.
# Suites: unit tests (cmocka), the same under ASan+UBSan, the boot helpers against a
# chosen /proc/cmdline (cmdline), inspect tests on images,
# a short fuzzing smoke, the QEMU boot tests (some again with dracut-systemd), and a subset of the stack matrix (make
# check-stacks: CHECK_STACKS suites, CHECK_STACK_CASES boot cases). VR_SUITES="unit inspect" picks some.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
skipped=0
failures=()
suites=${VR_SUITES:-unit asan cmdline inspect kiwi mkimage package fuzz boot boot-dracut-systemd stacks}
# Boot cases run again with dracut-systemd in the initrd (the module works with and without
# it): the command line hooks, root=dissect and dracut's own emergency path.
CHECK_DRACUT_SYSTEMD_CASES=${CHECK_DRACUT_SYSTEMD_CASES:-01-roothash 01b-invalid-cmdline 02b-signed-repart 04-corrupt-block 11-root-dissect 09b-usr-signed-auto}
# The CI subset of test/stacks/run.sh: one stack, the boots most likely to break there.
CHECK_STACKS=${CHECK_STACKS:-trixie}
CHECK_STACK_CASES=${CHECK_STACK_CASES:-02b-signed-repart 11-root-dissect 29-one-owner 31-own-emergency 33-kernel-keyring 34-ipe}
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-15}

record() { # name status(0 pass, 77 skip, else fail)
    case $2 in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); failures+=("$1") ;;
    esac
}

# Adds the counts of a suite that prints its own "N passed, N failed[, N skipped]" line.
add_summary() { # name logfile exitcode
    local line p f s
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        record "$1 (no summary line)" 1
        return
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + ${s:-0}))
    [ "$f" -eq 0 ] || failures+=("$1")
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then record "$1 (exit $3)" 1; fi
}

run_cmocka_dir() { # label dir
    local t log rc
    for t in "$2"/test-*; do
        [ -x "$t" ] || continue
        log=$(mktemp)
        "$t" > "$log" 2>&1
        rc=$?
        # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
        local p f
        p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
        f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
        passed=$((passed + ${p:-0}))
        failed=$((failed + ${f:-0}))
        if [ "${f:-0}" -ne 0 ] || [ "$rc" -ne 0 ] || [ -z "$p" ]; then
            [ "${f:-0}" -ne 0 ] || failed=$((failed + 1))
            failures+=("$1 ${t##*/}")
            echo "---- $1 ${t##*/} (exit $rc)"
            tail -n 40 "$log"
        else
            echo "ok   $1 ${t##*/}: $p tests"
        fi
        rm -f "$log"
    done
}

# A suite script that prints its own "N passed, N failed" line.
run_script_suite() { # name command...
    local name=$1 log
    shift
    log=$(mktemp)
    "$@" 2>&1 | tee "$log"
    add_summary "$name" "$log" "${PIPESTATUS[0]}"
    rm -f "$log"
}

for suite in $suites; do
    echo "==== $suite"
    case $suite in
        unit) run_cmocka_dir unit build/test ;;
        asan)
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                run_cmocka_dir asan build-asan/test ;;
        cmdline) run_script_suite cmdline test/cmdline/run.sh ;;
        inspect) run_script_suite inspect test/inspect/run.sh ;;
        kiwi) run_script_suite kiwi test/inspect/kiwi.sh ;;
        package) run_script_suite package test/package/run.sh ;;
        mkimage) run_script_suite mkimage test/mkimage/run.sh ;;
        fuzz) run_script_suite fuzz test/run-fuzz.sh build-fuzz/fuzz "$FUZZ_SMOKE_SECONDS" ;;
        boot) run_script_suite boot test/boot/run.sh ;;
        boot-dracut-systemd)
            read -ra cases <<< "$CHECK_DRACUT_SYSTEMD_CASES"
            WITH_DRACUT_SYSTEMD=1 run_script_suite boot-dracut-systemd test/boot/run.sh "${cases[@]}" ;;
        stacks)
            read -ra stack_suites <<< "$CHECK_STACKS"
            STACK_CASES=$CHECK_STACK_CASES run_script_suite stacks test/stacks/run.sh "${stack_suites[@]}" ;;
        *) echo "unknown suite $suite"; record "suite $suite" 1 ;;
    esac
done

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
