// source.h: opening what tm-core reads (a trace file, a snapshot, a live
// process), told apart by content, down to a symbolized snapshot.
#ifndef TM_CORE_SOURCE_H
#define TM_CORE_SOURCE_H

#include "tm/reader.h"
#include "tm/snapshot.h"
#include "tm/session.h"
#include "tm/symbolize.h"

// A session's parts, borrowed from it.
struct opened {
	const char *kind; // "core", "trace-file" or "process"
	const char *name; // the path, or the pid
	struct tm_source *src;
	uint64_t base;		// where the table is in the source
	const char *located_by; // "symbol", "scan" or "offset 0"
	const struct tm_table *table;
	struct tm_symbolizer *sym;
	const struct tm_snapshot *snapshot;
	struct tm_session *session;
};

// --exe FILE and --sysroot DIR, given with any command: where the files
// that name frames are (see struct tm_file_search).
extern struct tm_file_search source_files;

// Open @path, or process @pid when @path is NULL (source_close() either
// way).  On failure print one
// line on stderr and return the exit status; else 0.
int source_open(const char *path, int pid, struct opened *ret);
void source_close(struct opened *o);

// If @err is not NULL: print its message on stderr, destroy it and return
// its exit status.  EXIT_DONE otherwise.
int source_failed(struct tm_error *err);

// Print the table's damage on stderr, one line, if there is any.
void source_warn_damage(const struct opened *o);

#endif // TM_CORE_SOURCE_H
