#!/bin/sh
# A live process's table, found by scanning its memory for the magic.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC=8 LD_PRELOAD="$runtime" "$programs/sleeper" >"$tmp/out" \
	2>"$tmp/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
wait_for "$tmp/out" ready
"$probe" pid $pid >"$tmp/table" || fail "tm-probe pid failed"
# Reading a process must leave it running.
kill -0 $pid 2>/dev/null || {
	wait $pid && status=0 || status=$?
	fail "the sleeper died (status $status): $(cat "$tmp/err")"
}
expect_exactly "$tmp/table" 1 "^table .* pid=$pid "
expect_exactly "$tmp/table" 1000 '^trace domain=0 size=7777 .* frames=sleeper_block;main;'
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true

# tm-core stops a process for the moment it reads it: reads of 8 threads
# churning allocations are consistent (an operation caught in flight is
# counted, never an inconsistent shard), and the process runs on after.
core=$top_builddir/analyzer/tm-core
TRACEMALLOC=4 LD_PRELOAD="$runtime" "$programs/churn" 8 >"$tmp/churn" &
churn=$!
trap 'kill -9 $pid $churn 2>/dev/null || true; rm -rf "$tmp"' EXIT
wait_for "$tmp/churn" truth
for i in $(seq 20); do
	"$core" status --pid $churn --json >"$tmp/status" 2>/dev/null ||
		fail "tm-core status --pid failed"
	grep -q '"shards_inconsistent":0,' "$tmp/status" ||
		fail "inconsistent read: $(cat "$tmp/status")"
done
state=$(sed -n 's/^State:\t\(.\).*/\1/p' /proc/$churn/status)
[ "$state" = R ] || [ "$state" = S ] || fail "churn left in state $state"
# A process already stopped (by a debugger, say) is left stopped.
kill -STOP $churn
sleep 0.2
"$core" status --pid $churn >/dev/null 2>&1 || fail "status of a stopped process"
state=$(sed -n 's/^State:\t\(.\).*/\1/p' /proc/$churn/status)
[ "$state" = T ] || fail "a stopped process was resumed (state $state)"
kill -9 $churn

# A process that is gone, or that tm-core may not read: one line that
# says which, exit status 2, and no warning about stopping it first.
/bin/true &
gone=$!
wait $gone
if "$core" status --pid $gone >"$tmp/out" 2>"$tmp/err"; then
	fail "status of an exited process succeeded"
else
	[ $? -eq 2 ] || fail "exited process: status $?, not 2"
fi
grep -qx "tm-core: no process $gone here (it has exited, or runs in another PID namespace)" \
	"$tmp/err" || fail "exited process: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "more than one line: $(cat "$tmp/err")"
# Another user's process (as root, tm-core runs as nobody here).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	sleep 30 &
	other=$!
	if setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$core" status --pid $other >"$tmp/out" 2>"$tmp/err"; then
		fail "status of another user's process succeeded"
	else
		[ $? -eq 2 ] || fail "another user's process: status $?, not 2"
	fi
	kill $other
	grep -q "cannot read process $other's memory (tm-core must run as its user or as root" \
		"$tmp/err" || fail "another user's process: $(cat "$tmp/err")"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "more than one line: $(cat "$tmp/err")"
fi
