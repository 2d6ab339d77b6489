#!/bin/sh
# tm-core names the frames of optimized programs whatever way their debug
# information is written:
# - GCC's link-time optimization writes a call inlined from another file
#   with its definition in another unit of the debug information;
# - GCC's split DWARF (-gsplit-dwarf) leaves the scopes in a .dwo file;
# - clang writes DWARF 5 without .debug_aranges, the index libdw finds
#   units through, with and without split DWARF;
# - a stripped program names its debug file in .gnu_debuglink;
# - a build that maps its own path to "." (as Debian's packages are built)
#   leaves the compilation directory relative.
# Each time the inlined call is expanded into its own frame, and every
# frame has its line.
. "$top_srcdir/tests/e2e/lib.sh"

core=$top_builddir/analyzer/tm-core

# check PROGRAM COMPILER: the block PROGRAM keeps is traced to lto_leaf,
# lto_middle (inlined into main) and main, each at its source line.
check() {
	program=$1 compiler=$2
	# The optimizer really inlined lto_middle, or this tests nothing.
	nm "$program" | grep -q ' lto_leaf' ||
		fail "$compiler: lto_leaf was not kept"
	! nm "$program" | grep -q ' lto_middle' ||
		fail "$compiler: lto_middle was not inlined into main"

	rm -f "$tmp"/trace.*
	killed_after block "$program"
	block=$(sed -n 's/^block //p' "$tmp/out")

	timeout 60 "$core" traceback "$tmp/trace.$pid" "$block" \
		>"$tmp/traceback" 2>&1 ||
		fail "$compiler: tm-core traceback: $(cat "$tmp/traceback")"
	grep -q "^$block is 0 bytes into a block of 4321 bytes" \
		"$tmp/traceback" ||
		fail "$compiler: not the block: $(cat "$tmp/traceback")"
	grep '^  File ' "$tmp/traceback" |
		sed -n 's/.*, in \(.*\)$/\1/p' | head -n 3 | tr '\n' ' ' |
		grep -q '^lto_leaf lto_middle main $' ||
		fail "$compiler: frames: $(cat "$tmp/traceback")"
	for line in 'lto-calls.c", line 8, in lto_leaf' \
		'lto-calls.c", line 13, in lto_middle' \
		'lto-main.c", line 11, in main'; do
		grep -q "$line\$" "$tmp/traceback" ||
			fail "$compiler: no '$line': $(cat "$tmp/traceback")"
	done
}

sources="$top_srcdir/tests/programs/lto-main.c $top_srcdir/tests/programs/lto-calls.c"
flags="-g -O2 -fno-optimize-sibling-calls"

check "$programs/lto" "GCC -flto"

# Built as Debian builds packages: in a subfolder, with the build's own
# path mapped to "." (the compilation directory becomes "./src").  Files
# are named from the top of the tree, and the subfolder only once.
mkdir -p "$tmp/tree/src"
# shellcheck disable=SC2086
cp $sources "$tmp/tree/src"
# shellcheck disable=SC2086
(cd "$tmp/tree/src" && gcc $flags -flto -ffile-prefix-map="$tmp/tree=." \
	-o ../mapped lto-main.c lto-calls.c) ||
	fail "GCC could not build with -ffile-prefix-map"
check "$tmp/tree/mapped" "GCC -flto -ffile-prefix-map"
grep -q '^  File "src/lto-calls.c", line 8, in lto_leaf$' "$tmp/traceback" ||
	fail "-ffile-prefix-map: not named from the tree: $(cat "$tmp/traceback")"

cp "$programs/lto" "$tmp/stripped"
objcopy --only-keep-debug "$tmp/stripped" "$tmp/stripped.debug"
strip -g "$tmp/stripped"
objcopy --add-gnu-debuglink="$tmp/stripped.debug" "$tmp/stripped"
check "$tmp/stripped" "GCC -flto, stripped, debug file beside it"

# Both files as one unit, every function but main private to it, so that
# lto_middle is inlined without link-time optimization (which GCC does not
# combine with split DWARF).  The .dwo files go to the current folder.
cd "$tmp"
printf '#include "lto-calls.c"\n#include "lto-main.c"\n' >one.c
# shellcheck disable=SC2086
gcc $flags -gsplit-dwarf -fwhole-program -I"$top_srcdir/tests/programs" \
	-o split-gcc one.c || fail "GCC could not build with -gsplit-dwarf"
ls ./*.dwo >/dev/null 2>&1 || fail "GCC wrote no .dwo file"
check "$tmp/split-gcc" "GCC -gsplit-dwarf"

command -v clang >/dev/null || skip "GCC's builds passed; clang is not installed"
# shellcheck disable=SC2086
clang $flags -flto -o lto-clang $sources || fail "clang could not build"
check "$tmp/lto-clang" "clang -flto"
# shellcheck disable=SC2086
clang $flags -flto -gsplit-dwarf -o split-clang $sources ||
	fail "clang could not build with -gsplit-dwarf"
check "$tmp/split-clang" "clang -flto -gsplit-dwarf"
