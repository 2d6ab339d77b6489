// layout_desc.c: descriptor tables generated from the field lists in
// tm_layout.h.  The writer copies these into each region; the reader's unit
// tests use them to build tables.
#include "tm_layout.h"

#define FIELD_DESC(rec, type, name)                                            \
	{ #name, (uint32_t)offsetof(struct rec, name), sizeof(type), 0 },

#define HEADER_FIELD(type, name) FIELD_DESC(tm_header_rec, type, name)
#define SHARD_FIELD(type, name) FIELD_DESC(tm_shard_rec, type, name)
#define TRACE_FIELD(type, name) FIELD_DESC(tm_trace_rec, type, name)
#define TRACEBACK_FIELD(type, name) FIELD_DESC(tm_traceback_rec, type, name)
#define MODULE_FIELD(type, name) FIELD_DESC(tm_module_rec, type, name)

static const struct tm_layout_field header_fields[] = { TM_HEADER_FIELDS(
	HEADER_FIELD) };
static const struct tm_layout_field shard_fields[] = { TM_SHARD_FIELDS(
	SHARD_FIELD) };
static const struct tm_layout_field trace_fields[] = { TM_TRACE_FIELDS(
	TRACE_FIELD) };
static const struct tm_layout_field traceback_fields[] = {
	TM_TRACEBACK_FIELDS(TRACEBACK_FIELD){
		"frames", (uint32_t)offsetof(struct tm_traceback_rec, frames),
		sizeof(uint64_t), TM_FIELD_FLAG_TRAILING_ARRAY },
};
static const struct tm_layout_field module_fields[] = { TM_MODULE_FIELDS(
	MODULE_FIELD) };

#define RECORD(name, rec, fields)                                              \
	{                                                                      \
		name, sizeof(struct rec), sizeof(fields) / sizeof(fields[0]),  \
			fields                                                 \
	}

const struct tm_layout_record tm_layout_records[TM_RECORD_TYPE_COUNT] = {
	[TM_RECORD_HEADER] = RECORD("header", tm_header_rec, header_fields),
	[TM_RECORD_SHARD] = RECORD("shard", tm_shard_rec, shard_fields),
	[TM_RECORD_TRACE] = RECORD("trace", tm_trace_rec, trace_fields),
	[TM_RECORD_TRACEBACK] =
		RECORD("traceback", tm_traceback_rec, traceback_fields),
	[TM_RECORD_MODULE] = RECORD("module", tm_module_rec, module_fields),
};
