#!/bin/sh
# Allocations in a constructor before main, in a dlopen()ed and dlclose()d
# library, and in a signal handler that interrupts allocations.
. "$top_srcdir/tests/e2e/lib.sh"

plugin=$programs/.libs/libplugin.so
[ -f "$plugin" ] || fail "no $plugin"
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/lifecycle" "$plugin" \
	>"$tmp/out" || fail "lifecycle failed"
grep -q '^lifecycle handled=[1-9]' "$tmp/out" || fail "no signals handled"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 '^trace domain=0 size=6666 .* frames=constructor_block;before_main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=5555 '
# The plugin was recorded in the module map when it first allocated.
expect_exactly "$tmp/table" 1 "^module $plugin build_id_len=20\$"
