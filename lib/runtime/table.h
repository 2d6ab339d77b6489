// table.h: the inline part of the trace table writer (table.c): which shard
// a trace goes in, computed on every allocation.
#ifndef TM_RUNTIME_TABLE_H
#define TM_RUNTIME_TABLE_H

#include "prim.h"
#include "runtime.h"

#include <stdint.h>

// Traces of blocks in one page of memory go to one shard, one slot for
// every 16 bytes (malloc's alignment) from a slot the page's hash picks
// (table.c, home_of).  Programs allocate and free neighbouring blocks
// together, so they touch neighbouring slots: with a hash of each address,
// every trace written or erased in a big table was a cache miss, a third
// of python3's time.
#define TM_TABLE_PAGE_BITS 12
#define TM_TABLE_PAGE_SLOTS (1u << (TM_TABLE_PAGE_BITS - 4))

// One multiply hashes a trace's page for both choices: its top bits pick the
// shard in a set, the bits below them where the page's slots start in that
// shard.  Fibonacci hashing spreads clustered page numbers well in its high
// bits, and removal recomputes the home of every entry it walks past.
static inline uint64_t tm_table_hash(uint32_t domain, uint64_t address)
{
	return tm_fibonacci_hash((address >> TM_TABLE_PAGE_BITS) ^
				 ((uint64_t)domain << 40));
}

// This thread's shard set plus one; 0 until its first insertion.
extern __thread int tm_table_thread_set
	__attribute__((tls_model("initial-exec")));

// Give this thread a set (its first insertion); returns it.
unsigned tm_table_assign_set(void);

static inline unsigned tm_table_own_set(void)
{
	if (__builtin_expect(!tm_table_thread_set, 0))
		return tm_table_assign_set();
	return (unsigned)tm_table_thread_set - 1;
}

static inline struct tm_shard_rec *
tm_table_shard_of(unsigned set, uint32_t domain, uint64_t address)
{
	uint64_t h = tm_table_hash(domain, address);
	return &tm_rt.shards[set * TM_SHARDS_PER_SET +
			     (unsigned)(h >> (64 - TM_SHARD_BITS))];
}

// The shard (domain, address) goes in for this thread, its cache line
// already on its way: the shard to give tm_table_put.
static inline struct tm_shard_rec *tm_table_shard(uint32_t domain,
						  uint64_t address)
{
	struct tm_shard_rec *shard =
		tm_table_shard_of(tm_table_own_set(), domain, address);

	// For writing: the lock will need the line exclusive, and a plain read
	// would fetch it shared first, one more transfer between cores.
	__builtin_prefetch(shard, 1);
	return shard;
}

#endif // TM_RUNTIME_TABLE_H
