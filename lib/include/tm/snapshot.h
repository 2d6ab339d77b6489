/* snapshot.h: statistics over decoded traces, formatted as tracemalloc
 * formats them.  Not thread-safe per object.
 */
#ifndef TM_SNAPSHOT_H
#define TM_SNAPSHOT_H

#include "tm/reader.h"
#include "tm/symbolize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** tracemalloc's _format_size(): "126 B", "4855 KiB", "+1.5 MiB".  Writes
 * at most @cap bytes into @buf and returns it. */
TM_PUBLIC char *tm_format_size(char *buf, size_t cap, double size, bool sign);

/** Memory allocated from one source line. */
struct tm_line_statistic {
	const char *filename; /**< borrowed from the symbolizer */
	unsigned lineno;
	uint64_t size;
	uint64_t count;
};

/**
 * Group the traces of domain-independent @table by the file and line of
 * their most recent frame, sorted as tracemalloc's
 * Snapshot.statistics('lineno') sorts (size, then count, then the line,
 * all descending).  Caller frees *@ret with free().
 */
TM_PUBLIC struct tm_error *tm_statistics_by_line(const struct tm_table *table,
						 struct tm_symbolizer *sym,
						 struct tm_line_statistic **ret,
						 size_t *ret_count);

/** str(Statistic): "a.c:42: size=4855 KiB, count=39328, average=126 B".
 * Returns the length snprintf() would have written. */
TM_PUBLIC int tm_format_line_statistic(char *buf, size_t cap,
				       const struct tm_line_statistic *stat);

#ifdef __cplusplus
}
#endif

#endif /* TM_SNAPSHOT_H */
