// schema.c: reading a table's preamble and record descriptors
// (docs/layout.md, "Preamble" and "Descriptors"), and refusing what this
// reader cannot read, with a message that says why.
#include "reader_internal.h"

#include "error.h"
#include "source.h"

#include <string.h>

#define NAME_ENTRY(type, name) #name,

static const char *const header_names[] = { TM_HEADER_FIELDS(NAME_ENTRY) };
static const char *const shard_names[] = { TM_SHARD_FIELDS(NAME_ENTRY) };
static const char *const trace_names[] = { TM_TRACE_FIELDS(NAME_ENTRY) };
static const char *const traceback_names[] = {
	TM_TRACEBACK_FIELDS(NAME_ENTRY) "frames",
};
static const char *const module_names[] = { TM_MODULE_FIELDS(NAME_ENTRY) };

struct wanted {
	const char *record;
	const char *const *names;
	unsigned count;
	bool required;
	// Fields without which the record cannot be used.
	const unsigned *needed;
	unsigned needed_count;
	// The field read as an array past the record's end (a traceback's
	// frames), or -1: any other field flagged so is not one this
	// reader can read.
	int trailing_array;
};

static const unsigned header_needed[] = {
	HEADER_region_size,
	HEADER_shard_count,
	HEADER_shards,
};
static const unsigned shard_needed[] = {
	SHARD_capacity, SHARD_slots, SHARD_count, SHARD_size, SHARD_seq,
};
static const unsigned trace_needed[] = {
	TRACE_address,
	TRACE_size,
	TRACE_traceback,
};
static const unsigned traceback_needed[] = {
	TRACEBACK_nframe,
	TRACEBACK_frames,
};
static const unsigned module_needed[] = {
	MODULE_next, MODULE_start, MODULE_end, MODULE_path, MODULE_path_len,
};

#define COUNT(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static const struct wanted wanted[TM_RECORD_TYPE_COUNT] = {
	[TM_RECORD_HEADER] = { "header", header_names, COUNT(header_names),
			       true, header_needed, COUNT(header_needed), -1 },
	[TM_RECORD_SHARD] = { "shard", shard_names, COUNT(shard_names), true,
			      shard_needed, COUNT(shard_needed), -1 },
	[TM_RECORD_TRACE] = { "trace", trace_names, COUNT(trace_names), true,
			      trace_needed, COUNT(trace_needed), -1 },
	[TM_RECORD_TRACEBACK] = { "traceback", traceback_names,
				  COUNT(traceback_names), true,
				  traceback_needed, COUNT(traceback_needed),
				  TRACEBACK_frames },
	[TM_RECORD_MODULE] = { "module", module_names, COUNT(module_names),
			       false, module_needed, COUNT(module_needed), -1 },
};

_Static_assert(COUNT(header_names) <= TM_SCHEMA_MAX_FIELDS, "header fields");
_Static_assert(TRACEBACK_FIELD_COUNT <= TM_SCHEMA_MAX_FIELDS, "fields");

static struct tm_error *bad(uint64_t base, const char *what)
{
	return tm_error_create(TM_ERR_BAD_TABLE,
			       "trace table at 0x%llx is damaged: %s",
			       (unsigned long long)base, what);
}

static void match_fields(struct tm_record_schema *rec, const struct wanted *w,
			 const struct tm_field_desc *fields, unsigned count,
			 bool big_endian)
{
	for (unsigned i = 0; i < count; i++) {
		const struct tm_field_desc *fd = &fields[i];
		char name[TM_DESC_NAME_SIZE + 1];
		memcpy(name, fd->name, TM_DESC_NAME_SIZE);
		name[TM_DESC_NAME_SIZE] = '\0';
		uint32_t offset = (uint32_t)tm_load_uint(
			(const uint8_t *)&fd->offset, 4, big_endian);
		uint16_t size = (uint16_t)tm_load_uint(
			(const uint8_t *)&fd->size, 2, big_endian);
		uint16_t flags = (uint16_t)tm_load_uint(
			(const uint8_t *)&fd->flags, 2, big_endian);
		unsigned k = 0;
		while (k < w->count && strcmp(name, w->names[k]) != 0)
			k++;
		if (k == w->count)
			continue;
		// Only the array may lie past the record's end; it is
		// bounds-checked as it is read.  A field that does not fit
		// its record is ignored, and reported below if the reader
		// needs it.
		bool trailing = (flags & TM_FIELD_FLAG_TRAILING_ARRAY) &&
				(int)k == w->trailing_array;
		if (size < 1 || size > 8 ||
		    (uint64_t)offset + (trailing ? 0 : size) > rec->size)
			continue;
		rec->fields[k] = (struct tm_field_ref){ offset, size, true };
	}
}

struct tm_error *tm_schema_read(struct tm_source *src, uint64_t base,
				struct tm_schema *ret)
{
	struct tm_preamble pre;
	struct tm_schema schema;
	struct tm_error *err;

	memset(&schema, 0, sizeof(schema));
	if ((err = tm_source_read(src, &pre, base, sizeof(pre)))) {
		tm_error_destroy(err);
		return tm_error_create(TM_ERR_NO_TABLE,
				       "no trace table at 0x%llx: its first "
				       "bytes cannot be read",
				       (unsigned long long)base);
	}
	if (memcmp(pre.magic, TM_LAYOUT_MAGIC, TM_LAYOUT_MAGIC_SIZE) != 0)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "no trace table at 0x%llx: the magic "
				       "is missing",
				       (unsigned long long)base);
	const uint8_t *raw = (const uint8_t *)&pre;
	uint64_t order = tm_load_uint(
		raw + offsetof(struct tm_preamble, byte_order), 4, false);
	if (order == TM_LAYOUT_BYTE_ORDER)
		schema.big_endian = false;
	else if (order == __builtin_bswap32(TM_LAYOUT_BYTE_ORDER))
		schema.big_endian = true;
	else
		return bad(base, "its byte-order mark is neither order");
	bool be = schema.big_endian;
#define PRE(field)                                                             \
	tm_load_uint(raw + offsetof(struct tm_preamble, field),                \
		     sizeof(pre.field), be)
	schema.version_major = (unsigned)PRE(version_major);
	schema.version_minor = (unsigned)PRE(version_minor);
	schema.pointer_size = (unsigned)PRE(pointer_size);
	uint64_t type_count = PRE(record_type_count);
	uint64_t types = PRE(record_types);
	schema.header = PRE(header);
#undef PRE
	if (schema.version_major > TM_LAYOUT_VERSION_MAJOR)
		return tm_error_create(
			TM_ERR_VERSION,
			"trace table layout %u.%u is newer than this reader "
			"(reads %u.x); upgrade tm",
			schema.version_major, schema.version_minor,
			TM_LAYOUT_VERSION_MAJOR);
	if (schema.version_major < TM_LAYOUT_VERSION_MAJOR)
		return tm_error_create(
			TM_ERR_VERSION,
			"trace table layout %u.%u is older than this reader "
			"(reads %u.x); read it with the tm that wrote it",
			schema.version_major, schema.version_minor,
			TM_LAYOUT_VERSION_MAJOR);
	if (schema.pointer_size != 4 && schema.pointer_size != 8)
		return bad(base, "its pointer size is neither 4 nor 8");
	if (type_count == 0 || type_count > TM_LAYOUT_MAX_RECORD_TYPES)
		return bad(base, "its record type count is out of range");

	for (uint64_t t = 0; t < type_count; t++) {
		struct tm_record_desc desc;
		struct tm_field_desc fields[TM_LAYOUT_MAX_FIELDS];
		uint64_t at = base + types + t * sizeof(desc);
		if (types + t * sizeof(desc) < types ||
		    (err = tm_source_read(src, &desc, at, sizeof(desc)))) {
			tm_error_destroy(err);
			return bad(base, "its descriptor table cannot be read");
		}
		const uint8_t *d = (const uint8_t *)&desc;
		uint64_t size = tm_load_uint(
			d + offsetof(struct tm_record_desc, size), 4, be);
		uint64_t count = tm_load_uint(
			d + offsetof(struct tm_record_desc, field_count), 4,
			be);
		uint64_t fields_at = tm_load_uint(
			d + offsetof(struct tm_record_desc, fields), 8, be);
		char name[TM_DESC_NAME_SIZE + 1];
		memcpy(name, desc.name, TM_DESC_NAME_SIZE);
		name[TM_DESC_NAME_SIZE] = '\0';
		if (count > TM_LAYOUT_MAX_FIELDS || size > (1u << 20))
			return bad(base, "a record descriptor is out of range");
		if ((err = tm_source_read(src, fields, base + fields_at,
					  count * sizeof(fields[0])))) {
			tm_error_destroy(err);
			return bad(base, "a field descriptor cannot be read");
		}
		// Record types this reader does not know were added by a
		// newer writer; they are skipped.
		for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
			if (strcmp(name, wanted[r].record) != 0 ||
			    schema.records[r].present)
				continue;
			schema.records[r].present = true;
			schema.records[r].size = (uint32_t)size;
			match_fields(&schema.records[r], &wanted[r], fields,
				     (unsigned)count, be);
		}
	}
	for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
		const struct wanted *w = &wanted[r];
		if (!schema.records[r].present) {
			if (!w->required)
				continue;
			return tm_error_create(TM_ERR_BAD_TABLE,
					       "trace table at 0x%llx has no "
					       "'%s' records",
					       (unsigned long long)base,
					       w->record);
		}
		for (unsigned k = 0; k < w->needed_count; k++) {
			if (schema.records[r].fields[w->needed[k]].present)
				continue;
			if (!w->required) {
				schema.records[r].present = false;
				break;
			}
			return tm_error_create(
				TM_ERR_BAD_TABLE,
				"trace table at 0x%llx: record '%s' has no "
				"usable field '%s'",
				(unsigned long long)base, w->record,
				w->names[w->needed[k]]);
		}
	}
	*ret = schema;
	return NULL;
}
