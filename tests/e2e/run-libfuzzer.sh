#!/bin/sh
# libFuzzer on the decoder: fuzz_decode.c built with clang's
# -fsanitize=fuzzer (plus ASan and UBSan) over the reader's sources, then a
# short coverage-guided run from a real trace file.  Any crash, leak, hang
# or sanitizer report fails.  Skipped where clang or its fuzzer runtime is
# missing (scripts/setup installs both).
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
# shellcheck disable=SC2046
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -DTM_LIBFUZZER \
	-include "$top_builddir/config.h" -I"$s/lib/layout" -I"$s/lib/include" \
	-I"$s/lib/util" -I"$s/lib/reader" -I"$s/lib/symbolize" -I"$s/tests/unit" \
	$(ls "$s"/lib/layout/*.c "$s"/lib/util/*.c "$s"/lib/reader/*.c \
		"$s"/lib/symbolize/*.c "$s"/lib/snapshot/*.c "$s"/lib/session/*.c) \
	"$s/tests/unit/table_builder.c" "$s/tests/fuzz/fuzz_decode.c" \
	-o "$tmp/fuzz_decode" -ldw -lelf -lzstd -llzma -llz4 -lz -ldebuginfod -lm -lstdc++ \
	2>"$tmp/cc" || fail "clang cannot build the fuzz target: $(tail -3 "$tmp/cc")"

mkdir "$tmp/corpus"
TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >/dev/null
head -c 65536 "$(only_file "$tmp")" >"$tmp/corpus/trace"
(cd "$tmp" && timeout 300 ./fuzz_decode -max_total_time=${FUZZ_SECONDS:-20} -rss_limit_mb=2048 \
	-timeout=10 -print_final_stats=1 corpus) >"$tmp/out" 2>&1 ||
	fail "libFuzzer found a fault: $(grep -m1 -A30 'ERROR: ' "$tmp/out" ||
		tail -20 "$tmp/out")"
grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)' "$tmp/out" || true
