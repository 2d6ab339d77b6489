#!/bin/sh
# C++: operator new (plain, array, aligned, nothrow), std::vector and
# std::string are attributed to the user's function, never to the C++
# runtime, and deleted blocks leave no trace.  With libstdc++'s operators,
# which allocate through malloc, and with jemalloc's and tcmalloc's, which
# do not; linked with the runtime's static library; and with libstdc++
# inside the program (-static-libstdc++, and a fully static program),
# where only the symbol table tells operator new from the program.
. "$top_srcdir/tests/e2e/lib.sh"

source=$top_srcdir/tests/programs/cxx.cc
push_back_line=$(grep -n 'numbers->push_back(i);' "$source" | cut -d: -f1)
string_line=$(grep -n 'text = new std::string(5000' "$source" | cut -d: -f1)
[ -n "$push_back_line" ] && [ -n "$string_line" ] || fail "lines not found in $source"

# check NAME PROGRAM [PRELOAD]: run PROGRAM with PRELOAD (the runtime first,
# so that its hooks are the ones called), and check its table.  With
# $launcher set, run the program through it.
launcher=
check() {
	name=$1
	echo "checking cxx with $name"
	rm -f "$tmp"/trace.*
	timeout 120 env TRACEMALLOC=16 TRACEMALLOC_FILE="$tmp/trace.%p" \
		LD_PRELOAD="${3:-}" $launcher "$2" \
		>"$tmp/out" 2>"$tmp/err" || fail "$name: cxx failed: $(cat "$tmp/err")"
	grep -q '^cxx done$' "$tmp/out" || fail "$name: cxx did not finish"
	trace=$(only_file "$tmp")
	probe_file "$trace" "$tmp/table"
	# 50 widgets of 104 bytes from make_widgets (new Widget()).
	expect_exactly "$tmp/table" 50 '^trace domain=0 size=104 .* frames=make_widgets\(\);main;'
	# The vector's final buffer, grown by push_back inside fill_numbers:
	# std::vector's growth is a template instance compiled into the
	# program, passed over by its name as libstdc++.so's code is.
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=524288 .* frames=fill_numbers\(\);main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=5001 .* frames=build_text\(\);main;'
	expect_exactly "$tmp/table" 0 'frames=(std::|void std::|__gnu_cxx::)'
	# The lines are the program's, not the standard library headers'
	# whose code was inlined there (push_back, the string's constructor).
	"$top_builddir/analyzer/tm-core" analyze "$trace" >"$tmp/top" \
		2>"$tmp/err" || fail "$name: tm-core: $(cat "$tmp/err")"
	grep -q "cxx\.cc:$push_back_line: size=512 KiB, count=1," "$tmp/top" ||
		fail "$name: the vector's growth is not on its push_back: $(cat "$tmp/top")"
	grep -q "cxx\.cc:$string_line: size=5033 B, count=2," "$tmp/top" ||
		fail "$name: the string is not on its line: $(cat "$tmp/top")"
	! grep -q '/include/c++/' "$tmp/top" ||
		fail "$name: a standard library header: $(cat "$tmp/top")"
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

# libstdc++ linked in: the program needs no libstdc++.so, and its own
# operator new is not among its dynamic symbols.
prog=$programs/cxx-libstdcxx-static
readelf -d "$prog" | grep -q 'NEEDED.*libstdc++' &&
	fail "$prog needs libstdc++.so"
readelf --dyn-syms -W "$prog" | grep -q ' _Znwm$' &&
	fail "$prog exports operator new"
check "libstdc++ linked in" "$prog" "$runtime"
# Started through the dynamic loader by name, /proc/self/exe is the loader:
# the runtime finds the program's file (for its symbols, and for the module
# map that names the frames) by the name it was started by.
launcher=$(readelf -l "$prog" |
	sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -x "$launcher" ] || fail "no program interpreter found in $prog"
check "libstdc++ linked in, through the loader" "$prog" "$runtime"
# The name it was started by is only a name: a FIFO there (ld.so --argv0)
# must not stop the program.
mkfifo "$tmp/fifo"
timeout 60 env TRACEMALLOC=16 LD_PRELOAD="$runtime" \
	"$launcher" --argv0 "$tmp/fifo" "$prog" >"$tmp/out" 2>&1 ||
	fail "started as a FIFO's name, cxx failed: $(cat "$tmp/out")"
grep -q '^cxx done$' "$tmp/out" || fail "started as a FIFO's name: $(cat "$tmp/out")"
launcher=
# Fully static: the C library is in the program too, and libstdc++ throws
# std::bad_alloc through the hooks there as well.
readelf -l "$programs/cxx-allstatic" | grep -q INTERP &&
	fail "cxx-allstatic has a program interpreter"
check "all static" "$programs/cxx-allstatic"

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
