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
 * from their files with libdwfl.  @sysroot, if not NULL, is the root of
 * the system the program ran on (a container's, say): recorded paths are
 * looked up under it first.  A module whose file is gone or was rebuilt
 * is looked up by its build-id under /usr/lib/debug/.build-id and from
 * the debuginfod servers in DEBUGINFOD_URLS; one found nowhere leaves its
 * frames unnamed.  Caller destroys.
 */
TM_PUBLIC struct tm_error *
tm_symbolizer_create_modules(const struct tm_module *modules, size_t count,
			     const char *sysroot, struct tm_symbolizer **ret);
/** Where a tm_symbolize_fn puts the frames it finds. */
struct tm_frame_sink;

/**
 * Name the code at @address (a return address minus one, so inside the
 * call): call tm_frame_sink_add() once per frame, innermost first (an
 * inlined function, then each place it was inlined into, then the real
 * function).  Adding nothing means nothing is known.
 */
typedef void (*tm_symbolize_fn)(uint64_t address, struct tm_frame_sink *sink,
				void *arg);

/**
 * A symbolizer that asks @fn, once per distinct pc.  The debugger plugins
 * use it to name frames the way the debugger does.  Caller destroys.
 */
TM_PUBLIC struct tm_error *
tm_symbolizer_create_callback(tm_symbolize_fn fn, void *arg,
			      struct tm_symbolizer **ret);

/**
 * One frame, from a tm_symbolize_fn.  @filename NULL or empty: no line
 * information (@module then stands in for the file, line 0).  NULL
 * strings are "<unknown>".  The strings are copied; relative filenames are
 * kept as given; "." and ".." are folded.  Frames past the 33rd are
 * dropped.
 */
TM_PUBLIC void tm_frame_sink_add(struct tm_frame_sink *sink,
				 const char *filename, int lineno,
				 const char *function, const char *module);

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
