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

# A C program that loads C++ code: python3 importing Debian's apt_pkg
# (python3-apt), which brings libapt-pkg and libstdc++ in with dlopen.
# Their strings are built by libstdc++; frame 0 is apt's code that asked.
rm -f "$tmp"/trace.*
TRACEMALLOC_FILE=$tmp/trace.%p PYTHONMALLOC=malloc traced "$python" -c '
import apt_pkg
apt_pkg.init_config()
' || fail "python3 could not import apt_pkg (python3-apt)"
probe_file "$(only_file "$tmp")" "$tmp/table"
expect_count "$tmp/table" 1 '^module .*/libstdc\+\+\.so\.6 build_id_len=20$'
expect_count "$tmp/table" 100 ' frames=Configuration::'
expect_exactly "$tmp/table" 0 ' frames=(operator new|std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::)'
