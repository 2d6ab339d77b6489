// table_builder.c: hand-built trace tables for the decoder's tests.
#include "table_builder.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_PER_SHARD 16

void builder_default_records(struct tb_record records[TM_RECORD_TYPE_COUNT])
{
	memset(records, 0, TM_RECORD_TYPE_COUNT * sizeof(records[0]));
	for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
		const struct tm_layout_record *lr = &tm_layout_records[r];
		records[r].name = lr->name;
		for (unsigned f = 0; f < lr->field_count; f++)
			records[r].fields[f] = (struct tb_field){
				lr->fields[f].name, lr->fields[f].size,
				lr->fields[f].flags &
					TM_FIELD_FLAG_TRAILING_ARRAY
			};
	}
}

void builder_put(struct builder *b, uint64_t offset, unsigned size,
		 uint64_t value)
{
	assert(offset + size <= b->capacity);
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = b->big_endian ? (size - 1 - i) * 8 : i * 8;
		b->buf[offset + i] = (uint8_t)(value >> shift);
	}
}

uint64_t builder_alloc(struct builder *b, size_t size)
{
	uint64_t at = (b->used + 7) & ~(uint64_t)7;

	while (at + size > b->capacity) {
		size_t cap = b->capacity * 2;
		b->buf = realloc(b->buf, cap);
		assert(b->buf);
		memset(b->buf + b->capacity, 0, cap - b->capacity);
		b->capacity = cap;
	}
	b->used = at + size;
	return at;
}

static int field_index(const struct builder *b, enum tm_record_type type,
		       const char *name)
{
	for (int f = 0; f < TB_MAX_FIELDS && b->records[type].fields[f].name;
	     f++)
		if (strcmp(b->records[type].fields[f].name, name) == 0)
			return f;
	return -1;
}

void builder_set(struct builder *b, enum tm_record_type type, uint64_t rec,
		 const char *name, uint64_t value)
{
	int f = field_index(b, type, name);

	if (f >= 0)
		builder_put(b, rec + b->offsets[type][f],
			    b->records[type].fields[f].size, value);
}

void builder_init(struct builder *b,
		  const struct tb_record records[TM_RECORD_TYPE_COUNT],
		  bool big_endian, unsigned shard_count)
{
	memset(b, 0, sizeof(*b));
	b->capacity = 1 << 16;
	b->buf = calloc(1, b->capacity);
	assert(b->buf);
	b->big_endian = big_endian;
	memcpy(b->records, records, sizeof(b->records));
	for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
		uint32_t at = 0;
		for (unsigned f = 0;
		     f < TB_MAX_FIELDS && records[r].fields[f].name; f++) {
			unsigned size = records[r].fields[f].size;
			at = (at + size - 1) & ~(size - 1);
			b->offsets[r][f] = at;
			if (!records[r].fields[f].trailing)
				at += size;
		}
		b->sizes[r] = (at + 7) & ~7u;
	}
	b->used = sizeof(struct tm_preamble);
	// Descriptors.
	uint64_t types = builder_alloc(
		b, TM_RECORD_TYPE_COUNT * sizeof(struct tm_record_desc));
	for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
		unsigned count = 0;
		while (count < TB_MAX_FIELDS && records[r].fields[count].name)
			count++;
		uint64_t fields =
			builder_alloc(b, count * sizeof(struct tm_field_desc));
		for (unsigned f = 0; f < count; f++) {
			uint64_t fd = fields + f * sizeof(struct tm_field_desc);
			strncpy((char *)b->buf + fd, records[r].fields[f].name,
				TM_DESC_NAME_SIZE - 1);
			builder_put(b,
				    fd + offsetof(struct tm_field_desc, offset),
				    4, b->offsets[r][f]);
			builder_put(b,
				    fd + offsetof(struct tm_field_desc, size),
				    2, records[r].fields[f].size);
			builder_put(b,
				    fd + offsetof(struct tm_field_desc, flags),
				    2,
				    records[r].fields[f].trailing
					    ? TM_FIELD_FLAG_TRAILING_ARRAY
					    : 0);
		}
		uint64_t d = types + r * sizeof(struct tm_record_desc);
		strncpy((char *)b->buf + d, records[r].name,
			TM_DESC_NAME_SIZE - 1);
		builder_put(b, d + offsetof(struct tm_record_desc, size), 4,
			    b->sizes[r]);
		builder_put(b, d + offsetof(struct tm_record_desc, field_count),
			    4, count);
		builder_put(b, d + offsetof(struct tm_record_desc, fields), 8,
			    fields);
	}
	b->header = builder_alloc(b, b->sizes[TM_RECORD_HEADER]);
	b->shard_count = shard_count;
	b->shards = builder_alloc(b, shard_count * b->sizes[TM_RECORD_SHARD]);
	builder_set(b, TM_RECORD_HEADER, b->header, "shard_count", shard_count);
	builder_set(b, TM_RECORD_HEADER, b->header, "shards", b->shards);
	builder_set(b, TM_RECORD_HEADER, b->header, "traceback_limit", 16);
	builder_set(b, TM_RECORD_HEADER, b->header, "pid", 4242);
	builder_set(b, TM_RECORD_HEADER, b->header, "flags",
		    TM_HEADER_FLAG_TRACING);

	uint64_t pre = 0;
	builder_put(b, pre + offsetof(struct tm_preamble, byte_order), 4,
		    TM_LAYOUT_BYTE_ORDER);
	builder_put(b, pre + offsetof(struct tm_preamble, version_major), 2,
		    TM_LAYOUT_VERSION_MAJOR);
	builder_put(b, pre + offsetof(struct tm_preamble, version_minor), 2,
		    TM_LAYOUT_VERSION_MINOR);
	builder_put(b, pre + offsetof(struct tm_preamble, pointer_size), 4, 8);
	builder_put(b, pre + offsetof(struct tm_preamble, record_type_count), 4,
		    TM_RECORD_TYPE_COUNT);
	builder_put(b, pre + offsetof(struct tm_preamble, record_types), 8,
		    types);
	builder_put(b, pre + offsetof(struct tm_preamble, header), 8,
		    b->header);
}

void builder_deinit(struct builder *b)
{
	free(b->buf);
	b->buf = NULL;
}

uint32_t builder_traceback(struct builder *b, const uint64_t *frames,
			   unsigned nframe, unsigned total_nframe)
{
	int fi = field_index(b, TM_RECORD_TRACEBACK, "frames");
	assert(fi >= 0);
	unsigned fsize = b->records[TM_RECORD_TRACEBACK].fields[fi].size;
	uint64_t rec = builder_alloc(b, b->offsets[TM_RECORD_TRACEBACK][fi] +
						nframe * fsize + 8);
	builder_set(b, TM_RECORD_TRACEBACK, rec, "nframe", nframe);
	builder_set(b, TM_RECORD_TRACEBACK, rec, "total_nframe", total_nframe);
	for (unsigned i = 0; i < nframe; i++)
		builder_put(b,
			    rec + b->offsets[TM_RECORD_TRACEBACK][fi] +
				    i * fsize,
			    fsize, frames[i]);
	return (uint32_t)(rec / TM_LAYOUT_TRACEBACK_ALIGN);
}

static uint64_t get(const struct builder *b, uint64_t offset, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned shift = b->big_endian ? (size - 1 - i) * 8 : i * 8;
		v |= (uint64_t)b->buf[offset + i] << shift;
	}
	return v;
}

uint64_t builder_get(const struct builder *b, enum tm_record_type type,
		     uint64_t rec, const char *name)
{
	int f = field_index(b, type, name);

	return f < 0 ? 0
		     : get(b, rec + b->offsets[type][f],
			   b->records[type].fields[f].size);
}

void builder_trace(struct builder *b, unsigned shard, uint32_t domain,
		   uint64_t address, uint64_t size, uint32_t traceback)
{
	uint64_t rec = b->shards + shard * b->sizes[TM_RECORD_SHARD];
	uint64_t slots = builder_get(b, TM_RECORD_SHARD, rec, "slots");

	if (!slots) {
		slots = builder_alloc(b, SLOTS_PER_SHARD *
						 b->sizes[TM_RECORD_TRACE]);
		rec = b->shards + shard * b->sizes[TM_RECORD_SHARD];
		builder_set(b, TM_RECORD_SHARD, rec, "slots", slots);
		builder_set(b, TM_RECORD_SHARD, rec, "capacity",
			    SLOTS_PER_SHARD);
	}
	uint64_t count = builder_get(b, TM_RECORD_SHARD, rec, "count");
	uint64_t total = builder_get(b, TM_RECORD_SHARD, rec, "size");
	assert(count < SLOTS_PER_SHARD);
	uint64_t slot = slots + count * b->sizes[TM_RECORD_TRACE];
	builder_set(b, TM_RECORD_TRACE, slot, "address", address);
	builder_set(b, TM_RECORD_TRACE, slot, "size", size);
	builder_set(b, TM_RECORD_TRACE, slot, "domain", domain);
	builder_set(b, TM_RECORD_TRACE, slot, "traceback", traceback);
	builder_set(b, TM_RECORD_SHARD, rec, "count", count + 1);
	builder_set(b, TM_RECORD_SHARD, rec, "size", total + size);
}

uint64_t builder_module(struct builder *b, const char *path, uint64_t start,
			uint64_t end, const uint8_t *build_id, unsigned id_len)
{
	size_t len = strlen(path);
	uint64_t p = builder_alloc(b, len + 1);
	memcpy(b->buf + p, path, len);
	uint64_t id = 0;
	if (id_len) {
		id = builder_alloc(b, id_len);
		memcpy(b->buf + id, build_id, id_len);
	}
	uint64_t rec = builder_alloc(b, b->sizes[TM_RECORD_MODULE]);
	uint64_t head = builder_get(b, TM_RECORD_HEADER, b->header, "modules");
	uint64_t count =
		builder_get(b, TM_RECORD_HEADER, b->header, "module_count");
	builder_set(b, TM_RECORD_MODULE, rec, "next", head);
	builder_set(b, TM_RECORD_MODULE, rec, "start", start);
	builder_set(b, TM_RECORD_MODULE, rec, "end", end);
	builder_set(b, TM_RECORD_MODULE, rec, "load_bias", start);
	builder_set(b, TM_RECORD_MODULE, rec, "path", p);
	builder_set(b, TM_RECORD_MODULE, rec, "path_len", len);
	builder_set(b, TM_RECORD_MODULE, rec, "build_id", id);
	builder_set(b, TM_RECORD_MODULE, rec, "build_id_len", id_len);
	builder_set(b, TM_RECORD_HEADER, b->header, "modules", rec);
	builder_set(b, TM_RECORD_HEADER, b->header, "module_count", count + 1);
	return rec;
}

void builder_finish(struct builder *b)
{
	builder_set(b, TM_RECORD_HEADER, b->header, "region_size", b->used);
	builder_set(b, TM_RECORD_HEADER, b->header, "used", b->used);
	memcpy(b->buf, TM_LAYOUT_MAGIC, TM_LAYOUT_MAGIC_SIZE);
}
