#!/bin/sh
# Allocations on makecontext coroutine stacks (mapped, from malloc, inside
# a thread's own stack), on one stack reused by two coroutines, and in
# signal handlers (on alternate stacks and on the interrupted stack): every
# traceback is the path the program took, with the stack cache on and off.
# Each path allocates a size of its own (tests/programs/otherstacks.c).
. "$top_srcdir/tests/e2e/lib.sh"

# Coroutines end in glibc's __start_context, which has no dynamic symbol.
coroutine='[^;]+$'

for cache in 1 0; do
	rm -f "$tmp"/trace.*
	TRACEMALLOC_STACK_CACHE=$cache TRACEMALLOC_FILE=$tmp/trace.%p \
		traced "$programs/otherstacks" >"$tmp/out" ||
		fail "otherstacks: exit status $?"
	grep -q '^otherstacks done' "$tmp/out" || fail "otherstacks did not finish"
	t=$tmp/table.$cache
	probe_file "$(only_file "$tmp")" "$t"
	for stack in 11 12 13 14 15; do
		expect_exactly "$t" 50 "^trace domain=0 size=${stack}01 nframe=3 total=3 frames=alloc_leaf;coro_a;$coroutine"
		expect_exactly "$t" 50 "^trace domain=0 size=${stack}02 nframe=3 total=3 frames=alloc_leaf;coro_b;$coroutine"
	done
	expect_exactly "$t" 50 "^trace domain=0 size=1601 .* frames=alloc_leaf;recurse;recurse;recurse;coro_recurse;$coroutine"
	expect_exactly "$t" 50 "^trace domain=0 size=1602 .* frames=alloc_leaf;recurse;recurse;recurse;recurse;coro_recurse;$coroutine"
	for handler in 21 22; do
		expect_exactly "$t" 50 "^trace domain=0 size=${handler}01 .* frames=alloc_leaf;on_signal;.*;raise;sig_from_x;main;"
		expect_exactly "$t" 50 "^trace domain=0 size=${handler}02 .* frames=alloc_leaf;on_signal;.*;raise;sig_from_y;main;"
	done
	expect_exactly "$t" 50 "^trace domain=0 size=2301 .* frames=alloc_leaf;on_signal;.*;raise;sig_from_x;altstack_on_own_stack;main;"
	expect_exactly "$t" 50 "^trace domain=0 size=2302 .* frames=alloc_leaf;on_signal;.*;raise;sig_from_y;altstack_on_own_stack;main;"
	grep '^trace' "$t" | sed 's/ address=[^ ]*//' | sort >"$tmp/sorted.$cache"
done
cmp -s "$tmp/sorted.1" "$tmp/sorted.0" ||
	fail "the cache changed the tracebacks: $(diff "$tmp/sorted.0" "$tmp/sorted.1")"
