# bench/local.mk: benchmarks, built with the project and run by bench/run
# (never by make check: speed is shown as ratios, not asserted).
noinst_PROGRAMS += bench/malloc-bench
bench_malloc_bench_CFLAGS = $(AM_CFLAGS) -O2 -g -fno-optimize-sibling-calls
bench_malloc_bench_LDADD = -lpthread -ldl
noinst_PROGRAMS += bench/many-stacks
bench_many_stacks_CFLAGS = $(AM_CFLAGS) -O2 -g -fno-optimize-sibling-calls
EXTRA_DIST += bench/run bench/run-analyze bench/run-debugger \
	bench/run-programs bench/lib.sh \
	bench/README.md
