// test_module_index.c: which module record names an address, checked
// against the plain definition (the newest record that holds it) on random
// tables whose records overlap, and on the most records a table may hold.
#include "tm_test.h"

#include "module_index.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t ids[2][4] = { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } };
static const char *const paths[] = { "/lib/a.so", "/lib/b.so", "[vdso]" };

static bool indexed(const struct tm_module *m, bool files_only)
{
	return m->start < m->end && (!files_only || m->path[0] == '/');
}

static bool overlap(const struct tm_module *a, const struct tm_module *b)
{
	return a->start < b->end && b->start < a->end;
}

static bool alike(const struct tm_module *a, const struct tm_module *b)
{
	return a->start == b->start && a->end == b->end &&
	       a->load_bias == b->load_bias &&
	       a->build_id_len == b->build_id_len &&
	       (!a->build_id_len ||
		!memcmp(a->build_id, b->build_id, a->build_id_len)) &&
	       !strcmp(a->path, b->path);
}

// The definitions, record by record and address by address.
static void check_against_definition(const struct tm_module *m, size_t count,
				     bool files_only, uint64_t top)
{
	struct tm_module_index ix;
	size_t conflicts = 0, first = TM_NO_MODULE;

	assert_true(tm_module_index_init(&ix, m, count, files_only));
	for (uint64_t a = 0; a <= top; a++) {
		size_t expected = TM_NO_MODULE;
		for (size_t i = 0; i < count && expected == TM_NO_MODULE; i++)
			if (indexed(&m[i], files_only) && m[i].start <= a &&
			    a < m[i].end)
				expected = i;
		assert_int_equal(tm_module_index_find(&ix, a), expected);
	}
	for (size_t i = 0; i < count; i++) {
		bool hidden = false, has_alike = false;
		for (size_t k = 0; k < i && indexed(&m[i], files_only); k++) {
			if (!indexed(&m[k], files_only) ||
			    !overlap(&m[i], &m[k]))
				continue;
			hidden = true;
			has_alike |= alike(&m[i], &m[k]);
		}
		assert_int_equal(ix.hidden[i], hidden);
		if (hidden && !has_alike && !conflicts++)
			first = i;
	}
	assert_int_equal(ix.conflicts, conflicts);
	if (conflicts) {
		assert_int_equal(ix.conflict_older, first);
		assert_true(ix.conflict_newer < first);
		assert_true(overlap(&m[first], &m[ix.conflict_newer]));
	}
	tm_module_index_deinit(&ix);
}

static void test_random_tables(void **state)
{
	struct tm_module m[40];

	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t count = (size_t)(rand() % 40);
		for (size_t i = 0; i < count; i++) {
			uint64_t start = (uint64_t)(rand() % 64);
			unsigned id = (unsigned)(rand() % 3);
			m[i] = (struct tm_module){
				.start = start,
				// Now and then empty or inverted.
				.end = start + (uint64_t)(rand() % 20) - 2,
				.load_bias = (uint64_t)(rand() % 2),
				.path = paths[rand() % 3],
				.build_id = id < 2 ? ids[id] : NULL,
				.build_id_len = id < 2 ? 4 : 0,
			};
			// Libraries loaded again in place.
			if (i && rand() % 4 == 0)
				m[i] = m[(size_t)rand() % i];
		}
		check_against_definition(m, count, false, 90);
		check_against_definition(m, count, true, 90);
	}
}

// The most records a table may hold, all at one place or all apart: the
// index is built and asked without comparing every pair.
static void test_most_records(void **state)
{
	size_t count = 65536;
	struct tm_module *m = calloc(count, sizeof(*m));
	struct tm_module_index ix;

	assert_non_null(m);
	for (size_t i = 0; i < count; i++)
		m[i] = (struct tm_module){ .start = 0x1000 * i,
					   .end = 0x1000 * i + 0x800,
					   .path = paths[i % 2] };
	assert_true(tm_module_index_init(&ix, m, count, false));
	assert_int_equal(ix.span_count, count);
	assert_int_equal(ix.conflicts, 0);
	for (size_t i = 0; i < count; i += 97) {
		assert_int_equal(tm_module_index_find(&ix, 0x1000 * i + 5), i);
		assert_int_equal(tm_module_index_find(&ix, 0x1000 * i + 0x800),
				 TM_NO_MODULE);
	}
	tm_module_index_deinit(&ix);

	for (size_t i = 0; i < count; i++)
		m[i] = (struct tm_module){ .start = 0x1000,
					   .end = 0x2000 + i,
					   .path = paths[i % 2] };
	assert_true(tm_module_index_init(&ix, m, count, false));
	assert_int_equal(ix.conflicts, count - 1);
	assert_int_equal(tm_module_index_find(&ix, 0x1fff), 0);
	assert_int_equal(tm_module_index_find(&ix, 0x2000 + 500), 501);
	assert_int_equal(ix.conflict_older, 1);
	assert_int_equal(ix.conflict_newer, 0);
	tm_module_index_deinit(&ix);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_tables),
		cmocka_unit_test(test_most_records),
	};

	return cmocka_run_group_tests_name("module_index", tests, NULL, NULL);
}
