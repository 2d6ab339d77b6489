// intern.c: traceback interning, so a million blocks from one call stack
// store that stack once (docs/layout.md, "Tracebacks").
//
// Tracebacks are immutable records in the region, found through a
// writer-private hash set of references.  A small per-thread cache in front
// of it keeps the set's lock off the common path: a thread that allocates
// from one place again and again finds its traceback without locking.
#include "runtime.h"

#include "prim.h"

#include <string.h>

#define CACHE_SIZE 32

struct cache_entry {
	uint32_t hash;
	uint32_t ref;
};

static __thread struct cache_entry cache[CACHE_SIZE]
	__attribute__((tls_model("initial-exec")));
static __thread uint64_t cache_epoch __attribute__((tls_model("initial-exec")));

static uint32_t hash_frames(const uint64_t *frames, unsigned nframe,
			    unsigned total_nframe)
{
	uint64_t h = tm_hash_words(
		0x9e3779b97f4a7c15ULL ^ ((uint64_t)total_nframe << 16) ^ nframe,
		frames, nframe);
	// 0 and 1 are never valid references; keep hashes clear of meaning.
	return (uint32_t)(h ^ (h >> 32));
}

static bool same(const struct tm_traceback_rec *tb, uint32_t hash,
		 const uint64_t *frames, unsigned nframe, unsigned total_nframe)
{
	return tb->hash == hash && tb->nframe == nframe &&
	       tb->total_nframe == total_nframe &&
	       memcmp(tb->frames, frames, nframe * sizeof(frames[0])) == 0;
}

static uint32_t *set_slots(void)
{
	return tm_region_ptr(&tm_rt.region, tm_rt.intern.slots);
}

// The set's arrays use free lists of their own, past the slot arrays'.
#define SET_LIST(capacity) (48 + (unsigned)__builtin_ctzll(capacity))

static bool set_grow(struct tm_intern *in)
{
	uint64_t capacity = in->capacity ? in->capacity * 2 : 1024;
	uint64_t offset = tm_region_alloc_block(
		&tm_rt.region, SET_LIST(capacity), capacity * sizeof(uint32_t));
	if (!offset)
		return false;
	uint32_t *fresh = tm_region_ptr(&tm_rt.region, offset);
	if (in->capacity) {
		uint32_t *old = set_slots();
		for (uint64_t i = 0; i < in->capacity; i++) {
			if (!old[i])
				continue;
			uint64_t j =
				tm_traceback_get(old[i])->hash & (capacity - 1);
			while (fresh[j])
				j = (j + 1) & (capacity - 1);
			fresh[j] = old[i];
		}
		tm_region_free_block(&tm_rt.region, SET_LIST(in->capacity),
				     in->slots,
				     in->capacity * sizeof(uint32_t));
	}
	in->slots = offset;
	in->capacity = capacity;
	return true;
}

// Store a new traceback record and return its reference, or 0.
static uint32_t store(uint32_t hash, const uint64_t *frames, unsigned nframe,
		      unsigned total_nframe)
{
	size_t size =
		sizeof(struct tm_traceback_rec) + nframe * sizeof(frames[0]);
	uint64_t offset =
		tm_region_alloc(&tm_rt.region, size, TM_LAYOUT_TRACEBACK_ALIGN);
	uint64_t ref = offset / TM_LAYOUT_TRACEBACK_ALIGN;

	if (!offset || ref > UINT32_MAX)
		return 0;
	struct tm_traceback_rec *tb = tm_region_ptr(&tm_rt.region, offset);
	tb->hash = hash;
	tb->nframe = (uint16_t)nframe;
	tb->total_nframe = (uint16_t)total_nframe;
	memcpy(tb->frames, frames, nframe * sizeof(frames[0]));
	return (uint32_t)ref;
}

uint32_t tm_intern(const uint64_t *frames, unsigned nframe,
		   unsigned total_nframe, uint64_t epoch, bool *fresh)
{
	struct tm_intern *in = &tm_rt.intern;
	uint32_t hash = hash_frames(frames, nframe, total_nframe);
	struct cache_entry *entry = &cache[hash % CACHE_SIZE];
	uint32_t ref = 0;

	*fresh = false;
	if (cache_epoch != epoch) {
		memset(cache, 0, sizeof(cache));
		cache_epoch = epoch;
	}
	if (entry->ref && entry->hash == hash &&
	    same(tm_traceback_get(entry->ref), hash, frames, nframe,
		 total_nframe))
		return entry->ref;

	tm_spin_lock(&in->lock);
	// A clear between the caller's epoch read and now would leave us
	// handing out a reference into dropped memory.
	if (__atomic_load_n(&tm_rt.epoch, __ATOMIC_RELAXED) != epoch)
		goto out;
	if ((in->count + 1) * 2 > in->capacity && !set_grow(in))
		goto out;
	uint32_t *slots = set_slots();
	uint64_t mask = in->capacity - 1;
	uint64_t i = hash & mask;
	for (; slots[i]; i = (i + 1) & mask) {
		if (same(tm_traceback_get(slots[i]), hash, frames, nframe,
			 total_nframe)) {
			ref = slots[i];
			goto out;
		}
	}
	ref = store(hash, frames, nframe, total_nframe);
	if (ref) {
		__atomic_store_n(&slots[i], ref, __ATOMIC_RELEASE);
		in->count++;
		*fresh = true;
	}
out:
	tm_spin_unlock(&in->lock);
	if (ref) {
		entry->hash = hash;
		entry->ref = ref;
	}
	return ref;
}

// After the region was reset (every lock held): start an empty set.
void tm_intern_clear_locked(void)
{
	struct tm_intern *in = &tm_rt.intern;

	in->capacity = 0;
	in->count = 0;
	in->slots = 0;
	set_grow(in);
}
