#!/usr/bin/env bash
# run.sh BUILD SECONDS [TARGET…] — build every libFuzzer target (or only the
# named ones, e.g. fuzz_schema) and run each for SECONDS, seeded from the test fixtures
# (and tests/fuzz/seeds/TARGET where a target reads its own format); prints "fuzz: N passed, N failed"
# (a target fails when it finds a crash, a leak or undefined behaviour).
set -uo pipefail
build=$1
secs=${2:-10}
shift 2 || shift $#
only=" $* "
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$build/fuzz
mkdir -p "$out"
logic=$(cd "$root" && make -s -f Makefile print-logic)
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
       -I"$root/preload" -I"$root/third_party" $(pkg-config --cflags libcurl))
libs=($(pkg-config --libs libcurl) -lm -lz -lpthread)
passed=0 failed=0
for src in "$root"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || continue
    if ! (cd "$root" && clang "${flags[@]}" -o "$out/$name" "$src" $logic "${libs[@]}") 2> "$out/$name.build"; then
        echo "$name: does not build"; cat "$out/$name.build"; failed=$((failed + 1)); continue
    fi
    corpus=$out/corpus-$name
    mkdir -p "$corpus"
    find "$root/tests/fixtures" -name '*.json' -exec cp {} "$corpus/" \; 2>/dev/null
    # seeds in a target's own input format, where fixtures are not
    [ -d "$root/tests/fuzz/seeds/$name" ] && cp "$root/tests/fuzz/seeds/$name/"* "$corpus/"
    # (a crashing input is written beside the log, not into the directory run from)
    if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/" "$corpus" \
            > "$out/$name.log" 2>&1; then
        echo "$name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/$name.log" | tail -1 || true)$(tail -1 "$out/$name.log") in ${secs}s"
        passed=$((passed + 1))
    else
        echo "$name: FOUND A PROBLEM (see $out/$name.log)"; tail -30 "$out/$name.log"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
