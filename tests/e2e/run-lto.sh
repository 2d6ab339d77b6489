#!/bin/sh
# tm-core names the frames of programs built with link-time optimization,
# by GCC and by clang.  GCC writes a call inlined from another file with its
# definition in another unit of the debug information; clang writes DWARF 5
# without .debug_aranges, the index libdw finds units through.  Either way
# the inlined call is expanded into its own frame, and every frame has its
# line.
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
	TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/trace.%p LD_PRELOAD="$runtime" \
		"$program" >"$tmp/out" &
	pid=$!
	wait_for "$tmp/out" block
	kill -9 $pid
	wait $pid 2>/dev/null || true
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

check "$programs/lto" GCC

command -v clang >/dev/null || skip "GCC's build passed; clang is not installed"
clang -g -O2 -flto -fno-optimize-sibling-calls -o "$tmp/lto-clang" \
	"$top_srcdir/tests/programs/lto-main.c" \
	"$top_srcdir/tests/programs/lto-calls.c" ||
	fail "clang could not build the program"
check "$tmp/lto-clang" clang
