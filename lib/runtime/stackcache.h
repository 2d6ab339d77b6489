// stackcache.h: per-thread memory of recent call stacks (stackcache.c says
// how it works).  The lookup runs on every traced allocation, so it is
// inline here; filling the cache after a full unwind is not.
#ifndef TM_RUNTIME_STACKCACHE_H
#define TM_RUNTIME_STACKCACHE_H

#include "prim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// With 16 entries the runtime executed 15% more instructions in python3
// (building and parsing JSON) and 3.6% more in cppcheck; each entry is 1.3
// KiB of address space, touched as it is used.
#define TM_STACK_CACHE_ENTRIES 64
// Words compared on a hit: one per frame, and one per saved frame pointer
// found (stackcache.c, add_frame_pointer_checks); up to two per frame in
// code built with frame pointers.
#define TM_STACK_CACHE_CHECKS 128
// An entry whose stacks keep being replaced before a hit stores one in
// 2^this at most (stackcache.c, admit).
#define TM_STACK_CACHE_MAX_WASTED 6

struct tm_stack_cache_entry {
	uintptr_t slot; // the hook's return-address slot; 0 if unused
	uint64_t epoch;
	uint32_t ref;	 // the interned traceback
	uint32_t checks; // words to compare
	// Whether this stack was hit; how many stacks stored here in a row
	// were replaced without a hit; stores passed over since (stackcache.c,
	// admit).
	uint8_t hit, wasted;
	uint16_t passed_over;
	// Word addresses, in words from the hook's frame (slot - 8; 16 bits
	// cover the longest scan, so fewer cache lines are read on every
	// hit), and the words they held: first each frame's return-address
	// slot, innermost first, then the saved frame pointers.  Entries past
	// `checks` up to the next multiple of four (plus one) repeat entry 0,
	// so a lookup can compare in fours.
	uint16_t offset[TM_STACK_CACHE_CHECKS + 3];
	uint64_t value[TM_STACK_CACHE_CHECKS + 3];
};

// A C++ program's stores meet thousands of return addresses; with 256
// entries 7% of them missed the memo and each miss scanned ~120 words.
#define TM_FRAME_MEMO_ENTRIES 4096
#define TM_SEEN_STACKS 64
// A stack is remembered when it is unwound this many times (stackcache.c,
// seen_enough).
#define TM_STACK_CACHE_UNWINDS_TO_STORE 3

// How many words above the slot holding a return address the next frame's
// slot was found last time (stackcache.c, next_slot), in one word: the
// return address in the high 48 bits (user-space code lies below 2^47;
// should two addresses share them, the guess is checked anyway), the
// distance in the low 16 (MAX_SCAN bounds it).
static inline uint64_t tm_frame_memo_make(uint64_t pc, uint64_t words)
{
	return pc << 16 | words;
}

static inline bool tm_frame_memo_is_for(uint64_t memo, uint64_t pc)
{
	return memo >> 16 == (pc << 16) >> 16 && memo != 0;
}

static inline uint64_t tm_frame_memo_words(uint64_t memo)
{
	return memo & 0xffff;
}

struct tm_stack_cache {
	struct tm_stack_cache *next_free;
	// This thread's stack, from its first unwind outside
	// pthread_getattr_np on (bounds 1; -1 if it cannot be known; until
	// then 0, and the bounds cover nothing).
	uintptr_t stack_low, stack_high;
	int bounds;
	// The top of a stack of the runtime's own, which every unwind runs on
	// (record.c): mapped on the first, and kept with the cache when
	// another thread takes it over.
	void *spare_stack;
	struct tm_stack_cache_entry entries[TM_STACK_CACHE_ENTRIES];
	uint64_t frame_memo[TM_FRAME_MEMO_ENTRIES];
	// Stacks unwound and not stored yet, each with a count
	// (stackcache.c, seen_enough).
	uint64_t seen[TM_SEEN_STACKS];
};

// The memo word for return address @pc (one per hash of it).
static inline uint64_t *tm_frame_memo_of(struct tm_stack_cache *c, uint64_t pc)
{
	_Static_assert(TM_FRAME_MEMO_ENTRIES == 4096, "twelve bits of hash");
	return &c->frame_memo[tm_fibonacci_hash(pc) >> 52];
}

// This thread's cache, or NULL until its first unwind.
extern __thread struct tm_stack_cache *tm_thread_stack_cache
	__attribute__((tls_model("initial-exec")));

static inline struct tm_stack_cache_entry *
tm_stack_cache_entry_for(struct tm_stack_cache *c, uintptr_t slot,
			 uint64_t value)
{
	_Static_assert(TM_STACK_CACHE_ENTRIES == 64, "six bits of hash");
	return &c->entries[tm_fibonacci_hash(slot ^ value) >> 58];
}

static inline bool tm_stack_cache_covers(const struct tm_stack_cache *c,
					 uintptr_t slot)
{
	return slot > c->stack_low && slot + 8 <= c->stack_high;
}

// The traceback interned for the current stack, if this thread saw the
// same stack before; 0 otherwise.  @hook_frame is the allocator hook's
// frame address, whose return-address slot identifies the stack.
static inline uint32_t tm_stack_cache_find(const void *hook_frame,
					   uint64_t epoch)
{
	struct tm_stack_cache *c = tm_thread_stack_cache;
	const uint64_t *base = hook_frame;
	uintptr_t slot = (uintptr_t)(base + 1);

	if (!c || !tm_stack_cache_covers(c, slot))
		return 0;
	uint64_t value = base[1];
	struct tm_stack_cache_entry *e =
		tm_stack_cache_entry_for(c, slot, value);
	if (e->slot != slot || e->epoch != epoch || e->value[0] != value)
		return 0;
	// A hit is the common case: compare every word without a branch
	// each, four at a time.
	uint64_t diff = 0;
	for (uint32_t k = 1; k < e->checks; k += 4)
		diff |= (base[e->offset[k]] ^ e->value[k]) |
			(base[e->offset[k + 1]] ^ e->value[k + 1]) |
			(base[e->offset[k + 2]] ^ e->value[k + 2]) |
			(base[e->offset[k + 3]] ^ e->value[k + 3]);
	if (diff)
		return 0;
	e->hit = 1;
	return e->ref;
}

void tm_stack_cache_init(void);
// This thread's cache, set up on first use (its stack's bounds come with
// its first store); NULL if it cannot be mapped.
struct tm_stack_cache *tm_stack_cache_prepare(void);
// The top of @c's spare stack (TM_SPARE_STACK_SIZE bytes, above a guard
// page), or NULL if it cannot be mapped.  (tests/programs/threads.c
// refuses mappings of that size to test the runtime without it.)
#define TM_SPARE_STACK_SIZE ((size_t)64 << 10)
void *tm_stack_cache_map_spare_stack(struct tm_stack_cache *c);
static inline void *tm_stack_cache_spare_stack(struct tm_stack_cache *c)
{
	return c->spare_stack ? c->spare_stack
			      : tm_stack_cache_map_spare_stack(c);
}
size_t tm_stack_cache_memory(void);
// The lock fork must hold (control.c).
uint32_t *tm_stack_cache_fork_lock(void);
// Remember the stack just unwound (@pcs, innermost first; @complete if the
// unwind reached the stack's end) as interned traceback @ref.
void tm_stack_cache_store(const void *hook_frame, void *const *pcs,
			  unsigned count, bool complete, uint32_t ref,
			  uint64_t epoch);
extern int tm_stack_cache_enabled;

#endif // TM_RUNTIME_STACKCACHE_H
