#!/bin/sh
# fork while other threads are inside the unwinder (forkunwind.c): every
# child must finish; one that inherited a lock the unwinder held in
# another thread would never do so.  Without the runtime's guard against
# that, a child hung after 19 to 2,050 forks (nine runs).
. "$top_srcdir/tests/e2e/lib.sh"

traced "$programs/forkunwind" 4000 >"$tmp/out" ||
	fail "a forked child hung or failed: $(cat "$tmp/out")"
grep -q '^forkunwind forks=4000 failed=0$' "$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"
