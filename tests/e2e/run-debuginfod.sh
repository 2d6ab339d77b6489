#!/bin/sh
# Where crashes are triaged the traced program is usually not at the path
# it ran from, or a newer build is.  tm-core then finds the module's debug
# file by its build-id from a debuginfod server (DEBUGINFOD_URLS), here a
# local one serving nothing but the debug file, and names every frame;
# without a server, the frames keep their module's path, and a rebuilt
# module is said to be one.
. "$top_srcdir/tests/e2e/lib.sh"

core=$top_builddir/analyzer/tm-core
: "${PYTHON:=python3}"
command -v debuginfod >/dev/null ||
	skip "no debuginfod (scripts/setup installs it)"

# The program, traced, its table in a file; then it goes away.
cp "$programs/lto" "$tmp/app"
killed_after block "$tmp/app"
block=$(sed -n 's/^block //p' "$tmp/out")
trace=$tmp/trace.$pid
mkdir "$tmp/srv"
objcopy --only-keep-debug "$tmp/app" "$tmp/srv/app.debug"
mv "$tmp/app" "$tmp/app.kept"

# frames FILE [N]: the first N (3) frames of a traceback, as
# "file:line:function".
frames() {
	grep '^  File ' "$1" | head -n "${2:-3}" |
		sed 's/^  File "\(.*\)", line \([0-9]*\), in \(.*\)$/\1:\2:\3/' |
		tr '\n' ' '
}

# No file, no server: the frames are the module's, unnamed (two: without
# debug information, lto_middle is part of main).
"$core" traceback "$trace" "$block" >"$tmp/tb" 2>"$tmp/err" ||
	fail "traceback: $(cat "$tmp/err")"
[ "$(frames "$tmp/tb" 2)" = "$tmp/app:0:<unknown> $tmp/app:0:<unknown> " ] ||
	fail "without the program: $(cat "$tmp/tb")"

# A rebuilt program at the path: said, and not used.
gcc -g -O0 -o "$tmp/app" "$top_srcdir/tests/programs/lto-main.c" \
	"$top_srcdir/tests/programs/lto-calls.c" || fail "gcc failed"
"$core" traceback "$trace" "$block" >"$tmp/tb" 2>"$tmp/err" ||
	fail "traceback: $(cat "$tmp/err")"
grep -q "warning: 1 module(s) changed since the trace was taken (build-id differs), e.g. $tmp/app;" \
	"$tmp/err" || fail "no warning for the rebuilt program: $(cat "$tmp/err")"
[ "$(frames "$tmp/tb" 2)" = "$tmp/app:0:<unknown> $tmp/app:0:<unknown> " ] ||
	fail "with a rebuilt program: $(cat "$tmp/tb")"

# A local debuginfod that serves the debug file alone.
port=$("$PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
debuginfod -F -p "$port" -d "$tmp/db.sqlite" "$tmp/srv" >"$tmp/debuginfod.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
# Ready once it has indexed the file.
"$PYTHON" - "$port" <<'EOF' || fail "debuginfod did not index: $(tail -5 "$tmp/debuginfod.log")"
import sys, time, urllib.request
for _ in range(200):
    try:
        metrics = urllib.request.urlopen(
            "http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read().decode()
        if 'scanned_files_total{source="file"} 1' in metrics:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
export DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$tmp/cache"

# The rebuilt program is passed over for the debug file with the build-id.
"$core" traceback "$trace" "$block" >"$tmp/tb" 2>"$tmp/err" ||
	fail "traceback: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "warnings with the debug file: $(cat "$tmp/err")"
frames "$tmp/tb" |
	grep -q '^[^ ]*lto-calls.c:8:lto_leaf [^ ]*lto-calls.c:13:lto_middle [^ ]*lto-main.c:11:main $' ||
	fail "from debuginfod, rebuilt program at the path: $(cat "$tmp/tb")"

# And so is the absence of any program.
rm "$tmp/app"
"$core" analyze "$trace" --top 1 >"$tmp/top" 2>"$tmp/err" ||
	fail "analyze: $(cat "$tmp/err")"
grep -q 'lto-calls\.c:8: size=4321 B, count=1, average=4321 B$' "$tmp/top" ||
	fail "from debuginfod, no program: $(cat "$tmp/top" "$tmp/err")"
