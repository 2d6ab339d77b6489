// test_decode.c: the descriptor-driven decoder, on hand-built tables: round
// trips, layouts it has never seen, both byte orders, and every kind of
// damage.
#include "tm_test.h"

#include "table_builder.h"

#include <stdlib.h>

#define SHARDS 4

static const uint64_t frames_a[] = { 0x401000, 0x402000, 0x403000 };
static const uint64_t frames_b[] = { 0x501234 };

// Three traces over two tracebacks and one module, in a table laid out by
// @records.
static void build_sample(struct builder *b, const struct tb_record *records,
			 bool big_endian)
{
	builder_init(b, records, big_endian, SHARDS);
	uint32_t a = builder_traceback(b, frames_a, 3, 7);
	uint32_t c = builder_traceback(b, frames_b, 1, 1);
	builder_trace(b, 0, 0, 0x10000, 100, a);
	builder_trace(b, 2, 0, 0x20000, 50, a);
	builder_trace(b, 3, 5, 0x30000, 7, c);
	static const uint8_t id[] = { 0xde, 0xad, 0xbe, 0xef };
	builder_module(b, "/usr/bin/sample", 0x400000, 0x600000, id, 4);
	builder_finish(b);
}

static struct tm_table *decode_buffer(const struct builder *b, size_t size)
{
	struct tm_source *src;
	struct tm_table *table = NULL;

	assert_tm_ok(tm_source_buffer_create(b->buf, size, 0, &src));
	assert_tm_ok(tm_table_decode(src, 0, &table));
	tm_source_destroy(src);
	return table;
}

static const struct tm_trace *find(const struct tm_table *t, uint64_t addr)
{
	size_t n;
	const struct tm_trace *traces = tm_table_traces(t, &n);

	for (size_t i = 0; i < n; i++)
		if (traces[i].address == addr)
			return &traces[i];
	return NULL;
}

static void check_sample(const struct tm_table *t)
{
	size_t n, nmod;
	const struct tm_damage zero = { 0 };

	tm_table_traces(t, &n);
	assert_int_equal(n, 3);
	assert_int_equal(tm_table_traceback_count(t), 2);
	const struct tm_trace *x = find(t, 0x10000), *y = find(t, 0x20000),
			      *z = find(t, 0x30000);
	assert_non_null(x);
	assert_non_null(y);
	assert_non_null(z);
	assert_int_equal(x->size, 100);
	assert_int_equal(z->domain, 5);
	assert_ptr_equal(x->traceback, y->traceback);
	assert_int_equal(x->traceback->nframe, 3);
	assert_int_equal(x->traceback->total_nframe, 7);
	assert_memory_equal(x->traceback->frames, frames_a, sizeof(frames_a));
	assert_int_equal(z->traceback->frames[0], frames_b[0]);
	assert_int_equal(tm_table_info(t)->traced_size, 157);
	assert_int_equal(tm_table_info(t)->pid, 4242);
	assert_true(tm_table_info(t)->tracing);
	const struct tm_module *m = tm_table_modules(t, &nmod);
	assert_int_equal(nmod, 1);
	assert_string_equal(m[0].path, "/usr/bin/sample");
	assert_int_equal(m[0].build_id_len, 4);
	assert_int_equal(m[0].build_id[3], 0xef);
	assert_memory_equal(tm_table_damage(t), &zero, sizeof(zero));
}

static void test_round_trip(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	build_sample(&b, records, false);
	struct tm_table *t = decode_buffer(&b, b.used);
	check_sample(t);
	assert_false(tm_table_info(t)->swapped);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_other_byte_order(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	build_sample(&b, records, true);
	struct tm_table *t = decode_buffer(&b, b.used);
	check_sample(t);
	assert_true(tm_table_info(t)->swapped);
	tm_table_destroy(t);
	builder_deinit(&b);
}

// A newer writer reorders fields, widens and narrows them, and adds fields
// and a record type this reader has never heard of.
static void test_unknown_layout(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	records[TM_RECORD_TRACE] = (struct tb_record){
		"trace",
		{ { "colour", 8, false },
		  { "traceback", 4, false },
		  { "size", 4, false },
		  { "future_flags", 2, false },
		  { "domain", 2, false },
		  { "address", 8, false } },
	};
	records[TM_RECORD_TRACEBACK] = (struct tb_record){
		"traceback",
		{ { "total_nframe", 4, false },
		  { "weight", 8, false },
		  { "nframe", 4, false },
		  { "frames", 8, true } },
	};
	// Shards gain a field in front, which moves every other one.
	struct tb_record shard = { "shard", { { "generation", 8, false } } };
	for (unsigned f = 0; records[TM_RECORD_SHARD].fields[f].name; f++)
		shard.fields[f + 1] = records[TM_RECORD_SHARD].fields[f];
	records[TM_RECORD_SHARD] = shard;
	build_sample(&b, records, false);
	struct tm_table *t = decode_buffer(&b, b.used);
	check_sample(t);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_missing_optional_fields(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	// An older minor version without total_nframe: it equals nframe.
	records[TM_RECORD_TRACEBACK] = (struct tb_record){
		"traceback",
		{ { "nframe", 2, false }, { "frames", 8, true } },
	};
	builder_init(&b, records, false, 1);
	uint32_t tb = builder_traceback(&b, frames_a, 3, 0);
	builder_trace(&b, 0, 0, 0x1000, 10, tb);
	builder_finish(&b);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	const struct tm_trace *tr = tm_table_traces(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(tr[0].traceback->total_nframe, 3);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static struct tm_error *try_decode(const struct builder *b, size_t size)
{
	struct tm_source *src;
	struct tm_table *table = NULL;
	struct tm_error *err;

	assert_tm_ok(tm_source_buffer_create(b->buf, size, 0, &src));
	err = tm_table_decode(src, 0, &table);
	tm_table_destroy(table);
	tm_source_destroy(src);
	return err;
}

static void sample(struct builder *b)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];

	builder_default_records(records);
	build_sample(b, records, false);
}

// A version 1.0 header has no `released`: the table's size is all it used.
static void test_header_of_version_1_0(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	for (unsigned f = 0; records[TM_RECORD_HEADER].fields[f].name; f++)
		if (!strcmp(records[TM_RECORD_HEADER].fields[f].name,
			    "released"))
			records[TM_RECORD_HEADER].fields[f].name = NULL;
	build_sample(&b, records, false);
	builder_put(&b, offsetof(struct tm_preamble, version_minor), 2, 0);
	struct tm_table *t = decode_buffer(&b, b.used);
	check_sample(t);
	assert_int_equal(tm_table_info(t)->version_minor, 0);
	assert_int_equal(tm_table_info(t)->memory_size, b.used);
	tm_table_destroy(t);
	builder_deinit(&b);

	// And a 1.1 header that says half of it went back to the kernel.
	builder_default_records(records);
	build_sample(&b, records, false);
	builder_set(&b, TM_RECORD_HEADER, b.header, "released", b.used / 2);
	t = decode_buffer(&b, b.used);
	assert_int_equal(tm_table_info(t)->memory_size, b.used - b.used / 2);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_refuses_newer_major(void **state)
{
	struct builder b;

	sample(&b);
	builder_put(&b, offsetof(struct tm_preamble, version_major), 2, 2);
	builder_put(&b, offsetof(struct tm_preamble, version_minor), 2, 0);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_VERSION,
		      "layout 2.0 is newer than this reader (reads 1.x)");
	builder_put(&b, offsetof(struct tm_preamble, version_major), 2, 0);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_VERSION, "older");
	builder_deinit(&b);
}

static void test_bad_magic_and_order(void **state)
{
	struct builder b;

	sample(&b);
	b.buf[1] ^= 0xff;
	assert_tm_err(try_decode(&b, b.used), TM_ERR_NO_TABLE,
		      "magic is missing");
	b.buf[1] ^= 0xff;
	builder_put(&b, offsetof(struct tm_preamble, byte_order), 4, 0x1234);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_BAD_TABLE, "byte-order");
	builder_deinit(&b);
}

static void test_too_short_for_preamble(void **state)
{
	struct builder b;

	sample(&b);
	assert_tm_err(try_decode(&b, 20), TM_ERR_NO_TABLE, "cannot be read");
	builder_deinit(&b);
}

static void test_missing_required_field(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	records[TM_RECORD_TRACE] = (struct tb_record){
		"trace",
		{ { "size", 8, false }, { "traceback", 4, false } },
	};
	build_sample(&b, records, false);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_BAD_TABLE,
		      "record 'trace' has no usable field 'address'");
	builder_deinit(&b);
}

// Only the traceback's frames may lie past their record's end.  A header
// whose `shards` is flagged as a trailing array, put just past the record,
// is refused for lacking the field, not read beyond the record (a record
// at the end of the image would have been read past the image).
static void test_scalar_flagged_trailing(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	struct tb_record *header = &records[TM_RECORD_HEADER];
	unsigned n = 0, shards = TB_MAX_FIELDS;
	while (header->fields[n].name) {
		if (strcmp(header->fields[n].name, "shards") == 0)
			shards = n;
		n++;
	}
	assert_true(shards < n);
	struct tb_field moved = header->fields[shards];
	memmove(&header->fields[shards], &header->fields[shards + 1],
		(n - shards - 1) * sizeof(moved));
	moved.trailing = true;
	header->fields[n - 1] = moved;
	build_sample(&b, records, false);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_BAD_TABLE,
		      "record 'header' has no usable field 'shards'");
	builder_deinit(&b);
}

static void test_truncated_region_is_partial(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	builder_init(&b, records, false, 2);
	// Pad so the second shard's slots land on a later page.
	uint32_t tb = builder_traceback(&b, frames_b, 1, 1);
	builder_trace(&b, 0, 0, 0x1000, 10, tb);
	builder_alloc(&b, 3 * 4096);
	builder_trace(&b, 1, 0, 0x2000, 20, tb);
	builder_finish(&b);
	size_t keep = (b.used - 64) & ~(size_t)4095;
	struct tm_source *src;
	struct tm_table *t;
	assert_tm_ok(tm_source_buffer_create(b.buf, keep, 0, &src));
	assert_tm_ok(tm_table_decode(src, 0, &t));
	size_t n;
	const struct tm_trace *tr = tm_table_traces(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(tr[0].address, 0x1000);
	assert_true(tm_table_damage(t)->bytes_unreadable > 0);
	assert_int_equal(tm_table_damage(t)->shards_unreadable, 1);
	tm_table_destroy(t);
	tm_source_destroy(src);
	builder_deinit(&b);
}

static void test_offsets_out_of_range(void **state)
{
	struct builder b;
	struct tm_table *t;

	sample(&b);
	// Shard 2's slots point past the end; shard 0's only trace names a
	// traceback past the end.
	uint64_t shard2 = b.shards + 2 * b.sizes[TM_RECORD_SHARD];
	builder_set(&b, TM_RECORD_SHARD, shard2, "slots", 1ull << 40);
	uint64_t shard0 = b.shards;
	uint64_t slots0 = builder_get(&b, TM_RECORD_SHARD, shard0, "slots");
	builder_set(&b, TM_RECORD_TRACE, slots0, "traceback", 0xfffffff0u);
	t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_traces(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(tm_table_damage(t)->shards_unreadable, 1);
	assert_int_equal(tm_table_damage(t)->traces_bad, 1);
	tm_table_destroy(t);

	// A region size beyond reason is refused outright.
	builder_set(&b, TM_RECORD_HEADER, b.header, "region_size", 1ull << 50);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_BAD_TABLE, "out of range");
	// So is a shard array that does not fit.
	builder_set(&b, TM_RECORD_HEADER, b.header, "region_size", b.used);
	builder_set(&b, TM_RECORD_HEADER, b.header, "shard_count", 60000);
	assert_tm_err(try_decode(&b, b.used), TM_ERR_BAD_TABLE,
		      "shard array is out of range");
	builder_deinit(&b);
}

// A table that claims far more bytes than the source holds is read as far
// as the source goes: no huge allocation, no millions of failed reads.
static void test_claimed_size_beyond_source(void **state)
{
	struct builder b;

	sample(&b);
	builder_set(&b, TM_RECORD_HEADER, b.header, "region_size", 1ull << 39);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_traces(t, &n);
	assert_int_equal(n, 3);
	assert_int_equal(tm_table_damage(t)->bytes_unreadable,
			 (1ull << 39) - b.used);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_module_cycle_ends(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	builder_init(&b, records, false, 1);
	uint64_t first =
		builder_module(&b, "/lib/a.so", 0x1000, 0x2000, NULL, 0);
	builder_module(&b, "/lib/b.so", 0x3000, 0x4000, NULL, 0);
	// The oldest record links back to the newest: a cycle.
	uint64_t head = builder_get(&b, TM_RECORD_HEADER, b.header, "modules");
	builder_set(&b, TM_RECORD_MODULE, first, "next", head);
	builder_finish(&b);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_modules(t, &n);
	assert_int_equal(n, 2);
	assert_int_equal(tm_table_damage(t)->modules_bad, 1);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_in_flight_and_inconsistent_shards(void **state)
{
	struct builder b;

	sample(&b);
	// Shard 0 mid-operation: its counters may disagree, and are not
	// held against it.  Shard 2 idle but disagreeing is damage.
	builder_set(&b, TM_RECORD_SHARD, b.shards, "seq", 7);
	builder_set(&b, TM_RECORD_SHARD, b.shards, "count", 2);
	builder_set(&b, TM_RECORD_SHARD,
		    b.shards + 2 * b.sizes[TM_RECORD_SHARD], "size", 1);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_traces(t, &n);
	assert_int_equal(n, 3);
	assert_int_equal(tm_table_damage(t)->shards_in_flight, 1);
	assert_int_equal(tm_table_damage(t)->shards_inconsistent, 1);
	tm_table_destroy(t);
	builder_deinit(&b);
}

// A shard frozen while it moved an entry back shows it twice: read once.
// The same duplicate in an idle shard is damage.
static void test_moved_entry_seen_twice(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	builder_init(&b, records, false, 1);
	uint32_t tb = builder_traceback(&b, frames_b, 1, 1);
	builder_trace(&b, 0, 0, 0x1000, 10, tb);
	builder_trace(&b, 0, 0, 0x2000, 20, tb);
	builder_trace(&b, 0, 0, 0x2000, 20, tb);
	builder_set(&b, TM_RECORD_SHARD, b.shards, "count", 2);
	builder_set(&b, TM_RECORD_SHARD, b.shards, "size", 30);
	builder_set(&b, TM_RECORD_SHARD, b.shards, "seq", 3);
	builder_finish(&b);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_traces(t, &n);
	assert_int_equal(n, 2);
	assert_int_equal(tm_table_info(t)->traced_size, 30);
	assert_int_equal(tm_table_damage(t)->shards_in_flight, 1);
	assert_int_equal(tm_table_damage(t)->shards_inconsistent, 0);
	tm_table_destroy(t);

	builder_set(&b, TM_RECORD_SHARD, b.shards, "seq", 4);
	t = decode_buffer(&b, b.used);
	assert_int_equal(tm_table_damage(t)->shards_inconsistent, 1);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_impossible_traceback(void **state)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;

	builder_default_records(records);
	builder_init(&b, records, false, 1);
	uint32_t tb = builder_traceback(&b, frames_a, 3, 2); // total < n
	builder_trace(&b, 0, 0, 0x1000, 10, tb);
	uint32_t huge = builder_traceback(&b, frames_a, 3, 3);
	builder_set(&b, TM_RECORD_TRACEBACK,
		    (uint64_t)huge * TM_LAYOUT_TRACEBACK_ALIGN, "nframe", 5000);
	builder_trace(&b, 0, 0, 0x2000, 10, huge);
	builder_finish(&b);
	struct tm_table *t = decode_buffer(&b, b.used);
	size_t n;
	tm_table_traces(t, &n);
	assert_int_equal(n, 0);
	assert_int_equal(tm_table_damage(t)->traces_bad, 2);
	tm_table_destroy(t);
	builder_deinit(&b);
}

static void test_locate_scan(void **state)
{
	struct builder b;
	struct tm_source *src;
	uint64_t found;
	unsigned count;

	sample(&b);
	// A table mapped at 0x7f0000002000 inside a segment that starts
	// lower; a stray copy of the magic elsewhere does not count.
	size_t size = 0x4000 + b.used;
	uint8_t *mem = calloc(1, size);
	memcpy(mem + 0x2000, b.buf, b.used);
	memcpy(mem, TM_LAYOUT_MAGIC, TM_LAYOUT_MAGIC_SIZE);
	uint64_t base = 0x7f0000000000;
	struct builder view = b;
	view.buf = mem + 0x2000;
	builder_set(&view, TM_RECORD_HEADER, b.header, "base_address",
		    base + 0x2000);
	assert_tm_ok(tm_source_buffer_create(mem, size, base, &src));
	assert_tm_ok(tm_locate_scan(src, &found, &count));
	assert_int_equal(found, base + 0x2000);
	assert_int_equal(count, 1);
	struct tm_table *t;
	assert_tm_ok(tm_table_decode(src, found, &t));
	check_sample(t);
	tm_table_destroy(t);
	tm_source_destroy(src);

	memset(mem + 0x2000, 0, 8);
	assert_tm_ok(tm_source_buffer_create(mem, size, base, &src));
	assert_tm_err(tm_locate_scan(src, &found, NULL), TM_ERR_NO_TABLE,
		      "no trace table found");
	tm_source_destroy(src);
	free(mem);
	builder_deinit(&b);
}

static void test_locate_descriptor(void **state)
{
	struct tm_descriptor desc = { TM_DESCRIPTOR_VERSION, 1, 0x7f00001000,
				      1 << 20 };
	struct tm_source *src;
	uint64_t region;

	assert_tm_ok(
		tm_source_buffer_create(&desc, sizeof(desc), 0x600000, &src));
	assert_tm_ok(tm_locate_descriptor(src, 0x600000, &region));
	assert_int_equal(region, 0x7f00001000);
	desc.flags = 0;
	assert_tm_err(tm_locate_descriptor(src, 0x600000, &region),
		      TM_ERR_NO_TABLE, "never started tracing");
	desc.version = 9;
	assert_tm_err(tm_locate_descriptor(src, 0x600000, &region),
		      TM_ERR_VERSION, "unknown version");
	assert_tm_err(tm_locate_descriptor(src, 0x500000, &region),
		      TM_ERR_NO_TABLE, "cannot be read");
	tm_source_destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_other_byte_order),
		cmocka_unit_test(test_unknown_layout),
		cmocka_unit_test(test_missing_optional_fields),
		cmocka_unit_test(test_header_of_version_1_0),
		cmocka_unit_test(test_refuses_newer_major),
		cmocka_unit_test(test_bad_magic_and_order),
		cmocka_unit_test(test_too_short_for_preamble),
		cmocka_unit_test(test_missing_required_field),
		cmocka_unit_test(test_scalar_flagged_trailing),
		cmocka_unit_test(test_truncated_region_is_partial),
		cmocka_unit_test(test_offsets_out_of_range),
		cmocka_unit_test(test_claimed_size_beyond_source),
		cmocka_unit_test(test_module_cycle_ends),
		cmocka_unit_test(test_in_flight_and_inconsistent_shards),
		cmocka_unit_test(test_moved_entry_seen_twice),
		cmocka_unit_test(test_impossible_traceback),
		cmocka_unit_test(test_locate_scan),
		cmocka_unit_test(test_locate_descriptor),
	};
	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
