// statistics.c: grouping traces by source line (tracemalloc's 'lineno' key).
#include "tm/snapshot.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

static int by_line(const void *a, const void *b)
{
	const struct tm_line_statistic *x = a, *y = b;
	int c = strcmp(x->filename, y->filename);

	if (c)
		return c;
	return (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

// tracemalloc sorts with key (size, count, traceback), reverse=True.
static int by_size_desc(const void *a, const void *b)
{
	const struct tm_line_statistic *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return -by_line(a, b);
}

struct tm_error *tm_statistics_by_line(const struct tm_table *table,
				       struct tm_symbolizer *sym,
				       struct tm_line_statistic **ret,
				       size_t *ret_count)
{
	size_t n;
	const struct tm_trace *traces = tm_table_traces(table, &n);
	struct tm_line_statistic *stats = calloc(n ? n : 1, sizeof(*stats));

	if (!stats)
		return &tm_enomem;
	for (size_t i = 0; i < n; i++) {
		const struct tm_traceback *tb = traces[i].traceback;
		if (tb->nframe) {
			const struct tm_frame_info *f =
				tm_symbolizer_lookup(sym, tb->frames[0]);
			stats[i].filename = f->filename;
			stats[i].lineno = f->lineno;
		} else {
			stats[i].filename = "<unknown>";
		}
		stats[i].size = traces[i].size;
		stats[i].count = 1;
	}
	qsort(stats, n, sizeof(*stats), by_line);
	size_t groups = 0;
	for (size_t i = 0; i < n; i++) {
		if (groups && by_line(&stats[groups - 1], &stats[i]) == 0) {
			stats[groups - 1].size += stats[i].size;
			stats[groups - 1].count++;
		} else {
			stats[groups++] = stats[i];
		}
	}
	qsort(stats, groups, sizeof(*stats), by_size_desc);
	*ret = stats;
	*ret_count = groups;
	return NULL;
}
