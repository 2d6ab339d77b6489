// stackcache.c: remember recent call stacks per thread, so an allocation
// from a stack seen before costs a few loads instead of a full unwind.
//
// A DWARF unwind of ~25 frames costs ~300 ns, and total_nframe needs every
// frame.  But a stack is identified by where its return addresses are and
// what they are: when the hook's return-address slot is at the same address,
// and every slot the last full unwind found still holds the same return
// address, the unwinder would walk the same frames again, provided no frame
// changed size (below).  So on a miss we unwind in full and record, for
// each frame, the stack slot that holds its return address; on a hit we
// compare those slots and reuse the interned traceback, total_nframe
// included.
//
// Slots are found by scanning upward from the hook's slot for each return
// address in turn.  Stacks often differ (a C++ program can miss on half
// its allocations), and the scan of a deep stack read ~15 KB a miss; so
// each thread also remembers, for each return address, how far above its
// slot the next frame's slot was, and looks there first.  And a stack is
// stored only when it is unwound the third time: most stacks of such a
// program are never seen again, and of those seen twice most are not seen
// a third time before another stack takes their entry.
//
// A function whose frame size varies (alloca, a variable-length array)
// moves the slot of its own return address.  If a new caller leaves
// uninitialized the memory where the return address into the old caller
// was, every slot checked still holds its old value
// (tests/programs/varframes.c builds the case).  Such a function keeps a
// frame pointer, and that moves with it: so the saved frame pointers found
// among the registers each function pushed are compared too
// (add_frame_pointer_checks).
//
// Only stacks whose hook ran inside the thread's own stack are cached: a
// coroutine's stack or a sigaltstack mapped elsewhere never is (one that is
// an array on the thread's stack is, like any frames there).  Every load,
// on a miss or a hit, stays between the hook's frame and the top of the
// thread's stack, so it cannot fault.
#include "stackcache.h"

#include "runtime.h"

#include "prim.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

// A scan looks this far up the stack at most.
#define MAX_SCAN ((uintptr_t)256 << 10)
_Static_assert(MAX_SCAN / sizeof(uint64_t) + 1 <= UINT16_MAX,
	       "offsets are 16-bit");

__thread struct tm_stack_cache *tm_thread_stack_cache
	__attribute__((tls_model("initial-exec")));
// 1 once this thread's stack is known not to be cacheable.
static __thread int thread_uncacheable
	__attribute__((tls_model("initial-exec")));

// Caches of threads that exited, for new threads to reuse.
static struct tm_stack_cache *free_caches;
// Bytes mapped for caches, for tm_get_tracemalloc_memory().
static size_t mapped_bytes;
static uint32_t free_lock;
static pthread_key_t exit_key;
static int exit_key_ready;

extern void *__libc_stack_end;

// glibc's pthread_getattr_np holds the thread's own lock while it calls
// realloc (the JVM asks for every new thread's stack this way).  Asked
// again from inside, it would wait for that lock forever; so a thread
// learns where its stack ends from a stack without it.  Its code, found
// at start:
static uintptr_t getattr_start, getattr_end;

static void find_getattr(void)
{
	// dlsym finds glibc's definition even where a program that takes
	// the function's address has a stub of its own.
	void *f = dlsym(RTLD_DEFAULT, "pthread_getattr_np");
	Dl_info info;
	const ElfW(Sym) *sym = NULL;

	if (!f)
		f = (void *)pthread_getattr_np;
	getattr_start = (uintptr_t)f;
	if (dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) && sym &&
	    sym->st_size)
		getattr_end = getattr_start + sym->st_size;
	else // a static program: no symbol sizes, so a generous guess
		getattr_end = getattr_start + 4096;
}

static bool inside_getattr(void *const *pcs, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		// A return address may be just past its call's function.
		uintptr_t pc = (uintptr_t)pcs[i] - 1;
		if (pc >= getattr_start && pc < getattr_end)
			return true;
	}
	return false;
}

static void release_cache(struct tm_stack_cache *c)
{
	tm_spin_lock(&free_lock);
	c->next_free = free_caches;
	free_caches = c;
	tm_spin_unlock(&free_lock);
}

// A thread exits: a new thread may take its cache, spare stack included,
// at once.  The destructors that run after this one may still allocate;
// they do so without a cache, and never on that spare stack.
static void thread_exits(void *arg)
{
	tm_thread_stack_cache = NULL;
	thread_uncacheable = 1;
	release_cache(arg);
}

// Held around fork: a child must not inherit it held by another thread.
uint32_t *tm_stack_cache_fork_lock(void)
{
	return &free_lock;
}

size_t tm_stack_cache_memory(void)
{
	return __atomic_load_n(&mapped_bytes, __ATOMIC_RELAXED);
}

void tm_stack_cache_init(void)
{
	if (!exit_key_ready && pthread_key_create(&exit_key, thread_exits) == 0)
		exit_key_ready = 1;
	find_getattr();
}

// The bounds of this thread's stack, or false if unknown.
static bool stack_bounds(uintptr_t *low, uintptr_t *high)
{
	if (getpid() == gettid()) {
		// The main thread: everything from here up to where the
		// kernel put argv and the environment.  Its stack grows on
		// demand, so the bound below it is a size, not a mapping; the
		// kernel keeps mmap()ed memory (a coroutine's stack, say) at
		// least 128 MB below the stack's top.
		*high = (uintptr_t)__libc_stack_end;
		*low = *high - ((uintptr_t)64 << 20);
		// Held to less by `ulimit -s`, it ends that far below its
		// top, which lies just above the program's file name: the
		// kernel puts the name there, under one null pointer.  (Run
		// as `ld.so PROGRAM`, the name is PROGRAM's argument string,
		// a little lower: the bound is then a little cautious.)
		struct rlimit limit;
		const char *name = (const char *)getauxval(AT_EXECFN);
		if (*high && name && getrlimit(RLIMIT_STACK, &limit) == 0 &&
		    limit.rlim_cur != RLIM_INFINITY) {
			uintptr_t top = (uintptr_t)name + strlen(name) + 1 +
					sizeof(void *);
			if (top > *high && limit.rlim_cur < top - *low &&
			    limit.rlim_cur > top - *high)
				*low = top - limit.rlim_cur;
		}
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

struct tm_stack_cache *tm_stack_cache_prepare(void)
{
	struct tm_stack_cache *c = tm_thread_stack_cache;

	if (c || thread_uncacheable || !exit_key_ready)
		return c;
	tm_spin_lock(&free_lock);
	c = free_caches;
	if (c)
		free_caches = c->next_free;
	tm_spin_unlock(&free_lock);
	if (c) {
		void *spare_stack = c->spare_stack;
		memset(c, 0, sizeof(*c));
		c->spare_stack = spare_stack;
	} else {
		// Zero already, and left untouched: a thread makes resident
		// only the entries and memo words it uses (2,000 threads,
		// each allocating from one stack: 200 MB less).
		void *p = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			thread_uncacheable = 1;
			return NULL;
		}
		c = p;
		__atomic_fetch_add(&mapped_bytes, sizeof(*c), __ATOMIC_RELAXED);
	}
	pthread_setspecific(exit_key, c);
	tm_thread_stack_cache = c;
	return c;
}

void *tm_stack_cache_map_spare_stack(struct tm_stack_cache *c)
{
	// The guard page below it makes an overflow a crash rather than a
	// silent write into whatever lies below.  Untouched pages stay
	// unbacked: an unwind leaves about 8 KiB of it resident.
	size_t size = TM_SPARE_STACK_SIZE + 4096;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, 4096, PROT_NONE) != 0) {
		munmap(p, size);
		return NULL;
	}
	__atomic_fetch_add(&mapped_bytes, size, __ATOMIC_RELAXED);
	c->spare_stack = p + size;
	return c->spare_stack;
}

// A slot above the slot @at (which holds @here) that holds return address
// @want: where the caller's frame ended last time if it is there, else the
// first one up to @limit; 0 if there is none.  @here comes from the
// unwind, not from a load at @at, so the memo is read while earlier frames
// are still being checked.
static uintptr_t next_slot(struct tm_stack_cache *c, uintptr_t at,
			   uint64_t here, uint64_t want, uintptr_t limit)
{
	uint64_t *memo = tm_frame_memo_of(c, here);
	if (tm_frame_memo_is_for(*memo, here)) {
		uintptr_t guess =
			at + tm_frame_memo_words(*memo) * sizeof(uint64_t);
		if (guess <= limit && *(const uint64_t *)guess == want)
			return guess;
	}
	uintptr_t found = at;
	do
		found += sizeof(uint64_t);
	while (found <= limit && *(const uint64_t *)found != want);
	if (found > limit)
		return 0;
	*memo = tm_frame_memo_make(here, (found - at) / sizeof(uint64_t));
	return found;
}

// Low bits of a seen[] word: how many times its stack was unwound, less
// one.  The rest is the stack's hash.
#define SEEN_COUNT_MASK ((uint64_t)3)
_Static_assert(TM_STACK_CACHE_UNWINDS_TO_STORE >= 2 &&
		       TM_STACK_CACHE_UNWINDS_TO_STORE - 1 <= SEEN_COUNT_MASK,
	       "the count fits its bits");

// True if this thread has now unwound the stack @pcs (@count return
// addresses, hook slot @slot) TM_STACK_CACHE_UNWINDS_TO_STORE times since
// its seen[] word was last taken by another stack; otherwise counts this
// unwind and returns false.
static bool seen_enough(struct tm_stack_cache *c, uintptr_t slot,
			void *const *pcs, unsigned count)
{
	_Static_assert(TM_SEEN_STACKS == 64, "six bits of hash");
	_Static_assert(sizeof(pcs[0]) == sizeof(uint64_t), "a pc is a word");
	uint64_t key = tm_hash_words(tm_fibonacci_hash(slot) ^ count,
				     (const uint64_t *)pcs, count) &
		       ~SEEN_COUNT_MASK;
	uint64_t *seen = &c->seen[key >> 58];
	if ((*seen & ~SEEN_COUNT_MASK) != key) {
		*seen = key; // unwound once
		return false;
	}
	uint64_t unwinds = (*seen & SEEN_COUNT_MASK) + 2; // this one too
	if (unwinds >= TM_STACK_CACHE_UNWINDS_TO_STORE)
		return true;
	*seen += 1;
	return false;
}

// Storing a stack costs more than unwinding it, and an entry is taken by
// every stack whose innermost frame hashes there.  A function that
// allocates on behalf of many callers (an interpreter's object allocator)
// has its entry taken over and over, each stack replaced before it is hit
// again.  So each stack replaced there without a hit doubles the tries
// between stores, up to one store in 2^TM_STACK_CACHE_MAX_WASTED tries; a
// hit starts over.  True if a stack may be stored in @e now.
static bool admit(struct tm_stack_cache_entry *e, uint64_t epoch)
{
	bool holds = e->slot && e->epoch == epoch;

	// A hit starts over, and so does tracing started or cleared since
	// the entry was stored.
	if (!holds || e->hit) {
		e->wasted = 0;
		e->passed_over = 0;
	}
	if (e->passed_over + 1u < 1u << e->wasted) {
		e->passed_over++;
		return false;
	}
	e->passed_over = 0;
	if (holds && !e->hit && e->wasted < TM_STACK_CACHE_MAX_WASTED)
		e->wasted++;
	e->hit = 0;
	return true;
}

// The return-address slots of an entry being stored, for the search for
// saved frame pointers: their offsets (ascending, in words from @base),
// and a bitmap of them modulo 256 that turns most other words away at
// once.
struct slot_set {
	const uint16_t *offset;
	unsigned count;
	uint64_t bits[4];
};

static void slot_set_init(struct slot_set *set,
			  const struct tm_stack_cache_entry *e, unsigned count)
{
	set->offset = e->offset;
	set->count = count;
	memset(set->bits, 0, sizeof(set->bits));
	for (unsigned m = 0; m < count; m++)
		set->bits[(e->offset[m] >> 6) & 3] |= 1ULL
						      << (e->offset[m] & 63);
}

// True if a slot past the first @from is at offset @want.
static bool slot_set_has(const struct slot_set *set, unsigned from,
			 uint64_t want)
{
	if (!(set->bits[(want >> 6) & 3] >> (want & 63) & 1))
		return false;
	unsigned lo = from, hi = set->count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (set->offset[mid] < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->count && set->offset[lo] == want;
}

// Where a function saves the frame pointer register on entry: at most five
// words below its return address.  GCC pushes r15, r14, r13, r12, rbp and
// rbx in that order, only those it uses; Clang, and code built with frame
// pointers, push rbp first.
#define SAVED_WORDS 5

// Add to @e (its first @checks words are the frames' slots, offsets from
// @base) the saved frame pointers of frames above: the words to compare
// besides the slots.  Returns the new count, or 0 if they do not fit.
//
// A frame whose size varies (alloca, a variable-length array) moves the
// slots below it while the slots themselves may still hold stale copies
// of the return addresses they held before.  Such a frame always keeps a
// frame pointer, the address just below its own return address, and some
// function below saves it with the registers it pushes on entry (the hook
// saves it, at @base, if none did before).  So where a pushed register
// held a frame pointer of a recorded frame, a hit must find it again:
// when the frame moves, so does its frame pointer.  In code built without
// frame pointers this adds few words; in code built with them, one a
// frame.
static unsigned add_frame_pointer_checks(struct tm_stack_cache_entry *e,
					 unsigned checks, uintptr_t base)
{
	const size_t word_size = sizeof(uint64_t);
	uintptr_t outermost = base + e->offset[checks - 1] * word_size;
	struct slot_set set = { .count = 0 }; // filled when first needed
	unsigned n = checks;
	// Below the first slot only the hook's own saved register.
	uintptr_t below = base - word_size;
	uintptr_t top = base + e->offset[0] * word_size;

	// The outermost frame has no frame above it.
	for (unsigned k = 0; k + 1 < checks; k++) {
		uintptr_t next = base + e->offset[k + 1] * word_size;
		if (top - below > (SAVED_WORDS + 1) * word_size)
			below = top - (SAVED_WORDS + 1) * word_size;
		// The frame pointers of the frames above are the addresses
		// from next - 8 to outermost - 8.
		uint64_t nearest = next - word_size;
		for (uintptr_t at = top - word_size; at > below;
		     at -= word_size) {
			uint64_t word = *(const uint64_t *)at;
			if (word - nearest > outermost - next ||
			    word % word_size)
				continue;
			if (word != nearest) {
				if (!set.count)
					slot_set_init(&set, e, checks);
				if (!slot_set_has(&set, k + 2,
						  (word - base) / word_size +
							  1))
					continue;
			}
			if (n == TM_STACK_CACHE_CHECKS)
				return 0;
			e->offset[n] = (uint16_t)((at - base) / word_size);
			e->value[n++] = word;
		}
		below = top;
		top = next;
	}
	return n;
}

void tm_stack_cache_store(const void *hook_frame, void *const *pcs,
			  unsigned count, bool complete, uint32_t ref,
			  uint64_t epoch)
{
	struct tm_stack_cache *c = tm_thread_stack_cache;
	uintptr_t base = (uintptr_t)hook_frame;

	if (c && !c->bounds && !inside_getattr(pcs, count))
		c->bounds =
			stack_bounds(&c->stack_low, &c->stack_high) ? 1 : -1;
	uintptr_t slot = base + sizeof(uint64_t);

	// An unwind that filled its buffer may have stopped early.
	if (!c || !complete || !tm_stack_cache_covers(c, slot))
		return;
	uint64_t value = *(const uint64_t *)slot;
	unsigned first = 0;
	while (first < count && (uintptr_t)pcs[first] != value)
		first++;
	if (first == count || count - first > TM_STACK_CACHE_CHECKS ||
	    !seen_enough(c, slot, pcs + first, count - first))
		return;
	struct tm_stack_cache_entry *e =
		tm_stack_cache_entry_for(c, slot, value);
	if (!admit(e, epoch))
		return;
	uintptr_t limit = c->stack_high - sizeof(uint64_t);
	if (limit - slot > MAX_SCAN)
		limit = slot + MAX_SCAN;
	uintptr_t at = slot;
	e->slot = 0; // invalid until complete
	e->value[0] = value;
	e->offset[0] = 1;
	for (unsigned k = 1; first + k < count; k++) {
		uint64_t want = (uintptr_t)pcs[first + k];
		at = next_slot(c, at, (uintptr_t)pcs[first + k - 1], want,
			       limit);
		if (!at)
			return; // not on this stack (a signal frame, say)
		e->offset[k] = (uint16_t)((at - base) / sizeof(uint64_t));
		e->value[k] = want;
	}
	unsigned checks = add_frame_pointer_checks(e, count - first, base);
	if (!checks)
		return;
	e->checks = checks;
	for (unsigned k = checks; k < checks + 3; k++) {
		e->offset[k] = e->offset[0];
		e->value[k] = value;
	}
	e->ref = ref;
	e->epoch = epoch;
	e->slot = slot;
}
