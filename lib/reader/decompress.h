// decompress.h: sources compressed as a whole file, or piped.  systemd-coredump
// keeps cores as zstd (lz4 or xz in older versions), and a core or a trace
// file sent elsewhere is often gzipped or xz'ed; the readers need random
// access, so such a file is first decompressed into an unnamed temporary
// file that they open in its place.  A core piped to tm-core (by the
// kernel's core_pattern, `coredumpctl dump`, `zstdcat`) is copied there
// the same way.
#ifndef TM_READER_DECOMPRESS_H
#define TM_READER_DECOMPRESS_H

#include "tm/reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tm_decompressed {
	int fd;		    // the bytes to read in the file's place; -1 if the
			    // file can be read as it is
	const char *format; // "zstd", "xz", "lz4", "gzip"; NULL if not
	bool piped;	    // read from a pipe, not a file
	uint64_t size;	    // bytes decompressed or copied
	// Why the compressed data ended before its end (damaged or cut
	// short), or NULL: what came before is in @fd all the same.
	char *damage;
};

// Decompress @path, if it is compressed, into an unnamed temporary file
// in $TMPDIR (else /tmp), whose zero pages are left as holes; a pipe
// (FIFO) is copied there whether compressed or not, since the readers
// read at random.  A file that can be read as it is gives fd -1.  Fails
// for a format that cannot be read, a temporary file that cannot be
// written, data damaged at its very start, or a pipe that gave nothing;
// damage later is reported in ->damage.  Messages call the file @name.
struct tm_error *tm_decompress(const char *path, const char *name,
			       struct tm_decompressed *ret);

// Close the temporary file; free the damage note.
void tm_decompressed_release(struct tm_decompressed *d);

#endif // TM_READER_DECOMPRESS_H
