# bench/lib.sh: sourced by the bench/run* scripts, from the top folder.
# Each script is one command: it sets up and builds what is missing or
# stale before it measures.

# bench_build BUILD_DIR: the default build folder goes through
# scripts/setup (Debian packages, bootstrap, configure, build); another
# folder is one the user configured, and is only brought up to date.
bench_build() {
	if [ "$1" = build ]; then
		scripts/setup >&2
	else
		make -C "$1" -j"$(nproc)" >/dev/null
	fi
}
