// source_buffer.c: a source over bytes already in memory (an in-process
// snapshot, a test's table, a fuzzer's input).
#include "source.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

struct buffer {
	const uint8_t *data;
	size_t size;
	uint64_t base;
};

static struct tm_error *buffer_read(void *buf, uint64_t address, size_t n,
				    void *arg)
{
	const struct buffer *b = arg;

	if (address < b->base || address - b->base > b->size ||
	    n > b->size - (address - b->base))
		return tm_error_create(TM_ERR_FAULT,
				       "cannot read %zu bytes at 0x%llx: "
				       "outside the buffer",
				       n, (unsigned long long)address);
	memcpy(buf, b->data + (address - b->base), n);
	return NULL;
}

struct tm_error *tm_source_buffer_create(const void *data, size_t size,
					 uint64_t base, struct tm_source **ret)
{
	struct tm_source *src;
	struct tm_error *err;
	struct buffer *b = malloc(sizeof(*b));

	if (!b)
		return &tm_enomem;
	*b = (struct buffer){ data, size, base };
	if ((err = tm_source_create_owned(buffer_read, b, free, &src)))
		return err;
	if ((err = tm_source_add_segment(src, base, size))) {
		tm_source_destroy(src);
		return err;
	}
	*ret = src;
	return NULL;
}
