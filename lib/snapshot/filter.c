// filter.c: Snapshot.filter_traces() with tracemalloc's Filter and
// DomainFilter, matched and combined as tracemalloc.py does.
#include "snapshot_internal.h"

#include "error.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

// Python's fnmatch has no escape character; ".pyc" names match as ".py"
// (tracemalloc's _normalize_filename).
static bool name_matches(const char *pattern, const char *filename)
{
	size_t n = strlen(filename);
	char buf[4096];

	if (n >= 4 && n < sizeof(buf) &&
	    strcmp(filename + n - 4, ".pyc") == 0) {
		memcpy(buf, filename, n - 1);
		buf[n - 1] = '\0';
		filename = buf;
	}
	return fnmatch(pattern, filename, FNM_NOESCAPE) == 0;
}

// Filter._match_frame_impl
static bool frame_matches(const struct tm_filter *f, const struct tm_frame *fr)
{
	if (!name_matches(f->filename_pattern, fr->filename))
		return false;
	return f->lineno < 0 || fr->lineno == (unsigned)f->lineno;
}

// Filter._match / DomainFilter._match
static bool filter_matches(const struct tm_filter *f,
			   const struct tm_snapshot_trace *trace)
{
	if (!f->filename_pattern)
		return ((int64_t)trace->domain == f->domain) ^ !f->inclusive;
	const struct tm_frames *tb = trace->traceback;
	bool res;
	if (f->all_frames) {
		bool any = false;
		for (uint32_t i = 0; i < tb->nframe && !any; i++)
			any = frame_matches(f, &tb->frames[i]);
		res = any ? f->inclusive : !f->inclusive;
	} else {
		res = frame_matches(f, &tb->frames[0]) ^ !f->inclusive;
	}
	if (f->domain < 0)
		return res;
	if (f->inclusive)
		return res && (int64_t)trace->domain == f->domain;
	return res || (int64_t)trace->domain != f->domain;
}

// Snapshot._filter_trace
static bool passes(const struct tm_filter *filters, size_t count,
		   const struct tm_snapshot_trace *trace)
{
	bool has_inclusive = false, included = false;

	for (size_t i = 0; i < count; i++) {
		if (!filters[i].inclusive)
			continue;
		has_inclusive = true;
		if (filter_matches(&filters[i], trace)) {
			included = true;
			break;
		}
	}
	if (has_inclusive && !included)
		return false;
	for (size_t i = 0; i < count; i++)
		if (!filters[i].inclusive &&
		    !filter_matches(&filters[i], trace))
			return false;
	return true;
}

struct tm_error *tm_snapshot_filter(const struct tm_snapshot *snap,
				    const struct tm_filter *filters,
				    size_t count, struct tm_snapshot **ret)
{
	struct tm_snapshot_memo memo = { 0 };
	struct tm_snapshot *out;
	struct tm_error *err;

	if ((err = tm_snapshot_create(snap->traceback_limit, &out)))
		return err;
	for (size_t t = 0; t < snap->trace_count && !err; t++)
		if (passes(filters, count, &snap->traces[t]))
			err = tm_snapshot_copy_trace(out, &snap->traces[t],
						     &memo);
	tm_hashmap_deinit(&memo.map);
	free(memo.interned);
	if (err) {
		tm_snapshot_destroy(out);
		return err;
	}
	*ret = out;
	return NULL;
}
