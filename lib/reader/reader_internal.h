// reader_internal.h: the decoder's view of a table's descriptors.
//
// The reader knows the fields of its own layout version by name (the lists
// in tm_layout.h) and finds where each one is in the table it reads through
// that table's descriptors, never through compiled-in offsets.
#ifndef TM_READER_INTERNAL_H
#define TM_READER_INTERNAL_H

#include "cursor.h"
#include "tm_layout.h"

#define TM_ENUM_HEADER(type, name) HEADER_##name,
#define TM_ENUM_SHARD(type, name) SHARD_##name,
#define TM_ENUM_TRACE(type, name) TRACE_##name,
#define TM_ENUM_TRACEBACK(type, name) TRACEBACK_##name,
#define TM_ENUM_MODULE(type, name) MODULE_##name,

enum { TM_HEADER_FIELDS(TM_ENUM_HEADER) HEADER_FIELD_COUNT };
enum { TM_SHARD_FIELDS(TM_ENUM_SHARD) SHARD_FIELD_COUNT };
enum { TM_TRACE_FIELDS(TM_ENUM_TRACE) TRACE_FIELD_COUNT };
enum {
	TM_TRACEBACK_FIELDS(TM_ENUM_TRACEBACK) TRACEBACK_frames,
	TRACEBACK_FIELD_COUNT
};
enum { TM_MODULE_FIELDS(TM_ENUM_MODULE) MODULE_FIELD_COUNT };

#define TM_SCHEMA_MAX_FIELDS 32

struct tm_field_ref {
	uint32_t offset;
	uint16_t size;
	bool present;
};

struct tm_record_schema {
	bool present;
	uint32_t size;
	struct tm_field_ref fields[TM_SCHEMA_MAX_FIELDS];
};

struct tm_schema {
	bool big_endian;
	unsigned version_major, version_minor, pointer_size;
	uint64_t header;
	struct tm_record_schema records[TM_RECORD_TYPE_COUNT];
};

// Read and check the preamble and descriptors of the table at @base.
struct tm_error *tm_schema_read(struct tm_source *src, uint64_t base,
				struct tm_schema *ret);

// A field of a record at @rec (already range-checked for the record's fixed
// size); 0 if this table's layout lacks the field.
static inline uint64_t tm_field(const struct tm_schema *schema,
				enum tm_record_type type, unsigned field,
				const uint8_t *rec)
{
	const struct tm_field_ref *f = &schema->records[type].fields[field];

	return f->present ? tm_load_uint(rec + f->offset, f->size,
					 schema->big_endian)
			  : 0;
}

#endif // TM_READER_INTERNAL_H
