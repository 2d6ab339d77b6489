#!/bin/sh
# tm-core as the kernel's core handler: with core_pattern "|handler", the
# kernel pipes the core of a crashing traced program into `tm-core analyze
# -`, which reads it from standard input as it would the file.  The
# pattern is set for the few seconds of the test and then put back; tests
# that want the kernel's core files wait meanwhile (kernel_cores).
. "$top_srcdir/tests/e2e/lib.sh"

core=$top_builddir/analyzer/tm-core
pattern_file=/proc/sys/kernel/core_pattern
: "${PYTHON:=python3}"
[ "$(id -u)" -eq 0 ] || skip "core_pattern can only be set by root"
kernel_cores -x
old_pattern=$(cat $pattern_file)
# The handler, and a program of a name no other crash has (%e is the
# crashing program's name, at most 15 characters).
prog=$tmp/tmhandlertest
cp "$programs/sleeper" "$prog"
cat >"$tmp/handler" <<EOF
#!/bin/sh
# \$1: the crashing process's pid on the host; \$2: its name.  The kernel
# hands this handler every core on the machine while the test runs: only
# ours is read, as docs/guide.md's handler reads it.
if [ "\$2" != tmhandlertest ]; then
	exec cat >/dev/null
fi
: >"$tmp/handler.started"
"$core" analyze --json --key traceback --top 3 --sysroot /proc/"\$1"/root - >"$tmp/handled.json" 2>"$tmp/handled.err"
echo \$? >"$tmp/handled.status.new"
mv "$tmp/handled.status.new" "$tmp/handled.status"
EOF
chmod +x "$tmp/handler"
trap 'echo "$old_pattern" 2>/dev/null >$pattern_file; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
echo "|$tmp/handler %P %e" 2>/dev/null >$pattern_file ||
	skip "core_pattern cannot be set here ($(cat $pattern_file))"

rm -f "$tmp/out"
(cd "$tmp" && ulimit -c unlimited &&
	exec env TRACEMALLOC=8 LD_PRELOAD="$runtime" "$prog") >"$tmp/out" &
pid=$!
wait_for "$tmp/out" ready
kill -SEGV $pid
wait $pid 2>/dev/null || true
# wait_file FILE SECONDS: whether FILE appears within SECONDS.
wait_file() {
	i=0
	until [ -f "$1" ]; do
		i=$((i + 1))
		[ $i -lt $(($2 * 20)) ] || return 1
		sleep 0.05
	done
}
wait_file "$tmp/handler.started" 10 ||
	skip "the kernel did not run the handler (a container whose core_pattern is the host's?)"
wait_file "$tmp/handled.status" 60 || fail "tm-core did not finish in 60 s"
echo "$old_pattern" >$pattern_file
[ "$(cat "$tmp/handled.status")" = 0 ] ||
	fail "tm-core as the handler: status $(cat "$tmp/handled.status"): $(cat "$tmp/handled.err")"
[ ! -s "$tmp/handled.err" ] || fail "warnings: $(cat "$tmp/handled.err")"
"$PYTHON" - "$tmp/handled.json" $pid <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
source, table, top = d["source"], d["table"], d["statistics"][0]
assert source["kind"] == "core" and source["piped"], source
assert source["name"] == "standard input", source
assert table["pid"] == int(sys.argv[2]), (table, sys.argv[2])
assert (top["size"], top["count"]) == (7777000, 1000), top
frames = [f["filename"].rsplit("/", 1)[-1] for f in top["traceback"]]
assert frames[:2] == ["sleeper.c", "sleeper.c"], frames
EOF
	fail "the handler's analysis: $(cat "$tmp/handled.json")"
