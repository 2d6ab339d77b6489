#!/bin/sh
# The runtime keeps its trace file's descriptor above the low numbers that
# programs' own files get.  A program that takes it away anyway (fdreuse.c):
# by closing every descriptor, or by putting its own file on the number.  The
# runtime must notice before it grows the file or punches holes in it, open
# the trace file again by its path (the program has changed directory: the
# path must be absolute), and never close or write the program's file.
# And where holes cannot be punched, pages given back must still come back
# empty.  Before, the program's file was truncated and overwritten, and
# the table hung on its next insertion.  libunwind's own pipe (for checking
# stack addresses) is kept high too: at the low numbers it had, a new
# thread's unwind read the program's input and wrote into its output.
. "$top_srcdir/tests/e2e/lib.sh"

for mode in close dup2 nopunch; do
	mkdir "$tmp/$mode"
	status=0
	(cd "$tmp" && TRACEMALLOC_FILE=$mode/trace.%p traced \
		"$programs/fdreuse" $mode "$tmp/$mode.own") >"$tmp/$mode.out" \
		2>"$tmp/$mode.err" || status=$?
	[ "$status" -eq 77 ] && { echo "$mode: skipped"; continue; }
	[ "$status" -eq 0 ] ||
		fail "fdreuse $mode: status $status: $(cat "$tmp/$mode.out" "$tmp/$mode.err")"
	input=intact
	[ $mode = dup2 ] && input=untested
	grep -q "^fdreuse $mode descriptor=high input=$input child=ok parent=ok file=intact\$" \
		"$tmp/$mode.out" || fail "unexpected output: $(cat "$tmp/$mode.out")"
	[ ! -s "$tmp/$mode.err" ] ||
		fail "fdreuse $mode complained: $(cat "$tmp/$mode.err")"
	# The file kept growing after the program took the descriptor: it
	# holds every live block.
	probe_file "$(only_file "$tmp/$mode")" "$tmp/$mode.table"
	expect_count "$tmp/$mode.table" 200000 \
		'^trace domain=0 .* frames=keep_block;'
	echo "$mode: ok"
done

# The runtime's pipe2 passes every call on: a library preloaded after it
# that wraps pipe2 still sees the program's calls.
python=/usr/bin/python3
[ -x "$python" ] || fail "no $python (configure requires it)"
wrap=$programs/.libs/libpipewrap.so
TRACEMALLOC=8 timeout 60 env LD_PRELOAD="$runtime $wrap" "$python" -c \
	'import os; os.pipe2(0)' 2>"$tmp/wrap.err" ||
	fail "python with the pipe2 wrapper failed: $(cat "$tmp/wrap.err")"
grep -q '^pipewrap: pipe2$' "$tmp/wrap.err" ||
	fail "the wrapper preloaded after the runtime saw no pipe2 call"
echo "pipe2 passed on: ok"
