// test_session.c: opening a table from a debugger-like source (memory
// reads, a scan for the table, frames named by a callback), the reports
// every front end prints from it, and saving it as a snapshot file.
#include "tm_test.h"

#include "table_builder.h"
#include "tm/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const uint64_t frames_a[] = { 0x401001, 0x402001 };
static const uint64_t frames_b[] = { 0x501001 };

// Frames named as a debugger would: file by module, line from the pc.
static void name_frame(uint64_t address, struct tm_frame_sink *sink, void *arg)
{
	tm_frame_sink_add(sink, address < 0x500000 ? "/src/a.c" : "/src/b.c",
			  (int)(address & 0xfff) + 10, "f", NULL);
}

static void build(struct builder *b)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];

	builder_default_records(records);
	builder_init(b, records, false, 4);
	uint32_t a = builder_traceback(b, frames_a, 2, 2);
	uint32_t c = builder_traceback(b, frames_b, 1, 5);
	builder_trace(b, 0, 0, 0x10000, 100, a);
	builder_trace(b, 1, 0, 0x20000, 60, a);
	builder_trace(b, 2, 0, 0x30000, 7, c);
	builder_finish(b);
}

static struct tm_session *open_built(struct builder *b)
{
	struct tm_source *src;
	struct tm_symbolizer *sym;
	struct tm_session *s;

	assert_tm_ok(tm_source_buffer_create(b->buf, b->used, 0, &src));
	assert_tm_ok(tm_symbolizer_create_callback(name_frame, NULL, &sym));
	// No descriptor: the table is found by the scan.
	assert_tm_ok(tm_session_open_source(src, 0, sym, "process", "42", &s));
	return s;
}

// What @report printed into a string (caller frees).
#define TEXT(call)                                                             \
	({                                                                     \
		char *buf_ = NULL;                                             \
		size_t size_ = 0;                                              \
		FILE *out = open_memstream(&buf_, &size_);                     \
		assert_non_null(out);                                          \
		call;                                                          \
		fclose(out);                                                   \
		buf_;                                                          \
	})

static void test_open_and_report(void **state)
{
	struct builder b;
	build(&b);
	struct tm_session *s = open_built(&b);
	char *text;

	assert_string_equal(tm_session_located_by(s), "scan");
	assert_true(tm_session_tracing(s));
	text = TEXT(tm_report_status(out, s));
	assert_non_null(strstr(text, "source: process 42\n"));
	assert_non_null(strstr(text, "traced: 3 blocks, 167 B"));
	free(text);

	text = TEXT(assert_tm_ok(
		tm_report_top(out, s, NULL, 0, TM_KEY_LINENO, false, 1)));
	assert_string_equal(text, "[ Top 1 by lineno ]\n"
				  "/src/a.c:10: size=160 B, count=2, "
				  "average=80 B\n");
	free(text);
	text = TEXT(assert_tm_err(
		tm_report_top(out, s, NULL, 0, TM_KEY_TRACEBACK, true, 0),
		TM_ERR_USAGE, "traceback"));
	free(text);

	// An address inside a block finds it; the traceback's missing
	// frames are counted.
	text = TEXT(tm_report_traceback(out, s, 0x30003));
	assert_non_null(strstr(text, "0x30003 is 3 bytes into a block of 7 "
				     "bytes at 0x30000 (domain 0)"));
	assert_non_null(strstr(text, "  File \"/src/b.c\", line 10, in f\n"));
	assert_non_null(strstr(text, "(4 more frames not recorded"));
	free(text);
	text = TEXT(tm_report_traceback(out, s, 0x30007));
	assert_string_equal(text, "0x30007 is not in any traced block\n");
	free(text);
	// A healthy table has nothing to warn about.
	text = TEXT(tm_report_warnings(out, "tm", s));
	assert_string_equal(text, "");
	free(text);
	tm_session_destroy(s);
	builder_deinit(&b);
}

static void test_save_and_diff(void **state)
{
	struct builder b;
	build(&b);
	struct tm_session *s = open_built(&b), *saved;
	char path[] = "/tmp/tm-test-session.XXXXXX";
	int fd = mkstemp(path);
	char *text;

	assert_true(fd >= 0);
	close(fd);
	assert_tm_ok(tm_session_save(s, path));
	assert_tm_ok(tm_session_open_path(path, NULL, &saved));
	assert_string_equal(tm_session_kind(saved), "trace-file");
	assert_string_equal(tm_session_located_by(saved), "offset 0");
	// Nothing changed: every group is +0.  The saved side is named by
	// its module map (none here), so compare the unnamed views.
	text = TEXT(assert_tm_ok(
		tm_report_diff(out, s, s, NULL, 0, TM_KEY_FILENAME, false, 0)));
	assert_non_null(strstr(text, "/src/a.c:0: size=160 B (+0 B), count=2 "
				     "(+0), average=80 B\n"));
	free(text);
	text = TEXT(tm_report_status(out, saved));
	assert_non_null(strstr(text, "traced: 3 blocks, 167 B"));
	free(text);
	tm_session_destroy(saved);

	// Not a table at all: one clear error.
	FILE *f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	assert_tm_err(tm_session_open_path(path, NULL, &saved), TM_ERR_NO_TABLE,
		      "is not a core, a trace file or a snapshot");
	unlink(path);
	tm_session_destroy(s);
	builder_deinit(&b);
}

// Code of the C++ standard library's headers: a vector's growth compiled
// as a function of its own (0x602001), push_back inlined into the user's
// function (0x601001), and a string in libc++'s headers alone (0x603001).
static void name_library_frame(uint64_t address, struct tm_frame_sink *sink,
			       void *arg)
{
	if ((address & ~0xfffull) == 0x601000) {
		tm_frame_sink_add(sink, "/usr/include/c++/12/bits/stl_vector.h",
				  1287, "std::vector<int>::push_back", NULL);
		tm_frame_sink_add(sink, "/src/user.cc", 39, "fill", NULL);
	} else if ((address & ~0xfffull) == 0x602000) {
		tm_frame_sink_add(sink, "/usr/include/c++/12/bits/vector.tcc",
				  500, "std::vector<int>::_M_realloc_insert",
				  NULL);
	} else {
		tm_frame_sink_add(sink,
				  "/usr/lib/llvm-14/include/c++/v1/string", 900,
				  "std::string::__init", NULL);
	}
}

static void test_standard_library_frames(void **state)
{
	static const uint64_t grown[] = { 0x602001, 0x601001 };
	static const uint64_t string[] = { 0x603001 };
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct tm_source *src;
	struct tm_symbolizer *sym;
	struct tm_session *s;
	struct builder b;
	size_t n;

	builder_default_records(records);
	builder_init(&b, records, false, 4);
	builder_trace(&b, 0, 0, 0x10000, 4096,
		      builder_traceback(&b, grown, 2, 9));
	builder_trace(&b, 1, 0, 0x20000, 50,
		      builder_traceback(&b, string, 1, 1));
	builder_finish(&b);
	assert_tm_ok(tm_source_buffer_create(b.buf, b.used, 0, &src));
	assert_tm_ok(
		tm_symbolizer_create_callback(name_library_frame, NULL, &sym));
	assert_tm_ok(tm_session_open_source(src, 0, sym, "process", "1", &s));

	// The leading frames in the headers are the library's: the first
	// frame is the line that called it, unless nothing else is known.
	char *text = TEXT(assert_tm_ok(
		tm_report_top(out, s, NULL, 0, TM_KEY_LINENO, false, 0)));
	assert_string_equal(text, "[ Top 2 by lineno ]\n"
				  "/src/user.cc:39: size=4096 B, count=1, "
				  "average=4096 B\n"
				  "/usr/lib/llvm-14/include/c++/v1/string:900: "
				  "size=50 B, count=1, average=50 B\n");
	free(text);
	const struct tm_snapshot_trace *t =
		tm_snapshot_traces(tm_session_snapshot(s), &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		const struct tm_frames *tb = t[i].traceback;
		// 9 frames, one more inlined, two passed over.
		if (t[i].size == 4096) {
			assert_int_equal(tb->nframe, 1);
			assert_int_equal(tb->total_nframe, 8);
		} else {
			assert_int_equal(tb->nframe, 1);
			assert_int_equal(tb->total_nframe, 1);
		}
	}
	tm_session_destroy(s);
	builder_deinit(&b);
}

static void test_no_table(void **state)
{
	static uint8_t zeros[3 * 4096];
	struct tm_source *src;
	struct tm_session *s;

	assert_tm_ok(
		tm_source_buffer_create(zeros, sizeof(zeros), 0x10000, &src));
	assert_tm_err(tm_session_open_source(src, 0, NULL, "process", "1", &s),
		      TM_ERR_NO_TABLE, "no trace table found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_report),
		cmocka_unit_test(test_save_and_diff),
		cmocka_unit_test(test_standard_library_frames),
		cmocka_unit_test(test_no_table),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
