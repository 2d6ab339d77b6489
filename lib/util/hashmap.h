// hashmap.h: a map from nonzero 64-bit keys (offsets + 1, pointers) to
// sizes, open addressing with linear probing.  Not thread-safe.
#ifndef TM_UTIL_HASHMAP_H
#define TM_UTIL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Mix every bit of @x into every bit of the result (murmur3's finalizer),
// for hashes whose low bits are used as an index.
static inline uint64_t tm_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

struct tm_hashmap {
	uint64_t *keys; // 0 marks an empty slot
	size_t *values;
	size_t capacity, count;
};

// Make room for one more key; false if out of memory.
bool tm_hashmap_reserve(struct tm_hashmap *m);

// Look @key up: true and its slot if present, else false and the slot it
// would go in (valid after tm_hashmap_reserve()).
bool tm_hashmap_find(const struct tm_hashmap *m, uint64_t key, size_t *slot);

// Store @key at a slot tm_hashmap_find() returned for it.
static inline void tm_hashmap_put_at(struct tm_hashmap *m, size_t slot,
				     uint64_t key, size_t value)
{
	m->keys[slot] = key;
	m->values[slot] = value;
	m->count++;
}

void tm_hashmap_deinit(struct tm_hashmap *m);

#endif // TM_UTIL_HASHMAP_H
