// locate.c: finding a trace table in a source (docs/layout.md, "Finding the
// table"): through the well-known descriptor symbol, or by scanning page
// starts for the magic.  Offset 0 of a file needs no search.
#include "reader_internal.h"

#include "cleanup.h"
#include "error.h"
#include "source.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_CHUNK ((uint64_t)1 << 20)

struct tm_error *tm_locate_descriptor(struct tm_source *src,
				      uint64_t descriptor, uint64_t *ret)
{
	struct tm_descriptor desc;
	struct tm_error *err;

	if ((err = tm_source_read(src, &desc, descriptor, sizeof(desc)))) {
		tm_error_destroy(err);
		return tm_error_create(TM_ERR_NO_TABLE,
				       "the tracemalloc descriptor at 0x%llx "
				       "cannot be read",
				       (unsigned long long)descriptor);
	}
	const uint8_t *raw = (const uint8_t *)&desc;
	bool be = false;
	uint64_t version = tm_load_uint(raw, 4, false);
	if (version != TM_DESCRIPTOR_VERSION) {
		be = true;
		version = tm_load_uint(raw, 4, true);
	}
	if (version != TM_DESCRIPTOR_VERSION)
		return tm_error_create(TM_ERR_VERSION,
				       "the tracemalloc descriptor at 0x%llx "
				       "has an unknown version; upgrade tm",
				       (unsigned long long)descriptor);
	uint64_t flags = tm_load_uint(
		raw + offsetof(struct tm_descriptor, flags), 4, be);
	uint64_t region = tm_load_uint(
		raw + offsetof(struct tm_descriptor, region), 8, be);
	if (!(flags & 1) || !region)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "libtracemalloc is loaded but never "
				       "started tracing; set TRACEMALLOC=N "
				       "or call tm_start()");
	*ret = region;
	return NULL;
}

// Is there a table at @address that says it was mapped at @address?
static bool table_at(struct tm_source *src, uint64_t address)
{
	struct tm_schema schema;
	struct tm_error *err = tm_schema_read(src, address, &schema);

	if (err) {
		// A table we cannot read is still a table: let decode say why.
		bool found = tm_error_code(err) == TM_ERR_VERSION;
		tm_error_destroy(err);
		return found;
	}
	const struct tm_record_schema *hs = &schema.records[TM_RECORD_HEADER];
	_cleanup_free_ uint8_t *h = malloc(hs->size ? hs->size : 1);
	if (!h)
		return false;
	err = tm_source_read(src, h, address + schema.header, hs->size);
	if (err) {
		tm_error_destroy(err);
		return false;
	}
	// A copy of a table (an in-process snapshot in the heap) carries the
	// address of the original; only the original counts.
	return tm_field(&schema, TM_RECORD_HEADER, HEADER_base_address, h) ==
	       address;
}

struct tm_error *tm_locate_scan(struct tm_source *src, uint64_t *ret,
				unsigned *ret_count)
{
	_cleanup_free_ uint8_t *chunk = malloc(SCAN_CHUNK);
	uint64_t best = 0;
	unsigned found = 0;

	if (!chunk)
		return &tm_enomem;
	for (size_t s = 0; s < src->segment_count; s++) {
		const struct tm_segment *seg = &src->segments[s];
		uint64_t first = (seg->start + TM_LAYOUT_PAGE_SIZE - 1) &
				 ~(uint64_t)(TM_LAYOUT_PAGE_SIZE - 1);
		uint64_t end = seg->start + seg->size;
		for (uint64_t at = first; at < end && at >= first;
		     at += SCAN_CHUNK) {
			uint64_t n =
				end - at < SCAN_CHUNK ? end - at : SCAN_CHUNK;
			struct tm_error *err =
				tm_source_read(src, chunk, at, n);
			bool whole = !err;
			tm_error_destroy(err);
			for (uint64_t off = 0; off + TM_LAYOUT_MAGIC_SIZE <= n;
			     off += TM_LAYOUT_PAGE_SIZE) {
				// Unreadable stretches of a core are common:
				// then look page by page.
				if (!whole) {
					err = tm_source_read(
						src, chunk + off, at + off,
						TM_LAYOUT_MAGIC_SIZE);
					if (err) {
						tm_error_destroy(err);
						continue;
					}
				}
				if (memcmp(chunk + off, TM_LAYOUT_MAGIC,
					   TM_LAYOUT_MAGIC_SIZE) != 0 ||
				    !table_at(src, at + off))
					continue;
				if (!found || at + off < best)
					best = at + off;
				found++;
			}
		}
	}
	if (ret_count)
		*ret_count = found;
	if (!found)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "no trace table found: the memory holds "
				       "no libtracemalloc region; was the "
				       "program run with TRACEMALLOC=N?");
	*ret = best;
	return NULL;
}
