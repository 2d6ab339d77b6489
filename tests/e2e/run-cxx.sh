#!/bin/sh
# C++: operator new (plain, array, aligned, nothrow), std::vector and
# std::string are attributed to the user's function, never to the C++
# runtime, and deleted blocks leave no trace.  With libstdc++'s operators,
# which allocate through malloc, and with jemalloc's and tcmalloc's, which
# do not; and linked with the runtime's static library.
. "$top_srcdir/tests/e2e/lib.sh"

# check NAME PROGRAM [PRELOAD]: run PROGRAM with PRELOAD (the runtime first,
# so that its hooks are the ones called), and check its table.
check() {
	name=$1
	echo "checking cxx with $name"
	rm -f "$tmp"/trace.*
	timeout 120 env TRACEMALLOC=16 TRACEMALLOC_FILE="$tmp/trace.%p" \
		LD_PRELOAD="${3:-}" "$2" \
		>"$tmp/out" 2>"$tmp/err" || fail "$name: cxx failed: $(cat "$tmp/err")"
	grep -q '^cxx done$' "$tmp/out" || fail "$name: cxx did not finish"
	probe_file "$(only_file "$tmp")" "$tmp/table"
	# 50 widgets of 104 bytes from make_widgets (new Widget()).
	expect_exactly "$tmp/table" 50 '^trace domain=0 size=104 .* frames=make_widgets\(\);main;'
	# The vector's final buffer, grown by push_back inside fill_numbers:
	# the first frame outside the C++ runtime may be an inlined template
	# instance in the program, so look for fill_numbers among the first
	# frames.
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=524288 .*frames=([^;]*;){0,3}fill_numbers\(\);main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=5001 .* frames=([^;]*;){0,3}build_text\(\);main;'
	expect_exactly "$tmp/table" 10 '^trace domain=0 size=256 .* frames=make_aligned\(\);main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=3333 .* frames=make_nothrow\(\);main;'
	# After a std::bad_alloc thrown through the runtime's hooks.
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=104 .* frames=survive_bad_alloc\(\);main;'
	# Deleted blocks leave no trace; nothing is blamed on operator new.
	expect_exactly "$tmp/table" 0 'frames=churn_and_release'
	expect_exactly "$tmp/table" 0 'frames=(operator new|_Znwm|_Znam)'
}

check libstdc++ "$programs/cxx" "$runtime"
check libtracemalloc.a "$programs/cxx-static"

missing=
for lib in libjemalloc.so.2 libtcmalloc_minimal.so.4; do
	path=$(find /usr/lib /usr/lib64 -name "$lib" 2>/dev/null | head -n 1)
	if [ -z "$path" ]; then
		missing="$missing $lib"
		continue
	fi
	check "$lib" "$programs/cxx" "$runtime $path"
done
[ -z "$missing" ] || skip "not installed:$missing (scripts/setup installs them)"
