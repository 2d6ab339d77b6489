#!/bin/sh
# Every C and C++ source is formatted as .clang-format says (kernel style).
set -eu
: "${top_srcdir:?run through make check}"
format=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$format" ] || { echo "SKIP: clang-format is not installed"; exit 77; }
cd "$top_srcdir"
bad=0
for f in $(find lib analyzer plugin demo bench tests -name '*.[ch]' -o \
	-name '*.cc' 2>/dev/null | sort); do
	if ! "$format" --style=file "$f" | cmp -s "$f" -; then
		echo "not formatted: $f (run: $format -i $f)"
		bad=1
	fi
done
exit $bad
