# bench/lib.sh: sourced by the bench/run* scripts, from the top folder.
# Each script is one command: it sets up and builds what is missing or
# stale before it measures.

# bench_dir [BUILD_DIR]: the build folder, default build, as an absolute
# path (the scripts run from the top folder).
bench_dir() {
	case ${1:-build} in
	/*) echo "$1" ;;
	*) echo "$(pwd)/${1:-build}" ;;
	esac
}

# bench_build BUILD_DIR [PACKAGE...]: the default build folder goes
# through scripts/setup (Debian packages, the benchmark's own PACKAGEs
# among them, bootstrap, configure, build); another folder is one the user
# configured, and is only brought up to date.
bench_build() {
	dir=$1
	shift
	if [ "$dir" = "$(pwd)/build" ]; then
		scripts/setup "$@" >&2
	else
		make -C "$dir" -j"$(nproc)" >/dev/null
	fi
}

# bench_median [COLUMN]: the median of column COLUMN (default 1) of the
# numbers on standard input.
bench_median() {
	sort -n -k "${1:-1}" | awk -v k="${1:-1}" '{ v[NR] = $k }
		END { print v[int((NR + 1) / 2)] }'
}

# bench_ratio A B: A / B, to two decimals.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
