// cursor.c: loading a region image and reading integers from it.
#include "cursor.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

uint64_t tm_load_uint(const uint8_t *p, unsigned size, bool big_endian)
{
	uint64_t v = 0;

	// Byte by byte: the bytes may be unaligned, and this gives the value
	// whatever the host's own order.
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = big_endian ? (size - 1 - i) * 8 : i * 8;
		v |= (uint64_t)p[i] << shift;
	}
	return v;
}

struct tm_error *tm_image_load(struct tm_source *src, uint64_t base,
			       uint64_t size, bool big_endian, struct tm_image *image,
			       uint64_t *ret_missing_bytes)
{
	struct tm_error *err;
	uint64_t missing_bytes = 0;

	memset(image, 0, sizeof(*image));
	if (size > SIZE_MAX || base + size < base)
		return tm_error_create(TM_ERR_BAD_TABLE,
				       "trace table claims %llu bytes at 0x%llx, "
				       "which cannot exist",
				       (unsigned long long)size,
				       (unsigned long long)base);
	image->bytes = calloc(1, size ? size : 1);
	if (!image->bytes)
		return tm_error_create(TM_ERR_NOMEM,
				       "cannot hold the %llu-byte trace table "
				       "in memory",
				       (unsigned long long)size);
	image->size = size;
	image->big_endian = big_endian;
	err = tm_source_read(src, image->bytes, base, size);
	if (!err) {
		*ret_missing_bytes = 0;
		return NULL;
	}
	if (tm_error_code(err) == TM_ERR_NOMEM) {
		tm_image_deinit(image);
		return err;
	}
	tm_error_destroy(err);
	// Part of the region is missing (a truncated core): take what is
	// there page by page.
	uint64_t pages = (size + TM_IMAGE_PAGE - 1) / TM_IMAGE_PAGE;
	image->missing = calloc(pages ? pages : 1, 1);
	if (!image->missing) {
		tm_image_deinit(image);
		return &tm_enomem;
	}
	for (uint64_t p = 0; p < pages; p++) {
		uint64_t off = p * TM_IMAGE_PAGE;
		uint64_t n = size - off < TM_IMAGE_PAGE ? size - off
							: TM_IMAGE_PAGE;
		err = tm_source_read(src, image->bytes + off, base + off, n);
		if (err) {
			tm_error_destroy(err);
			image->missing[p] = 1;
			memset(image->bytes + off, 0, n);
			missing_bytes += n;
		}
	}
	if (missing_bytes == size) {
		tm_image_deinit(image);
		return tm_error_create(TM_ERR_BAD_TABLE,
				       "none of the trace table's %llu bytes at "
				       "0x%llx can be read; is the core "
				       "truncated?",
				       (unsigned long long)size,
				       (unsigned long long)base);
	}
	*ret_missing_bytes = missing_bytes;
	return NULL;
}

void tm_image_deinit(struct tm_image *image)
{
	free(image->bytes);
	free(image->missing);
	memset(image, 0, sizeof(*image));
}

bool tm_image_ok(const struct tm_image *image, uint64_t offset, uint64_t n)
{
	if (offset > image->size || n > image->size - offset)
		return false;
	if (image->missing && n) {
		for (uint64_t p = offset / TM_IMAGE_PAGE;
		     p <= (offset + n - 1) / TM_IMAGE_PAGE; p++)
			if (image->missing[p])
				return false;
	}
	return true;
}
