// env.c: start tracing at load time from the environment, the way
// PYTHONTRACEMALLOC does: TRACEMALLOC=NFRAME starts it, TRACEMALLOC_FILE=PATH
// keeps the table in a file.  A bad value is reported and ignored; it never
// breaks the program being traced.
#include "runtime.h"
#include "stackcache.h"

#include "prim.h"
#include "tm/tracemalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

const char *tm_file_template;
static char file_template[TM_REGION_PATH_MAX];

// What to do when tracing could not start for @err.
static const char *remedy(int err)
{
	_Static_assert(TM_REGION_MIN_RESERVE == (size_t)4 << 20,
		       "the message says how much");
	switch (err) {
	case -ENOMEM:
		return "; the trace table needs at least 4 MiB of address "
		       "space (`ulimit -v`) and 1 MiB of memory";
	case -EFBIG:
		return "; the trace file needs 1 MiB at least: raise "
		       "`ulimit -f`";
	default:
		return "";
	}
}

// Priority 101: before the constructors of the program and of libraries
// loaded after this one, so their allocations are traced.
__attribute__((constructor(101))) static void start_from_environment(void)
{
	const char *file = getenv("TRACEMALLOC_FILE");
	const char *value = getenv("TRACEMALLOC");
	char limit[21];

	const char *cache = getenv("TRACEMALLOC_STACK_CACHE");

	tm_hooks_init();
	// A set-user-ID, set-group-ID or capability-raising program (the
	// kernel's secure-execution mode) must not let whoever runs it name a
	// file for it to replace: TRACEMALLOC_FILE would overwrite any file
	// its owner may write.  glibc ignores its own malloc tunables there.
	if (getauxval(AT_SECURE) && (file || value || cache)) {
		tm_diag("TRACEMALLOC variables are ignored in a privileged "
			"(set-user-ID, set-group-ID or capability) program; "
			"tracing stays off",
			NULL);
		return;
	}
	// "0" unwinds every stack in full: slower, for checking the cache.
	if (cache && strcmp(cache, "0") == 0)
		tm_stack_cache_enabled = 0;
	if (file && *file) {
		if (strlen(file) >= sizeof(file_template)) {
			tm_diag("TRACEMALLOC_FILE is too long; tracing stays "
				"off",
				NULL);
			return;
		}
		strcpy(file_template, file);
		tm_file_template = file_template;
	}
	if (!value || !*value)
		return;
	long nframe = tm_parse_decimal(value, TM_MAX_NFRAME);
	if (nframe == 0)
		return; // "0" means off, as in PYTHONTRACEMALLOC
	if (nframe < 0) {
		tm_diag("TRACEMALLOC=", value,
			" is not a number of frames in "
			"1..",
			tm_fmt_u64(limit, TM_MAX_NFRAME), "; tracing stays off",
			NULL);
		return;
	}
	int err = tm_start((int)nframe);
	if (err < 0)
		tm_diag("cannot start tracing: ", strerror(-err),
			file && *file ? " (TRACEMALLOC_FILE=" : "",
			file && *file ? file : "", file && *file ? ")" : "",
			remedy(err), NULL);
}
