#!/bin/sh
# tm-core reads compressed cores and trace files as they are kept:
# systemd-coredump writes zstd (lz4 or xz in older versions), and files
# sent elsewhere are often gzipped.  Each gives what the file itself gives,
# names its own path, and leaves nothing in $TMPDIR.  A core piped in
# (`-`, a FIFO, `<(zstdcat core.zst)`), compressed or not, is copied and
# read the same way.  A file cut short or damaged is read as far as it
# goes, with one warning; a format tm-core does not read, or no room to
# decompress into, is one clear error.
. "$top_srcdir/tests/e2e/lib.sh"

core=$top_builddir/analyzer/tm-core
: "${PYTHON:=python3}"
command -v gcore >/dev/null || skip "no gcore"
for tool in zstd xz lz4 gzip; do
	command -v $tool >/dev/null || skip "no $tool (scripts/setup installs it)"
done

# A core of the sleeper (1000 blocks kept), and its table as a file.
rm -f "$tmp/out"
(cd "$tmp" && exec env TRACEMALLOC=8 LD_PRELOAD="$runtime" \
	"$programs/sleeper") >"$tmp/out" &
pid=$!
wait_for "$tmp/out" ready
gcore -o "$tmp/gcore" $pid >/dev/null 2>&1 || fail "gcore failed"
kill -9 $pid; wait $pid 2>/dev/null || true
mv "$tmp/gcore.$pid" "$tmp/core"
"$core" dump "$tmp/core" -o "$tmp/trace" || fail "dump failed"
block=$("$core" dump "$tmp/core" --json | "$PYTHON" -c '
import json, sys
print(json.load(sys.stdin)["traces"][0]["address"])')

# Decompressed copies go here; nothing may stay behind.
mkdir "$tmp/scratch"
export TMPDIR="$tmp/scratch"

# run NAME ARGS...: tm-core ARGS into $tmp/NAME.out and .err; its status
# into $status.
run() {
	name=$1
	shift
	status=0
	timeout 120 "$core" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
		status=$?
}

# piped NAME PRODUCER ARGS...: as run, with the output of the shell
# command PRODUCER piped into tm-core.
piped() {
	name=$1
	producer=$2
	shift 2
	status=0
	sh -c "$producer" | timeout 120 "$core" "$@" >"$tmp/$name.out" \
		2>"$tmp/$name.err" || status=$?
}

run plain analyze "$tmp/core" --top 3
[ $status -eq 0 ] || fail "the plain core: $(cat "$tmp/plain.err")"
grep -q 'sleeper\.c:[0-9]*: size=7595 KiB, count=1000, average=7777 B$' \
	"$tmp/plain.out" || fail "the plain core: $(cat "$tmp/plain.out")"
run plain-tb traceback "$tmp/core" "$block"
run plain-json status "$tmp/core" --json

for format in zstd xz lz4 gzip; do
	case $format in
	zstd) packed=$tmp/core.zst; zstd -q -o "$packed" "$tmp/core" ;;
	xz) packed=$tmp/core.xz; xz -T1 -k -c "$tmp/core" >"$packed" ;;
	lz4) packed=$tmp/core.lz4; lz4 -q "$tmp/core" "$packed" ;;
	gzip) packed=$tmp/core.gz; gzip -c "$tmp/core" >"$packed" ;;
	esac
	run $format analyze "$packed" --top 3
	[ $status -eq 0 ] || fail "$format: $(cat "$tmp/$format.err")"
	[ ! -s "$tmp/$format.err" ] || fail "$format: $(cat "$tmp/$format.err")"
	cmp -s "$tmp/plain.out" "$tmp/$format.out" ||
		fail "$format: $(diff "$tmp/plain.out" "$tmp/$format.out")"
	run $format-tb traceback "$packed" "$block"
	cmp -s "$tmp/plain-tb.out" "$tmp/$format-tb.out" ||
		fail "$format traceback: $(cat "$tmp/$format-tb.out" "$tmp/$format-tb.err")"
	run $format-status status "$packed"
	grep -q "^source: core $packed, decompressed from $format\$" \
		"$tmp/$format-status.out" ||
		fail "$format status: $(cat "$tmp/$format-status.out")"
	# JSON: the same document, but for the source's name and format.
	run $format-json status "$packed" --json
	"$PYTHON" - "$tmp/plain-json.out" "$tmp/$format-json.out" "$packed" \
		$format <<'EOF' || fail "$format JSON: $(cat "$tmp/$format-json.out")"
import json, sys
plain, packed = (json.load(open(p)) for p in sys.argv[1:3])
assert plain["source"]["compression"] is None, plain["source"]
assert plain["source"]["compression_damage"] is None, plain["source"]
assert packed["source"]["name"] == sys.argv[3], packed["source"]
assert packed["source"]["compression"] == sys.argv[4], packed["source"]
assert packed["source"]["compression_damage"] is None, packed["source"]
for doc in (plain, packed):
    del doc["source"]["name"], doc["source"]["compression"]
assert plain == packed, (plain, packed)
EOF
	[ -z "$(ls -A "$tmp/scratch")" ] ||
		fail "$format left files behind: $(ls -A "$tmp/scratch")"
done

# A trace file, gzipped and xz'ed; and the difference between two
# compressed sources, which is nothing.
gzip -c "$tmp/trace" >"$tmp/trace.gz"
xz -T1 -c "$tmp/trace" >"$tmp/trace.xz"
run trace analyze "$tmp/trace" --top 3
run trace-gz analyze "$tmp/trace.gz" --top 3
cmp -s "$tmp/trace.out" "$tmp/trace-gz.out" ||
	fail "gzipped trace file: $(cat "$tmp/trace-gz.out" "$tmp/trace-gz.err")"
run diff diff "$tmp/trace.gz" "$tmp/trace.xz" --json
[ $status -eq 0 ] || fail "diff: $(cat "$tmp/diff.err")"
"$PYTHON" - "$tmp/diff.out" <<'EOF' || fail "diff: $(cat "$tmp/diff.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["old"]["source"]["compression"] == "gzip", d["old"]
assert d["new"]["source"]["compression"] == "xz", d["new"]
assert d["statistics"] and all(s["size_diff"] == 0 and s["count_diff"] == 0
                               for s in d["statistics"]), d["statistics"]
EOF

# Cut short: what is there is read, and one line says so.
size=$(stat -c %s "$tmp/core.zst")
head -c $((size * 9 / 10)) "$tmp/core.zst" >"$tmp/cut.zst"
run cut status "$tmp/cut.zst" --json
grep -q "^tm-core: warning: $tmp/cut.zst: its zstd data is cut short; the [0-9]* bytes it holds are read as a file cut short there\$" \
	"$tmp/cut.err" || fail "cut short: $status $(cat "$tmp/cut.err")"
grep -q '"compression_damage":"[^"]*is cut short' "$tmp/cut.out" ||
	fail "cut short, JSON: $(cat "$tmp/cut.out")"

# Damaged: the checksum catches it.  What was decompressed before the
# damage may hold the table (a warning) or not (the error, led by the
# note): either way the damage is named.
cp "$tmp/core.zst" "$tmp/bad.zst"
printf 'damage' | dd of="$tmp/bad.zst" bs=1 seek=$((size / 2)) \
	conv=notrunc 2>/dev/null
run bad status "$tmp/bad.zst"
grep -Eq "^tm-core: (warning: )?$tmp/bad.zst: its zstd data is damaged \(" \
	"$tmp/bad.err" || fail "damaged: $(cat "$tmp/bad.err")"

# Cut short before the table: no table in what it holds, and the message
# says the data was cut short, not only that no table was found.  (The
# first copy of the table's magic, \x89TMT, may be the runtime's own.)
magic=$(LC_ALL=C grep -obUa TMT "$tmp/core" | head -n 1 | cut -d: -f1)
head -c $((magic - 4096)) "$tmp/core" | zstd -q -c >"$tmp/front.zst"
front=$(stat -c %s "$tmp/front.zst")
head -c $((front - 10)) "$tmp/front.zst" >"$tmp/front-cut.zst"
run front status "$tmp/front-cut.zst"
[ $status -eq 2 ] || fail "cut before the table: status $status"
grep -q "^tm-core: $tmp/front-cut.zst: its zstd data is cut short; the [0-9]* bytes it holds are read as a file cut short there; in those: no trace table found" \
	"$tmp/front.err" || fail "cut before the table: $(cat "$tmp/front.err")"

# Not read: bzip2; a decompressed file that holds no table.
bzip2 -c "$tmp/core" >"$tmp/core.bz2" 2>/dev/null || printf 'BZh91AY&SY' >"$tmp/core.bz2"
run bz2 status "$tmp/core.bz2"
[ $status -eq 2 ] || fail "bzip2: status $status"
grep -qx "tm-core: $tmp/core.bz2 is bzip2-compressed, which tm-core does not read: decompress it first (bzip2 -d)" \
	"$tmp/bz2.err" || fail "bzip2: $(cat "$tmp/bz2.err")"
head -c 100000 /dev/urandom | gzip -c >"$tmp/noise.gz"
run noise status "$tmp/noise.gz"
[ $status -eq 2 ] || fail "noise: status $status"
grep -qx "tm-core: $tmp/noise.gz, decompressed, is not a core, a trace file or a snapshot (no trace table at its start)" \
	"$tmp/noise.err" || fail "noise: $(cat "$tmp/noise.err")"

# The readers' own messages name the file given, not the copy they read.
head -c 64 "$tmp/core" | gzip -c >"$tmp/header.gz"
run header status "$tmp/header.gz"
[ $status -eq 2 ] || fail "header only: status $status"
grep -qx "tm-core: $tmp/header.gz: cannot read its program headers: invalid data" \
	"$tmp/header.err" || fail "header only: $(cat "$tmp/header.err")"

# Piped in: standard input, a FIFO, a process substitution; plain or
# compressed, each gives what the file gives.
piped pipe "cat $tmp/core" analyze - --top 3
cmp -s "$tmp/plain.out" "$tmp/pipe.out" ||
	fail "a piped core: $(cat "$tmp/pipe.out" "$tmp/pipe.err")"
piped pipe-tb "zstd -q -c $tmp/core" traceback - "$block"
cmp -s "$tmp/plain-tb.out" "$tmp/pipe-tb.out" ||
	fail "a piped zstd core: $(cat "$tmp/pipe-tb.out" "$tmp/pipe-tb.err")"
run redirected status - <"$tmp/core.gz"
grep -qx "source: core standard input, decompressed from gzip" \
	"$tmp/redirected.out" ||
	fail "stdin from a file: $(cat "$tmp/redirected.out" "$tmp/redirected.err")"
piped pipe-json "cat $tmp/core.xz" status - --json
"$PYTHON" - "$tmp/plain-json.out" "$tmp/pipe-json.out" <<'EOF' ||
import json, sys
plain, piped = (json.load(open(p)) for p in sys.argv[1:3])
assert plain["source"]["piped"] is False, plain["source"]
assert piped["source"] == dict(plain["source"], name="standard input",
                               compression="xz", piped=True), piped["source"]
del plain["source"], piped["source"]
assert plain == piped, (plain, piped)
EOF
	fail "piped JSON: $(cat "$tmp/pipe-json.out")"
mkfifo "$tmp/fifo"
lz4 -q -c "$tmp/core" >"$tmp/fifo" &
run fifo status "$tmp/fifo"
wait $!
grep -qx "source: core $tmp/fifo, read from a pipe, decompressed from lz4" \
	"$tmp/fifo.out" || fail "FIFO: $(cat "$tmp/fifo.out" "$tmp/fifo.err")"
cat "$tmp/trace" >"$tmp/fifo" &
run subst analyze /dev/fd/3 --top 3 3<"$tmp/fifo"
wait $!
cmp -s "$tmp/trace.out" "$tmp/subst.out" ||
	fail "/dev/fd/3: $(cat "$tmp/subst.out" "$tmp/subst.err")"
piped pipe-diff "cat $tmp/trace.gz" diff - "$tmp/trace.xz" --json
"$PYTHON" - "$tmp/pipe-diff.out" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
assert d["old"]["source"]["piped"] and not d["new"]["source"]["piped"], d
assert d["statistics"] and all(s["size_diff"] == 0 for s in d["statistics"])
EOF
	fail "diff - NEW: $(cat "$tmp/pipe-diff.out" "$tmp/pipe-diff.err")"
run both-stdin diff - - </dev/null
[ $status -eq 1 ] || fail "diff - -: status $status"
grep -qx "tm-core diff: standard input (-) can be only one of OLD and NEW" \
	"$tmp/both-stdin.err" || fail "diff - -: $(cat "$tmp/both-stdin.err")"
piped empty true status -
[ $status -eq 2 ] || fail "empty pipe: status $status"
grep -qx "tm-core: standard input: nothing came through the pipe; give tm-core a core, a trace file or a snapshot there" \
	"$tmp/empty.err" || fail "empty pipe: $(cat "$tmp/empty.err")"
piped noise-pipe "head -c 100000 /dev/urandom" status -
[ $status -eq 2 ] || fail "noise piped: status $status"
grep -qx "tm-core: standard input is not a core, a trace file or a snapshot (no trace table at its start)" \
	"$tmp/noise-pipe.err" || fail "noise piped: $(cat "$tmp/noise-pipe.err")"
[ -z "$(ls -A "$tmp/scratch")" ] ||
	fail "pipes left files behind: $(ls -A "$tmp/scratch")"

# Neither files nor pipes: refused at once (/dev/zero would never end).
run folder status "$tmp/scratch"
[ $status -eq 2 ] || fail "folder: status $status"
grep -qx "tm-core: $tmp/scratch is a folder, not a file: give tm-core a core, a trace file or a snapshot, or pipe one into it" \
	"$tmp/folder.err" || fail "folder: $(cat "$tmp/folder.err")"
run device status /dev/zero
[ $status -eq 2 ] || fail "device: status $status"
grep -qx "tm-core: /dev/zero is a device, not a file: give tm-core a core, a trace file or a snapshot, or pipe one into it" \
	"$tmp/device.err" || fail "device: $(cat "$tmp/device.err")"

# No standard input at all.
status=0
"$core" status - <&- 2>"$tmp/closed.err" || status=$?
[ $status -eq 2 ] || fail "closed standard input: status $status"
grep -qx "tm-core: standard input is closed: pipe a core, a trace file or a snapshot into tm-core, or give its path" \
	"$tmp/closed.err" || fail "closed standard input: $(cat "$tmp/closed.err")"

# A terminal as standard input (script(1) gives tm-core one).
if command -v script >/dev/null; then
	status=0
	script -qec "$core status -" /dev/null </dev/null >"$tmp/tty.out" ||
		status=$?
	[ $status -eq 2 ] || fail "a terminal: status $status"
	grep -q "^tm-core: standard input is a terminal: pipe a core, a trace file or a snapshot into tm-core, or give its path" \
		"$tmp/tty.out" || fail "a terminal: $(cat "$tmp/tty.out")"
fi

# Nowhere to decompress into.
TMPDIR=$tmp/missing
run nowhere status "$tmp/core.zst"
TMPDIR=$tmp/scratch
[ $status -eq 2 ] || fail "no TMPDIR: status $status"
grep -qx "tm-core: $tmp/core.zst is zstd-compressed, and tm-core cannot make a file in $tmp/missing to decompress it into: No such file or directory; set TMPDIR to a folder it may write" \
	"$tmp/nowhere.err" || fail "no TMPDIR: $(cat "$tmp/nowhere.err")"
TMPDIR=$tmp/missing
piped nowhere-pipe "cat $tmp/core" status -
TMPDIR=$tmp/scratch
[ $status -eq 2 ] || fail "no TMPDIR, piped: status $status"
grep -qx "tm-core: standard input is piped, and tm-core cannot make a file in $tmp/missing to copy it into: No such file or directory; set TMPDIR to a folder it may write" \
	"$tmp/nowhere-pipe.err" ||
	fail "no TMPDIR, piped: $(cat "$tmp/nowhere-pipe.err")"
# No room to copy into: a full file system (a 2 MiB tmpfs, in a mount
# namespace of its own, where root may make one), and `ulimit -f`, whose
# SIGXFSZ would otherwise end tm-core.
mkdir "$tmp/small"
if unshare -m sh -c 'mount -t tmpfs -o size=2m tmpfs "$1"' sh "$tmp/small" \
	2>/dev/null; then
	status=0
	unshare -m sh -c 'mount -t tmpfs -o size=2m tmpfs "$1" &&
		TMPDIR=$1 exec timeout 120 "$2" status "$3"' sh "$tmp/small" \
		"$core" "$tmp/core.zst" 2>"$tmp/full.err" || status=$?
	[ $status -eq 2 ] || fail "full TMPDIR: status $status"
	grep -qx "tm-core: cannot decompress $tmp/core.zst into $tmp/small: No space left on device after [0-9]* bytes; set TMPDIR to a folder with more room, or decompress it yourself (zstd -d)" \
		"$tmp/full.err" || fail "full TMPDIR: $(cat "$tmp/full.err")"
else
	echo "note: no tmpfs in a mount namespace here; a full TMPDIR is not checked"
fi
status=0
cat "$tmp/core" | (ulimit -f 1024 && exec "$core" status -) \
	2>"$tmp/fsize.err" || status=$?
[ $status -eq 2 ] || fail "ulimit -f: status $status: $(cat "$tmp/fsize.err")"
grep -qx "tm-core: cannot copy standard input into $tmp/scratch: File too large after [0-9]* bytes; raise \`ulimit -f\`, or save it to a file first" \
	"$tmp/fsize.err" || fail "ulimit -f: $(cat "$tmp/fsize.err")"
[ -z "$(ls -A "$tmp/scratch")" ] ||
	fail "files left behind: $(ls -A "$tmp/scratch")"

# Random damage, 20 times in each format: never a crash or a hang, only
# the documented statuses, and nothing left behind.
for packed in "$tmp/core.zst" "$tmp/core.xz" "$tmp/core.lz4" "$tmp/core.gz"; do
	for seed in $(seq 1 20); do
		"$PYTHON" - "$packed" "$tmp/fuzzed" "$seed" <<'PY'
import random, sys
data = bytearray(open(sys.argv[1], "rb").read())
rng = random.Random(int(sys.argv[3]))
for _ in range(rng.randint(1, 8)):
    data[rng.randrange(len(data))] = rng.randrange(256)
if rng.random() < 0.3:
    del data[rng.randrange(len(data)):]
open(sys.argv[2], "wb").write(data)
PY
		run fuzzed analyze "$tmp/fuzzed" --top 3
		case $status in
		0 | 2 | 3) ;;
		*) fail "$packed, damage $seed: status $status: $(cat "$tmp/fuzzed.err")" ;;
		esac
	done
done
[ -z "$(ls -A "$tmp/scratch")" ] ||
	fail "files left behind: $(ls -A "$tmp/scratch")"
