#!/bin/sh
# fork (50 times, while another thread allocates) and exec: parent and
# child each keep a table of their own, and the exec'd program starts its
# own file.  The program checks its in-process view itself.
. "$top_srcdir/tests/e2e/lib.sh"

TRACEMALLOC_FILE=$tmp/trace.%p traced "$programs/forkexec" "$programs/leaf" \
	>"$tmp/out" || fail "forkexec failed"
parent=$(sed -n 's/^forkexec parent=\([0-9]*\) child=\([0-9]*\)$/\1/p' "$tmp/out")
child=$(sed -n 's/^forkexec parent=\([0-9]*\) child=\([0-9]*\)$/\2/p' "$tmp/out")
[ -n "$parent" ] && [ -n "$child" ] || fail "no pids in: $(cat "$tmp/out")"

probe_file "$tmp/trace.$parent" "$tmp/parent"
expect_exactly "$tmp/parent" 1 "^table .* pid=$parent "
expect_exactly "$tmp/parent" 1 '^trace domain=0 size=1111 .* frames=parent_block;main;'
expect_exactly "$tmp/parent" 1 '^trace domain=0 size=3333 .* frames=after_fork_block;main;'
expect_exactly "$tmp/parent" 0 'size=2222 '

# The forked children (before exec) wrote no file of their own: their
# copies were private.  The exec'd leaf wrote one under the child's pid.
probe_file "$tmp/trace.$child" "$tmp/leaf"
expect_exactly "$tmp/leaf" 1 '^trace domain=0 size=4444 .* frames=leaf_block;main;'
expect_exactly "$tmp/leaf" 0 'size=(1111|2222) '
[ "$(ls "$tmp" | grep -c '^trace\.')" -eq 2 ] ||
	fail "expected two trace files: $(ls "$tmp")"
