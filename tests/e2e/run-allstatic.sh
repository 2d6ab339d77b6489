#!/bin/sh
# A fully static program (gcc -static): no dynamic loader, so no dlsym to
# find libc's malloc and no libunwind to load.  It still traces itself:
# frames right across libc, two threads, a forked child; its trace file and
# its core decode, and tm-core finds the table with or without symbols.
# (run-cxx.sh checks the C++ program linked so.)
. "$top_srcdir/tests/e2e/lib.sh"
kernel_cores

prog=$programs/allstatic
core=$top_builddir/analyzer/tm-core
# Really static: no program interpreter, nothing loaded at run time.
readelf -l "$prog" | grep -q INTERP && fail "$prog has a program interpreter"

TRACEMALLOC=16 TRACEMALLOC_FILE=$tmp/trace.%p timeout 120 "$prog" \
	>"$tmp/out" 2>"$tmp/err" || fail "allstatic failed: $(cat "$tmp/err")"
grep -q '^allstatic done$' "$tmp/out" || fail "allstatic did not finish"
[ ! -s "$tmp/err" ] || fail "allstatic said: $(cat "$tmp/err")"
probe_file "$(only_file "$tmp")" "$tmp/table"
grep -q '^table .* untraced=0 ' "$tmp/table" ||
	fail "untraced blocks: $(grep '^table' "$tmp/table")"
# libc's own functions are inside the program, but its symbol table tells
# them apart: frame 0 is strdup's (fopen's) caller, as in a dynamic program.
expect_exactly "$tmp/table" 1 \
	'^trace domain=0 size=28 .* frames=leak_strdup;main;'
expect_exactly "$tmp/table" 1 \
	'^trace domain=0 size=[0-9]+ .* frames=leak_fopen;main;'
expect_exactly "$tmp/table" 1 \
	'^trace domain=0 size=4242 .* frames=compare_and_allocate;(msort[^;]*;)+__qsort_r;sort_things;main;'
# Nothing else is blamed on the C library either: thread creation, stdio's
# buffers and dlopen allocate for main.
expect_exactly "$tmp/table" 0 'frames=(_|dl_|dlopen)'
# Both threads' blocks, every one kept, from their own stacks.
expect_exactly "$tmp/table" 1000 \
	'^trace domain=0 size=333 .* frames=thread_keep;thread_main;start_thread;'
# The child's block is in the child's table only (it checked it itself).
expect_exactly "$tmp/table" 0 '^trace domain=0 size=777 '

# A core from the kernel, of the program and of a stripped copy.
case $(cat /proc/sys/kernel/core_pattern) in
"|"*)
	echo "note: core_pattern is a pipe; kernel cores not checked"
	exit 0
	;;
esac

# crash_in DIR PROGRAM: run PROGRAM traced until it dies of SIGSEGV in DIR;
# print the core's path.
crash_in() {
	mkdir "$1"
	(cd "$1" && ulimit -c unlimited &&
		exec env TRACEMALLOC=16 timeout 120 "$2" crash) >"$1/out" 2>&1 &&
		fail "$2 crash did not crash"
	grep -q '^allstatic done$' "$1/out" || fail "$2: $(cat "$1/out")"
	kcore=$(ls "$1"/core* 2>/dev/null | head -n 1)
	[ -n "$kcore" ] || fail "the kernel wrote no core ($(cat /proc/sys/kernel/core_pattern))"
	echo "$kcore"
}

# check_core CORE LOCATED_BY EXE...: status says how the table was found;
# analyze's top line is the threads' blocks, named by file and line.
check_core() {
	c=$1 how=$2
	shift 2
	"$core" status "$c" --json "$@" >"$tmp/status" 2>"$tmp/err" ||
		fail "status $c: $(cat "$tmp/err")"
	grep -q "\"located_by\":\"$how\"" "$tmp/status" ||
		fail "status $c: $(cat "$tmp/status")"
	"$core" analyze "$c" --top 1 "$@" >"$tmp/analyze" 2>"$tmp/err" ||
		fail "analyze $c: $(cat "$tmp/err")"
	grep -q 'allstatic\.c:[0-9]*: size=325 KiB, count=1000, average=333 B$' \
		"$tmp/analyze" || fail "analyze $c: $(cat "$tmp/analyze")"
}

check_core "$(crash_in "$tmp/symbols" "$prog")" symbol

# Stripped: no symbol to go by, so the magic scan finds the table; the
# unstripped program named with --exe gives the lines back.
cp "$prog" "$tmp/stripped"
strip "$tmp/stripped"
check_core "$(crash_in "$tmp/scan" "$tmp/stripped")" scan --exe "$prog"
