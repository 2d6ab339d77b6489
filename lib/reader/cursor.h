// cursor.h: bounded, byte-order-aware access to a table's bytes.
//
// The decoder never treats target bytes as C pointers.  It loads the region
// into an image, and every read goes through tm_image_* which checks the
// range against the image and against the pages the source could not supply.
#ifndef TM_READER_CURSOR_H
#define TM_READER_CURSOR_H

#include "tm/reader.h"

#include <stdbool.h>
#include <stdint.h>

#define TM_IMAGE_PAGE 4096

struct tm_image {
	uint8_t *bytes;
	uint64_t size;	  // the region's size as the table claims it
	uint64_t loaded;  // bytes held in `bytes`; the rest are missing
	uint8_t *missing; // one byte per loaded page, 1 = unreadable, or NULL
	bool big_endian;  // the table's byte order
};

// Read @size bytes of region at @base into @image.  Only what the source's
// segments hold from @base on is loaded, never more than that, however large
// the table says it is.  Pages the source cannot supply are left zero,
// marked missing and counted in @ret_missing_bytes; if none can be read the
// result is an error.
struct tm_error *tm_image_load(struct tm_source *src, uint64_t base,
			       uint64_t size, bool big_endian,
			       struct tm_image *image,
			       uint64_t *ret_missing_bytes);
void tm_image_deinit(struct tm_image *image);

// True if [offset, offset + n) lies in the image and every page of it was
// read.
bool tm_image_ok(const struct tm_image *image, uint64_t offset, uint64_t n);

// The unsigned integer of @size bytes (1 to 8) at @p, stored in the given
// byte order.
uint64_t tm_load_uint(const uint8_t *p, unsigned size, bool big_endian);

#endif // TM_READER_CURSOR_H
