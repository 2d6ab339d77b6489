// hashmap.c: the 64-bit-key map of hashmap.h.
#include "hashmap.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t capacity)
{
	return (size_t)tm_mix64(key) & (capacity - 1);
}

bool tm_hashmap_reserve(struct tm_hashmap *m)
{
	if ((m->count + 1) * 2 <= m->capacity)
		return true;
	size_t cap = m->capacity ? m->capacity * 2 : 256;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	size_t *values = malloc(cap * sizeof(*values));
	if (!keys || !values) {
		free(keys);
		free(values);
		return false;
	}
	for (size_t i = 0; i < m->capacity; i++) {
		if (!m->keys[i])
			continue;
		size_t j = slot_of(m->keys[i], cap);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		values[j] = m->values[i];
	}
	free(m->keys);
	free(m->values);
	m->keys = keys;
	m->values = values;
	m->capacity = cap;
	return true;
}

bool tm_hashmap_find(const struct tm_hashmap *m, uint64_t key, size_t *slot)
{
	*slot = 0;
	if (!m->capacity)
		return false;
	size_t i = slot_of(key, m->capacity);
	for (; m->keys[i]; i = (i + 1) & (m->capacity - 1))
		if (m->keys[i] == key)
			break;
	*slot = i;
	return m->keys[i] != 0;
}

void tm_hashmap_deinit(struct tm_hashmap *m)
{
	free(m->keys);
	free(m->values);
	m->keys = NULL;
	m->values = NULL;
	m->capacity = m->count = 0;
}
