// snapshot_internal.h: what the snapshot's files share: the snapshot and
// its interning of filenames and tracebacks.
#ifndef TM_SNAPSHOT_INTERNAL_H
#define TM_SNAPSHOT_INTERNAL_H

#include "tm/snapshot.h"

#include "hashmap.h"

// An interned traceback; `public` is what callers see.
struct interned {
	struct tm_frames public;
	uint64_t hash;
};

// Open-addressing set of pointers, compared by a caller's function.
struct ptr_set {
	void **slots;
	size_t capacity, count;
};

struct tm_snapshot {
	unsigned traceback_limit;
	struct tm_snapshot_trace *traces;
	size_t trace_count, trace_capacity;
	struct ptr_set filenames;  // char *
	struct ptr_set tracebacks; // struct interned *
};

struct tm_snapshot_memo {
	struct tm_hashmap map; // source traceback -> index into interned
	const struct tm_frames **interned;
	size_t count;
};

// The interned traceback with these frames (most recent first) and total,
// made if new.  NULL on out-of-memory.
const struct tm_frames *tm_snapshot_intern(struct tm_snapshot *snap,
					   const struct tm_frame *frames,
					   uint32_t nframe,
					   uint32_t total_nframe);

// The snapshot's copy of @s; NULL on out-of-memory.
const char *tm_snapshot_intern_string(struct tm_snapshot *snap, const char *s);

// Copy @trace into @snap, its traceback interned there once per source
// traceback (@memo maps source tracebacks to @snap's, by pointer).
struct tm_error *tm_snapshot_copy_trace(struct tm_snapshot *snap,
					const struct tm_snapshot_trace *trace,
					struct tm_snapshot_memo *memo);

// Compare two tracebacks as tracemalloc does: as tuples of (filename,
// lineno), oldest frame first.
int tm_frames_compare(const struct tm_frames *a, const struct tm_frames *b);

#endif // TM_SNAPSHOT_INTERNAL_H
