// cursor.c: loading a region image and reading integers from it.
#include "cursor.h"

#include "error.h"
#include "source.h"

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

// How many bytes from @base the source's segments hold without a gap, or
// @want if the source does not list its segments.
static uint64_t available(const struct tm_source *src, uint64_t base,
			  uint64_t want)
{
	uint64_t end = base;
	bool grew = true;

	if (!src->segment_count)
		return want;
	// Segments may come in any order; extend until nothing adjoins.
	while (grew && end - base < want) {
		grew = false;
		for (size_t i = 0; i < src->segment_count; i++) {
			const struct tm_segment *s = &src->segments[i];
			if (s->start <= end && s->start + s->size > end) {
				end = s->start + s->size;
				grew = true;
			}
		}
	}
	return end - base < want ? end - base : want;
}

// Read page by page, marking what fails; a long run of failures ends the
// attempt, so a wrong size cannot turn into millions of failed reads.
#define MAX_FAILED_RUN 4096

static struct tm_error *load_pages(struct tm_source *src, uint64_t base,
				   struct tm_image *image,
				   uint64_t *missing_bytes)
{
	uint64_t pages = (image->loaded + TM_IMAGE_PAGE - 1) / TM_IMAGE_PAGE;
	unsigned failed_run = 0;

	image->missing = calloc(pages ? pages : 1, 1);
	if (!image->missing)
		return &tm_enomem;
	for (uint64_t p = 0; p < pages; p++) {
		uint64_t off = p * TM_IMAGE_PAGE;
		uint64_t n = image->loaded - off < TM_IMAGE_PAGE
				     ? image->loaded - off
				     : TM_IMAGE_PAGE;
		struct tm_error *err =
			failed_run < MAX_FAILED_RUN
				? tm_source_read(src, image->bytes + off,
						 base + off, n)
				: &tm_enomem; // not tried: counted as missing
		if (!err) {
			failed_run = 0;
			continue;
		}
		if (err != &tm_enomem)
			tm_error_destroy(err);
		failed_run++;
		image->missing[p] = 1;
		memset(image->bytes + off, 0, n);
		*missing_bytes += n;
	}
	return NULL;
}

struct tm_error *tm_image_load(struct tm_source *src, uint64_t base,
			       uint64_t size, bool big_endian,
			       struct tm_image *image,
			       uint64_t *ret_missing_bytes)
{
	struct tm_error *err;
	uint64_t missing_bytes = 0;

	memset(image, 0, sizeof(*image));
	if (base + size < base)
		return tm_error_create(
			TM_ERR_BAD_TABLE,
			"trace table claims %llu bytes at 0x%llx, "
			"which cannot exist",
			(unsigned long long)size, (unsigned long long)base);
	image->size = size;
	image->loaded = available(src, base, size);
	image->big_endian = big_endian;
	missing_bytes = size - image->loaded;
	if (image->loaded > SIZE_MAX)
		return &tm_enomem;
	image->bytes = calloc(1, image->loaded ? (size_t)image->loaded : 1);
	if (!image->bytes)
		return tm_error_create(TM_ERR_NOMEM,
				       "cannot hold the %llu-byte trace table "
				       "in memory",
				       (unsigned long long)image->loaded);
	err = tm_source_read(src, image->bytes, base, image->loaded);
	if (err) {
		bool nomem = tm_error_code(err) == TM_ERR_NOMEM;
		tm_error_destroy(err);
		// Part of the region is missing (a truncated core): take
		// what is there page by page.
		err = nomem ? &tm_enomem
			    : load_pages(src, base, image, &missing_bytes);
		if (err) {
			tm_image_deinit(image);
			return err;
		}
	}
	if (missing_bytes == size) {
		tm_image_deinit(image);
		return tm_error_create(
			TM_ERR_BAD_TABLE,
			"none of the trace table's %llu bytes at "
			"0x%llx can be read; is the core "
			"truncated?",
			(unsigned long long)size, (unsigned long long)base);
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
	if (offset > image->loaded || n > image->loaded - offset)
		return false;
	if (image->missing && n) {
		for (uint64_t p = offset / TM_IMAGE_PAGE;
		     p <= (offset + n - 1) / TM_IMAGE_PAGE; p++)
			if (image->missing[p])
				return false;
	}
	return true;
}
