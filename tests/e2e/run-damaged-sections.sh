#!/bin/sh
# The runtime reads the program's symbol table from its file when tracing
# starts (program_wrappers.c).  Section headers play no part in running a
# program, so a program whose section headers are damaged (by a packer, a
# stripping tool, a truncated copy) still runs; traced, it must run as
# well, its operator new dropped where the names can still be read.
. "$top_srcdir/tests/e2e/lib.sh"
: "${PYTHON:=python3}"

prog=$programs/cxx-libstdcxx-static

# run NAME COPY: run COPY traced; its table must decode with every block.
run() {
	rm -f "$tmp"/trace.*
	timeout 120 env TRACEMALLOC=16 TRACEMALLOC_FILE="$tmp/trace.%p" \
		LD_PRELOAD="$runtime" "$2" >"$tmp/out" 2>"$tmp/err" ||
		fail "$1: the program failed: $(cat "$tmp/err")"
	grep -q '^cxx done$' "$tmp/out" || fail "$1: the program did not finish"
	probe_file "$(only_file "$tmp")" "$tmp/table"
	# The widgets and the one made after std::bad_alloc (the frames'
	# names are read from the damaged file, and may be lost).
	expect_exactly "$tmp/table" 51 '^trace domain=0 size=104 '
}

# damage KIND SEED: write a copy of the program damaged so, print its path.
damage() {
	"$PYTHON" - "$prog" "$tmp/$1-$2" "$1" "$2" <<'EOF'
import random, struct, sys

src, dst, kind, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = bytearray(open(src, "rb").read())
rng = random.Random(seed)
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)

def header(i):
    return shoff + i * shentsize

def find(sh_type):
    for i in range(shnum):
        if struct.unpack_from("<I", data, header(i) + 4)[0] == sh_type:
            return i
    sys.exit("no section of type %d" % sh_type)

symtab = find(2)  # SHT_SYMTAB
strtab = struct.unpack_from("<I", data, header(symtab) + 40)[0]
if kind == "shoff-past-end":
    struct.pack_into("<Q", data, 0x28, len(data) + 4096)
elif kind == "shnum-huge":
    struct.pack_into("<H", data, 0x3C, 0xFFFF)
elif kind == "symtab-offset-past-end":
    struct.pack_into("<Q", data, header(symtab) + 24, 1 << 62)
elif kind == "symtab-size-huge":
    struct.pack_into("<Q", data, header(symtab) + 32, (1 << 64) - 24)
elif kind == "strtab-unterminated":
    size, = struct.unpack_from("<Q", data, header(strtab) + 32)
    off, = struct.unpack_from("<Q", data, header(strtab) + 24)
    data[off + size - 1] = ord("x")
elif kind == "link-out-of-range":
    struct.pack_into("<I", data, header(symtab) + 40, shnum + 7)
elif kind == "names-out-of-range":
    size, = struct.unpack_from("<Q", data, header(symtab) + 32)
    off, = struct.unpack_from("<Q", data, header(symtab) + 24)
    for k in range(0, size, 24):
        struct.pack_into("<I", data, off + k, rng.randrange(1 << 32))
elif kind == "random-headers":
    for _ in range(rng.randrange(1, 64)):
        data[shoff + rng.randrange(shnum * shentsize)] = rng.randrange(256)
elif kind == "random-symbols":
    size, = struct.unpack_from("<Q", data, header(symtab) + 32)
    off, = struct.unpack_from("<Q", data, header(symtab) + 24)
    for _ in range(rng.randrange(1, 4096)):
        data[off + rng.randrange(size)] = rng.randrange(256)
else:
    sys.exit("unknown damage " + kind)
open(dst, "wb").write(data)
EOF
	chmod +x "$tmp/$1-$2"
	echo "$tmp/$1-$2"
}

# The undamaged program first: operator new is dropped.
run undamaged "$prog"
expect_exactly "$tmp/table" 50 \
	'^trace domain=0 size=104 .* frames=make_widgets\(\);main;'

for kind in shoff-past-end shnum-huge symtab-offset-past-end \
	symtab-size-huge strtab-unterminated link-out-of-range \
	names-out-of-range; do
	run "$kind" "$(damage "$kind" 0)"
done
for seed in 1 2 3 4 5 6 7 8 9 10; do
	run "random-headers $seed" "$(damage random-headers "$seed")"
	run "random-symbols $seed" "$(damage random-symbols "$seed")"
done
echo "ran 27 damaged copies"
