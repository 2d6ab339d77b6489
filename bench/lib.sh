# bench/lib.sh: sourced by the bench/run* scripts, from the top folder.
# Each script is one command: it sets up and builds what is missing or
# stale before it measures.

# bench_build BUILD_DIR [PACKAGE...]: the default build folder goes
# through scripts/setup (Debian packages, the benchmark's own PACKAGEs
# among them, bootstrap, configure, build); another folder is one the user
# configured, and is only brought up to date.
bench_build() {
	dir=$1
	shift
	if [ "$dir" = build ]; then
		scripts/setup "$@" >&2
	else
		make -C "$dir" -j"$(nproc)" >/dev/null
	fi
}
