#!/bin/sh
# tm_get_tracemalloc_memory() counts the runtime's own memory too: the
# pages of its writable segments that are its alone (its state, its fixed
# arrays, its GOT; the anonymous ones, not its file's pages only read),
# which the kernel counts as the program's.  With tracing off, that is all
# it reports, and it equals what /proc/self/smaps says of them.
. "$top_srcdir/tests/e2e/lib.sh"

env -u TRACEMALLOC "$programs/ownmemory" >"$tmp/out" 2>"$tmp/err" ||
	fail "ownmemory: $(cat "$tmp/out" "$tmp/err")"
grep -q '^ownmemory reported=[1-9][0-9]* anonymous=[1-9][0-9]*$' "$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"
cat "$tmp/out"
