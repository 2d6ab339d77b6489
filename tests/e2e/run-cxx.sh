#!/bin/sh
# C++: operator new, std::vector and std::string are attributed to the
# user's function, never to libstdc++.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/cxx" >"$tmp/out"
grep -q '^cxx done$' "$tmp/out" || fail "cxx did not finish"
probe_file "$(only_file "$tmp")" "$tmp/table"
# 50 widgets of 104 bytes from make_widgets (new Widget()).
expect_exactly "$tmp/table" 50 '^trace domain=0 size=104 .* frames=make_widgets\(\);main;'
# The vector's final buffer, grown by push_back inside fill_numbers: the
# first frame outside libstdc++ may be an inlined template instance in
# the program, so look for fill_numbers among the first frames.
expect_exactly "$tmp/table" 1 '^trace domain=0 size=524288 .*frames=([^;]*;){0,3}fill_numbers\(\);main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=5001 .* frames=([^;]*;){0,3}build_text\(\);main;'
# Deleted blocks leave no trace; nothing is blamed on operator new.
expect_exactly "$tmp/table" 0 'frames=churn_and_release'
expect_exactly "$tmp/table" 0 'frames=(operator new|_Znwm)'
