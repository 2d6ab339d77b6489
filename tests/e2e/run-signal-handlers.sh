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

# Handlers on an alternate signal stack (altstack.c): one too small for an
# unwind must not crash, and its blocks go untraced; one with room is
# traced.  The same for a thread, after a first allocation and as its
# first, and for the main thread held to 1 MiB by `ulimit -s`, that
# allocate with 2 KiB of stack left.  Made to unwind anyway, the small
# handler, the threads and the main thread died of SIGSEGV.
mkdir "$tmp/alt"
(ulimit -s 1024 && TRACEMALLOC_FILE=$tmp/alt/trace.%p traced "$programs/altstack") \
	>"$tmp/out" 2>&1 || fail "altstack failed: $(cat "$tmp/out")"
grep -q '^altstack small=untraced large=traced thread shallow=traced deep=untraced first=untraced main=untraced$' \
	"$tmp/out" ||
	fail "unexpected output: $(cat "$tmp/out")"
# The five blocks left untraced are counted, and tm-core says why.
"$top_builddir/analyzer/tm-core" status "$(only_file "$tmp/alt")" >"$tmp/status" ||
	fail "tm-core status failed on altstack's file"
grep -q '^untraced: 5 allocations (no room in the table, or too little stack left to unwind)$' \
	"$tmp/status" || fail "unexpected status: $(cat "$tmp/status")"
