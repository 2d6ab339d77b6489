#!/bin/sh
# libFuzzer on the readers: fuzz_decode.c (the decoder) and
# fuzz_session.c (a file opened as tm-core opens it, every report printed
# from it), each built with clang's -fsanitize=fuzzer (plus ASan and UBSan)
# over the reader's sources, then a short coverage-guided run from a real
# trace file (and, for the session, its compressed copies and a core).
# Any crash, leak, hang or sanitizer report fails.  Skipped where clang or
# its fuzzer runtime is missing (scripts/setup installs both).
. "$top_srcdir/tests/e2e/lib.sh"

command -v clang >/dev/null || skip "no clang"
# Skipped only where clang cannot build any fuzz target; once it can, a
# failure to build this one is a failure.
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' \
	>"$tmp/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" \
	2>"$tmp/cc" ||
	skip "clang cannot build a libFuzzer target here: $(tail -3 "$tmp/cc")"
s=$top_srcdir
# build TARGET SOURCES...: tests/fuzz/TARGET.c, a libFuzzer target, over
# the reader's sources.
build() {
	target=$1
	shift
	# shellcheck disable=SC2046
	clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -DTM_LIBFUZZER \
		-include "$top_builddir/config.h" -I"$s/lib/layout" \
		-I"$s/lib/include" -I"$s/lib/util" -I"$s/lib/reader" \
		-I"$s/lib/symbolize" -I"$s/tests/unit" \
		$(ls "$s"/lib/layout/*.c "$s"/lib/util/*.c "$s"/lib/reader/*.c \
			"$s"/lib/symbolize/*.c "$s"/lib/snapshot/*.c \
			"$s"/lib/session/*.c) \
		"$@" "$s/tests/fuzz/$target.c" -o "$tmp/$target" \
		-ldw -lelf -lzstd -llzma -llz4 -lz -ldebuginfod -lm -lstdc++ \
		2>"$tmp/cc" ||
		fail "clang cannot build $target: $(tail -3 "$tmp/cc")"
}

# fuzz TARGET: a coverage-guided run from the seeds in $tmp/TARGET.seeds.
fuzz() {
	(cd "$tmp" && timeout 300 "./$1" -max_total_time=${FUZZ_SECONDS:-20} \
		-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		"$1.seeds") >"$tmp/$1.out" 2>&1 ||
		fail "libFuzzer found a fault in $1: $(grep -m1 -A30 'ERROR: ' \
			"$tmp/$1.out" || tail -20 "$tmp/$1.out")"
	printf '%s: ' "$1"
	grep -E '^stat::number_of_executed_units' "$tmp/$1.out" || echo
}

build fuzz_decode "$s/tests/unit/table_builder.c"
build fuzz_session

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >/dev/null
mkdir "$tmp/fuzz_decode.seeds" "$tmp/fuzz_session.seeds"
head -c 65536 "$(only_file "$tmp")" >"$tmp/fuzz_decode.seeds/trace"
# The session opens files as tm-core does: plain and compressed.
cp "$tmp/fuzz_decode.seeds/trace" "$tmp/fuzz_session.seeds/trace"
(cd "$tmp/fuzz_session.seeds" && gzip -k trace && xz -k trace &&
	zstd -q -k trace && lz4 -q trace trace.lz4) ||
	fail "cannot compress the seeds (scripts/setup installs the tools)"
# And a core: a small one around the same table (a real core is
# megabytes, too slow to mutate).
seeds=$tmp/fuzz_session.seeds
"${PYTHON:-python3}" "$s/tests/fuzz/small_core.py" "$seeds/trace" \
	"$seeds/core" || fail "cannot make the core seed"

fuzz fuzz_decode
fuzz fuzz_session
