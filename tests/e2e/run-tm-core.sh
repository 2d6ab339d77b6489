#!/bin/sh
# tm-core status and analyze on trace files and live processes, text and
# JSON, filters, and one clear line with the documented exit status for
# every kind of bad input.
. "$top_srcdir/tests/e2e/lib.sh"
kernel_cores

core=$top_builddir/analyzer/tm-core
: "${PYTHON:=python3}"
# Nothing may depend on being run from the build directory (source lines
# are found from the directory each file was compiled in).
cd /

# expect_status STATUS STDERR_PATTERN CMD...: exit status and message.
expect_status() {
	want=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" && got=0 || got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, not $want: $(cat "$tmp/err")"
	[ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/err" ||
		fail "$*: expected '$pattern' on stderr, got: $(cat "$tmp/err")"
	[ "$want" -eq 0 ] || [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
		fail "$*: expected one line on stderr: $(cat "$tmp/err")"
}

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >/dev/null
trace=$(only_file "$tmp")

# status
expect_status 0 '' "$core" status "$trace"
grep -q "^traced: 4 blocks, " "$tmp/out" || fail "status: $(cat "$tmp/out")"
expect_status 0 '' "$core" status "$trace" --json
"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1 and d["command"] == "status", d
assert d["table"]["traces"] == 4 and d["table"]["tracing"] is True, d
assert d["source"]["kind"] == "trace-file", d
assert all(v == 0 for v in d["damage"].values()), d
' "$tmp/out" || fail "status --json: $(cat "$tmp/out")"

# analyze: tracemalloc's lines, largest first
expect_status 0 '' "$core" analyze "$trace"
sed -n 2p "$tmp/out" | grep -q '^.*through_libc\.h:[0-9]*: size=4242 B, count=1, average=4242 B$' ||
	fail "analyze: $(cat "$tmp/out")"
grep -q 'through_libc\.h:[0-9]*: size=28 B, count=1, average=28 B$' "$tmp/out" ||
	fail "analyze lost strdup's block: $(cat "$tmp/out")"
expect_status 0 '' "$core" analyze "$trace" --top 1
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "--top 1: $(cat "$tmp/out")"
expect_status 0 '' "$core" analyze "$trace" --key filename --cumulative
grep -q 'frames\.c:0: size=' "$tmp/out" || fail "cumulative: $(cat "$tmp/out")"
# Filters: only the qsort comparator's line survives --include of its line.
line=$(grep -n 'kept\[2\] = malloc(4242)' "$top_srcdir/tests/programs/through_libc.h" | cut -d: -f1)
expect_status 0 '' "$core" analyze "$trace" --include "*through_libc.h:$line"
[ "$(wc -l <"$tmp/out")" -eq 2 ] && grep -q "through_libc.h:$line: size=4242 B" "$tmp/out" ||
	fail "--include: $(cat "$tmp/out")"
expect_status 0 '' "$core" analyze "$trace" --exclude '*through_libc.h' --top 0
! grep -q 'through_libc\.h' "$tmp/out" || fail "--exclude: $(cat "$tmp/out")"
expect_status 0 '' "$core" analyze "$trace" --domain 7
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "--domain 7: $(cat "$tmp/out")"
expect_status 0 '' "$core" analyze "$trace" --json --key traceback
"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["statistics"]
assert d["key"] == "traceback" and len(s) == 4, d
assert sorted(x["size"] for x in s) == sorted(x["size"] for x in s), s
top = s[0]
assert top["size"] == 4242 and top["count"] == 1, top
assert top["traceback"][0]["filename"].endswith("through_libc.h"), top
assert len(top["traceback"]) > 3, top
' "$tmp/out" || fail "analyze --json: $(cat "$tmp/out")"

# A live process.
TRACEMALLOC=8 LD_PRELOAD="$runtime" "$programs/sleeper" >"$tmp/sleeper" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
wait_for "$tmp/sleeper" ready
expect_status 0 '' "$core" analyze --pid $pid --top 1
grep -q 'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$' "$tmp/out" ||
	fail "--pid: $(cat "$tmp/out")"
expect_status 0 '' "$core" status --pid $pid --json
grep -q '"kind":"process","name":"'$pid'","located_by":"symbol"' "$tmp/out" ||
	fail "--pid located: $(cat "$tmp/out")"
kill -9 $pid 2>/dev/null || true

# Bad usage: 1.
expect_status 1 'give one SOURCE' "$core" analyze
expect_status 1 'give one SOURCE' "$core" status "$trace" --pid 1
expect_status 1 "not 'size'" "$core" analyze "$trace" --key size
expect_status 1 'is for --key lineno or filename' "$core" analyze "$trace" --key traceback --cumulative
expect_status 1 "unknown command 'frobnicate'" "$core" frobnicate
# No table, or no source: 2.
expect_status 2 'cannot open: No such file' "$core" status "$tmp/missing"
echo "hello" >"$tmp/text"
expect_status 2 'is not a core, a trace file or a snapshot' "$core" status "$tmp/text"
expect_status 2 'is an ELF program, not a core' "$core" status /bin/true
# An ELF core with no table in it: 2.
cd "$tmp" && (ulimit -c unlimited; exec sleep 30) &
sleeper=$!
sleep 0.2
kill -SEGV $sleeper; wait $sleeper 2>/dev/null || true
cd - >/dev/null
plain_core=$(ls "$tmp"/core* 2>/dev/null | head -n 1)
if [ -n "$plain_core" ]; then
	expect_status 2 'no trace table found' "$core" status "$plain_core"
fi
# A table that is there but unreadable: 3.
head -c 100 "$trace" >"$tmp/truncated"
expect_status 3 'damaged' "$core" status "$tmp/truncated"
cp "$trace" "$tmp/newer"
# version_major 2, version_minor 0 (two 16-bit fields at offset 12)
printf '\002\000\000\000' | dd of="$tmp/newer" bs=1 seek=12 conv=notrunc 2>/dev/null
expect_status 3 'layout 2.0 is newer than this reader (reads 1.x); upgrade tm' \
	"$core" status "$tmp/newer"

# diff: a source against itself changes nothing.
expect_status 0 '' "$core" diff "$trace" "$trace" --top 0
[ "$(grep -c ' (+0 B), count=[0-9]* (+0)' "$tmp/out")" -eq 4 ] ||
	fail "diff: $(cat "$tmp/out")"
expect_status 0 '' "$core" diff "$trace" "$trace" --json
"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "diff" and d["groups"] == 4, d
assert all(s["size_diff"] == 0 and s["count_diff"] == 0
           for s in d["statistics"]), d
' "$tmp/out" || fail "diff --json: $(cat "$tmp/out")"
expect_status 1 'give OLD and NEW' "$core" diff "$trace"

# traceback: the demo overflows a session object and crashes in free();
# its trace file says where that object was allocated.
demo=$top_builddir/demo/tm-demo
(cd "$tmp" && ulimit -c 0 && TRACEMALLOC_FILE=$tmp/crash.%p \
	exec "$demo" --crash) >/dev/null 2>"$tmp/demo-stderr" &&
	fail "tm-demo --crash did not crash"
session=$(sed -n 's/.*session \(0x[0-9a-f]*\).*/\1/p' "$tmp/demo-stderr")
[ -n "$session" ] || fail "no session address: $(cat "$tmp/demo-stderr")"
crash=$(ls "$tmp"/crash.*)
expect_status 0 '' "$core" traceback "$crash" "$session"
grep -q "^$session is 0 bytes into a block of 48 bytes at $session (domain 0)" "$tmp/out" ||
	fail "traceback: $(cat "$tmp/out")"
grep -q '^    struct session \*s = malloc(sizeof(\*s));$' "$tmp/out" ||
	fail "traceback shows no source line: $(cat "$tmp/out")"
# Whether the compiler inlined them or not, the calls are all there, in
# order (inlined frames are expanded from the debug information).
grep '^  File ' "$tmp/out" | sed -n 's/.*, in \(.*\)$/\1/p' | head -n 3 |
	tr '\n' ' ' | grep -q '^session_open crash main $' ||
	fail "traceback frames: $(cat "$tmp/out")"
inside=$(printf '0x%x' $((session + 40)))
expect_status 0 '' "$core" traceback "$crash" "$inside"
grep -q "^$inside is 40 bytes into a block of 48 bytes at $session" "$tmp/out" ||
	fail "interior address: $(cat "$tmp/out")"
expect_status 0 '' "$core" traceback "$crash" 0x10
grep -q '^0x10 is not in any traced block$' "$tmp/out" || fail "$(cat "$tmp/out")"
expect_status 0 '' "$core" traceback "$crash" "$session" --json
"$PYTHON" -c '
import json, sys
b = json.load(open(sys.argv[1]))["block"]
assert b["size"] == 48 and b["offset"] == 0 and b["domain"] == 0, b
f = b["traceback"][0]
assert f["filename"].endswith("tm-demo.c") and f["lineno"] > 0, f
assert set(f) == {"filename", "lineno", "function", "module", "pc"}, f
' "$tmp/out" || fail "traceback --json: $(cat "$tmp/out")"
expect_status 1 'is not an address' "$core" traceback "$crash" nowhere

# A program rebuilt since its trace was taken: its frames are not named
# from the new file (which holds other code), and tm-core says so.
cp "$programs/sleeper" "$tmp/prog"
TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/rebuilt.%p LD_PRELOAD="$runtime" \
	"$tmp/prog" >"$tmp/prog.out" &
pid=$!
wait_for "$tmp/prog.out" ready
kill -9 $pid; wait $pid 2>/dev/null || true
rm -f "$tmp/prog"
cp "$programs/frames" "$tmp/prog"
"$core" analyze "$tmp/rebuilt.$pid" --top 1 >"$tmp/out" 2>"$tmp/err" ||
	fail "analyze after a rebuild: $(cat "$tmp/err")"
grep -q "1 module(s) changed since the trace was taken (build-id differs), e.g. $tmp/prog" "$tmp/err" ||
	fail "no mismatch warning: $(cat "$tmp/err")"
grep -q "^$tmp/prog:0: size=7599 KiB, count=1001" "$tmp/out" ||
	fail "frames named from a rebuilt file: $(cat "$tmp/out")"

# dump -o: a file every command reads back, with the same statistics.
for src in "$trace" "$crash"; do
	"$core" dump "$src" -o "$tmp/dumped" || fail "dump -o $src"
	"$core" analyze "$src" --top 0 >"$tmp/a1" 2>/dev/null
	"$core" analyze "$tmp/dumped" --top 0 >"$tmp/a2" 2>/dev/null
	cmp -s "$tmp/a1" "$tmp/a2" ||
		fail "the dump of $src analyzes differently: $(diff "$tmp/a1" "$tmp/a2")"
done
# The dump is written under a temporary name (FILE.tmpPID) and renamed: a
# link someone left at that name is replaced, not written through.
echo "someone's file" >"$tmp/victim"
sh -c 'ln -s "$1" "$2.tmp$$" && exec "$3" dump "$4" -o "$2"' sh \
	"$tmp/victim" "$tmp/dumped-again" "$core" "$trace" ||
	fail "dump -o with a link at the temporary name"
[ "$(cat "$tmp/victim")" = "someone's file" ] || fail "dump wrote through a link"
"$core" dump "$trace" -o "$tmp/dumped-plain" || fail "dump -o $trace"
cmp -s "$tmp/dumped-again" "$tmp/dumped-plain" || fail "dump -o after a link"
ls "$tmp" | grep -q '^dumped-again\.tmp' && fail "dump left its link"
# dump --json: every trace with its frames.
expect_status 0 '' "$core" dump "$trace" --json
"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "dump" and len(d["traces"]) == 4, d
for t in d["traces"]:
    assert set(t) == {"domain", "address", "size", "total_nframe",
                      "traceback"}, t
    assert t["total_nframe"] >= 1 and t["traceback"], t
    for f in t["traceback"]:
        assert set(f) == {"filename", "lineno", "function", "module",
                          "pc"}, f
sizes = sorted(t["size"] for t in d["traces"])
assert 28 in sizes and 4242 in sizes, sizes
' "$tmp/out" || fail "dump --json: $(cat "$tmp/out")"
expect_status 1 'either --json or -o FILE' "$core" dump "$trace"
expect_status 2 'cannot write' "$core" dump "$trace" -o "$tmp/no/such/dir/file"

# tm-core reads what the process itself saw: the demo's in-process top 10
# and tm-core's analysis of its trace file agree on the big lines (the few
# small blocks the demo allocates while printing differ).
TRACEMALLOC_FILE=$tmp/demo.%p "$top_builddir/demo/tm-demo" >"$tmp/inproc"
demofile=$(ls "$tmp"/demo.*)
"$core" analyze "$demofile" --top 4 >"$tmp/outproc" 2>/dev/null
sed -n '3,6p' "$tmp/inproc" >"$tmp/a"
sed -n '2,5p' "$tmp/outproc" >"$tmp/b"
[ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" ||
	fail "in-process and tm-core differ: $(diff "$tmp/a" "$tmp/b")"

# --exe: the traced program moved away; naming it by its new path brings
# its frames back, matched by build-id.  A different program is refused.
cp "$programs/sleeper" "$tmp/moving"
TRACEMALLOC=8 TRACEMALLOC_FILE=$tmp/moved.%p LD_PRELOAD="$runtime" \
	"$tmp/moving" >"$tmp/moving.out" &
pid=$!
wait_for "$tmp/moving.out" ready
kill -9 $pid; wait $pid 2>/dev/null || true
mv "$tmp/moving" "$tmp/moved-here"
moved=$(ls "$tmp"/moved.*)
expect_status 0 '' "$core" analyze "$moved" --top 1
! grep -q 'sleeper\.c' "$tmp/out" || fail "named without the binary?"
expect_status 0 '' "$core" analyze "$moved" --top 1 --exe "$tmp/moved-here"
grep -q 'sleeper\.c:[0-9]*: size=7595 KiB, count=1000' "$tmp/out" ||
	fail "--exe: $(cat "$tmp/out")"
expect_status 1 'its build-id matches no module in the table' \
	"$core" analyze "$moved" --exe "$programs/frames"
expect_status 1 'cannot open it' "$core" analyze "$moved" --exe "$tmp/none"

# A program whose source lies in a folder named in Latin-1 ("café" with
# byte 0xe9): the text keeps the name's bytes, the JSON stays UTF-8 (a
# strict parser reads it) with U+FFFD for the byte.
latin1=$tmp/caf$(printf '\351')
mkdir "$latin1"
cat >"$latin1/leak.c" <<'END'
#include <stdlib.h>
void *kept[10];
int main(void)
{
	for (int i = 0; i < 10; i++)
		kept[i] = malloc(1000);
	return 0;
}
END
gcc -g -O0 -o "$latin1/app" "$latin1/leak.c" || fail "gcc failed"
TRACEMALLOC=4 TRACEMALLOC_FILE=$tmp/latin1.trace LD_PRELOAD="$runtime" \
	"$latin1/app" >/dev/null || fail "the program failed"
expect_status 0 '' "$core" analyze "$tmp/latin1.trace" --top 1
grep -q "^$latin1/leak\.c:[0-9]*: size=10000 B, count=10," "$tmp/out" ||
	fail "analyze did not keep the file name's bytes: $(cat "$tmp/out")"
for command in "analyze --key traceback" dump; do
	# shellcheck disable=SC2086
	expect_status 0 '' "$core" $command "$tmp/latin1.trace" --json
	"$PYTHON" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
frames = [f for s in d.get("statistics", d.get("traces", []))
          for f in s["traceback"]]
names = {f.get(k) for f in frames for k in ("filename", "module")}
want = sys.argv[2].encode("utf-8", "surrogateescape").decode("utf-8",
                                                            "replace")
assert want + "/leak.c" in names, names
assert want + "/app" in names, names
' "$tmp/out" "$latin1" || fail "$command --json: $(head -c 2000 "$tmp/out")"
done
