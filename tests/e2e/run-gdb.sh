#!/bin/sh
# The tm commands in GDB.  They load by themselves from the runtime, and
# print what tm-core prints for the same memory: a live process at a
# breakpoint, after a SIGSEGV, after malloc's own SIGABRT, through
# gdbserver, a kernel core, and a stripped program whose table only the
# magic scan finds.  Without
# the runtime, or with tracing off, they say so in one line.
. "$top_srcdir/tests/e2e/lib.sh"
kernel_cores

command -v gdb >/dev/null || skip "no gdb"
core=$top_builddir/analyzer/tm-core
prog=$programs/debuggee
export TM_LIBTM="$top_builddir/.libs/libtm.so"
export TM_PLUGIN_DIR="$top_srcdir/plugin/common:$top_srcdir/plugin/gdb"

# In the safe path: the build's runtime, and programs copied into $tmp.
gdb_batch() {
	timeout 300 gdb -nx -batch -iex "set auto-load safe-path $top_builddir/.libs:$tmp" \
		-iex 'set pagination off' -iex 'set debuginfod enabled off' \
		-iex 'set confirm off' "$@" 2>"$tmp/gdb.err"
}

# same NAME: $tmp/g.NAME (GDB) and $tmp/t.NAME (tm-core) are identical.
same() {
	[ -s "$tmp/t.$1" ] || fail "tm-core printed nothing for $1"
	cmp -s "$tmp/g.$1" "$tmp/t.$1" || {
		diff -u "$tmp/t.$1" "$tmp/g.$1" >&2
		fail "GDB's $1 differs from tm-core's (stderr: $(cat "$tmp/gdb.err"))"
	}
}

# views SOURCE: the tm commands and the tm-core commands that must agree,
# as GDB arguments; $pid_arg is tm-core's SOURCE.
views() {
	set -- \
		-ex "pipe tm status | cat >$tmp/g.status" \
		-ex "shell $core status $1 >$tmp/t.status" \
		-ex "pipe tm top 10 | cat >$tmp/g.top" \
		-ex "shell $core analyze $1 --top 10 >$tmp/t.top" \
		-ex "pipe tm top 5 traceback | cat >$tmp/g.tb" \
		-ex "shell $core analyze $1 --top 5 --key traceback >$tmp/t.tb" \
		-ex "pipe tm top 0 cumulative filename | cat >$tmp/g.cum" \
		-ex "shell $core analyze $1 --top 0 --key filename --cumulative >$tmp/t.cum"
	printf '%s\n' "$@"
}

check_views() {
	for v in status top tb cum; do
		same $v
	done
	grep -q 'debuggee.c:[0-9]*: size=.*count=100,' "$tmp/g.top" ||
		fail "no list nodes in $(cat "$tmp/g.top")"
}

pidsrc='--pid $(cat '"$tmp"'/pid)'

# --- a live process at a breakpoint; the commands load by themselves.
IFS='
'
# shellcheck disable=SC2046
gdb_batch -ex "set environment LD_PRELOAD=$runtime" \
	-ex 'set environment TRACEMALLOC=16' \
	-ex 'break stop_here' -ex "run stop $tmp/pid" \
	$(views "$pidsrc") \
	-ex "pipe tm traceback p | cat >$tmp/g.p" \
	-ex "eval \"shell $core traceback $pidsrc %lu >$tmp/t.p\", (unsigned long)p" \
	-ex "pipe tm traceback \$rdi + 100 | cat >$tmp/g.inside" \
	-ex "eval \"shell $core traceback $pidsrc %lu >$tmp/t.inside\", (unsigned long)p + 100" \
	-ex "pipe tm traceback 16 | cat >$tmp/g.none" \
	-ex "shell $core traceback $pidsrc 16 >$tmp/t.none" \
	-ex 'frame function main' \
	-ex "pipe tm traceback list | cat >$tmp/g.list" \
	-ex "eval \"shell $core traceback $pidsrc %lu >$tmp/t.list\", (unsigned long)list" \
	-ex "tm snapshot save $tmp/snap" \
	-ex "pipe tm diff $tmp/snap 5 | cat >$tmp/g.diff" \
	-ex "shell $core diff $tmp/snap $pidsrc --top 5 >$tmp/t.diff" \
	-ex 'call (void)tm_stop()' -ex 'tm top' \
	-ex kill "$prog" >"$tmp/gdb.out" || fail "gdb: $(cat "$tmp/gdb.err")"
unset IFS
grep -qx 'tm: tracing is off in this process (tm_stop() was called); .*' "$tmp/gdb.err" ||
	fail "after tm_stop(): $(cat "$tmp/gdb.err")"
check_views
for v in p inside none diff list; do
	same $v
done
grep -q '^0x[0-9a-f]* is 0 bytes into a block of 4000 bytes' "$tmp/g.p" ||
	fail "tm traceback p: $(cat "$tmp/g.p")"
grep -q 'File ".*debuggee.c", line [0-9]*, in make_buffer' "$tmp/g.p" ||
	fail "tm traceback p: $(cat "$tmp/g.p")"
grep -q '^0x[0-9a-f]* is 100 bytes into a block of 4000 bytes' "$tmp/g.inside" ||
	fail "tm traceback \$rdi + 100: $(cat "$tmp/g.inside")"
grep -q '^0x10 is not in any traced block$' "$tmp/g.none" ||
	fail "tm traceback 16: $(cat "$tmp/g.none")"
grep -q '(+0 B), count=100 (+0)' "$tmp/g.diff" || fail "$(cat "$tmp/g.diff")"
gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" -ex 'complete tm t' \
	-ex 'complete tm top cu' -ex 'complete tm snapshot ' >"$tmp/complete"
gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" -ex 'help tm' >"$tmp/help"
for w in 'tm top' 'tm traceback' 'tm top cumulative' 'tm snapshot save'; do
	grep -qx "$w" "$tmp/complete" || fail "no completion '$w': $(cat "$tmp/complete")"
done
grep -q 'tm top \[N\] \[KEY\] \[cumulative\]' "$tmp/help" || fail "help tm: $(cat "$tmp/help")"
grep -q 'Traceback (most recent' "$tmp/gdb.err" "$tmp/gdb.out" &&
	fail "a Python traceback reached the user"

# The inlined malloc is expanded the same way from GDB's blocks as from
# libdw's scopes: new_node, then build_list where it was inlined.
tr '\n' ' ' <"$tmp/g.list" |
	grep -q 'line [0-9]*, in new_node .* line [0-9]*, in build_list .* in main' ||
	fail "tm traceback list: $(cat "$tmp/g.list")"

# --- stopped by SIGSEGV in the middle of the program.
IFS='
'
# shellcheck disable=SC2046
gdb_batch -ex "set environment LD_PRELOAD=$runtime" \
	-ex 'set environment TRACEMALLOC=16' -ex "run segv $tmp/pid" \
	$(views "$pidsrc") -ex kill "$prog" >"$tmp/gdb.out" ||
	fail "gdb: $(cat "$tmp/gdb.err")"
unset IFS
grep -q 'SIGSEGV' "$tmp/gdb.out" || fail "no SIGSEGV: $(cat "$tmp/gdb.out")"
check_views

# --- stopped by SIGABRT from malloc's double-free check, inside free().
IFS='
'
# shellcheck disable=SC2046
gdb_batch -ex "set environment LD_PRELOAD=$runtime" \
	-ex 'set environment TRACEMALLOC=16' -ex "run abort $tmp/pid" \
	$(views "$pidsrc") \
	-ex 'frame function main' \
	-ex "pipe tm traceback pages[1] | cat >$tmp/g.p" \
	-ex "eval \"shell $core traceback $pidsrc %lu >$tmp/t.p\", (unsigned long)pages[1]" \
	-ex kill "$prog" >"$tmp/gdb.out" || fail "gdb: $(cat "$tmp/gdb.err")"
unset IFS
grep -q 'SIGABRT' "$tmp/gdb.out" || fail "no SIGABRT: $(cat "$tmp/gdb.out")"
check_views
same p
grep -q 'bytes into a block of 65536 bytes' "$tmp/g.p" || fail "$(cat "$tmp/g.p")"

# --- a remote target: gdbserver runs the program, GDB reads through it.
if command -v gdbserver >/dev/null; then
	IFS='
'
	# shellcheck disable=SC2046
	gdb_batch -iex 'set sysroot /' \
		-ex "target remote | exec gdbserver --wrapper env LD_PRELOAD=$runtime TRACEMALLOC=16 -- - $prog stop $tmp/pid" \
		-ex 'break stop_here' -ex continue $(views "$pidsrc") \
		-ex "pipe tm traceback p | cat >$tmp/g.p" \
		-ex "eval \"shell $core traceback $pidsrc %lu >$tmp/t.p\", (unsigned long)p" \
		-ex kill "$prog" >"$tmp/gdb.out" || fail "gdb: $(cat "$tmp/gdb.err")"
	unset IFS
	grep -q '^Remote debugging using' "$tmp/gdb.out" "$tmp/gdb.err" ||
		fail "not remote: $(cat "$tmp/gdb.out")"
	check_views
	same p
else
	echo "no gdbserver: the remote case is not run"
fi

# --- a kernel core, loaded with `gdb PROG CORE`.
(cd "$tmp" && ulimit -c unlimited &&
	TRACEMALLOC=16 LD_PRELOAD="$runtime" exec "$prog" segv) >/dev/null 2>&1 || true
set -- "$tmp"/core*
[ -f "$1" ] || skip "the kernel wrote no core (core_pattern: $(cat /proc/sys/kernel/core_pattern))"
kcore=$1
IFS='
'
# shellcheck disable=SC2046
gdb_batch $(views "$kcore") "$prog" "$kcore" >"$tmp/gdb.out" ||
	fail "gdb: $(cat "$tmp/gdb.err")"
unset IFS
check_views
# Frames are named with GDB's view: its path substitutions apply.  (From
# $tmp: GDB would find the sources through its current folder otherwise.)
from=$(sed -n 's|^\(.*\)/tests/programs/debuggee\.c:.*|\1|p' "$tmp/t.top" | head -n 1)
[ -n "$from" ] || fail "no debuggee.c line in $(cat "$tmp/t.top")"
(cd "$tmp" && gdb_batch -ex "set substitute-path $from /moved/src" \
	-ex 'tm top 3' "$prog" "$kcore") >"$tmp/gdb.out" ||
	fail "gdb: $(cat "$tmp/gdb.err")"
grep -q '^/moved/src/tests/programs/debuggee\.c:[0-9]*: size=' "$tmp/gdb.out" ||
	fail "set substitute-path was not applied: $(cat "$tmp/gdb.out")"
rm -f "$kcore"

# --- a stripped program with the runtime linked in: no symbol names the
# table, so the magic scan finds it.  No auto-load either (strip removed
# the section): the plugin is sourced by hand, as docs/debuggers.md says.
cp "$programs/debuggee-static" "$tmp/stripped"
strip "$tmp/stripped"
nm -D "$tmp/stripped" | grep -q __tracemalloc_descriptor &&
	fail "the stripped program still exports the descriptor"
IFS='
'
# shellcheck disable=SC2046
gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" \
	-ex 'set environment TRACEMALLOC=16' -ex "run segv $tmp/pid" \
	$(views "$pidsrc") -ex kill "$tmp/stripped" >"$tmp/gdb.out" ||
	fail "gdb: $(cat "$tmp/gdb.err")"
unset IFS
for v in status top tb cum; do
	same $v
done
grep -q "stripped:0: size=.*, count=104," "$tmp/g.top" || fail "$(cat "$tmp/g.top")"
# Its kernel core: the scan goes over the core's sections.
(cd "$tmp" && ulimit -c unlimited && TRACEMALLOC=16 exec ./stripped segv) \
	>/dev/null 2>&1 || true
set -- "$tmp"/core*
if [ -f "$1" ]; then
	IFS='
'
	# shellcheck disable=SC2046
	gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" \
		$(views "$1") "$tmp/stripped" "$1" >"$tmp/gdb.out" ||
		fail "gdb: $(cat "$tmp/gdb.err")"
	unset IFS
	for v in status top tb cum; do
		same $v
	done
	grep -q "stripped:0: size=.*, count=104," "$tmp/g.top" || fail "$(cat "$tmp/g.top")"
	rm -f "$1"
fi

# --- no runtime, and tracing off: one line each, no Python traceback.
gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" \
	-ex 'break stop_here' -ex "run stop" -ex 'tm top' -ex kill "$prog" \
	>"$tmp/gdb.out" || true
grep -qx 'tm: no trace table found: .*TRACEMALLOC=N?' "$tmp/gdb.err" ||
	fail "without the runtime: $(cat "$tmp/gdb.err")"
gdb_batch -ex "set environment LD_PRELOAD=$runtime" \
	-ex 'break stop_here' -ex "run stop" -ex 'tm status' -ex kill "$prog" \
	>"$tmp/gdb.out" || true
grep -qx 'tm: libtracemalloc is loaded but never started tracing; .*' "$tmp/gdb.err" ||
	fail "with tracing off: $(cat "$tmp/gdb.err")"
gdb_batch -ex "source $top_srcdir/plugin/gdb/tm_gdb.py" -ex 'tm top' \
	>"$tmp/gdb.out" || true
grep -qx 'tm: no process or core to read: .*' "$tmp/gdb.err" ||
	fail "with no process: $(cat "$tmp/gdb.err")"
if grep -q 'Traceback (most recent' "$tmp/gdb.err"; then
	fail "a Python traceback reached the user"
fi
