// format.c: the text of tracemalloc's statistics, byte for byte.
#include "tm/snapshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool tm_source_line(const char *path, unsigned lineno, char *buf, size_t cap)
{
	FILE *f = lineno ? fopen(path, "r") : NULL;
	unsigned at = 1;
	int c;

	if (!f)
		return false;
	while (at < lineno && (c = fgetc(f)) != EOF)
		if (c == '\n')
			at++;
	bool found = at == lineno && fgets(buf, (int)cap, f);
	fclose(f);
	if (!found)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	size_t start = strspn(buf, " \t\r\v\f"), end = strlen(buf);
	while (end > start && strchr(" \t\r\v\f", buf[end - 1]))
		end--;
	memmove(buf, buf + start, end - start);
	buf[end - start] = '\0';
	return buf[0] != '\0';
}

char *tm_traceback_format(const struct tm_frames *tb, bool limited, int limit,
			  bool most_recent_first)
{
	// In tracemalloc's order (oldest first) frame i is frames[n - 1 - i];
	// pick the slice [first, last) of that order.
	long n = tb->nframe, first = 0, last = n;
	char *text = NULL, line[1024];
	size_t size = 0;

	// Python's self[-limit:] and self[:limit]; self[:0] is empty.
	if (limited) {
		if (limit > 0)
			first = n - limit > 0 ? n - limit : 0;
		else
			last = limit < 0 && n + limit > 0 ? n + limit : 0;
	}
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return NULL;
	bool any = false;
	for (long k = 0; k < last - first; k++) {
		long i = most_recent_first ? last - 1 - k : first + k;
		const struct tm_frame *f = &tb->frames[n - 1 - i];
		fprintf(out, "%s  File \"%s\", line %u", any ? "\n" : "",
			f->filename, f->lineno);
		any = true;
		if (tm_source_line(f->filename, f->lineno, line, sizeof(line)))
			fprintf(out, "\n    %s", line);
	}
	return fclose(out) == 0 ? text : (free(text), NULL);
}
