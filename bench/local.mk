# bench/local.mk: benchmarks (not run by make check).
