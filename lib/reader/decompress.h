// decompress.h: sources compressed as a whole file.  systemd-coredump
// keeps cores as zstd (lz4 or xz in older versions), and a core or a trace
// file sent elsewhere is often gzipped or xz'ed; the readers need random
// access, so such a file is first decompressed into an unnamed temporary
// file that they open in its place.
#ifndef TM_READER_DECOMPRESS_H
#define TM_READER_DECOMPRESS_H

#include "tm/reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tm_decompressed {
	int fd;		    // the decompressed bytes; -1 if not compressed
	const char *format; // "zstd", "xz", "lz4", "gzip"; NULL if not
	uint64_t size;	    // bytes decompressed
	// Why the compressed data ended before its end (damaged or cut
	// short), or NULL: what came before is in @fd all the same.
	char *damage;
};

// Decompress @path, if it is compressed, into an unnamed temporary file
// in $TMPDIR (else /tmp), whose zero pages are left as holes.  An
// uncompressed file gives fd -1.  Fails for a format that cannot be read,
// a temporary file that cannot be written, or data damaged at its very
// start; damage later is reported in ->damage.
struct tm_error *tm_decompress(const char *path, struct tm_decompressed *ret);

// Close the temporary file; free the damage note.
void tm_decompressed_release(struct tm_decompressed *d);

#endif // TM_READER_DECOMPRESS_H
