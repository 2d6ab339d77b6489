// table.c: the trace table writer.  Traces live in TM_SHARD_COUNT
// open-addressing tables with linear probing (docs/layout.md, "Shards").
//
// Sharding: shards come in TM_SHARD_SETS sets.  A thread inserts into the
// set it was given (threads share sets round-robin past four), at the shard
// a hash of the address's page picks, so threads rarely write each other's
// cache lines.  In a shard, a block's home slot is the page's first slot
// plus its offset in the page in 16-byte steps, so neighbouring blocks
// have neighbouring slots (table.h).  A removal looks in the remover's set
// first, since most blocks are freed by the thread that allocated them,
// then in the other sets in use.
// (Choosing the set by address ranges instead, hoping each thread's blocks
// keep to ranges of their own, measured slower: glibc puts threads in one
// arena.)
//
// Sizing: capacities grow 1.5x in whole pages and a shard grows past 11/16
// full, so slots are 46% to 69% used (24 bytes a slot, 35 to 52 bytes a
// trace).  Removal shifts later entries back instead of leaving tombstones;
// fuller tables would make the clusters it walks much longer.
//
// Crash consistency: a slot's traceback field is stored last with release
// order and cleared first, so a slot that names a traceback is complete; a
// shard keeps `seq` odd while it changes, so a frozen image tells which
// shards had one operation in flight (whose shifted entry a reader may see
// twice).  A grown slot array is published before its capacity, so a
// reader never walks past the array it sees.
#include "table.h"

#include "runtime.h"

#include "prim.h"

#include <errno.h>
#include <string.h>

#define INITIAL_CAPACITY 256
#define MAX_LOAD_NUM 11
#define MAX_LOAD_DEN 16
// Slot arrays are whole pages from here on: 512 * 24 = 3 pages.
#define CAPACITY_STEP 512

static inline uint64_t home_of(uint32_t domain, uint64_t address,
			       uint64_t capacity)
{
	_Static_assert(INITIAL_CAPACITY >= TM_TABLE_PAGE_SLOTS,
		       "a page's slots wrap around at most once");
	// Where the page's slots start: the bits below the shard's, by
	// Lemire's reduction (any capacity, no division).
	uint64_t h = tm_table_hash(domain, address) << TM_SHARD_BITS;
	uint64_t home = (uint64_t)(((unsigned __int128)h * capacity) >> 64) +
			((address >> 4) & (TM_TABLE_PAGE_SLOTS - 1));
	return home < capacity ? home : home - capacity;
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

static uint64_t next_capacity(uint64_t capacity)
{
	if (capacity < CAPACITY_STEP)
		return capacity * 2;
	uint64_t want = capacity + capacity / 2;
	return (want + CAPACITY_STEP - 1) / CAPACITY_STEP * CAPACITY_STEP;
}

// Arrays of one capacity share a free list: the list is the capacity's
// place in the growth sequence.
static unsigned capacity_list(uint64_t capacity)
{
	unsigned list = 0;

	for (uint64_t c = INITIAL_CAPACITY; c < capacity; c = next_capacity(c))
		list++;
	return list;
}

static size_t slot_bytes(uint64_t capacity)
{
	return capacity * sizeof(struct tm_trace_rec);
}

static inline uint64_t step(uint64_t i, uint64_t capacity)
{
	return ++i == capacity ? 0 : i;
}

// The slot holding (domain, address), or NULL; *free_slot gets the empty
// slot that ends the probe.
static inline __attribute__((always_inline)) struct tm_trace_rec *
probe(struct tm_trace_rec *slots, uint64_t capacity, uint32_t domain,
      uint64_t address, struct tm_trace_rec **free_slot)
{
	for (uint64_t i = home_of(domain, address, capacity);;
	     i = step(i, capacity)) {
		struct tm_trace_rec *slot = &slots[i];
		uint32_t tb = slot->traceback;
		if (tb == TM_TRACE_SLOT_EMPTY) {
			if (free_slot)
				*free_slot = slot;
			return NULL;
		}
		if (slot->address == address && slot->domain == domain &&
		    tb != TM_TRACE_SLOT_TOMBSTONE)
			return slot;
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

// Move the traces into a fresh, larger array.
static bool grow(struct tm_shard_rec *shard)
{
	uint64_t capacity = shard->capacity ? next_capacity(shard->capacity)
					    : INITIAL_CAPACITY;
	uint64_t offset = tm_region_alloc_block(
		&tm_rt.region, capacity_list(capacity), slot_bytes(capacity));
	if (!offset)
		return false;
	struct tm_trace_rec *old = slots_of(shard);
	struct tm_trace_rec *fresh = tm_region_ptr(&tm_rt.region, offset);
	for (uint64_t i = 0; i < shard->capacity; i++) {
		if (old[i].traceback <= TM_TRACE_SLOT_TOMBSTONE)
			continue;
		uint64_t j = home_of(old[i].domain, old[i].address, capacity);
		while (fresh[j].traceback != TM_TRACE_SLOT_EMPTY)
			j = step(j, capacity);
		fresh[j] = old[i];
	}
	uint64_t old_offset = shard->slots, old_capacity = shard->capacity;
	__atomic_store_n(&shard->slots, offset, __ATOMIC_RELEASE);
	__atomic_store_n(&shard->capacity, capacity, __ATOMIC_RELEASE);
	if (old_offset)
		tm_region_free_block(&tm_rt.region, capacity_list(old_capacity),
				     old_offset, slot_bytes(old_capacity));
	return true;
}

__thread int tm_table_thread_set __attribute__((tls_model("initial-exec")));

unsigned tm_table_assign_set(void)
{
	unsigned n = __atomic_fetch_add(&tm_rt.next_set, 1, __ATOMIC_RELAXED);
	unsigned set = n % TM_SHARD_SETS;
	tm_table_thread_set = (int)set + 1;
	// Publish how many sets removals must search.
	unsigned in_use = __atomic_load_n(&tm_rt.sets_in_use, __ATOMIC_RELAXED);
	while (in_use < set + 1 &&
	       !__atomic_compare_exchange_n(&tm_rt.sets_in_use, &in_use,
					    set + 1, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
	return set;
}

bool tm_table_put(struct tm_shard_rec *shard, uint32_t domain, uint64_t address,
		  uint64_t size, uint32_t traceback, uint64_t epoch,
		  int64_t *delta)
{
	bool stored = false;

	shard_begin(shard);
	// stop() or clear_traces() ran since the traceback was interned:
	// the reference may point at memory that is gone.
	if (__atomic_load_n(&tm_rt.epoch, __ATOMIC_RELAXED) != epoch)
		goto out;
	if ((shard->count + 1) * MAX_LOAD_DEN >
		    shard->capacity * MAX_LOAD_NUM &&
	    !grow(shard))
		goto out;
	struct tm_trace_rec *empty = NULL;
	struct tm_trace_rec *slot = probe(slots_of(shard), shard->capacity,
					  domain, address, &empty);
	if (slot) {
		// A block we never saw freed: replace its trace in place.
		__atomic_store_n(&slot->traceback, TM_TRACE_SLOT_TOMBSTONE,
				 __ATOMIC_RELEASE);
		*delta = (int64_t)size - (int64_t)slot->size;
		shard->size += size - slot->size;
		write_slot(slot, domain, address, size, traceback);
	} else {
		write_slot(empty, domain, address, size, traceback);
		shard->count++;
		shard->size += size;
		*delta = (int64_t)size;
	}
	stored = true;
out:
	shard_end(shard);
	return stored;
}

// Knuth's algorithm R: after emptying slot @hole, pull back each following
// entry whose probe would otherwise pass over the hole.
static void close_hole(struct tm_trace_rec *slots, uint64_t capacity,
		       uint64_t hole)
{
	for (uint64_t j = step(hole, capacity);; j = step(j, capacity)) {
		struct tm_trace_rec *entry = &slots[j];
		if (entry->traceback == TM_TRACE_SLOT_EMPTY)
			return;
		uint64_t home =
			home_of(entry->domain, entry->address, capacity);
		// The entry may move if its home is not in (hole, j].
		bool stays = hole <= j ? home > hole && home <= j
				       : home > hole || home <= j;
		if (stays)
			continue;
		write_slot(&slots[hole], entry->domain, entry->address,
			   entry->size, entry->traceback);
		__atomic_store_n(&entry->traceback, TM_TRACE_SLOT_EMPTY,
				 __ATOMIC_RELEASE);
		hole = j;
	}
}

static bool take_from(struct tm_shard_rec *shard, uint32_t domain,
		      uint64_t address, struct tm_trace_found *ret)
{
	struct tm_trace_rec *slot = NULL;

	shard_begin(shard);
	if (shard->capacity) {
		struct tm_trace_rec *slots = slots_of(shard);
		slot = probe(slots, shard->capacity, domain, address, NULL);
		if (slot) {
			ret->address = slot->address;
			ret->size = slot->size;
			ret->domain = slot->domain;
			ret->traceback = slot->traceback;
			__atomic_store_n(&slot->traceback, TM_TRACE_SLOT_EMPTY,
					 __ATOMIC_RELEASE);
			close_hole(slots, shard->capacity,
				   (uint64_t)(slot - slots));
			shard->count--;
			shard->size -= ret->size;
		}
	}
	shard_end(shard);
	return slot != NULL;
}

bool tm_table_take(uint32_t domain, uint64_t address,
		   struct tm_trace_found *ret)
{
	unsigned sets = __atomic_load_n(&tm_rt.sets_in_use, __ATOMIC_ACQUIRE);
	unsigned own =
		tm_table_thread_set ? (unsigned)tm_table_thread_set - 1 : 0;

	for (unsigned k = 0; k < sets; k++) {
		unsigned set = (own + k) % TM_SHARD_SETS;
		if (take_from(tm_table_shard_of(set, domain, address), domain,
			      address, ret))
			return true;
	}
	return false;
}

static bool contains(const struct tm_trace_rec *slot, uint32_t domain,
		     uint64_t address)
{
	if (slot->traceback <= TM_TRACE_SLOT_TOMBSTONE ||
	    slot->domain != domain)
		return false;
	return address >= slot->address &&
	       address - slot->address < (slot->size ? slot->size : 1);
}

static void copy_out(const struct tm_trace_rec *slot,
		     struct tm_trace_found *ret)
{
	ret->address = slot->address;
	ret->size = slot->size;
	ret->domain = slot->domain;
	ret->traceback = slot->traceback;
}

// A signal handler may look while its thread is changing a shard, holding
// its lock: waiting would never end, so it reads the shard as it is.  A
// slot that names a traceback is complete, but a trace being shifted back
// after a removal may be out of reach of its probe for a moment.
static bool lock_unless_held(struct tm_shard_rec *shard, bool *busy)
{
	bool taken = tm_spin_lock_unless_held(&shard->lock);

	if (!taken)
		*busy = true;
	return taken;
}

int tm_table_find(uint32_t domain, uint64_t address, struct tm_trace_found *ret)
{
	bool found = false, busy = false;

	for (unsigned set = 0; set < TM_SHARD_SETS && !found; set++) {
		struct tm_shard_rec *shard =
			tm_table_shard_of(set, domain, address);
		bool taken = lock_unless_held(shard, &busy);
		if (shard->capacity) {
			struct tm_trace_rec *slot =
				probe(slots_of(shard), shard->capacity, domain,
				      address, NULL);
			if (slot) {
				copy_out(slot, ret);
				found = true;
			}
		}
		if (taken)
			tm_spin_unlock(&shard->lock);
	}
	// An interior address: look at every trace.
	for (unsigned s = 0; s < TM_SHARD_COUNT && !found; s++) {
		struct tm_shard_rec *shard = &tm_rt.shards[s];
		bool taken = lock_unless_held(shard, &busy);
		struct tm_trace_rec *slots = slots_of(shard);
		for (uint64_t i = 0; i < shard->capacity; i++) {
			if (contains(&slots[i], domain, address)) {
				copy_out(&slots[i], ret);
				found = true;
				break;
			}
		}
		if (taken)
			tm_spin_unlock(&shard->lock);
	}
	return found ? 1 : busy ? -EAGAIN : 0;
}

int tm_table_init(void)
{
	uint64_t offset = tm_region_alloc(
		&tm_rt.region, TM_SHARD_COUNT * sizeof(struct tm_shard_rec),
		64);
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
