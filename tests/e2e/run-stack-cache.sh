#!/bin/sh
# The per-thread stack cache never hands out another stack's traceback:
# callers with identical frame layouts (two or ten frames above the
# allocation), recursion at alternating depths, and the same through libc
# wrappers, with the cache on and off.
. "$top_srcdir/tests/e2e/lib.sh"

for cache in 1 0; do
	rm -f "$tmp"/trace.*
	TRACEMALLOC_STACK_CACHE=$cache TRACEMALLOC_FILE=$tmp/trace.%p \
		traced "$programs/samestack" >"$tmp/out"
	grep -q '^samestack done$' "$tmp/out" || fail "samestack did not finish"
	probe_file "$(only_file "$tmp")" "$tmp/table.$cache"
	t=$tmp/table.$cache
	expect_exactly "$t" 1000 '^trace domain=0 size=101 nframe=[0-9]+ total=6 frames=alloc_leaf;via_a;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=202 nframe=[0-9]+ total=6 frames=alloc_leaf;via_b;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=303 nframe=[0-9]+ total=9 frames=alloc_leaf;recurse;recurse;recurse;recurse;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=505 nframe=[0-9]+ total=11 frames=alloc_leaf;recurse;recurse;recurse;recurse;recurse;recurse;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=707 nframe=[0-9]+ total=7 frames=alloc_leaf;middle;outer_x;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=808 nframe=[0-9]+ total=7 frames=alloc_leaf;middle;outer_z;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=909 nframe=[0-9]+ total=15 frames=alloc_leaf;(recurse;){9}deep_x;main;'
	expect_exactly "$t" 1000 '^trace domain=0 size=1010 nframe=[0-9]+ total=15 frames=alloc_leaf;(recurse;){9}deep_z;main;'
	grep '^trace' "$t" | sort >"$tmp/sorted.$cache"
done
# Both runs saw the same tracebacks (addresses aside).
sed 's/ size=[0-9]*//' "$tmp/sorted.1" | sort | uniq -c >"$tmp/c1"
sed 's/ size=[0-9]*//' "$tmp/sorted.0" | sort | uniq -c >"$tmp/c0"
cmp -s "$tmp/c1" "$tmp/c0" || fail "the cache changed the tracebacks: $(diff "$tmp/c0" "$tmp/c1")"
