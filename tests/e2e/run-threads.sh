#!/bin/sh
# 8 threads allocating and freeing at once: the table ends exact.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/threads" >"$tmp/out"
grep -q '^threads done$' "$tmp/out" || fail "threads did not finish"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 800 '^trace domain=0 size=333 .* frames=thread_leak;work;'

# Threads whose first traced allocation happens inside pthread_getattr_np,
# with the thread's own lock held: the runtime must not ask for that lock
# again when it sets up the thread's stack cache.
TRACEMALLOC_FILE=$tmp/getattr.%p traced "$programs/getattr" >"$tmp/out" ||
	fail "getattr: exit status $? (124: it hung)"
grep -q '^getattr done$' "$tmp/out" || fail "getattr did not finish"
probe_file "$(ls "$tmp"/getattr.*)" "$tmp/table"
expect_exactly "$tmp/table" 40 '^trace domain=0 size=777 .* frames=getattr_leak;work;'
