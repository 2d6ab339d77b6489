# lib.sh: sourced by every tests/e2e/run-*.sh.  Gives a temporary folder
# per test ($tmp), the paths of what the build made, and helpers.  Exit 77
# means "skipped" to automake.
set -eu

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-e2e.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT

runtime=$top_builddir/.libs/libtracemalloc.so
probe=$top_builddir/tests/tools/tm-probe
programs=$top_builddir/tests/programs

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Run a command traced, with a time limit: a hang is a failure.
traced() {
	timeout 120 env TRACEMALLOC="${NFRAME:-16}" LD_PRELOAD="$runtime" "$@"
}

# The trace file of the only process that wrote one into $1.
only_file() {
	set -- "$1"/trace.*
	[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one trace file, got: $*"
	echo "$1"
}

# Decode a trace file into $2 and check the table is undamaged.
probe_file() {
	"$probe" file "$1" >"$2" || fail "tm-probe could not read $1"
	grep -q '^damage in_flight=0 unreadable=0 inconsistent=0 bad=0 missing=0 modules_bad=0$' "$2" ||
		fail "damage in $1: $(grep '^damage' "$2")"
}

# At least $2 lines of $1 match the extended regular expression $3.
expect_count() {
	n=$(grep -c -E -- "$3" "$1" || true)
	[ "$n" -ge "$2" ] || fail "expected >= $2 lines matching '$3', got $n"
}

# Exactly $2 lines of $1 match $3.
expect_exactly() {
	n=$(grep -c -E -- "$3" "$1" || true)
	[ "$n" -eq "$2" ] || fail "expected $2 lines matching '$3', got $n"
}

# killed_after MARK PROGRAM: run PROGRAM traced (nframe 8), its table in the
# file $tmp/trace.PID, until it prints a line matching MARK to $tmp/out;
# then SIGKILL it.  Sets $pid.
killed_after() {
	rm -f "$tmp/out"
	TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/trace.%p LD_PRELOAD="$runtime" \
		"$2" >"$tmp/out" &
	pid=$!
	wait_for "$tmp/out" "$1"
	kill -9 $pid
	wait $pid 2>/dev/null || true
}

# Wait (at most 10 s) until file $1 has a line matching $2.  Remove $1
# before starting what writes it: a background job's redirection truncates
# the file only once the job runs, and an old match would be seen first.
wait_for() {
	i=0
	until grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "no '$2' in $1 after 10 s"
		sleep 0.05
	done
}

# The kernel's core_pattern is the whole machine's.  Tests that take a core
# from the kernel hold this lock shared (kernel_cores); the test that points
# the pattern at a handler for a moment holds it alone (kernel_cores -x).
kernel_cores() {
	exec 8>/tmp/tm-tests-core-pattern.lock
	flock "${1:--s}" -w 900 8 || fail "core_pattern lock: held for 15 min"
}
