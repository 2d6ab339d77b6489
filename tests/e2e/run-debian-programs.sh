#!/bin/sh
# Programs from Debian that the project did not write, traced: each prints
# exactly what it prints untraced and exits the same way, and every process
# it starts leaves a trace file that decodes without damage.  Between them
# they cover threads (sort --parallel, xz -T2), pipelines of exec'd
# programs, a compiler driver running cc1, as and ld, and an interpreter
# that keeps 200,000 blocks live until exit.
. "$top_srcdir/tests/e2e/lib.sh"

# Deterministic input, and a C file for the compiler.
seq 300000 >"$tmp/numbers"
printf '#include <stdio.h>\nint main(void) { puts("compiled"); return 0; }\n' \
	>"$tmp/hello.c"

# compare NAME COMMAND: run COMMAND (through sh) plain, then traced with
# each process's table in $tmp/NAME/trace.PID; outputs and exit statuses
# must be equal, and every trace file must decode cleanly.
compare() {
	name=$1 command=$2
	mkdir "$tmp/$name"
	status=0
	(cd "$tmp" && timeout 120 sh -c "$command") >"$tmp/$name.plain" ||
		status=$?
	traced_status=0
	(cd "$tmp" && TRACEMALLOC_FILE=$tmp/$name/trace.%p traced \
		sh -c "$command") >"$tmp/$name.traced" || traced_status=$?
	[ "$status" -eq "$traced_status" ] ||
		fail "$name: exit status $traced_status traced, $status plain"
	cmp -s "$tmp/$name.plain" "$tmp/$name.traced" ||
		fail "$name: output differs when traced"
	[ -s "$tmp/$name.plain" ] || fail "$name printed nothing"
	files=0
	for file in "$tmp/$name"/trace.*; do
		[ -f "$file" ] || fail "$name: no trace file"
		probe_file "$file" "$file.table"
		files=$((files + 1))
	done
	cat "$tmp/$name"/trace.*.table >"$tmp/$name.tables"
	echo "$name: $files processes traced"
}

compare sort 'sort -R --random-source=numbers --parallel=2 -S 1M numbers |
	sort -n --parallel=2 -S 1M | md5sum'
compare xz 'xz -T2 -3 -c numbers | xz -d -T2 | md5sum'
compare cc 'gcc -O2 hello.c -o hello && ./hello'

# Perl keeps its hash until exit: the table at exit holds it, and frame 0
# is Perl's own allocator, not libc's malloc or the runtime.
command -v perl >/dev/null || fail "no perl"
compare perl 'perl -e '\''my %h; $h{$_} = [$_] for 1 .. 200000;
	print scalar(keys %h), "\n"'\'
live=$(sed -n 's/^table traces=\([0-9]*\) .*/\1/p' "$tmp/perl.tables" |
	sort -n | tail -1)
[ "$live" -ge 1000 ] || fail "perl's table holds only $live traces"
expect_count "$tmp/perl.tables" 1000 '^trace domain=0 .* frames=Perl_'
expect_exactly "$tmp/perl.tables" 0 ' frames=(malloc|calloc|realloc);'

# The compiler driver exec'd cc1, as and ld (collect2), each with a file.
[ "$(ls "$tmp/cc" | grep -c '^trace\.[0-9]*$')" -ge 4 ] ||
	fail "expected gcc, cc1, as and the linker traced: $(ls "$tmp/cc")"
expect_count "$tmp/cc.tables" 1 ' frames=.*toplev::main'
