#!/bin/sh
# A short fuzz run of the core reader under ASan and UBSan: a real core of
# a traced program, its ELF and program headers and contents mutated and
# truncated, read 300 times as tm-core reads it.
. "$top_srcdir/tests/e2e/lib.sh"

command -v gcore >/dev/null || skip "no gcore"
TRACEMALLOC=8 LD_PRELOAD="$runtime" "$programs/sleeper" >"$tmp/out" &
pid=$!
wait_for "$tmp/out" ready
gcore -o "$tmp/core" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
"$top_builddir/tests/fuzz/fuzz_core" "$tmp/core.$pid" 300 >"$tmp/fuzz" 2>&1 ||
	fail "fuzz_core failed: $(tail -30 "$tmp/fuzz")"
cat "$tmp/fuzz"
grep -q 'no faults$' "$tmp/fuzz" || fail "$(cat "$tmp/fuzz")"
