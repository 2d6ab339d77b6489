// table.c: the trace table writer.  Traces live in TM_SHARD_COUNT
// open-addressing tables with linear probing (docs/layout.md, "Shards").
//
// Crash consistency: a slot's traceback field is stored last with release
// order and cleared first, so any slot naming a traceback is complete; a shard
// keeps `seq` odd while it changes, so a frozen image tells which shards had
// one operation in flight.  A grown slot array is published before the new
// capacity, so a reader never walks past the array it sees.
#include "runtime.h"

#include "prim.h"

#include <errno.h>
#include <string.h>

#define MAX_LOAD_NUM 7 // grow past 7/8 full, tombstones included
#define MAX_LOAD_DEN 8

static inline uint64_t mix(uint64_t x)
{
	// murmur3's finalizer: malloc addresses are 16-byte aligned and
	// clustered; every bit of the hash must depend on all of them.
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t key_hash(uint32_t domain, uint64_t address)
{
	return mix(address ^ ((uint64_t)domain << 48) ^ domain);
}

static inline struct tm_shard_rec *shard_of(uint64_t hash)
{
	return &tm_rt.shards[hash >> (64 - TM_SHARD_BITS)];
}

static inline struct tm_trace_rec *slots_of(const struct tm_shard_rec *shard)
{
	return tm_region_ptr(&tm_rt.region, shard->slots);
}

static inline void shard_begin(struct tm_shard_rec *shard)
{
	tm_spin_lock(&shard->lock);
	__atomic_store_n(&shard->seq, shard->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void shard_end(struct tm_shard_rec *shard)
{
	__atomic_store_n(&shard->seq, shard->seq + 1, __ATOMIC_RELEASE);
	tm_spin_unlock(&shard->lock);
}

// Slot arrays of one capacity share a free list; the list is log2(capacity).
static unsigned slot_list(uint64_t capacity)
{
	return (unsigned)__builtin_ctzll(capacity);
}

static size_t slot_bytes(uint64_t capacity)
{
	return capacity * sizeof(struct tm_trace_rec);
}

static struct tm_trace_rec *probe(struct tm_trace_rec *slots, uint64_t mask,
				  uint64_t hash, uint32_t domain,
				  uint64_t address, struct tm_trace_rec **reuse)
{
	struct tm_trace_rec *first_free = NULL;

	for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
		struct tm_trace_rec *slot = &slots[i];
		uint32_t tb = slot->traceback;
		if (tb == TM_TRACE_SLOT_EMPTY) {
			if (reuse)
				*reuse = first_free ? first_free : slot;
			return NULL;
		}
		if (tb == TM_TRACE_SLOT_TOMBSTONE) {
			if (!first_free)
				first_free = slot;
		} else if (slot->address == address && slot->domain == domain) {
			return slot;
		}
	}
}

static void write_slot(struct tm_trace_rec *slot, uint32_t domain,
		       uint64_t address, uint64_t size, uint32_t traceback)
{
	slot->address = address;
	slot->size = size;
	slot->domain = domain;
	__atomic_store_n(&slot->traceback, traceback, __ATOMIC_RELEASE);
}

// Move the live traces into a fresh array big enough for one more.
static bool grow(struct tm_shard_rec *shard)
{
	uint64_t capacity = shard->capacity;

	if (!capacity)
		capacity = TM_SHARD_INITIAL_CAPACITY;
	while ((shard->count + 1) * 2 > capacity)
		capacity *= 2;
	uint64_t offset = tm_region_alloc_block(&tm_rt.region,
						slot_list(capacity),
						slot_bytes(capacity));
	if (!offset)
		return false;
	struct tm_trace_rec *old = slots_of(shard);
	struct tm_trace_rec *fresh = tm_region_ptr(&tm_rt.region, offset);
	uint64_t mask = capacity - 1;
	for (uint64_t i = 0; i < shard->capacity; i++) {
		if (old[i].traceback <= TM_TRACE_SLOT_TOMBSTONE)
			continue;
		uint64_t h = key_hash(old[i].domain, old[i].address);
		uint64_t j = h & mask;
		while (fresh[j].traceback != TM_TRACE_SLOT_EMPTY)
			j = (j + 1) & mask;
		fresh[j] = old[i];
	}
	uint64_t old_offset = shard->slots;
	uint64_t old_capacity = shard->capacity;
	__atomic_store_n(&shard->slots, offset, __ATOMIC_RELEASE);
	__atomic_store_n(&shard->capacity, capacity, __ATOMIC_RELEASE);
	shard->tombstones = 0;
	if (old_offset)
		tm_region_free_block(&tm_rt.region, slot_list(old_capacity),
				     old_offset, slot_bytes(old_capacity));
	return true;
}

bool tm_table_put(uint32_t domain, uint64_t address, uint64_t size,
		  uint32_t traceback, uint64_t epoch, int64_t *delta)
{
	uint64_t hash = key_hash(domain, address);
	struct tm_shard_rec *shard = shard_of(hash);
	bool stored = false;

	shard_begin(shard);
	// stop() or clear_traces() ran since the traceback was interned:
	// the reference may point at memory that is gone.
	if (__atomic_load_n(&tm_rt.epoch, __ATOMIC_RELAXED) != epoch)
		goto out;
	if ((shard->count + shard->tombstones + 1) * MAX_LOAD_DEN >
		    shard->capacity * MAX_LOAD_NUM &&
	    !grow(shard))
		goto out;
	struct tm_trace_rec *reuse = NULL;
	struct tm_trace_rec *slot = probe(slots_of(shard), shard->capacity - 1,
					  hash, domain, address, &reuse);
	if (slot) {
		// A block we never saw freed: replace its trace in place.
		__atomic_store_n(&slot->traceback, TM_TRACE_SLOT_TOMBSTONE,
				 __ATOMIC_RELEASE);
		*delta = (int64_t)size - (int64_t)slot->size;
		shard->size += size - slot->size;
		write_slot(slot, domain, address, size, traceback);
	} else {
		if (reuse->traceback == TM_TRACE_SLOT_TOMBSTONE)
			shard->tombstones--;
		write_slot(reuse, domain, address, size, traceback);
		shard->count++;
		shard->size += size;
		*delta = (int64_t)size;
	}
	stored = true;
out:
	shard_end(shard);
	return stored;
}

bool tm_table_take(uint32_t domain, uint64_t address,
		   struct tm_trace_found *ret)
{
	uint64_t hash = key_hash(domain, address);
	struct tm_shard_rec *shard = shard_of(hash);

	shard_begin(shard);
	uint64_t mask = shard->capacity - 1;
	struct tm_trace_rec *slots = slots_of(shard);
	struct tm_trace_rec *slot = NULL;
	if (shard->capacity)
		slot = probe(slots, mask, hash, domain, address, NULL);
	if (slot) {
		ret->address = slot->address;
		ret->size = slot->size;
		ret->domain = slot->domain;
		ret->traceback = slot->traceback;
		// A tombstone followed by an empty slot ends no probe chain,
		// so it can be empty itself.
		uint64_t i = (uint64_t)(slot - slots);
		if (slots[(i + 1) & mask].traceback == TM_TRACE_SLOT_EMPTY) {
			__atomic_store_n(&slot->traceback, TM_TRACE_SLOT_EMPTY,
					 __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&slot->traceback,
					 TM_TRACE_SLOT_TOMBSTONE,
					 __ATOMIC_RELEASE);
			shard->tombstones++;
		}
		shard->count--;
		shard->size -= ret->size;
	}
	shard_end(shard);
	return slot != NULL;
}

static bool contains(const struct tm_trace_rec *slot, uint32_t domain,
		     uint64_t address)
{
	if (slot->traceback <= TM_TRACE_SLOT_TOMBSTONE ||
	    slot->domain != domain)
		return false;
	if (slot->address == address)
		return true;
	return address > slot->address && address - slot->address < slot->size;
}

bool tm_table_find(uint32_t domain, uint64_t address,
		   struct tm_trace_found *ret)
{
	uint64_t hash = key_hash(domain, address);
	struct tm_shard_rec *shard = shard_of(hash);
	bool found = false;

	tm_spin_lock(&shard->lock);
	struct tm_trace_rec *slot = NULL;
	if (shard->capacity)
		slot = probe(slots_of(shard), shard->capacity - 1, hash, domain,
			     address, NULL);
	if (slot) {
		ret->address = slot->address;
		ret->size = slot->size;
		ret->domain = slot->domain;
		ret->traceback = slot->traceback;
		found = true;
	}
	tm_spin_unlock(&shard->lock);
	if (found)
		return true;
	// An interior address: look at every trace.
	for (unsigned s = 0; s < TM_SHARD_COUNT && !found; s++) {
		shard = &tm_rt.shards[s];
		tm_spin_lock(&shard->lock);
		struct tm_trace_rec *slots = slots_of(shard);
		for (uint64_t i = 0; i < shard->capacity; i++) {
			if (contains(&slots[i], domain, address)) {
				ret->address = slots[i].address;
				ret->size = slots[i].size;
				ret->domain = slots[i].domain;
				ret->traceback = slots[i].traceback;
				found = true;
				break;
			}
		}
		tm_spin_unlock(&shard->lock);
	}
	return found;
}

int tm_table_init(void)
{
	uint64_t offset = tm_region_alloc(
		&tm_rt.region, TM_SHARD_COUNT * sizeof(struct tm_shard_rec), 64);
	if (!offset)
		return -ENOMEM;
	tm_rt.shards = tm_region_ptr(&tm_rt.region, offset);
	tm_rt.header->shards = offset;
	tm_rt.header->shard_count = TM_SHARD_COUNT;
	return 0;
}

void tm_table_lock_all(void)
{
	for (unsigned s = 0; s < TM_SHARD_COUNT; s++)
		tm_spin_lock(&tm_rt.shards[s].lock);
}

void tm_table_unlock_all(void)
{
	for (unsigned s = 0; s < TM_SHARD_COUNT; s++)
		tm_spin_unlock(&tm_rt.shards[s].lock);
}

// Empty every shard; each gets a slot array again on its first insert.
// Runs after the region was reset, with every shard lock held.
void tm_table_clear_locked(void)
{
	for (unsigned s = 0; s < TM_SHARD_COUNT; s++) {
		struct tm_shard_rec *shard = &tm_rt.shards[s];
		shard->seq += 2;
		shard->count = 0;
		shard->size = 0;
		shard->tombstones = 0;
		shard->capacity = 0;
		shard->slots = 0;
	}
}

uint64_t tm_table_traced_size(void)
{
	uint64_t total = 0;

	for (unsigned s = 0; s < TM_SHARD_COUNT; s++)
		total += __atomic_load_n(&tm_rt.shards[s].size,
					 __ATOMIC_RELAXED);
	return total;
}
