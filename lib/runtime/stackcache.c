// stackcache.c: remember recent call stacks per thread, so an allocation
// from a stack seen before costs a few loads instead of a full unwind.
//
// A DWARF unwind of ~25 frames costs ~300 ns, and total_nframe needs every
// frame.  But a stack is identified by where its return addresses are and
// what they are: when the hook's return-address slot is at the same address,
// and every slot the last full unwind found still holds the same return
// address, the unwinder would walk the same frames again.  So on a miss we
// unwind in full and record, for each frame, the stack slot that holds its
// return address; on a hit we compare those slots and reuse the interned
// traceback, total_nframe included.
//
// Slots are found by scanning upward from the hook's slot for each return
// address in turn.  Only the thread's own stack is cached (not sigaltstack
// or coroutine stacks), and every load, on a miss or a hit, stays between
// the hook's slot and the top of that stack, so it cannot fault.
#include "runtime.h"

#include "prim.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ENTRIES 16
#define MAX_DEPTH 64
// A scan looks this far up the stack at most.
#define MAX_SCAN ((uintptr_t)256 << 10)
_Static_assert(MAX_SCAN / sizeof(uint64_t) <= UINT16_MAX, "offsets are 16-bit");

struct entry {
	uintptr_t slot; // the hook's return-address slot; 0 if unused
	uint64_t epoch;
	uint32_t ref;	// the interned traceback
	uint32_t depth; // slots to compare
	// Slot addresses, from `slot`, and the return addresses they held;
	// entries past `depth` up to the next multiple of four (plus one)
	// repeat entry 0, so find() can compare in fours.
	// Offsets are in words: MAX_SCAN / 8 fits, and fewer cache lines
	// are read on every hit.
	uint16_t offset[MAX_DEPTH + 3];
	uint64_t value[MAX_DEPTH + 3];
};

struct cache {
	struct cache *next_free;
	uintptr_t stack_low, stack_high; // this thread's stack
	struct entry entries[ENTRIES];
};

static __thread struct cache *thread_cache
	__attribute__((tls_model("initial-exec")));
// 1 once this thread's stack is known not to be cacheable.
static __thread int thread_uncacheable
	__attribute__((tls_model("initial-exec")));

// Caches of threads that exited, for new threads to reuse.
static struct cache *free_caches;
// Bytes mapped for caches, for tm_get_tracemalloc_memory().
static size_t mapped_bytes;
static uint32_t free_lock;
static pthread_key_t exit_key;
static int exit_key_ready;

extern void *__libc_stack_end;

static void release_cache(void *arg)
{
	struct cache *c = arg;

	tm_spin_lock(&free_lock);
	c->next_free = free_caches;
	free_caches = c;
	tm_spin_unlock(&free_lock);
}

// Around fork: a child must not inherit the lock held by another thread.
void tm_stack_cache_lock(void)
{
	tm_spin_lock(&free_lock);
}

void tm_stack_cache_unlock(void)
{
	tm_spin_unlock(&free_lock);
}

size_t tm_stack_cache_memory(void)
{
	return __atomic_load_n(&mapped_bytes, __ATOMIC_RELAXED);
}

void tm_stack_cache_init(void)
{
	if (!exit_key_ready &&
	    pthread_key_create(&exit_key, release_cache) == 0)
		exit_key_ready = 1;
}

// The bounds of this thread's stack, or false if unknown.
static bool stack_bounds(uintptr_t *low, uintptr_t *high)
{
	if (getpid() == gettid()) {
		// The main thread: everything from here up to where the
		// kernel put argv and the environment.
		*high = (uintptr_t)__libc_stack_end;
		*low = *high - ((uintptr_t)64 << 20);
		return *high != 0;
	}
	pthread_attr_t attr;
	void *addr;
	size_t size;
	// This may allocate (glibc's cpuset), under the guard: untraced.
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return false;
	bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
	pthread_attr_destroy(&attr);
	*low = (uintptr_t)addr;
	*high = (uintptr_t)addr + size;
	return ok;
}

static struct cache *get_cache(void)
{
	struct cache *c = thread_cache;

	if (c || thread_uncacheable || !exit_key_ready)
		return c;
	tm_spin_lock(&free_lock);
	c = free_caches;
	if (c)
		free_caches = c->next_free;
	tm_spin_unlock(&free_lock);
	if (!c) {
		void *p = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			thread_uncacheable = 1;
			return NULL;
		}
		c = p;
		__atomic_fetch_add(&mapped_bytes, sizeof(*c), __ATOMIC_RELAXED);
	}
	memset(c, 0, sizeof(*c));
	if (!stack_bounds(&c->stack_low, &c->stack_high)) {
		thread_uncacheable = 1;
		release_cache(c);
		return NULL;
	}
	pthread_setspecific(exit_key, c);
	thread_cache = c;
	return c;
}

static inline struct entry *entry_for(struct cache *c, uintptr_t slot,
				      uint64_t value)
{
	uint64_t h = (slot ^ value) * 0x9e3779b97f4a7c15ULL;
	return &c->entries[h >> 60];
}

static inline bool on_stack(const struct cache *c, uintptr_t slot)
{
	return slot > c->stack_low && slot + 8 <= c->stack_high;
}

uint32_t tm_stack_cache_find(const void *hook_frame, uint64_t epoch)
{
	struct cache *c = thread_cache;
	uintptr_t slot = (uintptr_t)hook_frame + sizeof(void *);

	if (!c || !on_stack(c, slot))
		return 0;
	uint64_t value = *(const uint64_t *)slot;
	struct entry *e = entry_for(c, slot, value);
	if (e->slot != slot || e->epoch != epoch || e->value[0] != value)
		return 0;
	// A hit is the common case: compare every frame without a branch
	// each, four at a time.
	uint64_t diff = 0;
	for (uint32_t k = 1; k < e->depth; k += 4)
		diff |= (((const uint64_t *)slot)[e->offset[k]] ^ e->value[k]) |
			(((const uint64_t *)slot)[e->offset[k + 1]] ^
			 e->value[k + 1]) |
			(((const uint64_t *)slot)[e->offset[k + 2]] ^
			 e->value[k + 2]) |
			(((const uint64_t *)slot)[e->offset[k + 3]] ^
			 e->value[k + 3]);
	return diff ? 0 : e->ref;
}

void tm_stack_cache_store(const void *hook_frame, void *const *pcs,
			  unsigned count, bool complete, uint32_t ref,
			  uint64_t epoch)
{
	struct cache *c = get_cache();
	uintptr_t slot = (uintptr_t)hook_frame + sizeof(void *);

	// An unwind that filled its buffer may have stopped early.
	if (!c || !complete || !on_stack(c, slot))
		return;
	uint64_t value = *(const uint64_t *)slot;
	unsigned first = 0;
	while (first < count && (uintptr_t)pcs[first] != value)
		first++;
	if (first == count || count - first > MAX_DEPTH)
		return;
	struct entry *e = entry_for(c, slot, value);
	uintptr_t limit = c->stack_high - sizeof(uint64_t);
	if (limit - slot > MAX_SCAN)
		limit = slot + MAX_SCAN;
	uintptr_t at = slot;
	e->slot = 0; // invalid until complete
	e->value[0] = value;
	e->offset[0] = 0;
	for (unsigned k = 1; first + k < count; k++) {
		uint64_t want = (uintptr_t)pcs[first + k];
		do
			at += sizeof(uint64_t);
		while (at <= limit && *(const uint64_t *)at != want);
		if (at > limit)
			return; // not on this stack (a signal frame, say)
		e->offset[k] = (uint16_t)((at - slot) / sizeof(uint64_t));
		e->value[k] = want;
	}
	e->depth = count - first;
	for (unsigned k = e->depth; k < e->depth + 3; k++) {
		e->offset[k] = 0;
		e->value[k] = value;
	}
	e->ref = ref;
	e->epoch = epoch;
	e->slot = slot;
}
