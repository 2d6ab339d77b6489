#!/bin/sh
# --sysroot DIR: the traced program ran on another system (a container, an
# image), whose files are under DIR here.  tm-core looks for each module
# the table recorded under DIR first, then at its path outside (a library
# both systems share, by build-id), then in DIR's store of debug files,
# and names every frame; frames keep the recorded paths as their modules.
. "$top_srcdir/tests/e2e/lib.sh"

core=$top_builddir/analyzer/tm-core
: "${PYTHON:=python3}"
unset DEBUGINFOD_URLS

# The program, traced from $tmp/run, its table in a file; then its folder
# moves into the "other system", $tmp/root.
mkdir "$tmp/run"
cp "$programs/lto" "$tmp/run/app"
killed_after block "$tmp/run/app"
block=$(sed -n 's/^block //p' "$tmp/out")
trace=$tmp/trace.$pid
root=$tmp/root
mkdir -p "$root$tmp"
mv "$tmp/run" "$root$tmp/run"

# frames ARGS...: the first 4 frames of `tm-core traceback TRACE BLOCK
# ARGS`, as "file:line:function".
frames() {
	"$core" traceback "$trace" "$block" "$@" >"$tmp/tb" 2>"$tmp/err" ||
		fail "traceback $*: $(cat "$tmp/err")"
	grep '^  File ' "$tmp/tb" | head -n 4 |
		sed 's/^  File "\(.*\)", line \([0-9]*\), in \(.*\)$/\1:\2:\3/' |
		sed "s|^[^ ]*/tests/programs/|tests/programs/|" | tr '\n' ' '
}
# line FILE TEXT: the number of the line of tests/programs/FILE with TEXT.
line() {
	grep -n -F -- "$2" "$top_srcdir/tests/programs/$1" | cut -d: -f1
}
named="tests/programs/lto-calls.c:$(line lto-calls.c 'return malloc(size)'):lto_leaf \
tests/programs/lto-calls.c:$(line lto-calls.c '= lto_leaf(size)'):lto_middle \
tests/programs/lto-main.c:$(line lto-main.c '= lto_middle(4321)'):main "

# Not at its path: unnamed.
case $(frames) in
"$tmp/run/app:0:<unknown> "*) ;;
*) fail "without --sysroot: $(cat "$tmp/tb")" ;;
esac
# Under the sysroot: named.  libc, which the sysroot lacks, is named from
# the same file outside it.
case $(frames --sysroot "$root") in
"$named"*) ;;
*) fail "with --sysroot: $(cat "$tmp/tb" "$tmp/err")" ;;
esac
[ ! -s "$tmp/err" ] || fail "with --sysroot, warnings: $(cat "$tmp/err")"
grep -q '^  File ".*", line [0-9]*, in __libc_start_call_main$' "$tmp/tb" ||
	fail "libc, from outside the sysroot: $(cat "$tmp/tb")"
# As --sysroot=DIR, with every command; the module is the recorded path.
"$core" dump "$trace" --json --sysroot="$root" >"$tmp/dump.json" ||
	fail "dump --sysroot=DIR"
"$PYTHON" - "$tmp/dump.json" "$block" "$tmp/run/app" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
trace = next(t for t in d["traces"] if t["address"] == int(sys.argv[2], 16))
frame = trace["traceback"][0]
assert frame["function"] == "lto_leaf", frame
assert frame["module"] == sys.argv[3], frame
EOF
	fail "dump --json --sysroot=DIR: $(cat "$tmp/dump.json")"

# Not under the sysroot, but at its path outside it with its build-id
# (as a library both systems share): named from there.
mkdir "$tmp/run"
mv "$root$tmp/run/app" "$tmp/run/app"
case $(frames --sysroot "$root") in
"$named"*) ;;
*) fail "outside the sysroot: $(cat "$tmp/tb" "$tmp/err")" ;;
esac

# Rebuilt under the sysroot: said, under its recorded path, and not used.
mv "$tmp/run/app" "$tmp/app.kept"
gcc -g -O0 -o "$root$tmp/run/app" "$top_srcdir/tests/programs/lto-main.c" \
	"$top_srcdir/tests/programs/lto-calls.c" || fail "gcc failed"
case $(frames --sysroot "$root") in
"$tmp/run/app:0:<unknown> "*) ;;
*) fail "rebuilt under the sysroot: $(cat "$tmp/tb")" ;;
esac
grep -q "warning: 1 module(s) changed since the trace was taken (build-id differs), e.g. $tmp/run/app;" \
	"$tmp/err" || fail "no warning for the rebuilt program: $(cat "$tmp/err")"

# Gone, but its debug file is in the sysroot's store, by build-id.
rm "$root$tmp/run/app"
id=$(readelf -n "$tmp/app.kept" | sed -n 's/^ *Build ID: //p')
[ -n "$id" ] || fail "the program has no build-id"
store=$root/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)
mkdir -p "$store"
objcopy --only-keep-debug "$tmp/app.kept" "$store/$(echo "$id" | cut -c3-).debug"
case $(frames --sysroot "$root") in
"$named"*) ;;
*) fail "from the sysroot's debug store: $(cat "$tmp/tb" "$tmp/err")" ;;
esac

# Without a build-id, nothing says a file outside the sysroot is the
# module's: another program at the recorded path is not used.
gcc -g -O0 -Wl,--build-id=none -o "$tmp/run/plain" \
	"$top_srcdir/tests/programs/lto-main.c" \
	"$top_srcdir/tests/programs/lto-calls.c" || fail "gcc failed"
killed_after block "$tmp/run/plain"
block=$(sed -n 's/^block //p' "$tmp/out")
trace=$tmp/trace.$pid
mv "$tmp/run/plain" "$root$tmp/run/plain"
case $(frames --sysroot "$root") in
*:lto_leaf\ *) ;;
*) fail "no build-id, under the sysroot: $(cat "$tmp/tb" "$tmp/err")" ;;
esac
cp "$programs/lto" "$tmp/run/plain"
rm "$root$tmp/run/plain"
case $(frames --sysroot "$root") in
"$tmp/run/plain:0:<unknown> "*) ;;
*) fail "no build-id, another file outside the sysroot: $(cat "$tmp/tb")" ;;
esac

# Not a folder: bad usage.
status=0
"$core" status "$trace" --sysroot "$tmp/none" 2>"$tmp/err" || status=$?
[ $status -eq 1 ] || fail "--sysroot of nothing: status $status"
grep -qx "tm-core: --sysroot $tmp/none: not a folder; give the root of the system the program ran on (/proc/PID/root for a process in a container)" \
	"$tmp/err" || fail "--sysroot of nothing: $(cat "$tmp/err")"

# A process with a root of its own (chrooted here, as a container's would
# be, and without /proc): `--pid` looks up its files under /proc/PID/root
# by itself, and the runtime names its program without /proc.
[ "$(id -u)" -eq 0 ] || skip "chroot needs root"
jail=$tmp/jail
mkdir -p "$jail/tm"
cp "$tmp/app.kept" "$jail/app"
cp "$runtime" "$jail/tm/libtracemalloc.so"
unwind=$(ldconfig -p | sed -n 's/^[[:space:]]*libunwind\.so\.8 (.*=> //p' | head -n 1)
[ -n "$unwind" ] || skip "no libunwind.so.8 in the loader's cache"
for lib in $(ldd "$jail/app" "$runtime" "$unwind" | grep -o '/[^ ]*' | sort -u) "$unwind"; do
	case $lib in */*:) continue ;; esac
	mkdir -p "$jail$(dirname "$lib")"
	cp -L "$lib" "$jail$lib"
done
rm -f "$tmp/out"
(TRACEMALLOC=8 LD_PRELOAD=/tm/libtracemalloc.so exec chroot "$jail" /app \
	</dev/null >"$tmp/out" 2>"$tmp/jail.err") &
pid=$!
wait_for "$tmp/out" block
block=$(sed -n 's/^block //p' "$tmp/out")
"$core" traceback --pid $pid "$block" >"$tmp/tb" 2>"$tmp/err" ||
	fail "traceback --pid of a chrooted process: $(cat "$tmp/err" "$tmp/jail.err")"
"$core" traceback --pid $pid "$block" --sysroot / >"$tmp/tb-host" 2>&1 ||
	fail "traceback --pid --sysroot /: $(cat "$tmp/tb-host")"
kill -9 $pid
wait $pid 2>/dev/null || true
grep '^  File ' "$tmp/tb" | head -n 1 | grep -q ', in lto_leaf$' ||
	fail "--pid of a chrooted process: $(cat "$tmp/tb" "$tmp/err")"
grep '^  File ' "$tmp/tb-host" | head -n 1 | grep -qx '  File "/app", line 0, in <unknown>' ||
	fail "--pid of a chrooted process, --sysroot /: $(cat "$tmp/tb-host")"

# A core the kernel writes of it: the runtime, at /tm/libtracemalloc.so
# under the sysroot only, gives the descriptor symbol; without --sysroot
# only the scan finds the table.  (A core from gcore holds the runtime's
# symbols itself.)
located() {
	"$core" status "$@" --json >"$tmp/status.json" ||
		fail "status $*: $(cat "$tmp/status.json")"
	"$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["source"]["located_by"])' \
		<"$tmp/status.json"
}
case $(cat /proc/sys/kernel/core_pattern) in
"|"*)
	echo "note: core_pattern is a pipe; no kernel core of the chrooted process" ;;
*)
	kernel_cores
	rm -f "$tmp/out" "$jail"/core*
	(ulimit -c unlimited &&
		TRACEMALLOC=8 LD_PRELOAD=/tm/libtracemalloc.so exec chroot "$jail" /app \
			</dev/null >"$tmp/out" 2>"$tmp/jail.err") &
	pid=$!
	wait_for "$tmp/out" block
	kill -SEGV $pid
	wait $pid 2>/dev/null || true
	kcore=$(ls "$jail"/core* 2>/dev/null | head -n 1)
	[ -n "$kcore" ] || fail "the kernel wrote no core of the chrooted process"
	[ "$(located "$kcore" --sysroot "$jail")" = symbol ] ||
		fail "kernel core with --sysroot: $(cat "$tmp/status.json")"
	[ "$(located "$kcore")" = scan ] ||
		fail "kernel core without --sysroot: $(cat "$tmp/status.json")"
	echo "kernel core of a chrooted process: located by its symbol under --sysroot"
	;;
esac
