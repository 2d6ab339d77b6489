#!/bin/sh
# A C program that loads C++ code with dlopen: libstdc++ arrives after
# tracing started, and its frames (operator new, std::string's, the string
# stream's) are passed over as they are when the program starts with it;
# so are the library's own instances of std::vector's functions.
# Preloaded, and with the runtime's static library, whose operator new is
# libstdc++'s.  The library is loaded by a relative name, and the module
# map names its file absolutely, so that a reader elsewhere finds it.
# The same library with libstdc++ linked into it, its symbols hidden: its
# own operator new is known by name.  Then an allocator library loaded and
# closed again: the code loaded at its addresses next is the program's,
# and the allocator loaded there again is passed over again.
. "$top_srcdir/tests/e2e/lib.sh"

readelf -d "$programs/dlhost" | grep -q 'NEEDED.*libstdc++' &&
	fail "dlhost needs libstdc++ from the start"
static_plugin=$programs/libcxxplugin-static.so
[ -f "$static_plugin" ] || fail "no $static_plugin"
readelf -d "$static_plugin" | grep -q 'NEEDED.*libstdc++' &&
	fail "$static_plugin needs libstdc++.so"
readelf --dyn-syms -W "$static_plugin" | grep -q ' _Znwm$' &&
	fail "$static_plugin exports operator new"

# check NAME LIBRARY PROGRAM [PRELOAD]: run PROGRAM in LIBRARY's folder,
# loading it by a relative name.
check() {
	echo "checking $1"
	dir=$(cd "$(dirname "$2")" && pwd -P)
	library=$(basename "$2")
	rm -f "$tmp"/trace.*
	(cd "$dir" && timeout 120 env TRACEMALLOC=16 \
		TRACEMALLOC_FILE="$tmp/trace.%p" LD_PRELOAD="${4:-}" \
		"$3" "./$library") >"$tmp/out" 2>"$tmp/err" ||
		fail "$1: dlhost failed: $(cat "$tmp/err")"
	grep -q '^dlhost done$' "$tmp/out" || fail "$1: dlhost did not finish"
	trace=$(only_file "$tmp")
	probe_file "$trace" "$tmp/table"
	expect_exactly "$tmp/table" 1 "^module $dir/$library build_id_len=20\$"
	grep -q '^cxxplugin: std::bad_alloc$' "$tmp/out" ||
		fail "$1: operator new did not throw std::bad_alloc"
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=4444 .* frames=make_array\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=32 .* frames=make_text\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=3001 .* frames=make_text\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=32 .* frames=make_report\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=5000 .* frames=make_report\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 1 '^trace domain=0 size=8192 .* frames=fill_numbers\(\);plugin_allocate;main;'
	expect_exactly "$tmp/table" 0 'frames=operator new'
	expect_exactly "$tmp/table" 0 'frames=[^;]*std::'
	# The exception thrown is allocated by the C++ runtime (libstdc++'s,
	# or the library's own copy of it) for the function that throws.
	expect_exactly "$tmp/table" 0 'frames=__cxa_'
	# And nothing else: the runtime's own look-ups allocate nothing in
	# the program's name.
	expect_exactly "$tmp/table" 5 'frames=make_[a-z]*\(\);plugin_allocate;'
	expect_exactly "$tmp/table" 2 'frames=fill_numbers\(\);plugin_allocate;'
	# Read from another folder, the library's frames have their lines.
	"$top_builddir/analyzer/tm-core" analyze "$trace" >"$tmp/top" \
		2>"$tmp/err" || fail "$1: tm-core: $(cat "$tmp/err")"
	grep -q 'cxxplugin\.cc:[1-9][0-9]*: size=4444 B, count=1' "$tmp/top" ||
		fail "$1: no line for new[]: $(cat "$tmp/top")"
}

plugin=$programs/.libs/libcxxplugin.so
check "a C program" "$plugin" "$programs/dlhost" "$runtime"
check "a C program linked with libtracemalloc.a" "$plugin" \
	"$programs/dlhost-static"
# libstdc++ is part of the library, its symbols hidden, as in a program
# linked with -static-libstdc++: its functions are known by their names in
# the library's static symbol table.
check "libstdc++ inside the library" "$static_plugin" "$programs/dlhost" \
	"$runtime"
check "libstdc++ inside the library, libtracemalloc.a" "$static_plugin" \
	"$programs/dlhost-static"

# The allocator library is a stand-in (any library whose name says it is
# one of the allocators the runtime passes over), closed before the
# program's next library is loaded, most likely at its addresses.
cp "$programs/.libs/libplugin-other.so" "$tmp/libmimalloc-stand-in.so"
plugin=$programs/.libs/libplugin.so
rm -f "$tmp"/trace.*
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/lifecycle" \
	"$tmp/libmimalloc-stand-in.so" "$plugin" >"$tmp/out" ||
	fail "lifecycle failed"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 '^trace domain=0 size=5555 .* frames=main;'
expect_exactly "$tmp/table" 1 '^trace domain=0 size=5555 .* frames=plugin_allocate;main;'
first=$(sed -n "s|^lifecycle: $tmp/libmimalloc-stand-in.so at ||p" "$tmp/out")
second=$(sed -n "s|^lifecycle: $plugin at ||p" "$tmp/out")
[ "$first" = "$second" ] ||
	echo "note: the loader put the second library elsewhere ($first, $second)"

# The allocator library loaded again after it was closed (most likely at
# the same addresses) is passed over again.
rm -f "$tmp"/trace.*
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/lifecycle" \
	"$tmp/libmimalloc-stand-in.so" "$tmp/libmimalloc-stand-in.so" \
	>"$tmp/out" || fail "lifecycle failed"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 2 '^trace domain=0 size=5555 .* frames=main;'

# Loaded and closed again and again at the same addresses, from the same
# stack: every time the same frames come back, which the last load's were
# taken for, and the closed library's slots for the ranges passed over are
# used again (there are 128).  Unwound in full every time (without the
# stack cache), as in a program whose stacks do not repeat.
rm -f "$tmp"/trace.*
TRACEMALLOC_STACK_CACHE=0 TRACEMALLOC_FILE=$tmp/trace.%p traced \
	"$programs/lifecycle" -r 300 "$tmp/libmimalloc-stand-in.so" \
	>"$tmp/out" || fail "lifecycle -r 300 failed"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 300 '^trace domain=0 size=5555 .* frames=main;'

# The same with libstdc++ inside the library: its operator new is passed
# over on every load, and every load's frames are named; the loads at the
# same addresses share one record in the module map, and the library's
# standard library functions, read from its file once, serve every load.
rm -f "$tmp"/trace.*
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/lifecycle" -r 20 \
	"$static_plugin" >"$tmp/out" || fail "lifecycle -r 20 failed"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 "^module $static_plugin build_id_len=20\$"
expect_exactly "$tmp/table" 20 '^trace domain=0 size=4444 .* frames=make_array\(\);plugin_allocate;main;'
expect_exactly "$tmp/table" 20 '^trace domain=0 size=32 .* frames=make_report\(\);plugin_allocate;main;'
expect_exactly "$tmp/table" 20 '^trace domain=0 size=3001 .* frames=make_text\(\);plugin_allocate;main;'
expect_exactly "$tmp/table" 20 '^trace domain=0 size=8192 .* frames=fill_numbers\(\);plugin_allocate;main;'
expect_exactly "$tmp/table" 0 'frames=operator new'

# A C library loaded by a relative name is recorded at its first
# allocation, after the program changed folders: it is named by the file
# that was loaded, not from the folder the program is in by then.
plugin_dir=$(cd "$programs/.libs" && pwd -P)
rm -f "$tmp"/trace.*
(cd "$plugin_dir" && TRACEMALLOC_FILE=$tmp/trace.%p traced \
	"$programs/dlhost" -C / ./libplugin.so) >"$tmp/out" ||
	fail "dlhost -C failed"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_exactly "$tmp/table" 1 "^module $plugin_dir/libplugin.so build_id_len=20\$"
expect_exactly "$tmp/table" 1 '^trace domain=0 size=5555 .* frames=plugin_allocate;main;'
