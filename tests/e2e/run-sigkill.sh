#!/bin/sh
# A table kept in TRACEMALLOC_FILE outlives SIGKILL.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/trace.%p LD_PRELOAD="$runtime" \
	"$programs/sleeper" >"$tmp/out" &
pid=$!
wait_for "$tmp/out" ready
kill -9 $pid
wait $pid 2>/dev/null || true
probe_file "$tmp/trace.$pid" "$tmp/table"
expect_exactly "$tmp/table" 1 "^table .* tracing=1 limit=8 pid=$pid "
expect_exactly "$tmp/table" 1000 '^trace domain=0 size=7777 .* frames=sleeper_block;main;'
