#!/bin/sh
# Statistics and differences, for every key type and cumulative mode, are
# identical to Python's tracemalloc on 300 random pairs of snapshots.
. "$top_srcdir/tests/e2e/lib.sh"

: "${PYTHON:=python3}"
"$PYTHON" -c 'import tracemalloc; tracemalloc.Snapshot' 2>/dev/null ||
	skip "$PYTHON has no tracemalloc"
"$PYTHON" "$top_srcdir/tests/snapshot/crosscheck.py" \
	"$top_builddir/tests/tools/tm-stats" 300 7 >"$tmp/out" ||
	fail "$(cat "$tmp/out")"
cat "$tmp/out"
