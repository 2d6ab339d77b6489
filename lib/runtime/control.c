// control.c: the control API (tm_start … tm_take_snapshot), the region's
// set-up, and keeping the table consistent across fork.
#include "runtime.h"
#include "peak.h"
#include "stackcache.h"

#include "guard.h"
#include "prim.h"
#include "tm/tracemalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WRITER_NAME "libtracemalloc " PACKAGE_VERSION

struct tm_runtime tm_rt = { .nframe = 1, .region = { .fd = -1 } };

__thread int tm_guard_depth __attribute__((tls_model("initial-exec")));

TM_PUBLIC struct tm_descriptor __tracemalloc_descriptor
	__attribute__((used)) = { .version = TM_DESCRIPTOR_VERSION };

// --- region set-up --------------------------------------------------------

static uint64_t copy_string(const char *text)
{
	size_t len = strlen(text);
	uint64_t offset = tm_region_alloc(&tm_rt.region, len + 1, 8);

	if (offset)
		memcpy(tm_region_ptr(&tm_rt.region, offset), text, len + 1);
	return offset;
}

// Copy this layout's record descriptors into the region (docs/layout.md,
// "Descriptors").  Returns the table's offset or 0.
static uint64_t write_descriptors(void)
{
	uint64_t table = tm_region_alloc(
		&tm_rt.region,
		TM_RECORD_TYPE_COUNT * sizeof(struct tm_record_desc), 8);
	if (!table)
		return 0;
	struct tm_record_desc *descs = tm_region_ptr(&tm_rt.region, table);
	for (unsigned r = 0; r < TM_RECORD_TYPE_COUNT; r++) {
		const struct tm_layout_record *rec = &tm_layout_records[r];
		uint64_t fields = tm_region_alloc(
			&tm_rt.region,
			rec->field_count * sizeof(struct tm_field_desc), 8);
		if (!fields)
			return 0;
		struct tm_field_desc *fd = tm_region_ptr(&tm_rt.region, fields);
		for (unsigned f = 0; f < rec->field_count; f++) {
			strncpy(fd[f].name, rec->fields[f].name,
				TM_DESC_NAME_SIZE - 1);
			fd[f].offset = rec->fields[f].offset;
			fd[f].size = rec->fields[f].size;
			fd[f].flags = rec->fields[f].flags;
		}
		strncpy(descs[r].name, rec->name, TM_DESC_NAME_SIZE - 1);
		descs[r].size = rec->size;
		descs[r].field_count = rec->field_count;
		descs[r].fields = fields;
	}
	return table;
}

static void publish_descriptor(void)
{
	__tracemalloc_descriptor.region =
		(uint64_t)(uintptr_t)tm_rt.region.base;
	__tracemalloc_descriptor.region_size = tm_rt.region.reserved;
	__atomic_store_n(&__tracemalloc_descriptor.flags, 1, __ATOMIC_RELEASE);
}

// Map the region once; it is kept (and reused) across stop and start.
static int setup_region(void)
{
	int err = tm_region_map(&tm_rt.region, tm_file_template);
	if (err < 0)
		return err;
	uint64_t head = tm_region_alloc(&tm_rt.region,
					TM_LAYOUT_HEADER_OFFSET +
						sizeof(struct tm_header_rec),
					TM_LAYOUT_PAGE_SIZE);
	struct tm_preamble *pre = tm_region_ptr(&tm_rt.region, 0);
	struct tm_header_rec *h =
		tm_region_ptr(&tm_rt.region, TM_LAYOUT_HEADER_OFFSET);
	tm_rt.header = h;
	h->region_size = tm_rt.region.committed;
	h->base_address = (uint64_t)(uintptr_t)tm_rt.region.base;
	h->pid = (uint32_t)getpid();
	h->unwind_limit = TM_UNWIND_LIMIT;
	h->flags = tm_rt.region.file_backed ? TM_HEADER_FLAG_FILE_BACKED : 0;
	h->writer = copy_string(WRITER_NAME);
	uint64_t descs = write_descriptors();
	if (head != 0 || !h->writer || !descs || tm_table_init() < 0) {
		tm_region_unmap(&tm_rt.region);
		return -ENOMEM;
	}
	tm_rt.fixed_size = tm_rt.region.used;
	pre->byte_order = TM_LAYOUT_BYTE_ORDER;
	pre->version_major = TM_LAYOUT_VERSION_MAJOR;
	pre->version_minor = TM_LAYOUT_VERSION_MINOR;
	pre->pointer_size = sizeof(void *);
	pre->record_type_count = TM_RECORD_TYPE_COUNT;
	pre->record_types = descs;
	pre->header = TM_LAYOUT_HEADER_OFFSET;
	// The magic goes last: a scan never finds a half-built table.
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(pre->magic, TM_LAYOUT_MAGIC, TM_LAYOUT_MAGIC_SIZE);
	return 0;
}

// --- locking everything -----------------------------------------------------

// Lock order: control, module, intern, shards, region; the stack caches'
// free list is taken alone, and last, around fork.
static void lock_table(void)
{
	tm_spin_lock(&tm_rt.intern.lock);
	tm_table_lock_all();
	tm_spin_lock(&tm_rt.region.lock);
}

static void unlock_table(void)
{
	tm_spin_unlock(&tm_rt.region.lock);
	tm_table_unlock_all();
	tm_spin_unlock(&tm_rt.intern.lock);
}

// Drop every trace, traceback and module record (every lock but the region's
// is held; the region takes its own).
static void clear_locked(void)
{
	__atomic_store_n(&tm_rt.epoch, tm_rt.epoch + 1, __ATOMIC_RELEASE);
	tm_rt.header->epoch = tm_rt.epoch;
	tm_region_reset(&tm_rt.region, tm_rt.fixed_size);
	tm_modules_clear_locked();
	tm_table_clear_locked();
	tm_intern_clear_locked();
	__atomic_store_n(&tm_rt.peak, 0, __ATOMIC_RELAXED);
	tm_rt.header->peak_size = 0;
	tm_rt.header->untraced = 0;
	__atomic_store_n(&tm_rt.peak_epoch, tm_rt.peak_epoch + 1,
			 __ATOMIC_RELEASE);
}

static void clear_traces(void)
{
	tm_spin_lock(&tm_rt.module_lock);
	tm_spin_lock(&tm_rt.intern.lock);
	tm_table_lock_all();
	clear_locked();
	tm_table_unlock_all();
	tm_spin_unlock(&tm_rt.intern.lock);
	tm_modules_unlock();
}

// --- fork -------------------------------------------------------------------

// The locks fork holds, in lock order, and whether it took each one.  A
// signal handler that forks may have interrupted its thread inside the
// runtime, holding some of them: those the interrupted code releases
// itself, in parent and child, once the handler returns; waiting for them
// would wait forever.  Such a handler may even interrupt fork's own
// handlers, so each fork's locks are a level of a stack.
#define FORK_LOCKS (TM_SHARD_COUNT + 5)
#define FORK_LEVELS 4
static uint32_t *fork_locks[FORK_LEVELS][FORK_LOCKS];
static bool fork_took[FORK_LEVELS][FORK_LOCKS];
static unsigned fork_lock_count[FORK_LEVELS];
static unsigned fork_level;

// A shared page through which a child tells its parent that it has copied a
// file-backed table; until then the parent must not change it.  One word
// for each level, so that a fork in a handler does not answer for the fork
// it interrupted.  Each child maps a page of its own at once: the parent's
// is shared with all its children, and a child's forks would clear the word
// another child had set, or one the parent is about to read.
static uint32_t *fork_handoff;

static void fork_lock(unsigned level, uint32_t *lock)
{
	unsigned i = fork_lock_count[level]++;

	fork_locks[level][i] = lock;
	fork_took[level][i] = tm_spin_lock_unless_held(lock);
}

static void before_fork(void)
{
	// First, while this thread holds no lock another thread could wait
	// for inside the unwinder.
	tm_unwind_before_fork();
	unsigned level = fork_level++;
	// Forks nested deeper than that (handlers interrupting handlers)
	// take no lock.
	if (level >= FORK_LEVELS)
		return;
	fork_lock_count[level] = 0;
	fork_lock(level, &tm_rt.control_lock);
	fork_lock(level, &tm_rt.module_lock);
	if (tm_rt.region.base) {
		fork_lock(level, &tm_rt.intern.lock);
		for (unsigned s = 0; s < TM_SHARD_COUNT; s++)
			fork_lock(level, &tm_rt.shards[s].lock);
		fork_lock(level, &tm_rt.region.lock);
	}
	fork_lock(level, tm_stack_cache_fork_lock());
	if (fork_handoff)
		__atomic_store_n(&fork_handoff[level], 0, __ATOMIC_RELEASE);
}

static void unlock_after_fork(void)
{
	unsigned level = --fork_level;

	if (level >= FORK_LEVELS)
		return;
	for (unsigned i = fork_lock_count[level]; i-- > 0;)
		if (fork_took[level][i])
			tm_spin_unlock(fork_locks[level][i]);
	fork_lock_count[level] = 0;
}

static uint32_t *map_handoff_page(void)
{
	_Static_assert(FORK_LEVELS * sizeof(uint32_t) <= TM_LAYOUT_PAGE_SIZE,
		       "a word for each level");
	void *page = mmap(NULL, TM_LAYOUT_PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return page == MAP_FAILED ? NULL : page;
}

static void after_fork_parent(void)
{
	unsigned level = fork_level - 1;

	if (level < FORK_LEVELS && tm_rt.region.base &&
	    tm_rt.region.file_backed && fork_handoff) {
		// Wait (at most 5 s) for the child to take its copy.
		uint32_t *done = &fork_handoff[level];
		struct timespec step = { 0, 50 * 1000 * 1000 };
		for (int i = 0;
		     i < 100 && !__atomic_load_n(done, __ATOMIC_ACQUIRE); i++)
			syscall(SYS_futex, done, FUTEX_WAIT, 0, &step, NULL, 0);
	}
	unlock_after_fork();
	tm_unwind_after_fork(false);
}

static void after_fork_child(void)
{
	unsigned level = fork_level - 1;

	if (tm_rt.region.base) {
		if (tm_rt.region.file_backed) {
			if (tm_region_detach_file(&tm_rt.region) < 0) {
				tm_diag("cannot copy the trace table after "
					"fork; tracing stops in the child",
					NULL);
				__atomic_store_n(&tm_rt.tracing, 0,
						 __ATOMIC_RELAXED);
			}
			if (level < FORK_LEVELS && fork_handoff) {
				uint32_t *done = &fork_handoff[level];
				__atomic_store_n(done, 1, __ATOMIC_RELEASE);
				syscall(SYS_futex, done, FUTEX_WAKE, 1, NULL,
					NULL, 0);
			}
		}
		tm_rt.header->pid = (uint32_t)getpid();
	}
	if (fork_handoff) {
		uint32_t *inherited = fork_handoff;
		fork_handoff = map_handoff_page();
		// A fork this one interrupted (from a handler) may be waiting
		// on the inherited page; otherwise nothing refers to it.
		if (level == 0)
			munmap(inherited, TM_LAYOUT_PAGE_SIZE);
	}
	unlock_after_fork();
	tm_unwind_after_fork(true);
}

static void install_fork_handlers(void)
{
	static int installed;

	if (installed)
		return;
	installed = 1;
	fork_handoff = map_handoff_page();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

// --- the control API --------------------------------------------------------

int tm_start(int nframe)
{
	int err = 0;
	bool first = false;

	if (nframe < 1 || nframe > TM_MAX_NFRAME)
		return -EINVAL;
	bool entered = tm_guard_enter();
	tm_hooks_init();
	tm_spin_lock(&tm_rt.control_lock);
	if (__atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED))
		goto out;
	if (!tm_rt.region.base) {
		// The table first: where there is no room for it (`ulimit
		// -v`), the unwinder is not loaded for nothing, and the
		// program keeps all the memory it had without the runtime.
		if ((err = setup_region()) < 0)
			goto out;
		if (tm_unwind_init() < 0) {
			tm_region_unmap(&tm_rt.region);
			err = -ENOSYS;
			goto out;
		}
		install_fork_handlers();
		tm_stack_cache_init();
		publish_descriptor();
		first = true;
	}
	tm_rt.nframe = nframe;
	tm_rt.header->traceback_limit = (uint32_t)nframe;
	clear_traces();
	tm_modules_refresh();
	tm_rt.header->flags |= TM_HEADER_FLAG_TRACING;
	__atomic_store_n(&tm_rt.tracing, 1, __ATOMIC_RELEASE);
	// Once, with the guard held; under the lock, so that no tm_stop()
	// turns the hooks off meanwhile (they take no lock with the guard
	// held).
	if (first && entered)
		tm_hooks_check_interposed();
out:
	tm_spin_unlock(&tm_rt.control_lock);
	if (entered)
		tm_guard_leave();
	return err;
}

void tm_stop(void)
{
	tm_spin_lock(&tm_rt.control_lock);
	if (__atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED)) {
		__atomic_store_n(&tm_rt.tracing, 0, __ATOMIC_RELEASE);
		tm_rt.header->flags &= ~TM_HEADER_FLAG_TRACING;
		clear_traces();
	}
	tm_spin_unlock(&tm_rt.control_lock);
}

int tm_is_tracing(void)
{
	return __atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED);
}

void tm_clear_traces(void)
{
	tm_spin_lock(&tm_rt.control_lock);
	if (__atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED)) {
		clear_traces();
		tm_modules_refresh();
	}
	tm_spin_unlock(&tm_rt.control_lock);
}

int tm_get_traceback_limit(void)
{
	return tm_rt.nframe;
}

void tm_get_traced_memory(size_t *current, size_t *peak)
{
	size_t cur = 0, top = 0;

	if (tm_is_tracing()) {
		tm_peak_sync();
		tm_peak_fold();
		cur = tm_table_traced_size();
		top = __atomic_load_n(&tm_rt.peak, __ATOMIC_RELAXED);
		if (top < cur)
			top = cur;
	}
	if (current)
		*current = cur;
	if (peak)
		*peak = top;
}

void tm_reset_peak(void)
{
	if (!tm_is_tracing())
		return;
	__atomic_store_n(&tm_rt.peak_epoch, tm_rt.peak_epoch + 1,
			 __ATOMIC_RELEASE);
	uint64_t current = tm_table_traced_size();
	__atomic_store_n(&tm_rt.peak, current, __ATOMIC_RELAXED);
	__atomic_store_n(&tm_rt.header->peak_size, current, __ATOMIC_RELAXED);
}

#ifdef PIC
static int find_own_data(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *range = arg, self = (uintptr_t)&tm_rt;

	(void)size;
	return tm_object_span(info, PF_W, &range[0], &range[1]) &&
	       self >= range[0] && self < range[1];
}

// The runtime's own writable pages that are its alone: its state, its
// fixed arrays (the module map's index, the libraries noted, the heap that
// serves the loader before malloc is found) and its relocated GOT.  Most
// of the arrays stay untouched, and pages of the library's file that were
// only read are the page cache's: count the anonymous resident pages, as
// /proc/self/pagemap tells them (present, not a file page).
static size_t own_data_memory(void)
{
	uintptr_t range[2];

	if (dl_iterate_phdr(find_own_data, range) != 1)
		return sizeof(tm_rt);
	uint64_t first = range[0] / TM_LAYOUT_PAGE_SIZE;
	uint64_t last = (range[1] - 1) / TM_LAYOUT_PAGE_SIZE;
	int cancel_state = tm_cancel_off();
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	bool read_all = fd >= 0;
	size_t anonymous = 0;
	uint64_t entries[64];
	for (uint64_t page = first, n; read_all && page <= last; page += n) {
		n = last + 1 - page;
		if (n > sizeof(entries) / sizeof(entries[0]))
			n = sizeof(entries) / sizeof(entries[0]);
		size_t bytes = n * sizeof(entries[0]);
		read_all = pread(fd, entries, bytes,
				 (off_t)(page * sizeof(entries[0]))) ==
			   (ssize_t)bytes;
		for (uint64_t i = 0; read_all && i < n; i++)
			anonymous += (entries[i] >> 63 & 1) &&
				     !(entries[i] >> 61 & 1);
	}
	if (fd >= 0)
		tm_close(fd);
	tm_cancel_restore(cancel_state);
	// Without /proc: the state, as a static program counts.
	return read_all ? anonymous * TM_LAYOUT_PAGE_SIZE : sizeof(tm_rt);
}
#else
// Linked into the program, the runtime's writable pages are the program's
// too: its state is what can be told apart.
static size_t own_data_memory(void)
{
	return sizeof(tm_rt);
}
#endif

size_t tm_get_tracemalloc_memory(void)
{
	size_t used = 0;

	if (tm_rt.region.base) {
		used = tm_region_resident(&tm_rt.region);
		// Pages are the unit the kernel charges.
		used = (used + TM_LAYOUT_PAGE_SIZE - 1) &
		       ~(size_t)(TM_LAYOUT_PAGE_SIZE - 1);
		if (fork_handoff)
			used += TM_LAYOUT_PAGE_SIZE;
	}
	return used + tm_stack_cache_memory() + tm_unwind_memory() +
	       own_data_memory();
}

int tm_get_object_traceback(const void *ptr, struct tm_block *ret,
			    uintptr_t *frames, size_t max_frames)
{
	struct tm_trace_found found;

	if (!tm_is_tracing())
		return -ENODATA;
	bool entered = tm_guard_enter();
	int status = tm_table_find(0, (uint64_t)(uintptr_t)ptr, &found);
	int n = status < 0 ? status : -ENOENT;
	if (status == 1) {
		// Tracebacks are immutable until a clear; hold the intern lock
		// so none happens while we copy.  A signal handler whose
		// thread holds it (adding a traceback) reads without it.
		bool taken = tm_spin_lock_unless_held(&tm_rt.intern.lock);
		const struct tm_traceback_rec *tb =
			tm_traceback_get(found.traceback);
		ret->address = (uintptr_t)found.address;
		ret->size = (size_t)found.size;
		ret->domain = found.domain;
		ret->nframe = tb->nframe;
		ret->total_nframe = tb->total_nframe;
		n = 0;
		for (; (size_t)n < max_frames && n < tb->nframe; n++)
			frames[n] = (uintptr_t)tb->frames[n];
		if (taken)
			tm_spin_unlock(&tm_rt.intern.lock);
	}
	if (entered)
		tm_guard_leave();
	return n;
}

int tm_take_snapshot(struct tm_raw_snapshot *ret)
{
	int err = 0;

	tm_spin_lock(&tm_rt.control_lock);
	if (!tm_is_tracing()) {
		err = -ENODATA;
		goto out;
	}
	lock_table();
	size_t size = (tm_rt.region.used + TM_LAYOUT_PAGE_SIZE - 1) &
		      ~(size_t)(TM_LAYOUT_PAGE_SIZE - 1);
	void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy != MAP_FAILED) {
		memcpy(copy, tm_rt.region.base, tm_rt.region.used);
		// The copy is a table at rest: no locks held, sized to fit.
		struct tm_header_rec *h =
			(void *)((uint8_t *)copy + TM_LAYOUT_HEADER_OFFSET);
		struct tm_shard_rec *shards =
			(void *)((uint8_t *)copy + h->shards);
		for (unsigned s = 0; s < TM_SHARD_COUNT; s++)
			shards[s].lock = 0;
		h->region_size = size;
		ret->data = copy;
		ret->size = size;
	} else {
		err = -ENOMEM;
	}
	unlock_table();
out:
	tm_spin_unlock(&tm_rt.control_lock);
	return err;
}

void tm_raw_snapshot_release(struct tm_raw_snapshot *snap)
{
	if (snap && snap->data) {
		munmap(snap->data, snap->size);
		snap->data = NULL;
		snap->size = 0;
	}
}
