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

# count FILE SIZE FRAMES: how many traces of SIZE in FILE have FRAMES first.
count() {
	grep -c -E "^trace domain=0 size=$2 .* frames=$3;call;main;" "$1"
}

# right FILE: both callers have their own three traces in FILE, both when
# allocate_below calls malloc and when it calls clobbering_malloc (x86-64).
right() {
	[ "$(count "$1" 101 allocate_below\;via_long)" -eq 3 ] &&
		[ "$(count "$1" 202 allocate_below\;via_short)" -eq 3 ] &&
		if [ "$(uname -m)" = x86_64 ]; then
			[ "$(count "$1" 303 clobbering_malloc\;allocate_below\;via_long)" -eq 3 ] &&
				[ "$(count "$1" 606 clobbering_malloc\;allocate_below\;via_short)" -eq 3 ]
		fi
}

run 0
if ! right "$t"; then
	echo "ERROR: wrong tracebacks without the stack cache" >&2
	exit 99
fi
run 1
right "$t" || fail "the stack cache gave a traceback of another caller: $(grep -E 'size=(202|606) .*via_long' "$t" | head -1)"
