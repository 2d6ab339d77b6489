/* symbolize.h: turn return addresses into file, line and function.
 *
 * Symbolization happens only at read time, never in the traced process.
 * A symbolizer is not thread-safe.
 */
#ifndef TM_SYMBOLIZE_H
#define TM_SYMBOLIZE_H

#include "tm/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What is known of one frame.  A filename recorded relative to the
 * directory it was compiled in is given from that directory, so it names
 * the file wherever the reader runs.  Without line information the filename is
 * the module's path and the line 0; unknown parts are "<unknown>", as in
 * tracemalloc.  Strings are borrowed from the symbolizer. */
struct tm_frame_info {
	const char *filename;
	unsigned lineno;
	const char *function;
	const char *module;
	uint64_t pc;
};

struct tm_symbolizer;

/**
 * A symbolizer over the modules a table records (path, load bias), read
 * from their files with libdwfl.  Separate debug files are found by
 * build-id under /usr/lib/debug when present.  A module whose file is gone
 * leaves its frames unknown.  Caller destroys.
 */
TM_PUBLIC struct tm_error *
tm_symbolizer_create_modules(const struct tm_module *modules, size_t count,
			     struct tm_symbolizer **ret);
/** NULL is allowed. */
TM_PUBLIC void tm_symbolizer_destroy(struct tm_symbolizer *sym);

/** Modules whose file on disk has another build-id than the one the table
 * recorded: their frames are not named from that file.  *@ret gets the
 * first one's path (borrowed), or NULL; returns how many. */
TM_PUBLIC size_t tm_symbolizer_mismatches(const struct tm_symbolizer *sym,
					  const char **ret);

/** Symbolize return address @pc (looked up at pc - 1) as one frame: where
 * the code at @pc is, in the outermost function it was inlined into.  Each
 * distinct pc is resolved once; the result is borrowed until
 * tm_symbolizer_destroy(). */
TM_PUBLIC const struct tm_frame_info *
tm_symbolizer_lookup(struct tm_symbolizer *sym, uint64_t pc);

/** Symbolize @pc with its inlined calls expanded: *@ret gets *@count >= 1
 * frames, innermost first (the inlined function's line, then each call
 * site it was inlined at).  Borrowed until tm_symbolizer_destroy(). */
TM_PUBLIC void tm_symbolizer_expand(struct tm_symbolizer *sym, uint64_t pc,
				    const struct tm_frame_info **ret,
				    size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* TM_SYMBOLIZE_H */
