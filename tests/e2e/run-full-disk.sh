#!/bin/sh
# A trace file on a file system with no room left.  The table's pages are a
# shared mapping of the file: a page the file system had no room for when
# it was first written raised SIGBUS, which killed the traced program.  Now
# the runtime allocates the file's blocks before it writes there: the
# program goes on, its table stops growing (the rest of its allocations go
# untraced, and counted), and the file decodes.
. "$top_srcdir/tests/e2e/lib.sh"

mkdir "$tmp/small"
# A small tmpfs on $tmp/small, in a mount namespace of its own so that
# nothing stays mounted; then the rest of the arguments run there.
in_small_fs() {
	unshare -m sh -c 'mount -t tmpfs -o size=2m tmpfs "$1" || exit 90
		shift; exec "$@"' sh "$tmp/small" "$@"
}
in_small_fs true 2>"$tmp/err" ||
	skip "cannot mount a tmpfs in a mount namespace (needs root): $(cat "$tmp/err")"

# perl as it comes, keeping 300,000 strings: a table of about 12 MiB.
perl_keeps='my @a = map { "x$_" } 1..300000; print scalar(@a), "\n";
	STDOUT->flush; POSIX::_exit(0)'
in_small_fs sh -c '
	timeout 60 env TRACEMALLOC=1 TRACEMALLOC_FILE="$1/trace" \
		LD_PRELOAD="$2" perl -MPOSIX -e "$3" >"$4/out" 2>"$4/err"
	echo $? >"$4/status"
	cp "$1/trace" "$4/trace"' sh "$tmp/small" "$runtime" "$perl_keeps" "$tmp" ||
	fail "could not run perl on the small file system"
[ "$(cat "$tmp/status")" = 0 ] ||
	fail "perl exited with $(cat "$tmp/status") on a full file system: $(cat "$tmp/err")"
[ "$(cat "$tmp/out")" = 300000 ] || fail "perl printed: $(cat "$tmp/out")"
grep -q "^tm: the trace file $tmp/small/trace cannot grow: No space left on device: the table stops growing" \
	"$tmp/err" || fail "unexpected: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "unexpected: $(cat "$tmp/err")"
probe_file "$tmp/trace" "$tmp/table"
grep -q '^table traces=[1-9][0-9]* .* untraced=[1-9]' "$tmp/table" ||
	fail "unexpected: $(grep '^table' "$tmp/table")"

# Full before the start: tracing stays off, the runtime says why and leaves
# no file behind, and the program runs.
in_small_fs sh -c '
	dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null
	timeout 60 env TRACEMALLOC=1 TRACEMALLOC_FILE="$1/trace" \
		LD_PRELOAD="$2" sh -c "echo hello" >"$3/out" 2>"$3/err"
	echo $? >"$3/status"
	ls "$1" >"$3/left"' sh "$tmp/small" "$runtime" "$tmp" ||
	fail "could not run sh on the small file system"
[ "$(cat "$tmp/status")" = 0 ] && [ "$(cat "$tmp/out")" = hello ] ||
	fail "a full file system broke sh: $(cat "$tmp/out" "$tmp/err")"
grep -q "^tm: cannot start tracing: No space left on device (TRACEMALLOC_FILE=$tmp/small/trace)$" \
	"$tmp/err" || fail "unexpected: $(cat "$tmp/err")"
[ "$(cat "$tmp/left")" = fill ] || fail "left on the file system: $(cat "$tmp/left")"
