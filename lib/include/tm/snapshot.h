/* snapshot.h: the Snapshot model of Python's tracemalloc, for native traces.
 *
 * A snapshot holds traces whose frames are (filename, lineno) pairs, most
 * recent first.  Statistics, differences and their text follow
 * tracemalloc.py exactly: grouping, sort order and tie-breaks, size
 * rounding.  A snapshot is not thread-safe; distinct snapshots may be used
 * from distinct threads.
 */
#ifndef TM_SNAPSHOT_H
#define TM_SNAPSHOT_H

#include "tm/reader.h"
#include "tm/symbolize.h"

#ifdef __cplusplus
extern "C" {
#endif

/** tracemalloc's Frame: filename and line (0 when unknown). */
struct tm_frame {
	const char *filename;
	unsigned lineno;
};

/** tracemalloc's Traceback: frames most recent first.  total_nframe is
 * TM_TOTAL_NFRAME_NONE for the tracebacks that key statistics. */
#define TM_TOTAL_NFRAME_NONE UINT32_MAX
struct tm_frames {
	uint32_t nframe; /**< at least 1 */
	uint32_t total_nframe;
	const struct tm_frame *frames;
};

struct tm_snapshot_trace {
	uint32_t domain;
	uint64_t address;
	uint64_t size;
	const struct tm_frames *traceback;
};

/** How statistics group traces (tracemalloc's key_type). */
enum tm_key {
	TM_KEY_FILENAME,
	TM_KEY_LINENO,
	TM_KEY_TRACEBACK,
};

struct tm_statistic {
	const struct tm_frames *traceback; /**< the group's key */
	uint64_t size;
	uint64_t count;
};

struct tm_statistic_diff {
	const struct tm_frames *traceback;
	uint64_t size;
	int64_t size_diff;
	uint64_t count;
	int64_t count_diff;
};

struct tm_snapshot;

/** An empty snapshot.  Caller destroys. */
TM_PUBLIC struct tm_error *tm_snapshot_create(unsigned traceback_limit,
					      struct tm_snapshot **ret);
/** NULL is allowed. */
TM_PUBLIC void tm_snapshot_destroy(struct tm_snapshot *snap);

/**
 * Add a trace.  @frames (most recent first) are copied; with no frames the
 * trace gets tracemalloc's unknown frame ("<unknown>", 0).
 */
TM_PUBLIC struct tm_error *
tm_snapshot_add_trace(struct tm_snapshot *snap, uint32_t domain,
		      uint64_t address, uint64_t size,
		      const struct tm_frame *frames, uint32_t nframe,
		      uint32_t total_nframe);

/** A snapshot of a decoded table, its frames named by @sym. */
TM_PUBLIC struct tm_error *tm_snapshot_from_table(const struct tm_table *table,
						  struct tm_symbolizer *sym,
						  struct tm_snapshot **ret);

/** Borrowed: valid until tm_snapshot_destroy(). */
TM_PUBLIC const struct tm_snapshot_trace *
tm_snapshot_traces(const struct tm_snapshot *snap, size_t *count);
TM_PUBLIC unsigned tm_snapshot_traceback_limit(const struct tm_snapshot *snap);

/**
 * Snapshot.statistics(key_type, cumulative): *@ret is sorted as tracemalloc
 * sorts it.  Cumulative is refused for TM_KEY_TRACEBACK (TM_ERR_USAGE).
 * Caller frees *@ret with free(); its tracebacks are borrowed from @snap.
 */
TM_PUBLIC struct tm_error *tm_snapshot_statistics(struct tm_snapshot *snap,
						  enum tm_key key,
						  bool cumulative,
						  struct tm_statistic **ret,
						  size_t *ret_count);

/**
 * new.compare_to(old, key_type, cumulative).  Caller frees *@ret with
 * free(); its tracebacks are borrowed from @snap and @old.
 */
TM_PUBLIC struct tm_error *tm_snapshot_compare(struct tm_snapshot *snap,
					       struct tm_snapshot *old,
					       enum tm_key key, bool cumulative,
					       struct tm_statistic_diff **ret,
					       size_t *ret_count);

/** tracemalloc's Filter and DomainFilter. */
struct tm_filter {
	bool inclusive;
	/** NULL: a DomainFilter, matching on @domain alone. */
	const char *filename_pattern; /**< fnmatch pattern, no escapes */
	int lineno;		      /**< -1: any line */
	bool all_frames; /**< match any frame, not just the most recent */
	int64_t domain;	 /**< -1: any domain */
};

/**
 * Snapshot.filter_traces(filters): a new snapshot with the traces that pass
 * every exclusive filter and, if there are inclusive ones, at least one of
 * them.  Caller destroys *@ret.
 */
TM_PUBLIC struct tm_error *tm_snapshot_filter(const struct tm_snapshot *snap,
					      const struct tm_filter *filters,
					      size_t count,
					      struct tm_snapshot **ret);

/**
 * Traceback.format(limit, most_recent_first): lines '  File "a.c", line 42'
 * each followed by '    <source line>' when the file is readable.  With
 * @limited, @limit > 0 keeps the @limit most recent frames, @limit < 0
 * drops the -@limit most recent ones and 0 keeps none, as tracemalloc
 * does; the order is oldest first unless @most_recent_first.  Returns the lines joined with
 * "\n" (empty for no lines), or NULL when out of memory; caller frees.
 */
TM_PUBLIC char *tm_traceback_format(const struct tm_frames *tb, bool limited,
				    int limit, bool most_recent_first);

/** Line @lineno of file @path without leading and trailing whitespace (as
 * Python's str.strip() leaves it) into @buf; false if the file or the line
 * is not there or the line is blank. */
TM_PUBLIC bool tm_source_line(const char *path, unsigned lineno, char *buf,
			      size_t cap);

/** tracemalloc's _format_size(): "126 B", "4855 KiB", "+1.5 MiB".  Writes
 * at most @cap bytes into @buf and returns it. */
TM_PUBLIC char *tm_format_size(char *buf, size_t cap, double size, bool sign);

/** str(Statistic) and str(StatisticDiff), e.g.
 * "a.c:42: size=4855 KiB, count=39328, average=126 B".  Return what
 * snprintf() returns. */
TM_PUBLIC int tm_format_statistic(char *buf, size_t cap,
				  const struct tm_statistic *stat);
TM_PUBLIC int tm_format_statistic_diff(char *buf, size_t cap,
				       const struct tm_statistic_diff *diff);

#ifdef __cplusplus
}
#endif

#endif /* TM_SNAPSHOT_H */
