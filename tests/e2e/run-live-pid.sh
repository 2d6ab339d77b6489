#!/bin/sh
# A live process's table, found by scanning its memory for the magic.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC=8 LD_PRELOAD="$runtime" "$programs/sleeper" >"$tmp/out" \
	2>"$tmp/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
wait_for "$tmp/out" ready
"$probe" pid $pid >"$tmp/table" || fail "tm-probe pid failed"
# Reading a process must leave it running.
kill -0 $pid 2>/dev/null || {
	wait $pid && status=0 || status=$?
	fail "the sleeper died (status $status): $(cat "$tmp/err")"
}
expect_exactly "$tmp/table" 1 "^table .* pid=$pid "
expect_exactly "$tmp/table" 1000 '^trace domain=0 size=7777 .* frames=sleeper_block;main;'
kill -9 $pid 2>/dev/null || true
