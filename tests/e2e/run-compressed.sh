#!/bin/sh
# tm-core reads compressed cores and trace files as they are kept:
# systemd-coredump writes zstd (lz4 or xz in older versions), and files
# sent elsewhere are often gzipped.  Each gives what the file itself gives,
# names its own path, and leaves nothing in $TMPDIR.  (A pipe, such as
# `<(zstdcat core.zst)`, is refused: the readers need to seek.)  A file cut short or
# damaged is read as far as it goes, with one warning; a format tm-core
# does not read, or no room to decompress into, is one clear error.
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

# Damaged: the checksum catches it.
cp "$tmp/core.zst" "$tmp/bad.zst"
printf 'damage' | dd of="$tmp/bad.zst" bs=1 seek=$((size / 2)) \
	conv=notrunc 2>/dev/null
run bad status "$tmp/bad.zst"
grep -q "^tm-core: warning: $tmp/bad.zst: its zstd data is damaged (" \
	"$tmp/bad.err" || fail "damaged: $(cat "$tmp/bad.err")"

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

# Not files: what cannot be read at random is refused at once (a FIFO
# without a writer would otherwise block), whether compressed or not.
mkfifo "$tmp/fifo"
run fifo status "$tmp/fifo"
[ $status -eq 2 ] || fail "fifo: status $status"
grep -qx "tm-core: $tmp/fifo is a pipe, not a file: tm-core reads its sources at random; save it to a file first" \
	"$tmp/fifo.err" || fail "fifo: $(cat "$tmp/fifo.err")"
run folder status "$tmp/scratch"
grep -qx "tm-core: $tmp/scratch is a folder, not a file: tm-core reads its sources at random; save it to a file first" \
	"$tmp/folder.err" || fail "folder: $(cat "$tmp/folder.err")"

# Nowhere to decompress into.
TMPDIR=$tmp/missing
run nowhere status "$tmp/core.zst"
TMPDIR=$tmp/scratch
[ $status -eq 2 ] || fail "no TMPDIR: status $status"
grep -qx "tm-core: $tmp/core.zst is zstd-compressed, and tm-core cannot make a file in $tmp/missing to decompress it into: No such file or directory; set TMPDIR to a folder it may write" \
	"$tmp/nowhere.err" || fail "no TMPDIR: $(cat "$tmp/nowhere.err")"
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
