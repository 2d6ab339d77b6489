// test_symbolize.c: the symbolizer a debugger answers (callback), and what
// all symbolizers share: one resolution per pc, folded paths, the frame
// that stands for an inlined chain, and the names of unknown things.
#include "tm_test.h"

#include "symbolizer.h"
#include "tm/session.h"
#include "tm/symbolize.h"

#include <link.h>
#include <stdlib.h>
#include <unistd.h>

// A fake debugger: names a pc from a fixed script of frames.
struct script {
	unsigned calls;
	uint64_t last_address;
	size_t nframes;
	const char *files[64];
	int lines[64];
	const char *functions[64];
	const char *module;
};

static void answer(uint64_t address, struct tm_frame_sink *sink, void *arg)
{
	struct script *s = arg;

	s->calls++;
	s->last_address = address;
	for (size_t i = 0; i < s->nframes; i++)
		tm_frame_sink_add(sink, s->files[i], s->lines[i],
				  s->functions[i], s->module);
}

static struct tm_symbolizer *make(struct script *s)
{
	struct tm_symbolizer *sym;

	assert_tm_ok(tm_symbolizer_create_callback(answer, s, &sym));
	return sym;
}

static void test_inlined_chain_innermost_first(void **state)
{
	struct script s = {
		.nframes = 2,
		.files = { "/src/list.h", "/src/list.c" },
		.lines = { 21, 31 },
		.functions = { "new_node", "build_list" },
		.module = "/bin/prog",
	};
	struct tm_symbolizer *sym = make(&s);
	const struct tm_frame_info *f;
	size_t n;

	tm_symbolizer_expand(sym, 0x1001, &f, &n);
	// The debugger is asked about the call, one byte before the return.
	assert_int_equal(s.last_address, 0x1000);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].filename, "/src/list.h");
	assert_int_equal(f[0].lineno, 21);
	assert_string_equal(f[0].function, "new_node");
	assert_string_equal(f[1].function, "build_list");
	assert_int_equal(f[1].pc, 0x1001);
	// As one frame: the innermost line, in the function it was inlined
	// into.
	f = tm_symbolizer_lookup(sym, 0x1001);
	assert_string_equal(f->filename, "/src/list.h");
	assert_int_equal(f->lineno, 21);
	assert_string_equal(f->function, "build_list");
	// Each distinct pc is asked once.
	tm_symbolizer_expand(sym, 0x1001, &f, &n);
	assert_int_equal(s.calls, 1);
	tm_symbolizer_destroy(sym);
}

static void test_paths_folded(void **state)
{
	static const char *const cases[][2] = {
		{ "./csu/../sysdeps/nptl/x.h", "sysdeps/nptl/x.h" },
		{ "/work/build/../src/a.c", "/work/src/a.c" },
		{ "../src/a.c", "../src/a.c" },
		{ "a/../../b.c", "../b.c" },
		{ "//a//./b.c", "/a/b.c" },
		{ "/../a.c", "/a.c" },
		{ "a/..", "." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s = { .nframes = 1,
				    .files = { cases[i][0] },
				    .lines = { 7 },
				    .functions = { "f" } };
		struct tm_symbolizer *sym = make(&s);
		const struct tm_frame_info *f = tm_symbolizer_lookup(sym, 8);
		assert_string_equal(f->filename, cases[i][1]);
		tm_symbolizer_destroy(sym);
	}
}

static void test_relative_to_compilation_directory(void **state)
{
	// file, compilation directory, path.  libdw gives the names of files
	// in the compilation directory with that directory in front.
	static const char *const cases[][3] = {
		// A relative directory (a mapped prefix) is not added twice.
		{ "./nptl/pthread_once.c", "./nptl", "nptl/pthread_once.c" },
		{ "./nptl/pthread_once.c", "./nptl/", "nptl/pthread_once.c" },
		{ "src/a.c", "src", "src/a.c" },
		{ "./a.c", ".", "a.c" },
		// Other directories are relative to the compilation directory.
		{ "../sysdeps/nptl/x.h", "./nptl", "sysdeps/nptl/x.h" },
		{ "./nptlx/a.c", "./nptl", "nptl/nptlx/a.c" },
		{ "include/a.h", "/work/build", "/work/build/include/a.h" },
		{ "../src/a.c", "/work/build", "/work/src/a.c" },
		// An absolute name stands alone.
		{ "/usr/include/stdio.h", "/work", "/usr/include/stdio.h" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tm_frame_info f = tm_frame_make(
			0x10, cases[i][0], 3, "f", "/bin/p", cases[i][1]);
		assert_string_equal(f.filename, cases[i][2]);
		assert_int_equal(f.lineno, 3);
		tm_frame_release(&f);
	}
}

static void test_unknown_and_no_line(void **state)
{
	struct script none = { 0 };
	struct tm_symbolizer *sym = make(&none);
	const struct tm_frame_info *f = tm_symbolizer_lookup(sym, 0x2000);

	// Nothing known: tracemalloc's ("<unknown>", 0).
	assert_string_equal(f->filename, "<unknown>");
	assert_int_equal(f->lineno, 0);
	assert_string_equal(f->function, "<unknown>");
	tm_symbolizer_destroy(sym);

	// A function but no line: the module stands in for the file, line 0.
	struct script bare = { .nframes = 1,
			       .files = { NULL },
			       .lines = { 12 },
			       .functions = { "_start" },
			       .module =
				       "/usr/lib/x86_64-linux-gnu/libc.so.6" };
	sym = make(&bare);
	f = tm_symbolizer_lookup(sym, 0x2000);
	assert_string_equal(f->filename, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(f->lineno, 0);
	assert_string_equal(f->function, "_start");
	tm_symbolizer_destroy(sym);
}

static void test_table_names_modules(void **state)
{
	// The debugger found libc under its resolved path; the table says
	// how the process loaded it, and that is the name used.
	struct script s = { .nframes = 1,
			    .files = { NULL },
			    .functions = { "malloc" },
			    .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" };
	struct tm_module modules[] = {
		{ .start = 0x7000, .end = 0x8000, .path = "/lib/libc.so.6" },
	};
	struct tm_symbolizer *sym = make(&s);

	assert_tm_ok(tm_symbolizer_use_modules(sym, modules, 1));
	assert_string_equal(tm_symbolizer_lookup(sym, 0x7010)->filename,
			    "/lib/libc.so.6");
	// Outside every module the debugger's name stays.
	assert_string_equal(tm_symbolizer_lookup(sym, 0x9010)->module,
			    "/usr/lib/x86_64-linux-gnu/libc.so.6");
	tm_symbolizer_destroy(sym);
}

static void test_inline_depth_capped(void **state)
{
	struct script s = { .nframes = 64 };
	const struct tm_frame_info *f;
	size_t n;

	for (size_t i = 0; i < 64; i++) {
		s.files[i] = "/src/deep.c";
		s.lines[i] = (int)i + 1;
		s.functions[i] = "level";
	}
	struct tm_symbolizer *sym = make(&s);
	tm_symbolizer_expand(sym, 0x3000, &f, &n);
	assert_int_equal(n, TM_MAX_INLINE + 1);
	assert_int_equal(f[n - 1].lineno, TM_MAX_INLINE + 1);
	tm_symbolizer_destroy(sym);
}

static void test_key_names(void **state)
{
	enum tm_key key;

	for (enum tm_key k = TM_KEY_FILENAME; k <= TM_KEY_TRACEBACK; k++) {
		assert_tm_ok(tm_key_parse(tm_key_name(k), &key));
		assert_int_equal(key, k);
	}
	assert_tm_err(tm_key_parse("line", &key), TM_ERR_USAGE,
		      "'line' is not a key");
}

// Where this program is loaded, from its program headers.
static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct tm_module *self = arg;

	(void)size;
	self->load_bias = info->dlpi_addr;
	self->start = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t at = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD)
			continue;
		if (at < self->start)
			self->start = at;
		if (at + ph->p_memsz > self->end)
			self->end = at + ph->p_memsz;
	}
	return 1; // the program comes first
}

static void test_records_alike_name_frames(void **state)
{
	// Two records alike (a library closed and loaded again at its
	// place, as older writers recorded it): libdwfl names nothing in
	// two overlapping modules, so only the newer is reported.
	char path[4096];
	ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
	struct tm_module modules[2] = { { 0 } };
	struct tm_symbolizer *sym;

	assert_true(len > 0);
	path[len] = '\0';
	dl_iterate_phdr(find_self, &modules[0]);
	modules[0].path = path;
	modules[1] = modules[0];
	assert_tm_ok(tm_symbolizer_create_modules(modules, 2, NULL, &sym));
	assert_string_equal(
		tm_symbolizer_lookup(sym, (uintptr_t)test_key_names + 1)
			->function,
		"test_key_names");
	tm_symbolizer_destroy(sym);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inlined_chain_innermost_first),
		cmocka_unit_test(test_paths_folded),
		cmocka_unit_test(test_relative_to_compilation_directory),
		cmocka_unit_test(test_unknown_and_no_line),
		cmocka_unit_test(test_table_names_modules),
		cmocka_unit_test(test_inline_depth_capped),
		cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_records_alike_name_frames),
	};

	return cmocka_run_group_tests_name("symbolize", tests, NULL, NULL);
}
