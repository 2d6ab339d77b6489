// test_snapshot.c: the Snapshot model's edges; its text and ordering are
// cross-checked against Python's tracemalloc in
// tests/e2e/run-tracemalloc-crosscheck.sh.
#include "tm_test.h"

#include "tm/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct tm_snapshot *make(void)
{
	struct tm_snapshot *snap;

	assert_tm_ok(tm_snapshot_create(16, &snap));
	return snap;
}

static void test_empty_snapshots(void **state)
{
	struct tm_snapshot *a = make(), *b = make();
	struct tm_statistic *stats;
	struct tm_statistic_diff *diffs;
	size_t n = 99;

	assert_tm_ok(
		tm_snapshot_statistics(a, TM_KEY_LINENO, true, &stats, &n));
	assert_int_equal(n, 0);
	free(stats);
	assert_tm_ok(
		tm_snapshot_compare(a, b, TM_KEY_TRACEBACK, false, &diffs, &n));
	assert_int_equal(n, 0);
	free(diffs);
	tm_snapshot_destroy(a);
	tm_snapshot_destroy(b);
}

static void test_cumulative_traceback_refused(void **state)
{
	struct tm_snapshot *a = make();
	struct tm_statistic *stats;
	size_t n;

	assert_tm_err(
		tm_snapshot_statistics(a, TM_KEY_TRACEBACK, true, &stats, &n),
		TM_ERR_USAGE, "not by 'traceback'");
	tm_snapshot_destroy(a);
}

static void test_unknown_frame_and_text(void **state)
{
	struct tm_snapshot *a = make();
	struct tm_statistic *stats;
	char text[256];
	size_t n;

	// No frames: tracemalloc's ("<unknown>", 0).
	assert_tm_ok(
		tm_snapshot_add_trace(a, 0, 0x10, 4855 * 1024, NULL, 0, 0));
	assert_tm_ok(
		tm_snapshot_statistics(a, TM_KEY_LINENO, false, &stats, &n));
	assert_int_equal(n, 1);
	tm_format_statistic(text, sizeof(text), &stats[0]);
	assert_string_equal(text, "<unknown>:0: size=4855 KiB, count=1, "
				  "average=4855 KiB");
	free(stats);
	tm_snapshot_destroy(a);
}

static void test_diff_of_vanished_and_new_lines(void **state)
{
	struct tm_snapshot *old = make(), *now = make();
	const struct tm_frame a = { "a.c", 1 }, b = { "b.c", 2 };
	struct tm_statistic_diff *diffs;
	char text[256];
	size_t n;

	assert_tm_ok(tm_snapshot_add_trace(old, 0, 1, 100, &a, 1, 1));
	assert_tm_ok(tm_snapshot_add_trace(now, 0, 2, 30, &b, 1, 1));
	assert_tm_ok(tm_snapshot_compare(now, old, TM_KEY_LINENO, false, &diffs,
					 &n));
	assert_int_equal(n, 2);
	tm_format_statistic_diff(text, sizeof(text), &diffs[0]);
	assert_string_equal(text, "a.c:1: size=0 B (-100 B), count=0 (-1)");
	tm_format_statistic_diff(text, sizeof(text), &diffs[1]);
	assert_string_equal(text, "b.c:2: size=30 B (+30 B), count=1 (+1), "
				  "average=30 B");
	free(diffs);
	tm_snapshot_destroy(old);
	tm_snapshot_destroy(now);
}

static void test_format_size_units(void **state)
{
	char buf[32];

	assert_string_equal(tm_format_size(buf, sizeof(buf), 10239, false),
			    "10239 B");
	assert_string_equal(tm_format_size(buf, sizeof(buf), 10240, false),
			    "10.0 KiB");
	assert_string_equal(tm_format_size(buf, sizeof(buf), -1536, true),
			    "-1536 B");
	assert_string_equal(tm_format_size(buf, sizeof(buf), 1 << 20, true),
			    "+1024 KiB");
	assert_string_equal(tm_format_size(buf, sizeof(buf), 1e15, false),
			    "909 TiB");
}

// Source lines come from readable files, stripped as Python strips them.
static void test_format_with_source_lines(void **state)
{
	char path[] = "/tmp/tm-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "first\n\t  second line  \r\n\nfourth\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	// Most recent first: line 4, then 3 (empty: no source), then 2.
	const struct tm_frame frames[] = {
		{ path, 4 },
		{ path, 3 },
		{ path, 2 },
		{ "/no/such.c", 9 },
	};
	struct tm_frames tb = { 4, 4, frames };
	char *lines = tm_traceback_format(&tb, true, 3, true);
	char want[512];
	snprintf(want, sizeof(want),
		 "  File \"%s\", line 4\n    fourth\n"
		 "  File \"%s\", line 3\n"
		 "  File \"%s\", line 2\n    second line",
		 path, path, path);
	assert_string_equal(lines, want);
	free(lines);
	// No limit, oldest first: the missing file has no source line.
	lines = tm_traceback_format(&tb, false, 0, false);
	assert_non_null(strstr(lines, "  File \"/no/such.c\", line 9\n  File"));
	free(lines);
	lines = tm_traceback_format(&tb, true, 0, false);
	assert_string_equal(lines, "");
	free(lines);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_snapshots),
		cmocka_unit_test(test_cumulative_traceback_refused),
		cmocka_unit_test(test_unknown_frame_and_text),
		cmocka_unit_test(test_diff_of_vanished_and_new_lines),
		cmocka_unit_test(test_format_size_units),
		cmocka_unit_test(test_format_with_source_lines),
	};
	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
