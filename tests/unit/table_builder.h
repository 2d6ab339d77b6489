// table_builder.h: build trace tables by hand for the decoder's tests, with
// any field order, extra fields, field widths and byte order.
#ifndef TM_TABLE_BUILDER_H
#define TM_TABLE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tm_layout.h"

#define TB_MAX_FIELDS 24

struct tb_field {
	const char *name;
	unsigned size;
	bool trailing; // the traceback's frames array
};

struct tb_record {
	const char *name;
	struct tb_field fields[TB_MAX_FIELDS];
};

struct builder {
	uint8_t *buf;
	size_t capacity, used;
	bool big_endian;
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	uint32_t sizes[TM_RECORD_TYPE_COUNT];
	uint32_t offsets[TM_RECORD_TYPE_COUNT][TB_MAX_FIELDS];
	uint64_t header; // offset of the header record
	uint64_t shards;
	unsigned shard_count;
};

// The record layouts this writer version uses, in its own order.
void builder_default_records(struct tb_record records[TM_RECORD_TYPE_COUNT]);

// Start a table with @records; it is written in big-endian order if asked.
void builder_init(struct builder *b,
		  const struct tb_record records[TM_RECORD_TYPE_COUNT],
		  bool big_endian, unsigned shard_count);
void builder_deinit(struct builder *b);

uint64_t builder_alloc(struct builder *b, size_t size);
void builder_put(struct builder *b, uint64_t offset, unsigned size,
		 uint64_t value);
// Set field @name of the record of @type at @rec.  Fields the layout lacks
// are ignored, so tests can drop fields.
void builder_set(struct builder *b, enum tm_record_type type, uint64_t rec,
		 const char *name, uint64_t value);
uint64_t builder_get(const struct builder *b, enum tm_record_type type,
		     uint64_t rec, const char *name);

// A traceback record; returns its reference (offset / 8).
uint32_t builder_traceback(struct builder *b, const uint64_t *frames,
			   unsigned nframe, unsigned total_nframe);
// Add a trace to shard @shard (a slot array is made on first use).
void builder_trace(struct builder *b, unsigned shard, uint32_t domain,
		   uint64_t address, uint64_t size, uint32_t traceback);
uint64_t builder_module(struct builder *b, const char *path, uint64_t start,
			uint64_t end, const uint8_t *build_id, unsigned id_len);
// Set region_size, used and the magic; the table is ready to decode.
void builder_finish(struct builder *b);

#endif // TM_TABLE_BUILDER_H
