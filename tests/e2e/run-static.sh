#!/bin/sh
# The static variant: a program linked with libtracemalloc.a traces itself
# with no LD_PRELOAD, with the same frames as under the preloaded runtime.
. "$top_srcdir/tests/e2e/lib.sh"

prog=$programs/frames-static
# Really static: the runtime is inside the program, not a dependency.
ldd "$prog" | grep -q libtracemalloc && fail "$prog links libtracemalloc.so"
nm "$prog" | grep -q ' T malloc$' || fail "$prog does not define malloc"

TRACEMALLOC=16 TRACEMALLOC_FILE=$tmp/trace.%p timeout 120 "$prog" >"$tmp/out"
grep -q '^frames done$' "$tmp/out" || fail "frames-static did not finish"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 '^trace domain=0 size=28 .* frames=leak_strdup;main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=[0-9]+ .* frames=leak_fopen;main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=4242 .* frames=compare_and_allocate;(msort[^;]*;)+qsort_r;sort_things;main;'
