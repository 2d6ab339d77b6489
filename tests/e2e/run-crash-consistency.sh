#!/bin/sh
# Freeze an 8-thread allocating program at 300 random instants; every frozen
# image decodes, with no damage but the counted in-flight operations, and
# agrees with the program's own count of the blocks it holds.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC=4 LD_PRELOAD="$runtime" timeout 300 \
	"$probe" freeze 300 "$programs/churn" 8 >"$tmp/out" ||
	fail "$(cat "$tmp/out")"
cat "$tmp/out"
grep -q '^freeze rounds=300 .* ok$' "$tmp/out" || fail "$(cat "$tmp/out")"
