/* session.h: one trace table opened for reading, and the reports printed
 * from it.
 *
 * A session holds the source, the decoded table, its symbolizer and its
 * snapshot.  tm-core and the debugger plugins open what they read through
 * here and print through tm_report_*(), so that the same source gives the
 * same text, byte for byte, in every front end.  A session is not
 * thread-safe.
 */
#ifndef TM_SESSION_H
#define TM_SESSION_H

#include <stdio.h>

#include "tm/reader.h"
#include "tm/snapshot.h"
#include "tm/symbolize.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tm_session;

/** Where to find the files that name frames, beyond the paths the table
 * recorded (each member may be NULL). */
struct tm_file_search {
	/** Names the frames of the module with its build-id (the program
	 * moved since it was traced). */
	const char *exe;
	/** The root of the system the program ran on (a container's, an
	 * unpacked image): recorded paths are looked up under it first, as
	 * GDB's `set sysroot` does. */
	const char *sysroot;
};

/**
 * Open the file at @path, told apart by content: an ELF core (the table
 * found by its symbol when the binaries are at hand, else by the magic
 * scan), or a trace file or snapshot dump (the table at offset 0).  "-" is
 * standard input.  @search may be NULL.  Caller destroys.
 */
TM_PUBLIC struct tm_error *
tm_session_open_path(const char *path, const struct tm_file_search *search,
		     struct tm_session **ret);

/**
 * Open live process @pid.  The process is stopped (SIGSTOP) only while
 * the table is found and read, unless it was stopped already.  @search
 * may be NULL.  A process with a root folder of its own (in a container,
 * or chrooted) has its files looked up under /proc/PID/root, unless
 * @search gives a sysroot.
 */
TM_PUBLIC struct tm_error *
tm_session_open_pid(int pid, const struct tm_file_search *search,
		    struct tm_session **ret);

/**
 * Open the table in @src, a source from elsewhere (a debugger's memory
 * reads).  @descriptor is the address of `__tracemalloc_descriptor`, or 0
 * to scan @src's segments for the table.  @sym names the frames; NULL
 * means libdwfl over the module map in the table.  @kind and @name say
 * what the source is ("process", "1234").  Takes ownership of @src and
 * @sym, also on failure.
 */
TM_PUBLIC struct tm_error *
tm_session_open_source(struct tm_source *src, uint64_t descriptor,
		       struct tm_symbolizer *sym, const char *kind,
		       const char *name, struct tm_session **ret);

/** NULL is allowed. */
TM_PUBLIC void tm_session_destroy(struct tm_session *s);

/** "core", "trace-file", "process", ... (borrowed). */
TM_PUBLIC const char *tm_session_kind(const struct tm_session *s);
/** The path, "standard input" for "-", or the pid (borrowed). */
TM_PUBLIC const char *tm_session_name(const struct tm_session *s);
/** How the source file was compressed ("zstd", "xz", "lz4" or "gzip"), or
 * NULL; *@damage (if @damage is not NULL) is why its compressed data stops
 * early, or NULL (borrowed). */
TM_PUBLIC const char *tm_session_compression(const struct tm_session *s,
					     const char **damage);
/** Whether the source was read from a pipe (or from standard input, "-")
 * and copied to a temporary file. */
TM_PUBLIC bool tm_session_piped(const struct tm_session *s);
/** "symbol", "scan" or "offset 0" (borrowed). */
TM_PUBLIC const char *tm_session_located_by(const struct tm_session *s);
/** Whether the process was tracing when the table was read. */
TM_PUBLIC bool tm_session_tracing(const struct tm_session *s);
/** Borrowed until tm_session_destroy(). */
TM_PUBLIC struct tm_source *tm_session_source(const struct tm_session *s);
TM_PUBLIC uint64_t tm_session_base(const struct tm_session *s);
TM_PUBLIC const struct tm_table *tm_session_table(const struct tm_session *s);
TM_PUBLIC struct tm_symbolizer *
tm_session_symbolizer(const struct tm_session *s);
TM_PUBLIC const struct tm_snapshot *
tm_session_snapshot(const struct tm_session *s);

/**
 * Save the table as a trace file at @path, which every reader takes as a
 * source (the snapshot dump).  Written aside and renamed into place.
 */
TM_PUBLIC struct tm_error *tm_session_save(const struct tm_session *s,
					   const char *path);

/** The traced block that contains @address: the one that starts there,
 * else the smallest around it.  NULL if none.  Borrowed. */
TM_PUBLIC const struct tm_trace *tm_table_find_block(const struct tm_table *t,
						     uint64_t address);

/** The name of @key ("filename", "lineno", "traceback"). */
TM_PUBLIC const char *tm_key_name(enum tm_key key);
/** Parse a key name; TM_ERR_USAGE if it is none of them. */
TM_PUBLIC struct tm_error *tm_key_parse(const char *name, enum tm_key *ret);

/**
 * Warnings about @s, one line each, each starting "@prefix: warning: ":
 * modules whose build-id changed, and partial damage with its counts.
 * Nothing if all is well.
 */
TM_PUBLIC void tm_report_warnings(FILE *out, const char *prefix,
				  const struct tm_session *s);

/** What the table holds: source, layout, writer, counts and sizes. */
TM_PUBLIC void tm_report_status(FILE *out, const struct tm_session *s);

/** "[ Top N by KEY ]" and the first @top (0: all) of @stats, one
 * tracemalloc line each. */
TM_PUBLIC void tm_report_statistics(FILE *out, const struct tm_statistic *stats,
				    size_t count, enum tm_key key,
				    bool cumulative, size_t top);

/** "[ Top N differences by KEY ]" and the first @top (0: all) of @diffs. */
TM_PUBLIC void tm_report_statistic_diffs(FILE *out,
					 const struct tm_statistic_diff *diffs,
					 size_t count, enum tm_key key,
					 bool cumulative, size_t top);

/**
 * The @top (0: all) biggest statistics of @s's snapshot, filtered by
 * @filters, grouped by @key: "[ Top N by KEY ]" and one tracemalloc line
 * each.
 */
TM_PUBLIC struct tm_error *tm_report_top(FILE *out, const struct tm_session *s,
					 const struct tm_filter *filters,
					 size_t filter_count, enum tm_key key,
					 bool cumulative, size_t top);

/** What grew or shrank from @old to @now, as tm_report_top() prints. */
TM_PUBLIC struct tm_error *tm_report_diff(FILE *out,
					  const struct tm_session *old,
					  const struct tm_session *now,
					  const struct tm_filter *filters,
					  size_t filter_count, enum tm_key key,
					  bool cumulative, size_t top);

/** Which traced block contains @address, and its traceback with source
 * lines (or one line saying no block does). */
TM_PUBLIC void tm_report_traceback(FILE *out, const struct tm_session *s,
				   uint64_t address);

#ifdef __cplusplus
}
#endif

#endif /* TM_SESSION_H */
