// fuzz_session.c: a libFuzzer target over what tm-core does with a file:
// the bytes are written to a file and opened as tm-core opens a SOURCE
// (told apart by content: ELF core, compressed file, trace file), then
// every report is printed from it (status, warnings, top by each key,
// cumulative or not, filtered, a diff against itself, the traceback of a
// few addresses) and the table is saved and opened again.  Asserts only
// that every run ends cleanly, under ASan and UBSan.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tm/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

static void report_all(const struct tm_session *s)
{
	static const enum tm_key keys[] = { TM_KEY_LINENO, TM_KEY_FILENAME,
					    TM_KEY_TRACEBACK };

	tm_report_warnings(sink, "fuzz", s);
	tm_report_status(sink, s);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (int cumulative = 0; cumulative < 2; cumulative++) {
			tm_error_destroy(tm_report_top(
				sink, s, NULL, 0, keys[k], cumulative, 10));
			tm_error_destroy(tm_report_diff(
				sink, s, s, NULL, 0, keys[k], cumulative, 0));
		}
	// Filtered, as --include, --exclude and --domain do.
	static const struct tm_filter filters[] = {
		{ true, "*.c", -1, true, -1 },
		{ false, "*/libc*", 0, false, -1 },
		{ false, NULL, -1, false, 1 },
	};
	tm_error_destroy(
		tm_report_top(sink, s, filters, 3, TM_KEY_LINENO, false, 0));
	// Where a traced block starts, inside it, and nowhere.
	size_t n = 0;
	const struct tm_trace *t = tm_table_traces(tm_session_table(s), &n);
	if (n) {
		tm_report_traceback(sink, s, t[0].address);
		tm_report_traceback(sink, s, t[n - 1].address + 1);
	}
	tm_report_traceback(sink, s, 0);
}

// Save the table and read the copy, as `tm-core dump -o` and a later
// `tm-core analyze` of the dump would.
static void save_and_reopen(const struct tm_session *s)
{
	char dir[] = "/tmp/fuzz-session.XXXXXX", file[64];
	struct tm_session *again = NULL;

	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/saved", dir);
	struct tm_error *err = tm_session_save(s, file);
	if (!err)
		err = tm_session_open_path(file, NULL, &again);
	if (!err)
		report_all(again);
	tm_error_destroy(err);
	tm_session_destroy(again);
	unlink(file);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct tm_session *s = NULL;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	int fd = memfd_create("fuzz-source", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct tm_error *err = tm_session_open_path(path, NULL, &s);
	if (!err) {
		report_all(s);
		save_and_reopen(s);
	}
	tm_error_destroy(err);
	tm_session_destroy(s);
	close(fd);
	return 0;
}
