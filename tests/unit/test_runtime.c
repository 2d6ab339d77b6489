// test_runtime.c: the control API's semantics, which follow Python's
// tracemalloc, with the runtime linked into this program.  Snapshots are
// checked by decoding them with the reader.
#include "tm_test.h"

#include "tm/tracemalloc.h"

#include "prim.h"
#include "region.h"
#include "runtime.h"
#include "stackcache.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

// Functions named in tracebacks must be in the dynamic symbol table for
// dladdr() to name them (the program links with -rdynamic).
#define NAMED __attribute__((visibility("default"), noinline))
NAMED void *allocate_here(size_t n);
NAMED void test_strdup_reports_its_caller(void **state);
NAMED void *churn(void *arg);
NAMED void *allocate_deep(int depth, size_t n);
NAMED void cached_leaf(void);
NAMED void *cached_keep(void);
NAMED void thrash_leaf(void);

static size_t traced(void)
{
	size_t current;

	tm_get_traced_memory(&current, NULL);
	return current;
}

static size_t peak(void)
{
	size_t top;

	tm_get_traced_memory(NULL, &top);
	return top;
}

// The name of the function that holds return address @pc.
static const char *function_of(uintptr_t pc)
{
	Dl_info info;

	if (!dladdr((void *)(pc - 1), &info) || !info.dli_sname)
		return "?";
	return info.dli_sname;
}

static int restart(void **state)
{
	tm_stop();
	assert_int_equal(tm_start(16), 0);
	return 0;
}

static int stop(void **state)
{
	tm_stop();
	return 0;
}

static void test_start_refuses_bad_limits(void **state)
{
	tm_stop();
	assert_int_equal(tm_start(0), -EINVAL);
	assert_int_equal(tm_start(-3), -EINVAL);
	assert_int_equal(tm_start(TM_MAX_NFRAME + 1), -EINVAL);
	assert_false(tm_is_tracing());
	assert_int_equal(tm_start(TM_MAX_NFRAME), 0);
	assert_int_equal(tm_get_traceback_limit(), TM_MAX_NFRAME);
}

static void test_start_while_tracing_changes_nothing(void **state)
{
	assert_true(tm_is_tracing());
	assert_int_equal(tm_get_traceback_limit(), 16);
	assert_int_equal(tm_start(3), 0);
	assert_int_equal(tm_get_traceback_limit(), 16);
}

static void test_traced_memory_and_peak(void **state)
{
	size_t base = traced();
	char *a = malloc(10000);
	assert_int_equal(traced(), base + 10000);
	char *b = calloc(10, 300);
	assert_int_equal(traced(), base + 13000);
	free(a);
	assert_int_equal(traced(), base + 3000);
	assert_true(peak() >= base + 13000);
	tm_reset_peak();
	assert_int_equal(peak(), traced());
	free(b);
	assert_int_equal(traced(), base);
	assert_int_equal(peak(), base + 3000);
}

// The peak is exact even for changes far below the accounting window.
static void test_peak_of_short_lived_block(void **state)
{
	tm_reset_peak();
	size_t base = traced();
	free(malloc(777));
	assert_int_equal(peak(), base + 777);
}

static void test_clear_traces(void **state)
{
	void *p = malloc(100);
	assert_true(traced() >= 100);
	tm_clear_traces();
	assert_true(tm_is_tracing());
	assert_int_equal(traced(), 0);
	assert_int_equal(peak(), 0);
	free(p); // untraced now: no effect
	assert_int_equal(traced(), 0);
	void *q = malloc(64);
	assert_int_equal(traced(), 64);
	free(q);
}

static void test_stop_clears_and_stops(void **state)
{
	void *p = malloc(100);
	tm_stop();
	assert_false(tm_is_tracing());
	assert_int_equal(traced(), 0);
	assert_int_equal(peak(), 0);
	struct tm_block block;
	assert_int_equal(tm_get_object_traceback(p, &block, NULL, 0), -ENODATA);
	void *q = malloc(100);
	assert_int_equal(tm_start(4), 0);
	assert_int_equal(tm_get_traceback_limit(), 4);
	assert_int_equal(tm_get_object_traceback(q, &block, NULL, 0), -ENOENT);
	free(p);
	free(q);
}

void *allocate_here(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory"); // keep the call out of tail position
	return p;
}

static void test_object_traceback(void **state)
{
	uintptr_t frames[8];
	struct tm_block block;
	char *p = allocate_here(500);

	int n = tm_get_object_traceback(p, &block, frames, 8);
	assert_true(n >= 2);
	assert_int_equal(block.address, (uintptr_t)p);
	assert_int_equal(block.size, 500);
	assert_int_equal(block.domain, 0);
	assert_true(block.total_nframe >= block.nframe);
	assert_string_equal(function_of(frames[0]), "allocate_here");
	assert_true(frames[1] > (uintptr_t)test_object_traceback &&
		    frames[1] < (uintptr_t)test_object_traceback + 4096);
	// An interior address finds the same block; one past it does not.
	memset(&block, 0, sizeof(block));
	assert_int_equal(tm_get_object_traceback(p + 499, &block, frames, 8),
			 n);
	assert_int_equal(block.address, (uintptr_t)p);
	free(p);
	assert_int_equal(tm_get_object_traceback(p, &block, frames, 8),
			 -ENOENT);
}

// A signal handler may interrupt its own thread inside the runtime,
// holding the table's locks; here the test holds them itself.  A hang is a
// failure: alarm() ends the test program.
static void hold_table_locks(void)
{
	alarm(10);
	tm_spin_lock(&tm_rt.intern.lock);
	tm_table_lock_all();
}

static void release_table_locks(void)
{
	tm_table_unlock_all();
	tm_spin_unlock(&tm_rt.intern.lock);
	alarm(0);
}

static void test_lookup_while_holding_the_table(void **state)
{
	uintptr_t frames[8];
	struct tm_block block;
	char *p = allocate_here(300);
	int untraced;

	hold_table_locks();
	int n = tm_get_object_traceback(p + 10, &block, frames, 8);
	int missing = tm_get_object_traceback(&untraced, &block, frames, 8);
	release_table_locks();
	assert_true(n >= 1);
	assert_int_equal(block.address, (uintptr_t)p);
	assert_int_equal(block.size, 300);
	assert_string_equal(function_of(frames[0]), "allocate_here");
	// Not found in shards the thread is changing: it may be hidden.
	assert_int_equal(missing, -EAGAIN);
	assert_int_equal(tm_get_object_traceback(&untraced, &block, frames, 8),
			 -ENOENT);
	free(p);
}

static void test_fork_while_holding_the_table(void **state)
{
	char *p = allocate_here(400);

	hold_table_locks();
	pid_t pid = fork();
	assert_true(pid >= 0);
	// In both processes the locks are still this thread's to release,
	// as the code a handler interrupted would.
	release_table_locks();
	if (pid == 0) {
		alarm(10);
		struct tm_block block;
		char *q = allocate_here(700);
		int ok = tm_get_object_traceback(p, &block, NULL, 0) == 0 &&
			 tm_get_object_traceback(q, &block, NULL, 0) == 0 &&
			 block.size == 700;
		free(q);
		_exit(ok ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(p);
}

void test_strdup_reports_its_caller(void **state)
{
	uintptr_t frames[4];
	struct tm_block block;
	char *s = strdup("the caller, not strdup");

	assert_true(tm_get_object_traceback(s, &block, frames, 4) >= 1);
	assert_string_equal(function_of(frames[0]),
			    "test_strdup_reports_its_caller");
	assert_int_equal(block.size, strlen(s) + 1);
	free(s);
}

static void test_realloc_moves_the_trace(void **state)
{
	struct tm_block block;
	size_t base = traced();
	char *p = realloc(NULL, 16); // like malloc
	assert_int_equal(traced(), base + 16);
	char *q = realloc(p, 1 << 20); // surely moves
	assert_non_null(q);
	assert_int_equal(traced(), base + (1 << 20));
	assert_int_equal(tm_get_object_traceback(q, &block, NULL, 0), 0);
	assert_int_equal(block.size, 1 << 20);
	if (q != p)
		assert_int_equal(tm_get_object_traceback(p, &block, NULL, 0),
				 -ENOENT);
	// A failed realloc keeps the block and its trace.
	errno = 0;
	assert_null(realloc(q, SIZE_MAX / 2));
	assert_int_equal(traced(), base + (1 << 20));
	// realloc(p, 0) frees, as glibc's does.
	assert_null(realloc(q, 0));
	assert_int_equal(traced(), base);
	free(NULL);
	assert_int_equal(traced(), base);
}

static void test_every_allocator_is_traced(void **state)
{
	size_t base = traced();
	void *p[7];

	assert_int_equal(posix_memalign(&p[0], 64, 100), 0);
	p[1] = aligned_alloc(128, 256);
	p[2] = memalign(32, 48);
	p[3] = valloc(10);
	p[4] = pvalloc(10);
	p[5] = reallocarray(NULL, 10, 20);
	p[6] = calloc(3, 7);
	assert_int_equal(traced(), base + 100 + 256 + 48 + 10 + 10 + 200 + 21);
	errno = 0;
	size_t huge = SIZE_MAX / 2;
	__asm__("" : "+r"(huge)); // hide the overflow from the compiler
	assert_null(reallocarray(NULL, huge, 4));
	assert_int_equal(errno, ENOMEM);
	for (int i = 0; i < 7; i++)
		free(p[i]);
	assert_int_equal(traced(), base);
}

static void test_track_and_untrack(void **state)
{
	struct tm_block block;
	size_t base = traced();

	assert_int_equal(tm_track(7, 0x1000, 64), 0);
	assert_int_equal(traced(), base + 64);
	// Tracking the same address again replaces the trace.
	assert_int_equal(tm_track(7, 0x1000, 32), 0);
	assert_int_equal(traced(), base + 32);
	// get_object_traceback looks at domain 0 only.
	assert_int_equal(
		tm_get_object_traceback((void *)0x1000, &block, NULL, 0),
		-ENOENT);
	assert_int_equal(tm_track(0, 0, 10), -EINVAL);
	assert_int_equal(tm_untrack(7, 0x1000), 0);
	assert_int_equal(tm_untrack(7, 0x1000), 0); // not traced: still 0
	assert_int_equal(traced(), base);
	tm_stop();
	assert_int_equal(tm_track(7, 0x1000, 64), -ENODATA);
	assert_int_equal(tm_untrack(7, 0x1000), -ENODATA);
}

// Decode @snap, and release it.
static struct tm_table *decode_snapshot(struct tm_raw_snapshot *snap)
{
	struct tm_source *src;
	struct tm_table *t;

	assert_tm_ok(tm_source_buffer_create(snap->data, snap->size, 0, &src));
	assert_tm_ok(tm_table_decode(src, 0, &t));
	tm_source_destroy(src);
	tm_raw_snapshot_release(snap);
	assert_null(snap->data);
	return t;
}

static struct tm_table *snapshot_table(void)
{
	struct tm_raw_snapshot snap;

	assert_int_equal(tm_take_snapshot(&snap), 0);
	return decode_snapshot(&snap);
}

static void test_snapshot_decodes(void **state)
{
	void *blocks[1000];
	size_t n;

	tm_clear_traces();
	for (int i = 0; i < 1000; i++)
		blocks[i] = allocate_here(24);
	assert_int_equal(tm_track(3, 0xabc000, 4096), 0);
	size_t expected = traced(); // decoding allocates, and is traced
	struct tm_table *t = snapshot_table();
	const struct tm_table_info *info = tm_table_info(t);
	const struct tm_damage zero = { 0 };
	assert_memory_equal(tm_table_damage(t), &zero, sizeof(zero));
	assert_true(info->tracing);
	assert_int_equal(info->traceback_limit, 16);
	assert_int_equal(info->pid, getpid());
	assert_int_equal(info->traced_size, expected);
	assert_string_equal(info->writer, "libtracemalloc " PACKAGE_VERSION);
	const struct tm_trace *traces = tm_table_traces(t, &n);
	size_t ours = 0, domain3 = 0;
	const struct tm_traceback *shared = NULL;
	for (size_t i = 0; i < n; i++) {
		if (traces[i].domain == 3) {
			domain3++;
			assert_int_equal(traces[i].address, 0xabc000);
			continue;
		}
		for (int k = 0; k < 1000; k++) {
			if (traces[i].address != (uintptr_t)blocks[k])
				continue;
			ours++;
			assert_int_equal(traces[i].size, 24);
			// One stack, stored once.
			if (!shared)
				shared = traces[i].traceback;
			assert_ptr_equal(traces[i].traceback, shared);
		}
	}
	assert_int_equal(ours, 1000);
	assert_int_equal(domain3, 1);
	assert_string_equal(function_of(shared->frames[0]), "allocate_here");
	// The module map names this program.
	size_t nmod;
	const struct tm_module *mods = tm_table_modules(t, &nmod);
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	bool found = false;
	for (size_t i = 0; i < nmod; i++)
		if (strcmp(mods[i].path, exe) == 0 && mods[i].build_id_len)
			found = true;
	assert_true(found);
	tm_table_destroy(t);
	for (int i = 0; i < 1000; i++)
		free(blocks[i]);
	tm_untrack(3, 0xabc000);
}

static void test_tracemalloc_memory_reports_the_table(void **state)
{
	void *blocks[20000];

	tm_clear_traces();
	size_t before = tm_get_tracemalloc_memory();
	for (int i = 0; i < 20000; i++)
		blocks[i] = allocate_here(8);
	size_t after = tm_get_tracemalloc_memory();
	print_message("# %.1f bytes per trace\n",
		      (double)(after - before) / 20000);
	// Each trace costs a slot; 20000 of them cost more than 20000 * 24
	// bytes (slots are at most 7/8 full) but shared tracebacks keep it
	// under 64 bytes each.
	assert_true(after - before >= 20000 * 24);
	assert_true(after - before <= 20000 * 64);
	for (int i = 0; i < 20000; i++)
		free(blocks[i]);
}

void *allocate_deep(int depth, size_t n)
{
	void *p = depth ? allocate_deep(depth - 1, n) : allocate_here(n);
	__asm__ volatile("" ::: "memory"); // not a tail call
	return p;
}

// Shards grow several times and give their old arrays back.  New
// tracebacks are stored while the first arrays are made, so they sit right
// after arrays that are later given back; every trace and every traceback
// must come through intact.
static void test_growth_keeps_every_trace(void **state)
{
	enum { N = 50000, DEPTHS = 40 };
	static void *blocks[N];
	size_t n;

	tm_clear_traces();
	for (int i = 0; i < N; i++)
		blocks[i] = allocate_deep(i % DEPTHS, 1 + i % 100);
	// Free every other block, so shards reuse slots.
	for (int i = 0; i < N; i += 2)
		free(blocks[i]);
	for (int i = 0; i < N; i += 2)
		blocks[i] = allocate_deep(i % DEPTHS, 1 + i % 100);
	// The runtime's account of its memory at the instant of the
	// snapshot: decoding allocates, and its blocks are traced too.
	struct tm_raw_snapshot snap;
	assert_int_equal(tm_take_snapshot(&snap), 0);
	size_t runtime_view = tm_get_tracemalloc_memory();
	struct tm_table *t = decode_snapshot(&snap);
	const struct tm_trace *traces = tm_table_traces(t, &n);
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tm_traceback *tb = traces[i].traceback;
		if (!tb->nframe ||
		    strcmp(function_of(tb->frames[0]), "allocate_here") != 0)
			continue;
		found++;
		assert_in_range(traces[i].size, 1, 100);
		// allocate_here, then as many allocate_deep frames as the
		// depth (up to the limit of 16), then the test.
		assert_true(tb->nframe >= 2);
		assert_string_equal(function_of(tb->frames[1]),
				    "allocate_deep");
	}
	assert_int_equal(found, N);
	assert_int_equal(tm_table_damage(t)->traces_bad, 0);
	// The table's own account of its resident size (used - released)
	// agrees with the runtime's, which adds its state, its stack caches
	// and libunwind's, and rounds up to pages, after shards grew and gave
	// their old arrays back.
	uint64_t table_view = tm_table_info(t)->memory_size;
	size_t besides_the_table = tm_stack_cache_memory() +
				   tm_unwind_memory() + sizeof(tm_rt) +
				   2 * TM_LAYOUT_PAGE_SIZE;
	assert_true(table_view <= runtime_view);
	assert_true(table_view + besides_the_table >= runtime_view);
	assert_true(tm_table_traceback_count(t) >= DEPTHS);
	assert_int_equal(tm_table_damage(t)->shards_inconsistent, 0);
	tm_table_destroy(t);
	for (int i = 0; i < N; i++)
		free(blocks[i]);
}

// The slots of @domain's traces in [@low, @low + 4096): whether they are all
// in one shard, how many there are, and the fewest slots in a row, around
// the end of the array if need be, that hold them all.
static bool page_slots(uint32_t domain, uintptr_t low, uint64_t *count,
		       uint64_t *span)
{
	const struct tm_shard_rec *holder = NULL;
	uint64_t at[4096 / 16]; // ascending; one address per slot
	uint64_t n = 0;

	for (unsigned s = 0; s < TM_SHARD_COUNT; s++) {
		const struct tm_shard_rec *shard = &tm_rt.shards[s];
		const struct tm_trace_rec *slots =
			tm_region_ptr(&tm_rt.region, shard->slots);
		for (uint64_t k = 0; k < shard->capacity; k++) {
			const struct tm_trace_rec *slot = &slots[k];
			if (slot->traceback <= TM_TRACE_SLOT_TOMBSTONE ||
			    slot->domain != domain ||
			    slot->address - low >= 4096)
				continue;
			if ((holder && holder != shard) || n == 4096 / 16)
				return false;
			holder = shard;
			at[n++] = k;
		}
	}
	*count = n;
	*span = 0;
	if (!n)
		return true;
	// The longest run of slots between two of them, around the end
	// included, is the part of the array the others do not need.
	uint64_t gap = at[0] + holder->capacity - at[n - 1];
	for (uint64_t i = 1; i < n; i++)
		if (at[i] - at[i - 1] > gap)
			gap = at[i] - at[i - 1];
	*span = holder->capacity - gap + 1;
	return true;
}

// The blocks of one page have neighbouring slots in one shard, so that a
// program that allocates or frees neighbours touches few cache lines; and
// every trace is still found and removed, also where a page's slots wrap
// around the end of a shard's array or run into another page's.
static void test_neighbours_share_slots(void **state)
{
	enum { DOMAIN = 9, PAGES = 64, PER_PAGE = 128, STEP = 32 };
	// track() takes addresses that are not malloc's.
	const uintptr_t base = 0x6a5500000000u;
	size_t before = traced();

	for (uintptr_t page = 0; page < PAGES; page++)
		for (uintptr_t i = 0; i < PER_PAGE; i++)
			assert_int_equal(tm_track(DOMAIN,
						  base + page * 4096 + i * STEP,
						  STEP),
					 0);
	assert_int_equal(traced(), before + PAGES * PER_PAGE * STEP);
	for (uintptr_t page = 0; page < PAGES; page++) {
		uint64_t count, span;
		assert_true(
			page_slots(DOMAIN, base + page * 4096, &count, &span));
		assert_int_equal(count, PER_PAGE);
		// One slot per 16 bytes, and a few slots more where another
		// page's traces took some of them first.
		assert_in_range(span, PER_PAGE * STEP / 16 - 1,
				2 * PER_PAGE * STEP / 16);
	}
	// Remove them in a scrambled order.
	for (unsigned k = 0, n = PAGES * PER_PAGE; k < n; k++) {
		unsigned i = (k * 2654435761u) % n; // a bijection: n is 2^13
		assert_int_equal(
			tm_untrack(DOMAIN, base + i / PER_PAGE * 4096 +
						   i % PER_PAGE * STEP),
			0);
	}
	assert_int_equal(traced(), before);
	for (uintptr_t page = 0; page < PAGES; page++) {
		uint64_t count, span;
		assert_true(
			page_slots(DOMAIN, base + page * 4096, &count, &span));
		assert_int_equal(count, 0);
	}
}

// Giving a block of a page and a half back to the kernel must not touch the
// block after it (the kernel works in whole pages).
static void test_region_free_keeps_neighbours(void **state)
{
	struct tm_region region;

	assert_int_equal(tm_region_map(&region, NULL), 0);
	// Offset 0 is the header's in a real table (and means failure).
	assert_int_equal(tm_region_alloc(&region, 4096, 4096), 0);
	for (size_t size = 4096; size <= 4 * 4096; size += 1024) {
		uint64_t big = tm_region_alloc_block(&region, 5, size);
		uint64_t small = tm_region_alloc(&region, 64, 8);
		assert_true(big && small);
		memset(tm_region_ptr(&region, small), 0xa5, 64);
		tm_region_free_block(&region, 5, big, size);
		uint8_t *p = tm_region_ptr(&region, small);
		for (int i = 0; i < 64; i++)
			assert_int_equal(p[i], 0xa5);
		// Reused blocks come back zeroed.
		uint64_t again = tm_region_alloc_block(&region, 5, size);
		assert_int_equal(again, big);
		uint8_t *q = tm_region_ptr(&region, again);
		for (size_t i = 0; i < size; i++)
			assert_int_equal(q[i], 0);
		tm_region_free_block(&region, 5, again, size);
		// Each size gets a list of its own.
		tm_region_alloc_block(&region, 5, size);
	}
	tm_region_unmap(&region);
}

static void expect_zero(struct tm_region *region, uint64_t offset, size_t size)
{
	const uint8_t *p = tm_region_ptr(region, offset);

	for (size_t i = 0; i < size; i++)
		assert_int_equal(p[i], 0);
}

// A trace file in a fresh directory: region and path.
struct file_region {
	struct tm_region region;
	char dir[32], path[64];
	uint64_t block;
};

static void map_file_region(struct file_region *f, size_t block_size)
{
	strcpy(f->dir, "/tmp/tm-region-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/trace", f->dir);
	assert_int_equal(tm_region_map(&f->region, f->path), 0);
	assert_int_equal(tm_region_alloc(&f->region, 4096, 4096), 0);
	f->block = tm_region_alloc_block(&f->region, 5, block_size);
	assert_true(f->block);
	memset(tm_region_ptr(&f->region, f->block), 0xa5, block_size);
}

static void unmap_file_region(struct file_region *f)
{
	tm_region_unmap(&f->region);
	unlink(f->path);
	rmdir(f->dir);
}

// The program put a file of its own on the trace file's descriptor (a
// shell's `exec N>out`): the runtime opens the trace file again by its
// path, punches the freed block's pages out of it, and leaves the
// program's file alone.
static void test_region_file_opened_again(void **state)
{
	struct file_region f;
	char other[80];
	struct stat st;

	map_file_region(&f, 8192);
	size_t resident = tm_region_resident(&f.region);
	snprintf(other, sizeof(other), "%s/other", f.dir);
	int fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "mine", 4), 4);
	int taken = f.region.fd;
	assert_int_equal(dup2(fd, taken), taken);
	tm_region_free_block(&f.region, 5, f.block, 8192);
	assert_int_equal(tm_region_resident(&f.region), resident - 8192);
	assert_int_not_equal(f.region.fd, taken);
	assert_int_equal(fstat(taken, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(tm_region_alloc_block(&f.region, 5, 8192), f.block);
	expect_zero(&f.region, f.block, 8192);
	// Growing goes to the trace file too.
	assert_true(tm_region_alloc(&f.region, 4 << 20, 4096));
	assert_int_equal(stat(f.path, &st), 0);
	assert_true(st.st_size > 4 << 20);
	assert_int_equal(fstat(taken, &st), 0);
	assert_int_equal(st.st_size, 4);
	close(taken);
	close(fd);
	unlink(other);
	unmap_file_region(&f);
}

// The program closed the descriptor and the trace file is gone: pages
// cannot be given back, so a freed block is zeroed in place (a stale slot
// array would make a probe for an empty slot endless), and it still counts
// as resident, before and after it is taken again.  The region stops
// growing rather than leave the file behind.
static void test_region_lost_file_zeroes_in_place(void **state)
{
	struct file_region f;

	map_file_region(&f, 8192);
	size_t resident = tm_region_resident(&f.region);
	close(f.region.fd);
	unlink(f.path);
	// The runtime says once, on stderr, what happened and what to do.
	char said[512] = "";
	int err = dup(2), pipe_fds[2];
	assert_int_equal(pipe(pipe_fds), 0);
	dup2(pipe_fds[1], 2);
	tm_region_free_block(&f.region, 5, f.block, 8192);
	dup2(err, 2);
	close(err);
	close(pipe_fds[1]);
	assert_true(read(pipe_fds[0], said, sizeof(said) - 1) > 0);
	close(pipe_fds[0]);
	assert_non_null(strstr(said, f.path));
	assert_non_null(strstr(said, "the table stops growing"));
	assert_int_equal(tm_region_resident(&f.region), resident);
	expect_zero(&f.region, f.block, 8192);
	assert_int_equal(tm_region_alloc_block(&f.region, 5, 8192), f.block);
	assert_int_equal(tm_region_resident(&f.region), resident);
	expect_zero(&f.region, f.block, 8192);
	assert_int_equal(tm_region_alloc(&f.region, 4 << 20, 4096), 0);
	unmap_file_region(&f);
}

static blkcnt_t file_blocks(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_blocks; // of 512 bytes
}

// The trace file's blocks are allocated before the table writes there
// (writing into a hole that the file system has no room for raises
// SIGBUS: run-full-disk.sh).  A block given back and taken again gets its
// blocks anew before it is written, and a reset punches the table's tail
// out instead of writing zeros into its holes.
static void test_region_file_blocks_before_writes(void **state)
{
	enum { SIZE = 64 << 10, SECTORS = SIZE / 512 };
	struct file_region f;

	map_file_region(&f, SIZE);
	blkcnt_t reserved = file_blocks(f.path);
	assert_true(reserved >= SECTORS);
	tm_region_free_block(&f.region, 5, f.block, SIZE);
	assert_true(file_blocks(f.path) <= reserved - SECTORS);
	assert_int_equal(tm_region_alloc_block(&f.region, 5, SIZE), f.block);
	assert_int_equal(file_blocks(f.path), reserved);
	tm_region_reset(&f.region, 4096);
	assert_true(file_blocks(f.path) <= reserved - SECTORS);
	expect_zero(&f.region, f.block, SIZE);
	unmap_file_region(&f);
}

// This process's address space in KiB (VmSize), or 0.
static size_t address_space_kib(void)
{
	char line[128];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

// Held to little address space (`ulimit -v`), a region sets aside what
// fits, down to TM_REGION_MIN_RESERVE, then hands out all of it and
// refuses more instead of failing.  In a child: the limit stays there.
static void test_region_small_address_space(void **state)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct tm_region region;
		size_t kib = address_space_kib();
		// Room for 4 MiB and a little, not for 16 MiB.
		struct rlimit limit = { .rlim_cur = (kib + 8 * 1024) * 1024,
					.rlim_max = (kib + 8 * 1024) * 1024 };
		if (!kib || setrlimit(RLIMIT_AS, &limit) != 0)
			_exit(10);
		if (tm_region_map(&region, NULL) != 0)
			_exit(11);
		if (region.reserved != TM_REGION_MIN_RESERVE)
			_exit(12);
		size_t handed_out = 4096;
		if (tm_region_alloc(&region, 4096, 4096) != 0)
			_exit(13);
		while (tm_region_alloc(&region, 64 << 10, 4096))
			handed_out += 64 << 10;
		if (handed_out != TM_REGION_MIN_RESERVE - (60 << 10))
			_exit(14);
		tm_region_unmap(&region);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define THREADS 8
#define ROUNDS 20000

void *churn(void *arg)
{
	void *live[64] = { 0 };
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		unsigned k = (seed = seed * 1103515245 + 12345) % 64;
		free(live[k]);
		live[k] = malloc(1 + seed % 512);
	}
	// Keep exactly 10 blocks of 1000 bytes.
	for (int k = 0; k < 64; k++)
		free(live[k]);
	for (int k = 0; k < 10; k++)
		live[k] = malloc(1000);
	return NULL;
}

static void test_threads_keep_exact_totals(void **state)
{
	pthread_t threads[THREADS];

	tm_clear_traces();
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&threads[i], NULL, churn, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	// Thread stacks and their TLS are not from malloc, but glibc may
	// allocate a little per thread; count only our blocks via snapshot.
	size_t expected = traced();
	struct tm_table *t = snapshot_table();
	size_t n, thousand = 0;
	const struct tm_trace *traces = tm_table_traces(t, &n);
	for (size_t i = 0; i < n; i++)
		if (traces[i].size == 1000 &&
		    strcmp(function_of(traces[i].traceback->frames[0]),
			   "churn") == 0)
			thousand++;
	assert_int_equal(thousand, THREADS * 10);
	assert_int_equal(tm_table_info(t)->traced_size, expected);
	tm_table_destroy(t);
}

// Blocks freed by a thread other than the one that allocated them: each
// allocating thread has its own shard set, and a free must find the trace
// in another set.
#define HANDOFF_THREADS 6
#define HANDOFF_BLOCKS 2000

static void *handoff[HANDOFF_THREADS][HANDOFF_BLOCKS];

static void *produce(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	for (int i = 0; i < HANDOFF_BLOCKS; i++)
		handoff[id][i] = malloc(16 + i % 64);
	return NULL;
}

static void *consume(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	// Free a neighbour's blocks, and realloc some of them first.
	for (int i = 0; i < HANDOFF_BLOCKS; i++) {
		void **p = &handoff[(id + 1) % HANDOFF_THREADS][i];
		if (i % 3 == 0)
			*p = realloc(*p, 100);
		free(*p);
	}
	return NULL;
}

static void test_free_from_another_thread(void **state)
{
	pthread_t t[HANDOFF_THREADS];

	tm_clear_traces();
	size_t base = traced();
	for (uintptr_t i = 0; i < HANDOFF_THREADS; i++)
		pthread_create(&t[i], NULL, produce, (void *)i);
	for (int i = 0; i < HANDOFF_THREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(traced() > base);
	for (uintptr_t i = 0; i < HANDOFF_THREADS; i++)
		pthread_create(&t[i], NULL, consume, (void *)i);
	for (int i = 0; i < HANDOFF_THREADS; i++)
		pthread_join(t[i], NULL);
	// Every block is gone from the table, whichever set held it.
	struct tm_block block;
	for (int k = 0; k < HANDOFF_THREADS; k++)
		for (int i = 0; i < HANDOFF_BLOCKS; i += 97)
			assert_int_equal(tm_get_object_traceback(handoff[k][i],
								 &block, NULL,
								 0),
					 -ENOENT);
	size_t expected = traced();
	struct tm_table *t2 = snapshot_table();
	assert_int_equal(tm_table_info(t2)->traced_size, expected);
	assert_int_equal(tm_table_damage(t2)->shards_inconsistent, 0);
	tm_table_destroy(t2);
}

#define WAITING_THREADS 32
static pthread_barrier_t waiting;

static void *allocate_and_wait(void *arg)
{
	void *p = allocate_here(40);
	pthread_barrier_wait(&waiting); // all have allocated
	pthread_barrier_wait(&waiting); // all is measured
	free(p);
	return arg;
}

// This process's resident memory in bytes.
static size_t resident_bytes(void)
{
	unsigned long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

// A thread's first unwind makes libunwind write a cache of frames of its
// own, 256 KiB: tm_get_tracemalloc_memory() counts it while the thread
// lives.  The resident memory shows that libunwind really holds it.
static void test_unwinder_memory_counted(void **state)
{
	const size_t per_thread = 256 << 10, all = WAITING_THREADS * per_thread;
	pthread_t t[WAITING_THREADS];

	assert_int_equal(
		pthread_barrier_init(&waiting, NULL, WAITING_THREADS + 1), 0);
	size_t reported = tm_get_tracemalloc_memory();
	size_t resident = resident_bytes();
	for (int i = 0; i < WAITING_THREADS; i++)
		assert_int_equal(
			pthread_create(&t[i], NULL, allocate_and_wait, NULL),
			0);
	pthread_barrier_wait(&waiting);
	size_t reported_during = tm_get_tracemalloc_memory();
	size_t resident_during = resident_bytes();
	pthread_barrier_wait(&waiting);
	for (int i = 0; i < WAITING_THREADS; i++)
		pthread_join(t[i], NULL);
	size_t reported_after = tm_get_tracemalloc_memory();
	pthread_barrier_destroy(&waiting);
	print_message("# %d threads: %zu KiB more resident, %zu KiB more "
		      "reported, %zu KiB less once they are gone\n",
		      WAITING_THREADS, (resident_during - resident) >> 10,
		      (reported_during - reported) >> 10,
		      (reported_during - reported_after) >> 10);
	assert_true(resident_during >= resident + all);
	assert_true(reported_during >= reported + all);
	// Less the table's growth meanwhile (a page or two).
	assert_true(reported_during >= reported_after + all - 64 * 1024);
}

// One allocation from a stack of its own: its hook returns into
// cached_leaf.
void cached_leaf(void)
{
	free(malloc(40));
	__asm__ volatile("" ::: "memory");
}

// One allocation, kept, from a stack of its own.
void *cached_keep(void)
{
	void *p = malloc(48);
	__asm__ volatile("" ::: "memory");
	return p;
}

// One allocation whose stack is its caller's: the hook runs at the same
// place with the same return address for every caller of the same frame
// layout, so they all share one cache entry.
void thrash_leaf(void)
{
	free(malloc(56));
	__asm__ volatile("" ::: "memory");
}

// Levels of calls above thrash_leaf, each through thrash_a or thrash_b
// (one frame layout; the constants keep the compiler from folding them):
// each path is a stack of its own, all sharing one cache entry.
static void thrash_a(int depth, unsigned path);
static void thrash_b(int depth, unsigned path);

static inline void thrash_below(int depth, unsigned path)
{
	if (depth == 0)
		thrash_leaf();
	else if (path & 1)
		thrash_a(depth - 1, path >> 1);
	else
		thrash_b(depth - 1, path >> 1);
}

#define THRASH_LEVEL(name, k)                                                  \
	static __attribute__((noinline)) void name(int depth, unsigned path)   \
	{                                                                      \
		volatile char pad[32];                                         \
		pad[0] = k;                                                    \
		thrash_below(depth, path);                                     \
		pad[1] = pad[0];                                               \
	}
THRASH_LEVEL(thrash_a, 1)
THRASH_LEVEL(thrash_b, 2)
enum { THRASH_DEPTH = 8, THRASH_PATHS = 1 << THRASH_DEPTH };

// True if return address @pc is inside @function.
static bool returns_into(const void *function, uintptr_t pc)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;

	assert_true(dladdr1(function, &info, (void **)&sym, RTLD_DL_SYMENT));
	uintptr_t start = (uintptr_t)info.dli_saddr;
	return pc > start && pc <= start + sym->st_size;
}

// This thread's cache entry for the stack whose hook returns into
// @function, stored since tracing last started; NULL if none.
static struct tm_stack_cache_entry *entry_for(struct tm_stack_cache *c,
					      const void *function)
{
	struct tm_stack_cache_entry *found = NULL;

	for (unsigned i = 0; i < TM_STACK_CACHE_ENTRIES; i++) {
		struct tm_stack_cache_entry *e = &c->entries[i];
		if (e->slot && e->epoch == tm_rt.epoch &&
		    returns_into(function, e->value[0])) {
			assert_null(found); // one stack, one entry
			found = e;
		}
	}
	return found;
}

// A stack is remembered when it is unwound the
// TM_STACK_CACHE_UNWINDS_TO_STORE'th time, not before, and the frame memo
// then holds how far apart its first two return addresses are.
static void test_stack_cache_stores_after_unwinds(void **state)
{
	enum { STORE = TM_STACK_CACHE_UNWINDS_TO_STORE };
	struct tm_stack_cache *c = tm_thread_stack_cache;

	// The cache exists once this thread stored a stack (earlier tests).
	assert_non_null(c);
	const struct tm_stack_cache_entry *seen[STORE + 1];
	static volatile int times = STORE + 1; // one call site: no unrolling
	for (int i = 0; i < times; i++) {
		cached_leaf();
		seen[i] = entry_for(c, cached_leaf);
	}
	for (int i = 0; i < STORE - 1; i++)
		assert_null(seen[i]);
	assert_non_null(seen[STORE - 1]);
	assert_ptr_equal(seen[STORE], seen[STORE - 1]);
	const struct tm_stack_cache_entry *e = seen[STORE - 1];
	const uint64_t memo = *tm_frame_memo_of(c, e->value[0]);
	if (tm_frame_memo_is_for(memo, e->value[0])) {
		assert_int_equal(tm_frame_memo_words(memo),
				 e->offset[1] - e->offset[0]);
	} else {
		// Only a return address further up the same stack, whose
		// memo the same store wrote later, may have taken the word.
		bool taken = false;
		for (unsigned k = 1; k + 1 < e->checks; k++)
			taken |= tm_frame_memo_is_for(memo, e->value[k]);
		assert_true(taken);
	}
}

// Stacks that take an entry from each other before any is hit make it
// pass over more and more stores; one stack seen again and again still
// gets stored and hit, and then the entry stores at once again.
static void test_stack_cache_backs_off(void **state)
{
	enum { STORE = TM_STACK_CACHE_UNWINDS_TO_STORE };
	struct tm_stack_cache *c = tm_thread_stack_cache;
	// Counts the compiler cannot see: one call site each, no unrolling.
	static volatile int store = STORE, times = 200;

	assert_non_null(c);
	// Each stack as often as it takes to be stored, and never again:
	// THRASH_PATHS chances to store, taken ever more rarely (each path
	// has a traceback of its own).
	struct tm_stack_cache_entry *e = NULL;
	unsigned stores = 0;
	uint32_t last_ref = 0;
	for (unsigned path = 0; path < THRASH_PATHS; path++) {
		for (int i = 0; i < store; i++)
			thrash_a(THRASH_DEPTH, path);
		e = entry_for(c, thrash_leaf);
		if (e && e->ref != last_ref) {
			stores++;
			last_ref = e->ref;
		}
	}
	assert_non_null(e);
	assert_int_equal(e->wasted, TM_STACK_CACHE_MAX_WASTED);
	assert_in_range(stores, TM_STACK_CACHE_MAX_WASTED, THRASH_PATHS / 8);
	// One stack again and again: stored after at most 2^max passes,
	// then hit.
	for (int i = 0; i < times; i++)
		thrash_a(THRASH_DEPTH, 0);
	assert_ptr_equal(entry_for(c, thrash_leaf), e);
	assert_int_equal(e->hit, 1);
	// Another stack takes the entry at its first chance.
	for (int i = 0; i < store + 1; i++)
		thrash_a(THRASH_DEPTH, 1);
	assert_int_equal(e->wasted, 0);
	assert_int_equal(e->hit, 1);
}

// How many of @e's words are saved frame pointers: the address just below
// a return-address slot compared before them.
static unsigned frame_pointer_checks(const struct tm_stack_cache_entry *e)
{
	uintptr_t base = e->slot - sizeof(uint64_t);
	unsigned found = 0;

	for (unsigned i = 1; i < e->checks; i++)
		for (unsigned j = 0; j < i; j++)
			if (e->value[i] ==
			    base + (e->offset[j] - 1) * sizeof(uint64_t)) {
				found++;
				break;
			}
	return found;
}

// This program is built with frame pointers: a stored stack compares the
// saved frame pointers too (so a frame that changes size is told apart;
// run-variable-frames.sh shows that), and the same stack still hits.
static void test_stack_cache_checks_frame_pointers(void **state)
{
	enum { STORE = TM_STACK_CACHE_UNWINDS_TO_STORE };
	struct tm_stack_cache *c = tm_thread_stack_cache;
	// One call site each: no unrolling.
	static volatile int times = STORE + 1;
	struct tm_stack_cache_entry *keep = NULL;
	uint32_t leaf_ref = 0, own = 0;
	void *kept[STORE + 1];

	assert_non_null(c);
	// An interned traceback of another stack, read as soon as it is
	// stored and hit (a later store may take its entry; after a hit, at
	// once).
	for (int i = 0; i < times; i++)
		cached_leaf();
	assert_non_null(entry_for(c, cached_leaf));
	leaf_ref = entry_for(c, cached_leaf)->ref;

	for (int i = 0; i < times; i++) {
		kept[i] = cached_keep();
		if (i != STORE - 1)
			continue;
		// Stored on this unwind.
		keep = entry_for(c, cached_keep);
		assert_non_null(keep);
		// The hook's caller and its caller keep frame pointers.
		assert_true(frame_pointer_checks(keep) >= 2);
		assert_true(frame_pointer_checks(keep) <= keep->checks / 2);
		// A hit reuses the entry's traceback: give it cached_leaf's,
		// and the next allocation from cached_keep's stack is charged
		// to it.
		own = keep->ref;
		keep->ref = leaf_ref;
	}
	assert_non_null(keep);
	keep->ref = own;
	// The last allocation hit the entry.
	for (int i = 0; i <= STORE; i++) {
		uintptr_t frame;
		struct tm_block block;
		assert_int_equal(
			tm_get_object_traceback(kept[i], &block, &frame, 1), 1);
		assert_string_equal(function_of(frame),
				    i < STORE ? "cached_keep" : "cached_leaf");
		free(kept[i]);
	}
}

// Stacks other than the thread's own: a coroutine's, or a signal handler's
// alternate stack.
enum { OTHER_STACK_SIZE = 64 * 1024 };
static void *other_stack_low;

// cached_leaf from one call site as often as the cache needs to store its
// stack (the count is volatile, so the loop is not unrolled): a stack the
// cache would hold if it could.
static void leaf_until_stored(void)
{
	static volatile int times = TM_STACK_CACHE_UNWINDS_TO_STORE;
	for (int i = 0; i < times; i++)
		cached_leaf();
}

static void on_usr1(int sig)
{
	(void)sig;
	leaf_until_stored();
}

// True if this thread's cache holds a stack whose hook ran on the other
// stack.
static bool cached_on_other_stack(const struct tm_stack_cache *c)
{
	uintptr_t low = (uintptr_t)other_stack_low;
	for (unsigned i = 0; i < TM_STACK_CACHE_ENTRIES; i++)
		if (c->entries[i].slot >= low &&
		    c->entries[i].slot < low + OTHER_STACK_SIZE)
			return true;
	return false;
}

// Run leaf_until_stored as a coroutine on @stack.
static void run_coroutine_on(void *stack)
{
	ucontext_t here, coroutine;

	other_stack_low = stack;
	assert_int_equal(getcontext(&coroutine), 0);
	coroutine.uc_stack.ss_sp = stack;
	coroutine.uc_stack.ss_size = OTHER_STACK_SIZE;
	coroutine.uc_link = &here;
	makecontext(&coroutine, leaf_until_stored, 0);
	assert_int_equal(swapcontext(&here, &coroutine), 0);
}

// The hash of an unwound stack (the stack cache counts stacks by it, and
// interning finds tracebacks by it) depends on every word, on where each
// word is, on how many there are and on the seed.
static void test_hash_words_sees_every_word(void **state)
{
	enum { WORDS = 11 };
	uint64_t words[WORDS];

	for (unsigned i = 0; i < WORDS; i++)
		words[i] = 0x55d0c0a01000 + 0x40 * i;
	for (unsigned count = 1; count <= WORDS; count++) {
		uint64_t h = tm_hash_words(7, words, count);
		assert_true(h != tm_hash_words(8, words, count));
		assert_true(h != tm_hash_words(7, words, count - 1));
		for (unsigned i = 0; i < count; i++) {
			words[i] ^= 0x10;
			assert_true(h != tm_hash_words(7, words, count));
			words[i] ^= 0x10;
		}
		// Two words that trade places, in one chain or in two.
		for (unsigned i = 0; i + 1 < count; i++) {
			uint64_t w = words[i];
			words[i] = words[i + 1];
			words[i + 1] = w;
			assert_true(h != tm_hash_words(7, words, count));
			words[i + 1] = words[i];
			words[i] = w;
		}
	}
}

// A coroutine whose stack is an array inside this thread's stack is cached
// like any stack there; one on a mapped stack, or a signal handler on an
// alternate stack, never is: the cache's loads must stay inside the
// bounds it knows.  (run-other-stacks.sh shows their tracebacks are right.)
static void test_stack_cache_other_stacks(void **state)
{
	struct tm_stack_cache *c = tm_thread_stack_cache;
	assert_non_null(c);

	char inside[OTHER_STACK_SIZE];
	run_coroutine_on(inside);
	assert_true(cached_on_other_stack(c));

	// Two mappings, so that the signal's check is not about the
	// coroutine's stack.
	char *mapped = mmap(NULL, 2 * OTHER_STACK_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mapped != MAP_FAILED);
	run_coroutine_on(mapped);
	assert_false(cached_on_other_stack(c));

	other_stack_low = mapped + OTHER_STACK_SIZE;
	stack_t alt = { .ss_sp = other_stack_low, .ss_size = OTHER_STACK_SIZE },
		old;
	assert_int_equal(sigaltstack(&alt, &old), 0);
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK },
			 old_sa;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old_sa), 0);
	raise(SIGUSR1);
	assert_false(cached_on_other_stack(c));
	sigaction(SIGUSR1, &old_sa, NULL);
	sigaltstack(&old, NULL);
	munmap(mapped, 2 * OTHER_STACK_SIZE);
}

// --- a library's own operator new ------------------------------------------

static int find_libstdcxx(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *base = strrchr(info->dlpi_name, '/');

	(void)size;
	if (!base || strncmp(base + 1, "libstdc++.so", 12) != 0)
		return 0;
	*(struct dl_phdr_info *)arg = *info;
	return 1;
}

static void *failing_allocate(size_t bytes)
{
	(void)bytes;
	fail_msg("the file was read");
	return NULL;
}

static bool in_found(const struct tm_code_range *found, size_t n, void *pc)
{
	for (size_t i = 0; i < n; i++)
		if ((uintptr_t)pc >= found[i].start &&
		    (uintptr_t)pc < found[i].end)
			return true;
	return false;
}

// The runtime's readers of a library's file, each through a mapping of it
// of its own, as the runtime maps it once for both.
static size_t library_operators(const struct dl_phdr_info *info,
				struct tm_code_range *found, size_t max)
{
	struct tm_elf_file file;

	if (!tm_elf_file_map(info->dlpi_name, &file))
		return 0;
	size_t n = tm_library_operators(&file, info, found, max);
	tm_elf_file_unmap(&file);
	return n;
}

static bool note_library(const struct dl_phdr_info *info)
{
	struct tm_elf_file file;

	if (!tm_elf_file_map(info->dlpi_name, &file))
		return false;
	bool noted = tm_library_wrappers_note(info, &file);
	tm_elf_file_unmap(&file);
	return noted;
}

// libstdc++ itself is a library with operator new in it (stripped: from
// its dynamic symbols).  A file that is not the one loaded, or no file,
// gives nothing.
static void test_library_operators(void **state)
{
	struct dl_phdr_info info = { 0 };
	struct tm_code_range found[16];

	assert_int_equal(dl_iterate_phdr(find_libstdcxx, &info), 1);
	void *library = dlopen(info.dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	assert_non_null(library);
	void *plain = dlsym(library, "_Znwm"), *array = dlsym(library, "_Znam");
	dlclose(library);
	size_t n = library_operators(&info, found, 16);
	assert_true(n >= 2 && n <= 16);
	assert_true(in_found(found, n, plain));
	assert_true(in_found(found, n, array));
	for (size_t i = 1; i < n; i++)
		assert_true(found[i - 1].end <= found[i].start);
	assert_int_equal(library_operators(&info, found, 1), 1);

	// The file at the name is another one (a newer version installed
	// since): its program headers differ from those loaded.
	ElfW(Phdr) headers[64];
	assert_true(info.dlpi_phnum <= 64);
	memcpy(headers, info.dlpi_phdr, info.dlpi_phnum * sizeof(headers[0]));
	headers[0].p_memsz++;
	struct dl_phdr_info other = info;
	other.dlpi_phdr = headers;
	assert_int_equal(library_operators(&other, found, 16), 0);

	other = info;
	other.dlpi_name = "/nonexistent/libstdc++.so.6";
	assert_int_equal(library_operators(&other, found, 16), 0);
	// A FIFO at the name: nothing, at once.
	char fifo[] = "/tmp/tm-test-fifo-XXXXXX";
	int fd = mkstemp(fifo);
	assert_true(fd >= 0);
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	other.dlpi_name = fifo;
	assert_int_equal(library_operators(&other, found, 16), 0);
	unlink(fifo);
}

// The C++ standard library's functions in a library, by name: libstdc++'s
// own serve (the runtime passes over all of libstdc++ by its range, and
// never notes it so).  Read once per file: noted again after it was
// forgotten, as a library closed and loaded again is, the file's array
// serves again.  A file that is not the one loaded gives nothing.
static void test_library_standard_functions(void **state)
{
	struct dl_phdr_info info = { 0 };

	assert_int_equal(dl_iterate_phdr(find_libstdcxx, &info), 1);
	void *library = dlopen(info.dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	assert_non_null(library);
	// std::string's construction, std::terminate, a __gnu_cxx function,
	// the C++ ABI's runtime that allocates a thrown exception, operator
	// new; operator delete, which allocates nothing, is none of them.
	void *member = dlsym(library, "_ZNSt7__cxx1112basic_stringIcSt11char_"
				      "traitsIcESaIcEE9_M_createERmm");
	void *free_function = dlsym(library, "_ZSt9terminatev");
	void *gnu =
		dlsym(library, "_ZN9__gnu_cxx27__verbose_terminate_handlerEv");
	void *exception = dlsym(library, "__cxa_allocate_exception");
	void *operator_new = dlsym(library, "_Znwm");
	void *outside = dlsym(library, "_ZdlPv");
	dlclose(library);
	assert_non_null(member);
	assert_non_null(free_function);
	assert_non_null(gnu);
	assert_non_null(exception);
	assert_non_null(outside);

	size_t before = tm_library_wrappers_memory();
	assert_false(tm_library_wrappers_contain((uintptr_t)member));
	assert_true(note_library(&info));
	size_t read = tm_library_wrappers_memory();
	// Thousands of functions: an array of its own.
	assert_true(read - before >= 32 * 1024);
	assert_true(tm_library_wrappers_contain((uintptr_t)member));
	assert_true(tm_library_wrappers_contain((uintptr_t)member + 1));
	assert_true(tm_library_wrappers_contain((uintptr_t)free_function));
	assert_true(tm_library_wrappers_contain((uintptr_t)gnu));
	assert_true(tm_library_wrappers_contain((uintptr_t)operator_new));
	assert_true(tm_library_wrappers_contain((uintptr_t)exception));
	assert_false(tm_library_wrappers_contain((uintptr_t)outside));
	assert_false(tm_library_wrappers_contain((uintptr_t)allocate_here));

	tm_library_wrappers_forget(info.dlpi_addr);
	assert_false(tm_library_wrappers_contain((uintptr_t)member));
	assert_true(note_library(&info));
	assert_true(tm_library_wrappers_contain((uintptr_t)member));
	assert_int_equal(tm_library_wrappers_memory(), read);
	tm_library_wrappers_forget(info.dlpi_addr);
	assert_false(tm_library_wrappers_contain((uintptr_t)gnu));

	// Program headers that are not the file's: nothing read, nothing kept.
	ElfW(Phdr) headers[64];
	assert_true(info.dlpi_phnum <= 64);
	memcpy(headers, info.dlpi_phdr, info.dlpi_phnum * sizeof(headers[0]));
	headers[0].p_memsz++;
	struct tm_library_functions found;
	struct dl_phdr_info other = info;
	other.dlpi_phdr = headers;
	struct tm_elf_file file;
	assert_true(tm_elf_file_map(other.dlpi_name, &file));
	assert_false(tm_library_standard_functions(&file, &other,
						   failing_allocate, &found));
	tm_elf_file_unmap(&file);
	assert_int_equal(found.count, 0);
	other.dlpi_name = "/nonexistent/libstdc++.so.6";
	assert_false(note_library(&other));
	assert_int_equal(tm_library_wrappers_memory(), read);
}

// Threads search while libraries come and go.  One library (libstdc++'s
// file, noted again 1 TiB higher, where nothing runs: the search only
// compares addresses) stays listed throughout; another is noted and
// forgotten over and over.  A search may miss a function while the list
// changes, but hardly ever in the library that stays, never takes another
// function for one of the standard library's, and once the list stops
// changing every answer is exact.
struct search_args {
	uintptr_t inside, outside;
	const bool *stop;
	unsigned long found, searches;
	bool wrong;
};

static void *search_while_listed(void *arg)
{
	struct search_args *a = arg;

	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
		a->found += tm_library_wrappers_contain(a->inside);
		a->wrong |= tm_library_wrappers_contain(a->outside);
		a->searches++;
	}
	return NULL;
}

static void test_library_standard_functions_threads(void **state)
{
	struct dl_phdr_info info = { 0 };
	const uintptr_t shift = (uintptr_t)1 << 40;

	assert_int_equal(dl_iterate_phdr(find_libstdcxx, &info), 1);
	void *library = dlopen(info.dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	assert_non_null(library);
	uintptr_t member = (uintptr_t)dlsym(library, "_ZSt9terminatev");
	uintptr_t outside = (uintptr_t)dlsym(library, "_ZdlPv");
	dlclose(library);
	struct dl_phdr_info stays = info;
	stays.dlpi_addr += shift;
	assert_true(note_library(&stays));

	bool stop = false;
	struct search_args args[2];
	pthread_t threads[2];
	for (int i = 0; i < 2; i++) {
		args[i] = (struct search_args){ .inside = member + shift,
						.outside = outside + shift,
						.stop = &stop };
		assert_int_equal(pthread_create(&threads[i], NULL,
						search_while_listed, &args[i]),
				 0);
	}
	for (int i = 0; i < 20000; i++) {
		assert_true(note_library(&info));
		tm_library_wrappers_forget(info.dlpi_addr);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		assert_false(args[i].wrong);
		// Missed only if the writer rewrote the copy searched on
		// each of four tries: none in a thousand.
		assert_true(args[i].found >=
			    args[i].searches - args[i].searches / 1000);
		print_message("searches %lu, found %lu\n", args[i].searches,
			      args[i].found);
	}
	assert_true(tm_library_wrappers_contain(member + shift));
	assert_false(tm_library_wrappers_contain(outside + shift));
	assert_false(tm_library_wrappers_contain(member));
	tm_library_wrappers_forget(stays.dlpi_addr);
	assert_false(tm_library_wrappers_contain(member + shift));
}

// A dlclose() while another thread holds the module map (refreshing it):
// the closed library is forgotten all the same, by that thread, so that
// another library loaded at its addresses is recorded and not taken for it.
static void test_forget_while_map_held(void **state)
{
	// A library of the C library's package that nothing here loads.
	void *library = dlopen("libutil.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (library) {
		dlclose(library);
		skip();
	}
	library = dlopen("libutil.so.1", RTLD_NOW);
	assert_non_null(library);
	struct link_map *map;
	assert_int_equal(dlinfo(library, RTLD_DI_LINKMAP, &map), 0);
	uint64_t inside = (uintptr_t)map->l_ld;
	uint64_t own = (uintptr_t)allocate_here;

	tm_modules_refresh();
	assert_true(tm_modules_cover(&inside, 1));
	tm_spin_lock(&tm_rt.module_lock);
	int closed = dlclose(library);
	// Until it is forgotten, no address counts as known: the next new
	// traceback refreshes the map.
	bool held_cover = tm_modules_cover(&own, 1);
	tm_modules_unlock();
	assert_int_equal(closed, 0);
	assert_false(held_cover);
	assert_false(tm_modules_cover(&inside, 1));
	assert_true(tm_modules_cover(&own, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_start_refuses_bad_limits, stop),
		cmocka_unit_test_setup(test_start_while_tracing_changes_nothing,
				       restart),
		cmocka_unit_test_setup(test_traced_memory_and_peak, restart),
		cmocka_unit_test_setup(test_peak_of_short_lived_block, restart),
		cmocka_unit_test_setup(test_clear_traces, restart),
		cmocka_unit_test_setup_teardown(test_stop_clears_and_stops,
						restart, stop),
		cmocka_unit_test_setup(test_object_traceback, restart),
		cmocka_unit_test_setup(test_lookup_while_holding_the_table,
				       restart),
		cmocka_unit_test_setup(test_fork_while_holding_the_table,
				       restart),
		cmocka_unit_test_setup(test_strdup_reports_its_caller, restart),
		cmocka_unit_test_setup(test_realloc_moves_the_trace, restart),
		cmocka_unit_test_setup(test_every_allocator_is_traced, restart),
		cmocka_unit_test_setup_teardown(test_track_and_untrack, restart,
						stop),
		cmocka_unit_test_setup(test_snapshot_decodes, restart),
		cmocka_unit_test_setup(
			test_tracemalloc_memory_reports_the_table, restart),
		cmocka_unit_test_setup(test_growth_keeps_every_trace, restart),
		cmocka_unit_test_setup(test_neighbours_share_slots, restart),
		cmocka_unit_test(test_region_free_keeps_neighbours),
		cmocka_unit_test(test_region_file_opened_again),
		cmocka_unit_test(test_region_lost_file_zeroes_in_place),
		cmocka_unit_test(test_region_file_blocks_before_writes),
		cmocka_unit_test(test_region_small_address_space),
		cmocka_unit_test_setup(test_free_from_another_thread, restart),
		cmocka_unit_test_setup(test_unwinder_memory_counted, restart),
		cmocka_unit_test_setup_teardown(test_threads_keep_exact_totals,
						restart, stop),
		cmocka_unit_test_setup_teardown(
			test_stack_cache_stores_after_unwinds, restart, stop),
		cmocka_unit_test_setup_teardown(test_stack_cache_backs_off,
						restart, stop),
		cmocka_unit_test_setup_teardown(test_stack_cache_other_stacks,
						restart, stop),
		cmocka_unit_test_setup_teardown(
			test_stack_cache_checks_frame_pointers, restart, stop),
		cmocka_unit_test(test_hash_words_sees_every_word),
		cmocka_unit_test(test_library_operators),
		cmocka_unit_test(test_library_standard_functions),
		cmocka_unit_test(test_library_standard_functions_threads),
		cmocka_unit_test_setup_teardown(test_forget_while_map_held,
						restart, stop),
	};
	return cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
}
