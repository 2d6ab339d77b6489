// sorted.h: binary search over an array of records sorted by a 64-bit key
// (an address range's start or end), whatever the records hold besides.
#ifndef TM_UTIL_SORTED_H
#define TM_UTIL_SORTED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// How many of the @count records at @sorted (@stride bytes each, in order
// of the uint64_t at @key_offset in each) have a key at or below @key:
// the index of the first record whose key is above it.
static inline size_t tm_sorted_count_at_or_below(const void *sorted,
						 size_t count, size_t stride,
						 size_t key_offset,
						 uint64_t key)
{
	const unsigned char *base = sorted;
	size_t low = 0, high = count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		uint64_t k;
		memcpy(&k, base + mid * stride + key_offset, sizeof(k));
		if (k <= key)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

#endif // TM_UTIL_SORTED_H
