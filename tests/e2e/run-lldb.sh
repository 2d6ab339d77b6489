#!/bin/sh
# The tm command in LLDB, imported as ~/.lldbinit would: it prints what
# tm-core prints for the same memory, on a live process at a breakpoint,
# after malloc's own SIGABRT, on a kernel core, and on a stripped program
# whose table only the magic scan finds.  Failures are one line.
. "$top_srcdir/tests/e2e/lib.sh"
kernel_cores

command -v lldb >/dev/null || skip "no lldb"
timeout 60 lldb -b -o 'script print(6 * 7)' </dev/null 2>&1 | grep -qx 42 ||
	skip "LLDB's Python does not work here (run scripts/setup)"
core=$top_builddir/analyzer/tm-core
prog=$programs/debuggee
export TM_LIBTM="$top_builddir/.libs/libtm.so"
export TM_PLUGIN_DIR="$top_srcdir/plugin/common"

# lldb_batch ARGS...: LLDB in batch mode with the plugin imported; each
# command's output goes to $tmp/l.N, N counting the commands from 1.
lldb_batch() {
	timeout 300 lldb -b -o "command script import $top_srcdir/plugin/lldb/tm_lldb.py" \
		"$@" </dev/null >"$tmp/lldb.out" 2>&1 || true
	rm -f "$tmp"/l.*
	awk -v dir="$tmp" '/^\(lldb\) target create / { next }
		/^\(lldb\) / { n++; next } n > 1 { print > (dir "/l." (n - 1)) }' \
		"$tmp/lldb.out"
}

# same N M: the outputs of commands N (tm) and M (tm-core) are identical.
same() {
	[ -s "$tmp/l.$2" ] || fail "tm-core printed nothing (command $2): $(cat "$tmp/lldb.out")"
	cmp -s "$tmp/l.$1" "$tmp/l.$2" || {
		diff -u "$tmp/l.$2" "$tmp/l.$1" >&2
		fail "LLDB's output of command $1 differs from tm-core's"
	}
}

# tmc VERB ARGS: tm-core VERB --pid PID ARGS for the debuggee that LLDB
# runs, with P, P100 and LIST standing for addresses the debuggee wrote
# (LLDB's platform shell does not expand $(...) itself).
cat >"$tmp/tmc" <<EOF
#!/bin/sh
read p list <"$tmp/pid.addr"
verb=\$1
shift
args=
for a in "\$@"; do
	case \$a in
	P) a=\$p ;;
	P100) a=\$((p + 100)) ;;
	LIST) a=\$list ;;
	esac
	args="\$args \$a"
done
exec "$core" "\$verb" --pid "\$(cat "$tmp/pid")" \$args
EOF
chmod +x "$tmp/tmc"
tmc=$tmp/tmc
env="-E LD_PRELOAD=$runtime -E TRACEMALLOC=16"

# --- a live process at a breakpoint.
lldb_batch -o 'breakpoint set -n stop_here' \
	-o "process launch $env -- stop $tmp/pid" \
	-o 'tm status' -o "platform shell $tmc status" \
	-o 'tm top 10' -o "platform shell $tmc analyze --top 10" \
	-o 'tm top 5 traceback' -o "platform shell $tmc analyze --top 5 --key traceback" \
	-o 'tm top 0 filename cumulative' \
	-o "platform shell $tmc analyze --top 0 --key filename --cumulative" \
	-o 'tm traceback p' \
	-o "platform shell $tmc traceback P" \
	-o 'tm traceback $rdi + 100' \
	-o "platform shell $tmc traceback P100" \
	-o 'up' -o 'tm traceback list' \
	-o "platform shell $tmc traceback LIST" \
	-o "tm snapshot save $tmp/snap" \
	-o "tm diff $tmp/snap 5" -o "platform shell $tmc diff $tmp/snap --top 5" \
	-o 'help tm' -o 'process kill' "$prog"
# l.1 is the breakpoint, l.2 the launch.
same 3 4
same 5 6
same 7 8
same 9 10
same 11 12
same 13 14
same 16 17
same 19 20
grep -q 'debuggee.c:[0-9]*: size=.*count=100,' "$tmp/l.5" || fail "$(cat "$tmp/l.5")"
grep -q '^0x[0-9a-f]* is 0 bytes into a block of 4000 bytes' "$tmp/l.11" ||
	fail "tm traceback p: $(cat "$tmp/l.11")"
grep -q '^0x[0-9a-f]* is 100 bytes into a block of 4000 bytes' "$tmp/l.13" ||
	fail "tm traceback \$rdi + 100: $(cat "$tmp/l.13")"
# The inlined malloc, expanded from LLDB's inlined blocks.
tr '\n' ' ' <"$tmp/l.16" |
	grep -q 'line [0-9]*, in new_node .* line [0-9]*, in build_list .* in main' ||
	fail "tm traceback list: $(cat "$tmp/l.16")"
grep -q '(+0 B), count=100 (+0)' "$tmp/l.19" || fail "$(cat "$tmp/l.19")"
grep -q 'tm top \[N\] \[KEY\] \[cumulative\]' "$tmp/l.21" || fail "help tm: $(cat "$tmp/l.21")"
grep -q 'Traceback (most recent' "$tmp/lldb.out" && fail "a Python traceback reached the user"

# --- stopped by SIGABRT from malloc's double-free check, inside free().
lldb_batch -o "process launch $env -- abort $tmp/pid" \
	-k 'tm top 10' -k "platform shell $tmc analyze --top 10" \
	-k 'tm top 5 traceback' -k "platform shell $tmc analyze --top 5 --key traceback" \
	-k 'process kill' "$prog"
grep -q 'SIGABRT' "$tmp/lldb.out" || fail "no SIGABRT: $(cat "$tmp/lldb.out")"
same 2 3
same 4 5
grep -q 'debuggee.c:[0-9]*: size=.*count=100,' "$tmp/l.2" || fail "$(cat "$tmp/l.2")"

# --- a kernel core, loaded with `lldb -c CORE PROG`.
(cd "$tmp" && ulimit -c unlimited &&
	TRACEMALLOC=16 LD_PRELOAD="$runtime" exec "$prog" segv) >/dev/null 2>&1 || true
set -- "$tmp"/core*
[ -f "$1" ] || skip "the kernel wrote no core (core_pattern: $(cat /proc/sys/kernel/core_pattern))"
kcore=$1
lldb_batch -o 'tm top 10' -o "platform shell $core analyze $kcore --top 10" \
	-o 'tm top 0 traceback' -o "platform shell $core analyze $kcore --top 0 --key traceback" \
	-o 'tm status' -o "platform shell $core status $kcore" \
	-c "$kcore" "$prog"
same 1 2
same 3 4
# LLDB cannot say which file the core came from: the source is its pid.
tail -n +2 "$tmp/l.5" >"$tmp/l.status.lldb"
tail -n +2 "$tmp/l.6" >"$tmp/l.status.core"
cmp -s "$tmp/l.status.lldb" "$tmp/l.status.core" || fail "tm status: $(cat "$tmp/l.5")"
grep -q '^source: core [0-9]*$' "$tmp/l.5" || fail "tm status: $(cat "$tmp/l.5")"
rm -f "$kcore"

# --- a stripped program with the runtime linked in: the magic scan.
cp "$programs/debuggee-static" "$tmp/stripped"
strip "$tmp/stripped"
lldb_batch -o "process launch -E TRACEMALLOC=16 -- segv $tmp/pid" \
	-k 'tm top 10' -k "platform shell $tmc analyze --top 10" \
	-k 'process kill' "$tmp/stripped"
same 2 3
grep -q "stripped:0: size=.*, count=104," "$tmp/l.2" || fail "$(cat "$tmp/l.2")"

# --- no runtime, and no process: one line each.
lldb_batch -o 'breakpoint set -n stop_here' -o "process launch -- stop" \
	-o 'tm top' "$prog"
grep -qx 'error: tm: no trace table found: .*TRACEMALLOC=N?' "$tmp/lldb.out" ||
	fail "without the runtime: $(cat "$tmp/lldb.out")"
lldb_batch -o 'tm top'
grep -qx 'error: tm: no process or core to read: .*' "$tmp/lldb.out" ||
	fail "with no process: $(cat "$tmp/lldb.out")"
if grep -q 'Traceback (most recent' "$tmp/lldb.out"; then
	fail "a Python traceback reached the user"
fi
