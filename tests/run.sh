#!/usr/bin/env bash
# run.sh BUILD — every test suite, then one closing line "N passed, N failed".
#
# Suites: unit tests (plain, then under ASan+UBSan), the mock providers' own
# self-test, the end-to-end tests with real programs (against the library,
# then against its ASan+UBSan build, make sanlib), and every libFuzzer
# target for a few seconds (make fuzz runs them for ten minutes each). Each prints its own
# "N passed, N failed" line last; this script adds them up.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
skipped=0
log=$(mktemp)
fails=$(mktemp)
trap 'rm -f "$log" "$fails"' EXIT

suite() {
    local name=$1
    shift
    echo "== $name"
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local before=$failed
    local line
    local k
    k=$(sed -n 's/^e2e: \([0-9]*\) skipped.*/\1/p' "$log" | tail -n 1)
    skipped=$((skipped + ${k:-0}))
    line=$(grep -E '([0-9]+) passed, ([0-9]+) failed' "$log" | tail -n 1)
    if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        if [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
            failed=$((failed + 1))   # crashed after counting
        fi
    else
        echo "$name: no result line (exit $rc)"
        failed=$((failed + 1))
    fi
    # (what failed, said again after the closing line's sums, where a log
    # cut to its tail shows it: the suite's FAIL lines, else its own end,
    # as a fuzz target's finding or a crash gives none)
    local said='^FAIL |: FOUND A PROBLEM|: does not build'
    if [ "$failed" -gt "$before" ]; then
        grep -E "$said" "$log" | cut -c1-200 | awk -v n="$name" '{ print n ": " $0 }' >> "$fails"
        grep -qE "$said" "$log" || echo "$name: ${line:-no result line} (exit $rc)" >> "$fails"
    fi
}

suite "unit" "$build/unit"
suite "unit (ASan+UBSan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$build/asan/unit"
suite "mock self-test" /usr/bin/python3 "$here/mock/selftest.py"
suite "end to end" /usr/bin/python3 "$here/e2e/run.py" "$build"
sandir=$(mktemp -d)
suite "end to end, library under ASan+UBSan" env LLF_SANITIZED="$sandir" \
    /usr/bin/python3 "$here/e2e/run.py" "$build"
rm -rf "$sandir"
suite "fuzz (a few seconds per target)" bash "$here/fuzz/run.sh" "$build" "${FUZZ_SECONDS:-5}"

echo
if [ -s "$fails" ]; then
    echo "what failed:"
    head -n 20 "$fails"
fi
[ "$skipped" -eq 0 ] || echo "$skipped skipped (each named above with why; not counted)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
