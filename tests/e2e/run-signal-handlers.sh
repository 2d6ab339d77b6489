#!/bin/sh
# Signal handlers that interrupt an allocation and call into the runtime
# (sighandler.c).  fork must not wait for the runtime's locks its own
# thread holds, and each child's table must hold exactly the child's
# blocks; before fork skipped those locks, the program hung within its
# first few forks.  The handler often lands inside the unwinder too, where
# fork must not wait for its own thread (unwind.c, own_count): made to,
# the program hung in 3 runs of 3.  tm_get_object_traceback must answer
# (rightly) too.
. "$top_srcdir/tests/e2e/lib.sh"

traced "$programs/sighandler" fork 1000 >"$tmp/out" ||
	fail "sighandler fork hung or failed: $(cat "$tmp/out")"
grep -q '^sighandler fork=1000 failed=0 table=agrees$' "$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"

# The same with the table in a file: each child copies it aside.
mkdir "$tmp/files"
TRACEMALLOC_FILE=$tmp/files/trace.%p traced "$programs/sighandler" fork 300 \
	>"$tmp/out" || fail "sighandler fork with a file failed: $(cat "$tmp/out")"
grep -q '^sighandler fork=300 failed=0 table=agrees$' "$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"
probe_file "$(only_file "$tmp/files")" "$tmp/probe"

traced "$programs/sighandler" lookup 2000 >"$tmp/out" 2>"$tmp/err" ||
	fail "sighandler lookup hung or failed: $(cat "$tmp/out" "$tmp/err")"
grep -q '^sighandler lookup=2000 failed=0 table=agrees$' "$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"

# Allocations with little stack left (altstack.c): a handler on an
# alternate signal stack too small for an unwind, and one with room; two
# threads with 64 KiB stacks, one as its first allocation; the main thread
# held to 1 MiB by `ulimit -s`; and coroutines on a 64 KiB stack from
# mmap and on an array on the main thread's stack, each with 2 KiB of
# stack left.  None may crash, and each block is traced from its own
# frames: the runtime unwinds on a stack of its own.  Before it did, the
# small handler's and the threads' blocks went untraced, and the
# coroutines died of SIGSEGV; before it looked at the room left, all but
# the large handler died.
mkdir "$tmp/alt"
(ulimit -s 1024 && TRACEMALLOC_FILE=$tmp/alt/trace.%p traced "$programs/altstack") \
	>"$tmp/out" 2>&1 || fail "altstack failed: $(cat "$tmp/out")"
grep -q '^altstack small=traced large=traced first=traced shallow=traced thread=traced main=traced coroutine=traced array=traced$' \
	"$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"
probe_file "$(only_file "$tmp/alt")" "$tmp/alt/table"
# The small handler's blocks, from the handler, through the signal frame.
expect_exactly "$tmp/alt/table" 1 '^trace domain=0 size=111 .* frames=allocate;.*;raise;on_alternate_stack;main;'
expect_exactly "$tmp/alt/table" 1 '^trace domain=0 size=15 .* frames=allocate;.*;raise;on_alternate_stack;main;'
# The deep blocks, unwound past the switch of stacks down to each stack's
# base: about 220 frames of descend (the unwinder stops at 256).
for size in 100 101 102 103 104; do
	expect_exactly "$tmp/alt/table" 1 "^trace domain=0 size=$size nframe=16 total=(2[0-9][0-9]) frames=(descend;){15}descend\$"
done
expect_exactly "$tmp/alt/table" 1 '^trace domain=0 size=99 .* frames=small_thread;start_thread;'
grep -q '^table .* untraced=0 ' "$tmp/alt/table" ||
	fail "altstack left allocations untraced: $(grep '^table' "$tmp/alt/table")"
