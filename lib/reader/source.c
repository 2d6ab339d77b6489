// source.c: the generic memory source and its segment list.
#include "source.h"

#include "error.h"

#include <stdlib.h>

struct tm_error *tm_source_create(tm_read_fn read, void *arg,
				  struct tm_source **ret)
{
	struct tm_source *src = calloc(1, sizeof(*src));

	if (!src)
		return &tm_enomem;
	src->read = read;
	src->arg = arg;
	*ret = src;
	return NULL;
}

struct tm_error *tm_source_create_owned(tm_read_fn read, void *arg,
					void (*release)(void *arg),
					struct tm_source **ret)
{
	struct tm_error *err = tm_source_create(read, arg, ret);

	if (err)
		release(arg);
	else
		(*ret)->release = release;
	return err;
}

void tm_source_destroy(struct tm_source *src)
{
	if (!src)
		return;
	if (src->release)
		src->release(src->arg);
	free(src->segments);
	free(src);
}

struct tm_error *tm_source_add_segment(struct tm_source *src, uint64_t start,
				       uint64_t size)
{
	if (size == 0)
		return NULL;
	if (start + size < start)
		return tm_error_create(TM_ERR_USAGE,
				       "segment at 0x%llx wraps around",
				       (unsigned long long)start);
	if (src->segment_count == src->segment_capacity) {
		size_t cap =
			src->segment_capacity ? src->segment_capacity * 2 : 16;
		struct tm_segment *grown =
			realloc(src->segments, cap * sizeof(*grown));
		if (!grown)
			return &tm_enomem;
		src->segments = grown;
		src->segment_capacity = cap;
	}
	src->segments[src->segment_count++] =
		(struct tm_segment){ start, size };
	return NULL;
}

struct tm_error *tm_source_read(struct tm_source *src, void *buf,
				uint64_t address, size_t n)
{
	if (n == 0)
		return NULL;
	if (address + n < address)
		return tm_error_create(TM_ERR_FAULT,
				       "cannot read %zu bytes at 0x%llx: the "
				       "range wraps around",
				       n, (unsigned long long)address);
	return src->read(buf, address, n, src->arg);
}

const char *tm_source_substitute(const struct tm_source *src)
{
	return src->substitute;
}
