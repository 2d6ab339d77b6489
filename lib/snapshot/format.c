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

// str(Traceback) is its first frame in tracemalloc's order, which is the
// oldest one.
static const struct tm_frame *shown_frame(const struct tm_frames *tb)
{
	return &tb->frames[tb->nframe - 1];
}

int tm_format_statistic(char *buf, size_t cap, const struct tm_statistic *stat)
{
	const struct tm_frame *f = shown_frame(stat->traceback);
	char size[32], average[32];

	tm_format_size(size, sizeof(size), (double)stat->size, false);
	if (!stat->count)
		return snprintf(buf, cap, "%s:%u: size=%s, count=0",
				f->filename, f->lineno, size);
	// Python's true division, then the same formatting.
	tm_format_size(average, sizeof(average),
		       (double)stat->size / (double)stat->count, false);
	return snprintf(buf, cap, "%s:%u: size=%s, count=%llu, average=%s",
			f->filename, f->lineno, size,
			(unsigned long long)stat->count, average);
}

int tm_format_statistic_diff(char *buf, size_t cap,
			     const struct tm_statistic_diff *diff)
{
	const struct tm_frame *f = shown_frame(diff->traceback);
	char size[32], size_diff[32], average[32];

	tm_format_size(size, sizeof(size), (double)diff->size, false);
	tm_format_size(size_diff, sizeof(size_diff), (double)diff->size_diff,
		       true);
	int n = snprintf(buf, cap, "%s:%u: size=%s (%s), count=%llu (%+lld)",
			 f->filename, f->lineno, size, size_diff,
			 (unsigned long long)diff->count,
			 (long long)diff->count_diff);
	if (!diff->count || n < 0 || (size_t)n >= cap)
		return n;
	tm_format_size(average, sizeof(average),
		       (double)diff->size / (double)diff->count, false);
	return n + snprintf(buf + n, cap - (size_t)n, ", average=%s", average);
}
