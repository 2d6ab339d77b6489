#!/bin/sh
# tm-core reads cores: from gcore, from the kernel after a crash, and of a
# stripped program (found by the magic scan, not by symbols).  A core of a
# traced process stays small: the runtime's unused reservation is not dumped.
. "$top_srcdir/tests/e2e/lib.sh"
kernel_cores

core=$top_builddir/analyzer/tm-core
: "${PYTHON:=python3}"
command -v gcore >/dev/null || skip "no gcore"

# start_sleeper PROGRAM: run it traced in $tmp, set $pid, wait until ready.
start_sleeper() {
	rm -f "$tmp/out"
	(cd "$tmp" && ulimit -c unlimited &&
		exec env TRACEMALLOC=8 LD_PRELOAD="$runtime" "$1") >"$tmp/out" &
	pid=$!
	wait_for "$tmp/out" ready
}

# check_core CORE PATTERN: analyze's top line matches PATTERN.
check_core() {
	"$core" analyze "$1" --top 1 >"$tmp/analyze" 2>"$tmp/err" ||
		fail "analyze $1: $(cat "$tmp/err")"
	grep -q -- "$2" "$tmp/analyze" ||
		fail "analyze $1: $(cat "$tmp/analyze")"
	"$core" status "$1" --json >"$tmp/status" || fail "status $1"
	grep -q '"kind":"core"' "$tmp/status" || fail "$(cat "$tmp/status")"
}

# gcore of a live process.
start_sleeper "$programs/sleeper"
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
check_core "$tmp/gcore.$pid" \
	'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$'
# With the binaries at hand the table is found through its symbol.
grep -q '"located_by":"symbol"' "$tmp/status" || fail "$(cat "$tmp/status")"
# The reservation is not in the core: it is megabytes, not gigabytes.
size=$(du -k "$tmp/gcore.$pid" | cut -f1)
[ "$size" -lt 200000 ] || fail "the core takes $size KiB on disk"
rm -f "$tmp"/gcore.*

# A stripped program: no symbols, no debug info; the scan finds the table,
# and with no lines to name, the program stands in for the file (line 0).
cp "$programs/sleeper" "$tmp/stripped"
strip "$tmp/stripped"
start_sleeper "$tmp/stripped"
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
check_core "$tmp/gcore.$pid" "$tmp/stripped:0: size=7599 KiB, count=1001, "
rm -f "$tmp"/gcore.*

# The runtime's binary moved away after the core was taken: no symbol to
# go by, and the magic scan finds the table.
mkdir "$tmp/lib"
cp "$runtime" "$tmp/lib/libtracemalloc.so"
saved_runtime=$runtime
runtime=$tmp/lib/libtracemalloc.so
start_sleeper "$programs/sleeper"
runtime=$saved_runtime
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
rm -rf "$tmp/lib"
check_core "$tmp/gcore.$pid" \
	'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$'
grep -q '"located_by":"scan"' "$tmp/status" || fail "$(cat "$tmp/status")"
rm -f "$tmp"/gcore.*

# A threaded program, caught by gcore while 8 threads allocate: the core
# decodes with nothing worse than operations in flight.
TRACEMALLOC=4 LD_PRELOAD="$runtime" "$programs/churn" 8 >"$tmp/churn" &
pid=$!
wait_for "$tmp/churn" truth
sleep 0.3
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
"$core" status "$tmp/gcore.$pid" --json >"$tmp/status" 2>/dev/null ||
	fail "status of the threaded core"
grep -q '"shards_unreadable":0,"shards_inconsistent":0,"traces_bad":0,"bytes_unreadable":0' "$tmp/status" ||
	fail "threaded core: $(cat "$tmp/status")"
"$core" analyze "$tmp/gcore.$pid" --top 1 >"$tmp/analyze" 2>/dev/null
grep -q 'churn\.c:[0-9]*: size=' "$tmp/analyze" || fail "$(cat "$tmp/analyze")"
rm -f "$tmp"/gcore.*

# A program we did not write: Debian's python3 holding 200,000 strings.
if [ -x /usr/bin/python3 ]; then
	PYTHONMALLOC=malloc TRACEMALLOC=8 LD_PRELOAD="$runtime" /usr/bin/python3 -c '
import sys, time
keep = [str(i) * 3 for i in range(200000)]
print("ready", flush=True)
time.sleep(120)
' >"$tmp/py" &
	pid=$!
	wait_for "$tmp/py" ready
	gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore of python3 failed"
	kill -9 $pid; wait $pid 2>/dev/null || true
	"$core" status "$tmp/gcore.$pid" --json >"$tmp/status" 2>/dev/null ||
		fail "status of python3's core"
	"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["table"]["traces"] >= 200000, d["table"]
assert d["damage"]["shards_inconsistent"] == 0, d["damage"]
' "$tmp/status" || fail "python3 core: $(cat "$tmp/status")"
	rm -f "$tmp"/gcore.*
fi

# A table kept in a file (TRACEMALLOC_FILE) is a shared file mapping, which
# cores leave out by default: its pages are read from the file the core
# maps there, and tm-core says so.
rm -f "$tmp/out"
(cd "$tmp" && exec env TRACEMALLOC=8 TRACEMALLOC_FILE="$tmp/trace.%p" \
	LD_PRELOAD="$runtime" "$programs/sleeper") >"$tmp/out" &
pid=$!
wait_for "$tmp/out" ready
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
"$core" analyze "$tmp/gcore.$pid" --top 1 >"$tmp/analyze" 2>"$tmp/err" ||
	fail "analyze of a file-backed table's core: $(cat "$tmp/err")"
grep -q 'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$' \
	"$tmp/analyze" || fail "$(cat "$tmp/analyze")"
grep -q "warning: the core does not hold the trace table's pages; they were read from $tmp/trace.$pid," \
	"$tmp/err" || fail "no warning: $(cat "$tmp/err")"
# Without the file, the core alone cannot give the table.
rm -f "$tmp/trace.$pid"
"$core" analyze "$tmp/gcore.$pid" >/dev/null 2>"$tmp/err" &&
	fail "a table read from nowhere"
rm -f "$tmp"/gcore.*

# A core from the kernel: the program dies of SIGSEGV.
case $(cat /proc/sys/kernel/core_pattern) in
"|"*)
	echo "note: core_pattern is a pipe; kernel cores not checked" ;;
*)
	start_sleeper "$programs/sleeper"
	kill -SEGV $pid
	wait $pid 2>/dev/null || true
	kcore=$(ls "$tmp"/core* 2>/dev/null | head -n 1)
	[ -n "$kcore" ] || fail "the kernel wrote no core ($(cat /proc/sys/kernel/core_pattern))"
	check_core "$kcore" \
		'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$'
	;;
esac
