#!/bin/sh
# A table kept in TRACEMALLOC_FILE outlives SIGKILL.
. "$top_srcdir/tests/e2e/lib.sh"

killed_after ready "$programs/sleeper"
probe_file "$tmp/trace.$pid" "$tmp/table"
expect_exactly "$tmp/table" 1 "^table .* tracing=1 limit=8 pid=$pid "
expect_exactly "$tmp/table" 1000 '^trace domain=0 size=7777 .* frames=sleeper_block;main;'
