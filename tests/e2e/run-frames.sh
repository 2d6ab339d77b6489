#!/bin/sh
# Frames across libc code built without frame pointers: the caller of
# strdup and of fopen is frame 0, and a qsort comparator's allocation
# reaches back through qsort to the function that called it.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >"$tmp/out"
grep -q '^frames done$' "$tmp/out" || fail "frames did not finish"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 '^trace domain=0 size=28 .* frames=leak_strdup;main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=[0-9]+ .* frames=leak_fopen;main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=4242 .* frames=compare_and_allocate;(msort[^;]*;)+qsort_r;sort_things;main;'
# total_nframe counts every frame down to _start.
expect_exactly "$tmp/table" 1 'size=28 nframe=5 total=5 frames=leak_strdup;main;__libc_start_call_main;__libc_start_main[^;]*;_start$'
# With one frame kept, total_nframe still counts them all.
rm -f "$tmp"/trace.*
NFRAME=1 TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >/dev/null
probe_file "$(only_file "$tmp")" "$tmp/one"
expect_exactly "$tmp/one" 1 '^table .* limit=1 '
expect_exactly "$tmp/one" 1 'size=28 nframe=1 total=5 frames=leak_strdup$'
