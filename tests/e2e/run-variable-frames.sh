#!/bin/sh
# Frames of varying size: a function whose frame size varies (alloca, a
# variable-length array) can leave a stale copy of an earlier caller's
# return address exactly where the stack cache checks.  The cache must tell
# the two callers apart by the saved frame pointers that moved
# (stackcache.c, add_frame_pointer_checks).  tests/programs/varframes.c
# builds the case.  Without the cache the tracebacks must be right (a hard
# error otherwise, exit 99); with it, they must be the same.
. "$top_srcdir/tests/e2e/lib.sh"

# run CACHE: the program's table, decoded into $t.
run() {
	rm -f "$tmp"/trace.*
	status=0
	TRACEMALLOC_STACK_CACHE=$1 TRACEMALLOC_FILE=$tmp/trace.%p \
		traced "$programs/varframes" >"$tmp/out" || status=$?
	[ $status -ne 77 ] || skip "$(cat "$tmp/out")"
	[ $status -eq 0 ] || fail "varframes: exit status $status"
	t=$tmp/table.$1
	probe_file "$(only_file "$tmp")" "$t"
}

# right FILE: both callers have their own three traces in FILE.
right() {
	[ "$(grep -c -E '^trace domain=0 size=101 .* frames=allocate_below;via_long;call;main;' "$1")" -eq 3 ] &&
		[ "$(grep -c -E '^trace domain=0 size=202 .* frames=allocate_below;via_short;call;main;' "$1")" -eq 3 ]
}

run 0
if ! right "$t"; then
	echo "ERROR: wrong tracebacks without the stack cache" >&2
	exit 99
fi
run 1
right "$t" || fail "the stack cache gave a traceback of another caller: $(grep 'size=202' "$t" | head -1)"
