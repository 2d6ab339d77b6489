#!/bin/sh
# A short fuzz run of the reader under ASan and UBSan: tables built in
# memory and a real trace file, each decoded and then mutated thousands of
# times (bit flips, boundary values, truncation, copied chunks).
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/frames" >/dev/null
trace=$(only_file "$tmp")
# Only the used part of the file: the rest is zeros.
used=$("$probe" file "$trace" >/dev/null && stat -c %s "$trace")
head -c 262144 "$trace" >"$tmp/seed"
"$top_builddir/tests/fuzz/fuzz_decode" --mutations 3000 "$tmp/seed" \
	>"$tmp/out" 2>&1 || fail "fuzz_decode failed: $(tail -30 "$tmp/out")"
cat "$tmp/out"
[ "$(grep -c 'no faults$' "$tmp/out")" -eq 3 ] || fail "$(cat "$tmp/out")"
: "$used"
