#!/bin/sh
# A program we did not write: Debian's python3 with PYTHONMALLOC=malloc,
# killed mid-run so every live object is still in its trace file.
. "$top_srcdir/tests/e2e/lib.sh"

python=/usr/bin/python3
[ -x "$python" ] || skip "no $python"
TRACEMALLOC_FILE=$tmp/trace.%p PYTHONMALLOC=malloc traced "$python" -c '
import os, signal
keep = [str(i) * 3 for i in range(200000)]
os.kill(os.getpid(), signal.SIGKILL)
' && fail "python was expected to die of SIGKILL" || true
probe_file "$(only_file "$tmp")" "$tmp/table"
traces=$(sed -n 's/^table traces=\([0-9]*\) .*/\1/p' "$tmp/table")
[ "$traces" -ge 200000 ] || fail "only $traces traces"
tracebacks=$(sed -n 's/^table .* tracebacks=\([0-9]*\) .*/\1/p' "$tmp/table")
[ "$tracebacks" -ge 10 ] && [ "$tracebacks" -lt "$traces" ] ||
	fail "$tracebacks tracebacks for $traces traces"
expect_count "$tmp/table" 1 '^module .*/python3[.0-9]* build_id_len=20$'
