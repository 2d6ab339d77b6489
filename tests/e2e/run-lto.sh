#!/bin/sh
# tm-core names the frames of a program built with link-time optimization:
# there GCC writes a call inlined from another file with its definition in
# another unit of the debug information, and the inlined call is still
# expanded into its own frame, with its line.
. "$top_srcdir/tests/e2e/lib.sh"

program=$programs/lto
# The optimizer really inlined lto_middle, or this tests nothing.
nm "$program" | grep -q ' lto_leaf' || fail "lto_leaf was not kept"
! nm "$program" | grep -q ' lto_middle' ||
	fail "the link-time optimizer did not inline lto_middle into main"

TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/trace.%p LD_PRELOAD="$runtime" \
	"$program" >"$tmp/out" &
pid=$!
wait_for "$tmp/out" block
kill -9 $pid
wait $pid 2>/dev/null || true
block=$(sed -n 's/^block //p' "$tmp/out")

timeout 60 "$top_builddir/analyzer/tm-core" traceback "$tmp/trace.$pid" \
	"$block" >"$tmp/traceback" 2>&1 ||
	fail "tm-core traceback: $(cat "$tmp/traceback")"
grep -q "^$block is 0 bytes into a block of 4321 bytes" "$tmp/traceback" ||
	fail "not the block: $(cat "$tmp/traceback")"
grep '^  File ' "$tmp/traceback" | sed -n 's/.*, in \(.*\)$/\1/p' | head -n 3 |
	tr '\n' ' ' | grep -q '^lto_leaf lto_middle main $' ||
	fail "frames: $(cat "$tmp/traceback")"
# The inlined call's frame stands at its line in lto-calls.c.
grep -A1 'lto-calls.c", line [0-9]*, in lto_middle$' "$tmp/traceback" |
	grep -q 'void \*block = lto_leaf(size);' ||
	fail "lto_middle's line: $(cat "$tmp/traceback")"
