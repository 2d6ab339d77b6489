#!/bin/sh
# 8 threads allocating and freeing at once: the table ends exact.
. "$top_srcdir/tests/e2e/lib.sh"

# Then again with no room for the stacks the runtime unwinds on (nospare):
# every thread unwinds on its own stack instead, and the table is the same.
for mode in spare nospare; do
	mkdir "$tmp/$mode"
	status=0
	TRACEMALLOC_FILE=$tmp/$mode/trace.%p traced "$programs/threads" $mode \
		>"$tmp/out" || status=$?
	[ "$status" -eq 77 ] && { echo "threads $mode: skipped"; continue; }
	[ "$status" -eq 0 ] || fail "threads $mode: exit status $status"
	grep -q '^threads done$' "$tmp/out" || fail "threads $mode did not finish"
	probe_file "$(only_file "$tmp/$mode")" "$tmp/table"
	expect_exactly "$tmp/table" 800 '^trace domain=0 size=333 .* frames=thread_leak;work;'
	# Allocations from key destructors that run after the runtime's,
	# each thread's while its child allocates: all traced, from their
	# own frames.  (Before the runtime's destructor left its thread
	# without the cache it hands on, seven runs in ten died: two threads
	# unwound on one stack.)
	expect_exactly "$tmp/table" 9600 '^trace domain=0 size=444 .* frames=late_keep;late_destructor;'
	expect_exactly "$tmp/table" 4800 '^trace domain=0 size=555 .* frames=child_keep;child_work;'
	grep -q '^table .* untraced=0 ' "$tmp/table" ||
		fail "threads $mode: $(grep '^table' "$tmp/table")"
	echo "threads $mode: ok"
done

# Threads whose first traced allocation happens inside pthread_getattr_np,
# with the thread's own lock held: the runtime must not ask for that lock
# again when it sets up the thread's stack cache.
TRACEMALLOC_FILE=$tmp/getattr.%p traced "$programs/getattr" >"$tmp/out" ||
	fail "getattr: exit status $? (124: it hung)"
grep -q '^getattr done$' "$tmp/out" || fail "getattr did not finish"
probe_file "$(ls "$tmp"/getattr.*)" "$tmp/table"
expect_exactly "$tmp/table" 40 '^trace domain=0 size=777 .* frames=getattr_leak;work;'

# Threads that allocate with a pthread_cancel() pending (cancel.c): the
# cancellation takes effect where the program asks, never inside malloc,
# though the runtime grows its file, opens it again, writes a diagnostic
# and creates the file (tm_start) meanwhile.  Before, the thread ended inside the runtime with
# its locks held, and the program hung.
for mode in grow reopen lost start; do
	mkdir "$tmp/cancel-$mode"
	status=0
	nframe=1 started=
	# start: tracing is off until the program starts it.
	[ $mode = start ] && nframe= started=' started=0'
	timeout 120 env TRACEMALLOC=$nframe LD_PRELOAD="$runtime" \
		TRACEMALLOC_FILE="$tmp/cancel-$mode/trace.%p" \
		"$programs/cancel" $mode >"$tmp/out" 2>"$tmp/err" || status=$?
	[ "$status" -eq 77 ] && { echo "cancel $mode: skipped"; continue; }
	[ "$status" -eq 0 ] ||
		fail "cancel $mode: exit status $status (124: it hung): $(cat "$tmp/err")"
	grep -q "^cancel $mode allocated=100000 cancelled=yes$started\$" "$tmp/out" ||
		fail "cancel $mode: $(cat "$tmp/out")"
	case $mode in
	lost)
		grep -q '^tm: the trace file .* was removed or replaced' "$tmp/err" ||
			fail "cancel lost: no diagnostic: $(cat "$tmp/err")"
		;;
	*)
		[ ! -s "$tmp/err" ] || fail "cancel $mode: $(cat "$tmp/err")"
		probe_file "$(only_file "$tmp/cancel-$mode")" "$tmp/table"
		expect_exactly "$tmp/table" 100000 \
			'^trace domain=0 size=48 .* frames=cancelled_keep$'
		;;
	esac
	echo "cancel $mode: ok"
done

# The same start with libunwind hidden (a mount namespace binds an empty
# file over it): the runtime says so on stderr, with the cancellation
# pending, and traces through glibc's backtrace() instead.  The message
# names why: it used to print dlerror()'s string after the next dlsym()
# had freed it.
unwind=$(ldconfig -p | sed -n 's/^[[:space:]]*libunwind\.so\.8 (.*=> //p' | head -n 1)
if [ "$(id -u)" -ne 0 ] || [ -z "$unwind" ] || ! unshare -m true 2>/dev/null; then
	echo "cancel start without libunwind: skipped (needs root and unshare -m)"
else
	mkdir "$tmp/cancel-nounwind"
	status=0
	timeout 120 unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec env "$@"' \
		sh "$unwind" LD_PRELOAD="$runtime" \
		TRACEMALLOC_FILE="$tmp/cancel-nounwind/trace.%p" \
		"$programs/cancel" start >"$tmp/out" 2>"$tmp/err" || status=$?
	[ "$status" -eq 0 ] ||
		fail "cancel start without libunwind: exit status $status: $(cat "$tmp/err")"
	grep -q '^cancel start allocated=100000 cancelled=yes started=0$' "$tmp/out" ||
		fail "cancel start without libunwind: $(cat "$tmp/out")"
	grep -qxF "tm: libunwind.so.8 is not available ($unwind: file too short); unwinding with glibc backtrace(), which is slower" \
		"$tmp/err" || fail "cancel start without libunwind: $(cat "$tmp/err")"
	probe_file "$(only_file "$tmp/cancel-nounwind")" "$tmp/table"
	expect_exactly "$tmp/table" 100000 \
		'^trace domain=0 size=48 .* frames=cancelled_keep$'
	echo "cancel start without libunwind: ok"
fi
