// decode.c: turn a located trace table into traces, tracebacks and modules
// (docs/layout.md).  Descriptor-driven: every field is found through the
// table's schema.  Every offset is range-checked against the region image and
// the one chain (the module list) must strictly descend, so damaged input
// yields an error or a partial result with counts, never a crash or a hang.
#include "reader_internal.h"

#include "cleanup.h"
#include "error.h"
#include "hashmap.h"
#include "source.h"

#include <stdlib.h>
#include <string.h>

// A table larger than this is taken as damaged rather than read.
#define MAX_REGION_SIZE ((uint64_t)1 << 40)
#define MAX_WRITER_NAME 256

struct tm_table {
	struct tm_table_info info;
	struct tm_damage damage;
	struct tm_trace *traces;
	size_t trace_count;
	struct tm_traceback *tracebacks;
	size_t traceback_count;
	uint64_t *frames;
	struct tm_module *modules;
	size_t module_count;
	char *writer;
};

struct decoder {
	const struct tm_schema *schema;
	const struct tm_image *image;
	struct tm_table *table;
	struct tm_hashmap map; // traceback offset + 1 -> index, or UINT32_MAX
	size_t traces_cap, tracebacks_cap, frames_cap, frames_used;
};

static bool grow_array(void **array, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *grown = realloc(*array, n * elem);
	if (!grown)
		return false;
	*array = grown;
	*cap = n;
	return true;
}

// Decode the traceback at @offset, once.  Returns false on out-of-memory;
// *ret_index is UINT32_MAX if the traceback is invalid.
static bool traceback_at(struct decoder *d, uint64_t offset,
			 uint32_t *ret_index)
{
	const struct tm_record_schema *rs =
		&d->schema->records[TM_RECORD_TRACEBACK];
	size_t slot;

	if (!tm_hashmap_reserve(&d->map))
		return false;
	if (tm_hashmap_find(&d->map, offset + 1, &slot)) {
		*ret_index = (uint32_t)d->map.values[slot];
		return true;
	}
	uint32_t index = UINT32_MAX;
	const struct tm_field_ref *frames = &rs->fields[TRACEBACK_frames];
	if (tm_image_ok(d->image, offset, rs->size)) {
		const uint8_t *rec = d->image->bytes + offset;
		uint64_t nframe = tm_field(d->schema, TM_RECORD_TRACEBACK,
					   TRACEBACK_nframe, rec);
		uint64_t total =
			rs->fields[TRACEBACK_total_nframe].present
				? tm_field(d->schema, TM_RECORD_TRACEBACK,
					   TRACEBACK_total_nframe, rec)
				: nframe;
		uint64_t span = frames->offset + nframe * frames->size;
		if (nframe <= TM_LAYOUT_MAX_NFRAME && total >= nframe &&
		    tm_image_ok(d->image, offset, span)) {
			struct tm_table *t = d->table;
			if (!grow_array((void **)&t->tracebacks,
					&d->tracebacks_cap,
					t->traceback_count + 1,
					sizeof(*t->tracebacks)) ||
			    !grow_array((void **)&t->frames, &d->frames_cap,
					d->frames_used + nframe,
					sizeof(*t->frames)))
				return false;
			for (uint64_t k = 0; k < nframe; k++)
				t->frames[d->frames_used + k] = tm_load_uint(
					rec + frames->offset + k * frames->size,
					frames->size, d->image->big_endian);
			// Frames are fixed up into pointers at the end;
			// until then .frames holds the pool index.
			t->tracebacks[t->traceback_count] =
				(struct tm_traceback){
					(uint32_t)nframe, (uint32_t)total,
					(const uint64_t *)(uintptr_t)
						d->frames_used
				};
			d->frames_used += nframe;
			index = (uint32_t)t->traceback_count++;
		}
	}
	tm_hashmap_put_at(&d->map, slot, offset + 1, index);
	*ret_index = index;
	return true;
}

static int by_key(const void *a, const void *b)
{
	const struct tm_trace *x = a, *y = b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return (x->address > y->address) - (x->address < y->address);
}

// A shard frozen while it moved an entry back over a removed one may show
// that entry twice; keep one.
static void drop_duplicates(struct tm_table *t, size_t start)
{
	size_t n = t->trace_count - start, kept = 0;

	if (n < 2)
		return;
	struct tm_trace *traces = t->traces + start;
	qsort(traces, n, sizeof(*traces), by_key);
	for (size_t i = 0; i < n; i++)
		if (!kept || by_key(&traces[kept - 1], &traces[i]) != 0)
			traces[kept++] = traces[i];
	t->trace_count = start + kept;
}

static struct tm_error *decode_shard(struct decoder *d, const uint8_t *rec)
{
	const struct tm_schema *s = d->schema;
	const struct tm_image *im = d->image;
	struct tm_table *t = d->table;
	struct tm_damage *dmg = &t->damage;
	uint64_t seq = tm_field(s, TM_RECORD_SHARD, SHARD_seq, rec);
	uint64_t count = tm_field(s, TM_RECORD_SHARD, SHARD_count, rec);
	uint64_t size = tm_field(s, TM_RECORD_SHARD, SHARD_size, rec);
	uint64_t capacity = tm_field(s, TM_RECORD_SHARD, SHARD_capacity, rec);
	uint64_t slots = tm_field(s, TM_RECORD_SHARD, SHARD_slots, rec);
	uint32_t stride = s->records[TM_RECORD_TRACE].size;
	bool in_flight = seq & 1;

	if (in_flight)
		dmg->shards_in_flight++;
	if (capacity == 0) {
		if (count && !in_flight)
			dmg->shards_inconsistent++;
		return NULL;
	}
	if (capacity > im->size / (stride ? stride : 1) ||
	    !tm_image_ok(im, slots, capacity * stride)) {
		dmg->shards_unreadable++;
		return NULL;
	}
	uint64_t seen = 0, seen_size = 0;
	size_t start = t->trace_count;
	for (uint64_t i = 0; i < capacity; i++) {
		const uint8_t *slot = im->bytes + slots + i * stride;
		uint64_t ref =
			tm_field(s, TM_RECORD_TRACE, TRACE_traceback, slot);
		if (ref <= TM_TRACE_SLOT_TOMBSTONE)
			continue;
		uint32_t index;
		if (!traceback_at(d, ref * TM_LAYOUT_TRACEBACK_ALIGN, &index))
			return &tm_enomem;
		if (index == UINT32_MAX) {
			dmg->traces_bad++;
			continue;
		}
		if (!grow_array((void **)&t->traces, &d->traces_cap,
				t->trace_count + 1, sizeof(*t->traces)))
			return &tm_enomem;
		struct tm_trace *tr = &t->traces[t->trace_count];
		tr->address = tm_field(s, TM_RECORD_TRACE, TRACE_address, slot);
		tr->size = tm_field(s, TM_RECORD_TRACE, TRACE_size, slot);
		tr->domain = (uint32_t)tm_field(s, TM_RECORD_TRACE,
						TRACE_domain, slot);
		// The traceback index rides in the pointer until fix-up.
		tr->traceback = (const struct tm_traceback *)(uintptr_t)index;
		t->trace_count++;
		seen++;
		seen_size += tr->size;
	}
	if (in_flight)
		drop_duplicates(t, start);
	else if (seen != count || seen_size != size)
		dmg->shards_inconsistent++;
	return NULL;
}

static struct tm_error *decode_modules(struct decoder *d, uint64_t head)
{
	const struct tm_schema *s = d->schema;
	const struct tm_image *im = d->image;
	struct tm_table *t = d->table;
	uint32_t rec_size = s->records[TM_RECORD_MODULE].size;
	size_t cap = 0;

	if (!s->records[TM_RECORD_MODULE].present)
		return NULL;
	// Each record is older, so lower in the region, than the one that
	// links to it: requiring descent bounds the walk.
	uint64_t prev = UINT64_MAX;
	for (uint64_t at = head, next; at; prev = at, at = next) {
		next = 0;
		if (at >= prev || t->module_count >= TM_LAYOUT_MAX_MODULES ||
		    !tm_image_ok(im, at, rec_size)) {
			t->damage.modules_bad++;
			break;
		}
		const uint8_t *rec = im->bytes + at;
		uint64_t path = tm_field(s, TM_RECORD_MODULE, MODULE_path, rec);
		uint64_t path_len =
			tm_field(s, TM_RECORD_MODULE, MODULE_path_len, rec);
		uint64_t id =
			tm_field(s, TM_RECORD_MODULE, MODULE_build_id, rec);
		uint64_t id_len =
			tm_field(s, TM_RECORD_MODULE, MODULE_build_id_len, rec);
		next = tm_field(s, TM_RECORD_MODULE, MODULE_next, rec);
		if (path_len >= TM_LAYOUT_MAX_PATH ||
		    !tm_image_ok(im, path, path_len) ||
		    id_len > TM_LAYOUT_MAX_BUILD_ID ||
		    (id_len && !tm_image_ok(im, id, id_len))) {
			t->damage.modules_bad++;
			continue;
		}
		if (!grow_array((void **)&t->modules, &cap, t->module_count + 1,
				sizeof(*t->modules)))
			return &tm_enomem;
		char *p = strndup((const char *)im->bytes + path, path_len);
		uint8_t *b = id_len ? malloc(id_len) : NULL;
		if (!p || (id_len && !b)) {
			free(p);
			free(b);
			return &tm_enomem;
		}
		if (id_len)
			memcpy(b, im->bytes + id, id_len);
		t->modules[t->module_count++] = (struct tm_module){
			.load_bias = tm_field(s, TM_RECORD_MODULE,
					      MODULE_load_bias, rec),
			.start = tm_field(s, TM_RECORD_MODULE, MODULE_start,
					  rec),
			.end = tm_field(s, TM_RECORD_MODULE, MODULE_end, rec),
			.path = p,
			.build_id = b,
			.build_id_len = id_len,
		};
	}
	return NULL;
}

static void fill_info(struct tm_table *t, const struct tm_schema *s,
		      const struct tm_image *im, const uint8_t *h)
{
	struct tm_table_info *info = &t->info;
	uint64_t flags = tm_field(s, TM_RECORD_HEADER, HEADER_flags, h);

	info->version_major = s->version_major;
	info->version_minor = s->version_minor;
	info->pointer_size = s->pointer_size;
	info->swapped =
		s->big_endian != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
	info->base_address =
		tm_field(s, TM_RECORD_HEADER, HEADER_base_address, h);
	info->region_size = im->size;
	info->pid = (uint32_t)tm_field(s, TM_RECORD_HEADER, HEADER_pid, h);
	info->tracing = flags & TM_HEADER_FLAG_TRACING;
	info->file_backed = flags & TM_HEADER_FLAG_FILE_BACKED;
	info->traceback_limit = (unsigned)tm_field(s, TM_RECORD_HEADER,
						   HEADER_traceback_limit, h);
	info->unwind_limit =
		(unsigned)tm_field(s, TM_RECORD_HEADER, HEADER_unwind_limit, h);
	info->epoch = tm_field(s, TM_RECORD_HEADER, HEADER_epoch, h);
	info->peak_size = tm_field(s, TM_RECORD_HEADER, HEADER_peak_size, h);
	info->untraced = tm_field(s, TM_RECORD_HEADER, HEADER_untraced, h);
	// Tables before 1.1 do not say what they gave back (0 then).
	uint64_t used = tm_field(s, TM_RECORD_HEADER, HEADER_used, h);
	uint64_t released = tm_field(s, TM_RECORD_HEADER, HEADER_released, h);
	info->memory_size = released <= used ? used - released : used;
	uint64_t w = tm_field(s, TM_RECORD_HEADER, HEADER_writer, h);
	if (w && w < im->size && tm_image_ok(im, w, 1)) {
		uint64_t n = 0;
		while (n < MAX_WRITER_NAME && w + n < im->size &&
		       tm_image_ok(im, w + n, 1) && im->bytes[w + n])
			n++;
		t->writer = strndup((const char *)im->bytes + w, n);
	}
	info->writer = t->writer ? t->writer : "unknown writer";
}

// Read the header record and the region size it declares, checked.
// Caller frees *@ret_header.
static struct tm_error *read_header(struct tm_source *src, uint64_t base,
				    const struct tm_schema *s,
				    uint8_t **ret_header, uint64_t *ret_size)
{
	const struct tm_record_schema *hs = &s->records[TM_RECORD_HEADER];
	uint8_t *h = malloc(hs->size ? hs->size : 1);
	struct tm_error *err;

	if (!h)
		return &tm_enomem;
	if ((err = tm_source_read(src, h, base + s->header, hs->size))) {
		tm_error_destroy(err);
		free(h);
		return tm_error_create(TM_ERR_BAD_TABLE,
				       "trace table at 0x%llx is damaged: its "
				       "header cannot be read",
				       (unsigned long long)base);
	}
	uint64_t size = tm_field(s, TM_RECORD_HEADER, HEADER_region_size, h);
	if (size > MAX_REGION_SIZE || s->header > size ||
	    size - s->header < hs->size) {
		free(h);
		return tm_error_create(TM_ERR_BAD_TABLE,
				       "trace table at 0x%llx is damaged: its "
				       "size %llu is out of range",
				       (unsigned long long)base,
				       (unsigned long long)size);
	}
	*ret_header = h;
	*ret_size = size;
	return NULL;
}

static struct tm_error *decode(struct tm_source *src, uint64_t base,
			       const struct tm_schema *s, struct tm_table *t)
{
	_cleanup_free_ uint8_t *h = NULL;
	struct tm_image image;
	struct tm_error *err;
	uint64_t missing, region_size;

	if ((err = read_header(src, base, s, &h, &region_size)))
		return err;
	if ((err = tm_image_load(src, base, region_size, s->big_endian, &image,
				 &missing)))
		return err;
	t->damage.bytes_unreadable = missing;
	fill_info(t, s, &image, h);

	struct decoder d = { .schema = s, .image = &image, .table = t };
	uint64_t shard_count =
		tm_field(s, TM_RECORD_HEADER, HEADER_shard_count, h);
	uint64_t shards = tm_field(s, TM_RECORD_HEADER, HEADER_shards, h);
	uint32_t stride = s->records[TM_RECORD_SHARD].size;
	if (shard_count > TM_LAYOUT_MAX_SHARDS || shards > image.size ||
	    shard_count * stride > image.size - shards) {
		err = tm_error_create(TM_ERR_BAD_TABLE,
				      "trace table at 0x%llx is damaged: its "
				      "shard array is out of range",
				      (unsigned long long)base);
		goto out;
	}
	for (uint64_t i = 0; i < shard_count; i++) {
		if (!tm_image_ok(&image, shards + i * stride, stride)) {
			t->damage.shards_unreadable++;
			continue;
		}
		if ((err = decode_shard(&d, image.bytes + shards + i * stride)))
			goto out;
	}
	err = decode_modules(&d,
			     tm_field(s, TM_RECORD_HEADER, HEADER_modules, h));
	if (err)
		goto out;
	// Indices become pointers now that the arrays stop moving.
	// (No frames at all: every traceback is empty, and stays NULL.)
	for (size_t i = 0; i < t->traceback_count; i++)
		t->tracebacks[i].frames =
			t->frames
				? t->frames + (uintptr_t)t->tracebacks[i].frames
				: NULL;
	for (size_t i = 0; i < t->trace_count; i++) {
		t->traces[i].traceback =
			&t->tracebacks[(uintptr_t)t->traces[i].traceback];
		t->info.traced_size += t->traces[i].size;
	}
	// The writer folds the peak in lazily (docs/layout.md, "header").
	if (t->info.peak_size < t->info.traced_size)
		t->info.peak_size = t->info.traced_size;
out:
	tm_hashmap_deinit(&d.map);
	tm_image_deinit(&image);
	return err;
}

struct tm_error *tm_table_decode(struct tm_source *src, uint64_t base,
				 struct tm_table **ret)
{
	struct tm_schema schema;
	struct tm_error *err;
	struct tm_table *t;

	if ((err = tm_schema_read(src, base, &schema)))
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return &tm_enomem;
	if ((err = decode(src, base, &schema, t))) {
		tm_table_destroy(t);
		return err;
	}
	*ret = t;
	return NULL;
}

struct tm_error *tm_table_extract(struct tm_source *src, uint64_t base,
				  void **ret, size_t *ret_size)
{
	_cleanup_free_ uint8_t *h = NULL;
	struct tm_schema schema;
	struct tm_image image;
	struct tm_error *err;
	uint64_t missing, size;

	if ((err = tm_schema_read(src, base, &schema)) ||
	    (err = read_header(src, base, &schema, &h, &size)) ||
	    (err = tm_image_load(src, base, size, schema.big_endian, &image,
				 &missing)))
		return err;
	// The image holds what the source had; the region's declared size
	// may be larger (a truncated core): only what was loaded is copied.
	*ret = TM_STEAL(image.bytes);
	*ret_size = (size_t)image.loaded;
	tm_image_deinit(&image);
	return NULL;
}

void tm_table_destroy(struct tm_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->module_count; i++) {
		free((char *)t->modules[i].path);
		free((uint8_t *)t->modules[i].build_id);
	}
	free(t->modules);
	free(t->traces);
	free(t->tracebacks);
	free(t->frames);
	free(t->writer);
	free(t);
}

const struct tm_table_info *tm_table_info(const struct tm_table *t)
{
	return &t->info;
}

const struct tm_damage *tm_table_damage(const struct tm_table *t)
{
	return &t->damage;
}

const struct tm_trace *tm_table_traces(const struct tm_table *t, size_t *count)
{
	*count = t->trace_count;
	return t->traces;
}

const struct tm_module *tm_table_modules(const struct tm_table *t,
					 size_t *count)
{
	*count = t->module_count;
	return t->modules;
}

size_t tm_table_traceback_count(const struct tm_table *t)
{
	return t->traceback_count;
}
