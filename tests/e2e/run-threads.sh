#!/bin/sh
# 8 threads allocating and freeing at once: the table ends exact.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/threads" >"$tmp/out"
grep -q '^threads done$' "$tmp/out" || fail "threads did not finish"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 800 '^trace domain=0 size=333 .* frames=thread_leak;work;'
