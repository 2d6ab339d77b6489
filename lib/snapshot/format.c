// format.c: the text of tracemalloc's statistics, byte for byte.
#include "tm/snapshot.h"

#include <math.h>
#include <stdio.h>

// tracemalloc.py's _format_size(): three significant digits once past
// 10 KiB, whole bytes below.
char *tm_format_size(char *buf, size_t cap, double size, bool sign)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };

	for (unsigned i = 0; i < 5; i++) {
		bool last = i == 4;
		if (fabs(size) < 100 && i != 0) {
			snprintf(buf, cap, sign ? "%+.1f %s" : "%.1f %s", size,
				 units[i]);
			return buf;
		}
		if (fabs(size) < 10 * 1024 || last) {
			snprintf(buf, cap, sign ? "%+.0f %s" : "%.0f %s", size,
				 units[i]);
			return buf;
		}
		size /= 1024;
	}
	return buf;
}

int tm_format_line_statistic(char *buf, size_t cap,
			     const struct tm_line_statistic *stat)
{
	char size[32], average[32];

	tm_format_size(size, sizeof(size), (double)stat->size, false);
	if (!stat->count)
		return snprintf(buf, cap, "%s:%u: size=%s, count=0",
				stat->filename, stat->lineno, size);
	// Python's true division, then the same formatting.
	tm_format_size(average, sizeof(average),
		       (double)stat->size / (double)stat->count, false);
	return snprintf(buf, cap, "%s:%u: size=%s, count=%llu, average=%s",
			stat->filename, stat->lineno, size,
			(unsigned long long)stat->count, average);
}
