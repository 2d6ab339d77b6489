// hooks.c: the malloc family, interposed by LD_PRELOAD or by linking.
//
// Each hook calls the real allocator (the next definition in symbol lookup
// order, found with dlsym(RTLD_NEXT)) and, while tracing, records or forgets
// the block.  A trace is removed *before* the real free or realloc runs:
// afterwards another thread may already have been handed the same address.
#include "record.h"
#include "runtime.h"
#include "table.h"

#include "guard.h"
#include "prim.h"
#include "tm/tracemalloc.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef void *(*valloc_fn)(size_t);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;
static posix_memalign_fn real_posix_memalign;
static memalign_fn real_aligned_alloc;
static memalign_fn real_memalign;
static valloc_fn real_valloc;
static valloc_fn real_pvalloc;

// dlsym() itself may call calloc before real_calloc is known; such early
// requests are served from this static heap and never freed.
#define BOOT_HEAP_SIZE (64 * 1024)
static _Alignas(64) unsigned char boot_heap[BOOT_HEAP_SIZE];
static size_t boot_used;
// Set while resolve() runs: volatile, or the compiler, seeing that no
// other code reads it, drops both stores, and an allocation inside dlsym()
// (a static program's dlsym fails, and its error message is allocated)
// resolves again, without end.
static volatile int resolving;
static bool static_program;

struct boot_header {
	size_t size;
	size_t pad;
};

static void *boot_alloc(size_t size, size_t align)
{
	// As the real functions do: an alignment that is not a power of two
	// is refused.
	if (align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	if (align < 16)
		align = 16;
	for (;;) {
		size_t used = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
		size_t start = (used + sizeof(struct boot_header) + align - 1) &
			       ~(align - 1);
		if (start + size > BOOT_HEAP_SIZE || start + size < start)
			return NULL;
		if (__atomic_compare_exchange_n(&boot_used, &used, start + size,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			struct boot_header *h =
				(void *)(boot_heap + start - sizeof(*h));
			h->size = size;
			return boot_heap + start; // static memory is zeroed
		}
	}
}

static bool is_boot(const void *p)
{
	return (const unsigned char *)p >= boot_heap &&
	       (const unsigned char *)p < boot_heap + BOOT_HEAP_SIZE;
}

#ifndef PIC
// A fully static program (linked with -static) has no symbols for
// dlsym(RTLD_NEXT) to find: the C library's allocator is linked in, under
// its internal names as well, and the runtime's definitions take the
// public ones (the link needs -z muldefs: both define malloc and free).
// Only the static archive, built without -DPIC, names them; libc.so
// exports them too, so the archive still links into dynamic programs,
// which never call them.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

// posix_memalign's internal name is not exported from libc.so.
static int libc_posix_memalign(void **ret, size_t align, size_t size)
{
	if (!align || (align & (align - 1)) || align % sizeof(void *) != 0)
		return EINVAL;
	void *p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*ret = p;
	return 0;
}

static malloc_fn use_libc_internal_names(void)
{
	real_calloc = __libc_calloc;
	real_realloc = __libc_realloc;
	real_free = __libc_free;
	real_posix_memalign = libc_posix_memalign;
	real_aligned_alloc = __libc_memalign;
	real_memalign = __libc_memalign;
	real_valloc = __libc_valloc;
	real_pvalloc = __libc_pvalloc;
	static_program = true;
	return __libc_malloc;
}
#endif

static bool resolve(void)
{
	if (resolving)
		return false;
	resolving = 1;
	real_calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
	real_realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
	real_free = (free_fn)dlsym(RTLD_NEXT, "free");
	real_posix_memalign =
		(posix_memalign_fn)dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (memalign_fn)dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (memalign_fn)dlsym(RTLD_NEXT, "memalign");
	real_valloc = (valloc_fn)dlsym(RTLD_NEXT, "valloc");
	real_pvalloc = (valloc_fn)dlsym(RTLD_NEXT, "pvalloc");
	// malloc last: it is the flag that the rest is ready.
	malloc_fn m = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
#ifndef PIC
	if (!m && !real_calloc && !real_free)
		m = use_libc_internal_names();
#endif
	resolving = 0;
	if (!m || !real_calloc || !real_realloc || !real_free) {
		tm_diag("cannot find the real malloc functions; is "
			"libtracemalloc loaded twice?",
			NULL);
		return false;
	}
	__atomic_store_n(&real_malloc, m, __ATOMIC_RELEASE);
	return true;
}

void tm_hooks_init(void)
{
	if (!__atomic_load_n(&real_malloc, __ATOMIC_ACQUIRE))
		resolve();
}

bool tm_hooks_static_program(void)
{
	return static_program;
}

static inline bool ready(void)
{
	return __builtin_expect(
		       __atomic_load_n(&real_malloc, __ATOMIC_ACQUIRE) != NULL,
		       1) ||
	       resolve();
}

TM_PUBLIC TM_RUNTIME_TEXT void *malloc(size_t size)
{
	if (!ready())
		return boot_alloc(size, 16);
	if (!tm_tracing() || !tm_guard_enter())
		return real_malloc(size);
	void *p = real_malloc(size);
	if (p)
		tm_record(0, (uintptr_t)p, size, __builtin_frame_address(0));
	tm_guard_leave();
	return p;
}

TM_PUBLIC TM_RUNTIME_TEXT void *calloc(size_t count, size_t size)
{
	if (!ready()) {
		if (size && count > SIZE_MAX / size)
			return NULL;
		return boot_alloc(count * size, 16);
	}
	if (!tm_tracing() || !tm_guard_enter())
		return real_calloc(count, size);
	void *p = real_calloc(count, size);
	if (p)
		tm_record(0, (uintptr_t)p, count * size,
			  __builtin_frame_address(0));
	tm_guard_leave();
	return p;
}

TM_PUBLIC TM_RUNTIME_TEXT void free(void *p)
{
	struct tm_trace_found old;

	if (!p || is_boot(p) || !ready())
		return;
	if (tm_tracing() && tm_guard_enter()) {
		// The real free will read the block's header (glibc keeps it
		// just before the block): start that cache miss now, so it
		// overlaps the table's own.
		__builtin_prefetch((char *)p - 16, 1);
		tm_forget(0, (uintptr_t)p, &old);
		tm_guard_leave();
	}
	real_free(p);
}

static void *realloc_boot(void *p, size_t size)
{
	const struct boot_header *h =
		(const void *)((unsigned char *)p - sizeof(*h));
	void *q = malloc(size);

	if (q)
		memcpy(q, p, h->size < size ? h->size : size);
	return q;
}

TM_PUBLIC TM_RUNTIME_TEXT void *realloc(void *p, size_t size)
{
	struct tm_trace_found old;

	if (!ready())
		return p ? NULL : boot_alloc(size, 16);
	if (is_boot(p))
		return realloc_boot(p, size);
	if (!tm_tracing() || !tm_guard_enter())
		return real_realloc(p, size);
	uint64_t epoch = __atomic_load_n(&tm_rt.epoch, __ATOMIC_ACQUIRE);
	bool had = p && tm_forget(0, (uintptr_t)p, &old);
	void *q = real_realloc(p, size);
	if (q) {
		tm_record(0, (uintptr_t)q, size, __builtin_frame_address(0));
	} else if (had && size != 0) {
		// The block did not move and was not freed: it keeps its trace.
		int64_t delta;
		if (tm_table_put(tm_table_shard(0, old.address), 0, old.address,
				 old.size, old.traceback, epoch, &delta))
			tm_account(delta);
	}
	tm_guard_leave();
	return q;
}

TM_PUBLIC TM_RUNTIME_TEXT void *reallocarray(void *p, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, count * size);
}

TM_PUBLIC TM_RUNTIME_TEXT int posix_memalign(void **ret, size_t align,
					     size_t size)
{
	if (!ready()) {
		if (!align || (align & (align - 1)) ||
		    align % sizeof(void *) != 0)
			return EINVAL;
		return (*ret = boot_alloc(size, align)) ? 0 : ENOMEM;
	}
	if (!tm_tracing() || !tm_guard_enter())
		return real_posix_memalign(ret, align, size);
	int err = real_posix_memalign(ret, align, size);
	if (err == 0)
		tm_record(0, (uintptr_t)*ret, size, __builtin_frame_address(0));
	tm_guard_leave();
	return err;
}

// The functions that take (alignment, size) or (size) and return a block.
#define ALIGNED_HOOK(name, real, params, args, boot_align, size)               \
	TM_PUBLIC TM_RUNTIME_TEXT void *name params                            \
	{                                                                      \
		if (!ready())                                                  \
			return boot_alloc(size, boot_align);                   \
		if (!tm_tracing() || !tm_guard_enter())                        \
			return real args;                                      \
		void *p = real args;                                           \
		if (p)                                                         \
			tm_record(0, (uintptr_t)p, size,                       \
				  __builtin_frame_address(0));                 \
		tm_guard_leave();                                              \
		return p;                                                      \
	}

ALIGNED_HOOK(aligned_alloc, real_aligned_alloc, (size_t align, size_t size),
	     (align, size), align, size)
ALIGNED_HOOK(memalign, real_memalign, (size_t align, size_t size),
	     (align, size), align, size)
ALIGNED_HOOK(valloc, real_valloc, (size_t size), (size), 4096, size)
ALIGNED_HOOK(pvalloc, real_pvalloc, (size_t size), (size), 4096, size)

// malloc and free as the program's libraries call them: through pointers
// the dynamic linker resolved (volatile, so that the compiler neither
// calls the runtime's own definitions directly nor drops the pair).
static void *(*volatile call_malloc)(size_t) = malloc;
static void (*volatile call_free)(void *) = free;

// Whether the last call reached one of the hooks (the guard is held).
static bool reached(void)
{
	bool yes = tm_guard_depth == TM_GUARD_HOOK_REACHED;

	tm_guard_depth = 1;
	return yes;
}

// Who defines @name first, for a message.
static const char *first_definer(const char *name)
{
	void *first = dlsym(RTLD_DEFAULT, name);
	const ElfW(Sym) *symbol = NULL;
	Dl_info where;

	// A program that takes the function's address holds an entry of its
	// own (undefined there) that lookups find first: it is not the one.
	if (!first ||
	    !dladdr1(first, &where, (void **)&symbol, RTLD_DL_SYMENT) ||
	    !where.dli_fname || !*where.dli_fname ||
	    (symbol && symbol->st_shndx == SHN_UNDEF))
		return "another library";
	return where.dli_fname;
}

// One block of one byte, allocated and freed: only malloc and free, whose
// blocks are each other's in any allocator (a replacement may leave
// pvalloc, say, to glibc, and free its block with its own free).  Runs
// with the guard held, so that the hooks pass the calls straight on.
void tm_hooks_check_interposed(void)
{
	void *block = call_malloc(1);
	bool malloc_reached = reached();
	call_free(block);
	bool free_reached = reached();

	if (malloc_reached && free_reached)
		return;
	const char *which = !malloc_reached && !free_reached ? "malloc and free"
			    : !malloc_reached		     ? "malloc"
							     : "free";
	tm_diag(first_definer(malloc_reached ? "free" : "malloc"), " defines ",
		which,
		" before the runtime: what is allocated through them is not "
		"traced (an allocator preloaded after libtracemalloc.so in "
		"LD_PRELOAD is)",
		NULL);
}
