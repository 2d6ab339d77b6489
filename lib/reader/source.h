// source.h: a memory source is a read callback plus the segments it covers.
// Every origin (buffer, file, core, live process, debugger) is one of these.
#ifndef TM_READER_SOURCE_H
#define TM_READER_SOURCE_H

#include "tm/reader.h"

struct tm_segment {
	uint64_t start;
	uint64_t size;
};

struct tm_source {
	tm_read_fn read;
	void *arg;
	// Called by tm_source_destroy() to release what the origin owns.
	void (*release)(void *arg);
	struct tm_segment *segments;
	size_t segment_count, segment_capacity;
	// Set by an origin that read some bytes from elsewhere than itself
	// (a core: from a file it maps); borrowed from the origin.
	const char *substitute;
};

// A source that owns @arg: @release(@arg) runs when the source is destroyed,
// or right away if creating it fails.
struct tm_error *tm_source_create_owned(tm_read_fn read, void *arg,
					void (*release)(void *arg),
					struct tm_source **ret);

#endif // TM_READER_SOURCE_H
