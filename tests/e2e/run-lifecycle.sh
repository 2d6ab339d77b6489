#!/bin/sh
# Allocations in a constructor before main, in a dlopen()ed and dlclose()d
# library, and in a signal handler that interrupts allocations.  Then a
# second library loaded where the first had been: both are recorded, and
# tm-core warns that one address range had two modules.
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

# Another library after the first was closed, most likely at its address.
other=$programs/.libs/libplugin-other.so
rm -f "$tmp"/trace.*
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/lifecycle" "$plugin" "$other" \
	>"$tmp/out" || fail "lifecycle failed"
trace=$(only_file "$tmp")
probe_file "$trace" "$tmp/table"
expect_exactly "$tmp/table" 2 '^trace domain=0 size=5555 '
expect_exactly "$tmp/table" 1 "^module $plugin build_id_len=20\$"
expect_exactly "$tmp/table" 1 "^module $other build_id_len=20\$"
"$top_builddir/analyzer/tm-core" analyze "$trace" >/dev/null 2>"$tmp/err" ||
	fail "tm-core: $(cat "$tmp/err")"
first=$(sed -n "s|^lifecycle: $plugin at ||p" "$tmp/out")
second=$(sed -n "s|^lifecycle: $other at ||p" "$tmp/out")
if [ "$first" = "$second" ]; then
	grep -q "warning: 1 module(s) had another loaded at some of their addresses after them (e.g. $plugin, then $other)" \
		"$tmp/err" || fail "no warning: $(cat "$tmp/err")"
else
	echo "note: the loader put the second library elsewhere ($first, $second)"
	[ ! -s "$tmp/err" ] || fail "a warning: $(cat "$tmp/err")"
fi
