#!/bin/sh
# Bad settings are reported in one line and never break the program.
. "$top_srcdir/tests/e2e/lib.sh"

check_runs() {
	# $1: TRACEMALLOC value, $2: expected stderr pattern ('' = silent)
	out=$(TRACEMALLOC=$1 LD_PRELOAD="$runtime" \
		timeout 60 sh -c 'echo hello; exit 3' 2>"$tmp/err") && status=0 ||
		status=$?
	[ "$out" = hello ] || fail "TRACEMALLOC=$1 changed the output: $out"
	[ "$status" -eq 3 ] || fail "TRACEMALLOC=$1 changed the exit status"
	if [ -n "$2" ]; then
		grep -q -- "$2" "$tmp/err" || fail "TRACEMALLOC=$1: $(cat "$tmp/err")"
		# One line per process (sh), never more.
		[ "$(sort -u "$tmp/err" | wc -l)" -eq 1 ] ||
			fail "TRACEMALLOC=$1 printed: $(cat "$tmp/err")"
	else
		[ ! -s "$tmp/err" ] || fail "TRACEMALLOC=$1 printed: $(cat "$tmp/err")"
	fi
}

check_runs abc 'TRACEMALLOC=abc is not a number of frames in 1..128; tracing stays off'
check_runs 129 'TRACEMALLOC=129 is not a number of frames in 1..128'
check_runs -5 'is not a number of frames'
check_runs 0 ''
check_runs 16 ''

# A trace file that cannot be created: reported, the program still runs.
out=$(TRACEMALLOC=4 TRACEMALLOC_FILE=$tmp/no/such/dir/trace LD_PRELOAD="$runtime" \
	timeout 60 sh -c 'echo hello' 2>"$tmp/err")
[ "$out" = hello ] || fail "an unusable TRACEMALLOC_FILE broke the program"
grep -q 'cannot start tracing: No such file or directory (TRACEMALLOC_FILE=' \
	"$tmp/err" || fail "unexpected: $(cat "$tmp/err")"

# A file that another live tracer holds is not taken over.
TRACEMALLOC=4 TRACEMALLOC_FILE=$tmp/shared LD_PRELOAD="$runtime" \
	"$programs/sleeper" >"$tmp/first" &
first=$!
wait_for "$tmp/first" ready
timeout 60 env TRACEMALLOC=4 TRACEMALLOC_FILE=$tmp/shared LD_PRELOAD="$runtime" \
	"$programs/frames" >/dev/null 2>"$tmp/err"
kill -9 $first; wait $first 2>/dev/null || true
grep -q "TRACEMALLOC_FILE is in use by another process; writing $tmp/shared\.[0-9]* instead" \
	"$tmp/err" || fail "unexpected: $(cat "$tmp/err")"
probe_file "$tmp/shared" "$tmp/t1"
expect_exactly "$tmp/t1" 1000 'frames=sleeper_block;main;'
probe_file "$(ls "$tmp"/shared.*)" "$tmp/t2"
expect_exactly "$tmp/t2" 1 'frames=leak_strdup;main;'

# Held to 128 MiB of address space (`ulimit -v`), which refuses the table's
# usual reservation, a program is still traced, in a smaller table.
(ulimit -v 131072 &&
	timeout 60 env TRACEMALLOC=4 TRACEMALLOC_FILE="$tmp/limited" \
		LD_PRELOAD="$runtime" "$programs/frames" >/dev/null 2>"$tmp/err") ||
	fail "frames failed under ulimit -v 131072: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "under ulimit -v 131072: $(cat "$tmp/err")"
probe_file "$tmp/limited" "$tmp/t3"
expect_exactly "$tmp/t3" 1 'frames=leak_strdup;main;'

# With room for the program but not for the smallest table, tracing stays
# off, the runtime says why, and the program runs as it would untraced,
# with its memory: the runtime did not load libunwind for nothing.
kib=$(LD_PRELOAD="$runtime" sh -c \
	'sed -n "s/^VmSize:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$$/status')
[ -n "$kib" ] || fail "no VmSize in /proc/PID/status"
out=$( (ulimit -v $((kib + 1024)) &&
	TRACEMALLOC=4 LD_PRELOAD="$runtime" sh -c 'echo hello
		while read -r line; do
			case $line in *libunwind*) echo libunwind loaded ;; esac
		done </proc/$$/maps
		exit 3') 2>"$tmp/err") && status=0 || status=$?
[ "$out" = hello ] && [ "$status" -eq 3 ] ||
	fail "a tight ulimit -v broke the program: $out, status $status, $(cat "$tmp/err")"
grep -q 'cannot start tracing: Cannot allocate memory; the trace table needs at least 4 MiB of address space' \
	"$tmp/err" || fail "under a tight ulimit -v: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "under a tight ulimit -v: $(cat "$tmp/err")"

# Held to 4 MiB files (`ulimit -f`), a traced program whose table outgrows
# that goes on with the rest of its allocations untraced, and counted.
# Growing the file past the limit raised SIGXFSZ, which killed perl.
perl_keeps='my @a = map { "x$_" } 1..300000; print scalar(@a), "\n";
	STDOUT->flush; POSIX::_exit(0)'
out=$( (ulimit -f 8192 &&
	timeout 60 env TRACEMALLOC=1 TRACEMALLOC_FILE="$tmp/capped" \
		LD_PRELOAD="$runtime" perl -MPOSIX -e "$perl_keeps") \
	2>"$tmp/err") || fail "perl died under ulimit -f 8192: $(cat "$tmp/err")"
[ "$out" = 300000 ] || fail "perl under ulimit -f 8192 printed: $out"
grep -q "^tm: the trace file $tmp/capped reached the file size limit (\`ulimit -f\`): the table stops growing" \
	"$tmp/err" || fail "under ulimit -f 8192: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "under ulimit -f 8192: $(cat "$tmp/err")"
[ "$(stat -c %s "$tmp/capped")" -le 4194304 ] || fail "the trace file outgrew ulimit -f"
probe_file "$tmp/capped" "$tmp/t4"
grep -q '^table traces=[1-9][0-9]* .* untraced=[1-9]' "$tmp/t4" ||
	fail "under ulimit -f 8192: $(grep '^table' "$tmp/t4")"

# With a limit below the table's first MiB, tracing stays off and the
# runtime says what to do.
out=$( (ulimit -f 1024 &&
	timeout 60 env TRACEMALLOC=1 TRACEMALLOC_FILE="$tmp/tiny" \
		LD_PRELOAD="$runtime" sh -c 'echo hello') 2>"$tmp/err") ||
	fail "a tight ulimit -f broke the program: $(cat "$tmp/err")"
[ "$out" = hello ] || fail "under ulimit -f 1024: $out"
grep -q "cannot start tracing: File too large (TRACEMALLOC_FILE=$tmp/tiny); the trace file needs 1 MiB at least: raise \`ulimit -f\`" \
	"$tmp/err" || fail "under ulimit -f 1024: $(cat "$tmp/err")"
[ ! -e "$tmp/tiny" ] || fail "a trace file that could not start was left behind"

# A message written into a pipe that nobody reads any more (`prog 2>&1 |
# head -1`) must not raise SIGPIPE: that ended sh before it said hello.
# (python3 runs sh with SIGPIPE at its default action.)
out=$(/usr/bin/python3 -c '
import os, subprocess, sys
read_end, write_end = os.pipe()
os.close(read_end)
env = dict(os.environ, TRACEMALLOC="abc", LD_PRELOAD=sys.argv[1])
run = subprocess.run(["sh", "-c", "echo hello"], stderr=write_end,
                     stdout=subprocess.PIPE, env=env)
print(run.returncode, run.stdout.decode().strip())' "$runtime") ||
	fail "python3 failed"
[ "$out" = "0 hello" ] || fail "a message into a closed pipe ended sh: $out"

# An allocator that comes before the runtime's hooks (ownmalloc.c): the
# program's own, or a library preloaded before the runtime.  Its blocks
# cannot be traced; the runtime says so once instead of leaving an empty
# table unexplained.  Preloaded after the runtime, the same library is
# what the hooks call, and its blocks are traced.
own=$programs/ownmalloc
ownlib=$programs/.libs/libownmalloc.so
said="defines malloc and free before the runtime: what is allocated through them is not traced (an allocator preloaded after libtracemalloc.so in LD_PRELOAD is)"
for order in program before after; do
	mkdir "$tmp/own-$order"
	case $order in
	program) preload=$runtime command=$own owner=$own ;;
	before) preload="$ownlib $runtime" command=$programs/frames owner=$ownlib ;;
	after) preload="$runtime $ownlib" command=$programs/frames owner= ;;
	esac
	out=$(timeout 60 env TRACEMALLOC=4 LD_PRELOAD="$preload" \
		TRACEMALLOC_FILE="$tmp/own-$order/trace.%p" "$command" \
		2>"$tmp/err") ||
		fail "own allocator, $order: exit status $?: $(cat "$tmp/err")"
	probe_file "$(only_file "$tmp/own-$order")" "$tmp/own.table"
	if [ -n "$owner" ]; then
		grep -qxF "tm: $owner $said" "$tmp/err" ||
			fail "own allocator, $order: $(cat "$tmp/err")"
		[ "$(wc -l <"$tmp/err")" -eq 1 ] ||
			fail "own allocator, $order: $(cat "$tmp/err")"
		expect_exactly "$tmp/own.table" 0 '^trace '
	else
		[ ! -s "$tmp/err" ] || fail "own allocator, after: $(cat "$tmp/err")"
		expect_count "$tmp/own.table" 1 '^trace '
	fi
	echo "own allocator, $order: ok"
done

# A program that takes malloc's address (Debian's python3, not position-
# independent there) holds an entry of its own for malloc, which is what a
# symbol lookup finds; its calls reach the runtime all the same: no word.
python=/usr/bin/python3
[ -x "$python" ] || fail "no $python (configure requires it)"
timeout 60 env TRACEMALLOC=4 LD_PRELOAD="$runtime" "$python" -c pass \
	2>"$tmp/err" || fail "python3: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "python3: $(cat "$tmp/err")"
echo "own allocator, none in python3: ok"

# The trace file is created under a temporary name, TRACEMALLOC_FILE.tmp.PID,
# then renamed: a link someone left at that name is replaced, and the file
# it names is left alone.  (The shell's pid is the program's after exec.)
mkdir "$tmp/links"
echo "someone's file" >"$tmp/links/victim"
timeout 60 sh -c 'ln -s victim "$1.tmp.$$" && exec env TRACEMALLOC=4 \
	TRACEMALLOC_FILE="$1" LD_PRELOAD="$2" "$3"' sh "$tmp/links/trace" \
	"$runtime" "$programs/frames" >/dev/null 2>"$tmp/err" ||
	fail "a link at the temporary name: $(cat "$tmp/err")"
[ "$(cat "$tmp/links/victim")" = "someone's file" ] ||
	fail "the runtime wrote through a link"
[ ! -s "$tmp/err" ] || fail "a link at the temporary name: $(cat "$tmp/err")"
probe_file "$tmp/links/trace" "$tmp/links.table"
[ "$(ls "$tmp/links")" = "$(printf 'trace\nvictim')" ] ||
	fail "left behind: $(ls "$tmp/links")"
echo "a link at the temporary name: ok"

# A FIFO at the name does not block the program (a look for a tracer
# holding the file opens it); the trace file replaces it.
mkfifo "$tmp/links/fifo"
timeout 60 env TRACEMALLOC=4 TRACEMALLOC_FILE="$tmp/links/fifo" \
	LD_PRELOAD="$runtime" "$programs/frames" >/dev/null 2>"$tmp/err" ||
	fail "a FIFO at TRACEMALLOC_FILE: status $?: $(cat "$tmp/err")"
probe_file "$tmp/links/fifo" "$tmp/links.table"

# A set-user-ID program (here one with the runtime linked in) ignores the
# variables: whoever runs it must not make it replace a file its owner may
# write.  The same program without the bit, run by the same user, traces.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "note: not root or no setpriv; set-user-ID not checked"
	exit 0
fi
suid=$tmp/suid
mkdir "$suid"
chmod 755 "$tmp" "$suid"
cp "$programs/frames-static" "$suid/frames"
echo "root's file" >"$suid/victim"
mkdir "$suid/public"
chmod 777 "$suid/public"
# Does set-user-ID work here (not on a nosuid mount, no no_new_privs)?
cp "$(command -v id)" "$suid/id"
chmod u+s "$suid/id"
euid=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$suid/id" -u)
if [ "$euid" != 0 ]; then
	echo "note: set-user-ID has no effect in $suid; not checked"
	exit 0
fi
# as_nobody FILE: run the program as nobody, tracing into FILE.
as_nobody() {
	timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env TRACEMALLOC=4 TRACEMALLOC_FILE="$1" "$suid/frames" \
		>/dev/null 2>"$tmp/err" || fail "as nobody: $(cat "$tmp/err")"
}
as_nobody "$suid/public/trace"
probe_file "$suid/public/trace" "$tmp/suid.table"
rm -f "$suid/public/trace"
chmod u+s "$suid/frames"
as_nobody "$suid/victim"
[ "$(cat "$suid/victim")" = "root's file" ] ||
	fail "a set-user-ID program replaced its owner's file"
grep -qxF 'tm: TRACEMALLOC variables are ignored in a privileged (set-user-ID, set-group-ID or capability) program; tracing stays off' \
	"$tmp/err" || fail "set-user-ID: $(cat "$tmp/err")"
as_nobody "$suid/public/trace"
[ ! -e "$suid/public/trace" ] || fail "a set-user-ID program traced"
echo "set-user-ID: ok"
