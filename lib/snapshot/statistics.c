// statistics.c: Snapshot.statistics() and Snapshot.compare_to(), grouped,
// sorted and tie-broken as tracemalloc.py does (its _group_by,
// Statistic._sort_key, _compare_grouped_stats, StatisticDiff._sort_key).
#include "snapshot_internal.h"

#include "error.h"
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

// Keys are interned, so equal keys are one pointer: maps go by pointer.
static uint64_t key_of(const struct tm_frames *tb)
{
	return (uint64_t)(uintptr_t)tb;
}

struct grouping {
	struct tm_statistic *stats;
	size_t count, capacity;
	struct tm_hashmap index; // key traceback -> index into stats
};

static struct tm_error *add_to_group(struct grouping *g,
				     const struct tm_frames *key, uint64_t size)
{
	size_t slot;

	if (!key || !tm_hashmap_reserve(&g->index))
		return &tm_enomem;
	if (tm_hashmap_find(&g->index, key_of(key), &slot)) {
		struct tm_statistic *stat = &g->stats[g->index.values[slot]];
		stat->size += size;
		stat->count++;
		return NULL;
	}
	if (g->count == g->capacity) {
		size_t cap = g->capacity ? g->capacity * 2 : 256;
		struct tm_statistic *grown =
			realloc(g->stats, cap * sizeof(*grown));
		if (!grown)
			return &tm_enomem;
		g->stats = grown;
		g->capacity = cap;
	}
	tm_hashmap_put_at(&g->index, slot, key_of(key), g->count);
	g->stats[g->count++] = (struct tm_statistic){ key, size, 1 };
	return NULL;
}

// The key traceback of one frame, interned in @into: (filename, lineno) or,
// for the filename key, (filename, 0).
static const struct tm_frames *frame_key(struct tm_snapshot *into,
					 const struct tm_frame *frame,
					 enum tm_key key)
{
	struct tm_frame f = {
		tm_snapshot_intern_string(into, frame->filename),
		key == TM_KEY_FILENAME ? 0 : frame->lineno,
	};

	return f.filename
		       ? tm_snapshot_intern(into, &f, 1, TM_TOTAL_NFRAME_NONE)
		       : NULL;
}

static const struct tm_frames *traceback_key(struct tm_snapshot *into,
					     const struct tm_frames *tb)
{
	struct tm_frame stack_frames[128], *frames = stack_frames;
	const struct tm_frames *key = NULL;

	if (tb->nframe > 128 &&
	    !(frames = malloc(tb->nframe * sizeof(*frames))))
		return NULL;
	uint32_t i = 0;
	for (; i < tb->nframe; i++) {
		frames[i].filename =
			tm_snapshot_intern_string(into, tb->frames[i].filename);
		frames[i].lineno = tb->frames[i].lineno;
		if (!frames[i].filename)
			break;
	}
	if (i == tb->nframe)
		key = tm_snapshot_intern(into, frames, tb->nframe,
					 TM_TOTAL_NFRAME_NONE);
	if (frames != stack_frames)
		free(frames);
	return key;
}

// tracemalloc's _group_by, with key tracebacks interned in @into.
static struct tm_error *group_by(struct tm_snapshot *snap,
				 struct tm_snapshot *into, enum tm_key key,
				 bool cumulative, struct grouping *g)
{
	struct tm_error *err = NULL;
	// Traces share tracebacks: remember each one's key.
	struct tm_hashmap memo = { 0 };
	const struct tm_frames **memo_keys = NULL;
	size_t memo_count = 0;

	memset(g, 0, sizeof(*g));
	if (cumulative && key == TM_KEY_TRACEBACK)
		return tm_error_create(TM_ERR_USAGE,
				       "cumulative statistics group by "
				       "'lineno' or 'filename', not by "
				       "'traceback'");
	for (size_t t = 0; t < snap->trace_count && !err; t++) {
		const struct tm_snapshot_trace *trace = &snap->traces[t];
		const struct tm_frames *tb = trace->traceback;
		if (cumulative) {
			for (uint32_t i = 0; i < tb->nframe && !err; i++)
				err = add_to_group(
					g, frame_key(into, &tb->frames[i], key),
					trace->size);
			continue;
		}
		size_t slot;
		const struct tm_frames *k;
		if (!tm_hashmap_reserve(&memo)) {
			err = &tm_enomem;
			break;
		}
		if (tm_hashmap_find(&memo, key_of(tb), &slot)) {
			k = memo_keys[memo.values[slot]];
		} else {
			k = key == TM_KEY_TRACEBACK
				    ? traceback_key(into, tb)
				    : frame_key(into, &tb->frames[0], key);
			const struct tm_frames **grown = realloc(
				memo_keys, (memo_count + 1) * sizeof(*grown));
			if (!k || !grown) {
				free(grown ? grown : memo_keys);
				memo_keys = NULL;
				err = &tm_enomem;
				break;
			}
			memo_keys = grown;
			tm_hashmap_put_at(&memo, slot, key_of(tb), memo_count);
			memo_keys[memo_count++] = k;
		}
		err = add_to_group(g, k, trace->size);
	}
	free(memo_keys);
	tm_hashmap_deinit(&memo);
	if (err) {
		free(g->stats);
		tm_hashmap_deinit(&g->index);
	}
	return err;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

// Statistic._sort_key, sorted with reverse=True.
static int statistic_order(const void *pa, const void *pb)
{
	const struct tm_statistic *a = pa, *b = pb;
	int c = cmp_u64(a->size, b->size);

	if (!c)
		c = cmp_u64(a->count, b->count);
	if (!c)
		c = tm_frames_compare(a->traceback, b->traceback);
	return -c;
}

struct tm_error *tm_snapshot_statistics(struct tm_snapshot *snap,
					enum tm_key key, bool cumulative,
					struct tm_statistic **ret,
					size_t *ret_count)
{
	struct grouping g;
	struct tm_error *err = group_by(snap, snap, key, cumulative, &g);

	if (err)
		return err;
	tm_hashmap_deinit(&g.index);
	if (g.count)
		qsort(g.stats, g.count, sizeof(*g.stats), statistic_order);
	*ret = g.stats;
	*ret_count = g.count;
	return NULL;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

// StatisticDiff._sort_key, sorted with reverse=True.
static int diff_order(const void *pa, const void *pb)
{
	const struct tm_statistic_diff *a = pa, *b = pb;
	int c = cmp_u64(magnitude(a->size_diff), magnitude(b->size_diff));

	if (!c)
		c = cmp_u64(a->size, b->size);
	if (!c)
		c = cmp_u64(magnitude(a->count_diff), magnitude(b->count_diff));
	if (!c)
		c = cmp_u64(a->count, b->count);
	if (!c)
		c = tm_frames_compare(a->traceback, b->traceback);
	return -c;
}

struct tm_error *tm_snapshot_compare(struct tm_snapshot *snap,
				     struct tm_snapshot *old, enum tm_key key,
				     bool cumulative,
				     struct tm_statistic_diff **ret,
				     size_t *ret_count)
{
	struct grouping now, before;
	struct tm_error *err;

	// Both groupings key into this snapshot, so equal keys match.
	if ((err = group_by(snap, snap, key, cumulative, &now)))
		return err;
	if ((err = group_by(old, snap, key, cumulative, &before))) {
		free(now.stats);
		tm_hashmap_deinit(&now.index);
		return err;
	}
	size_t n = 0, cap = now.count + before.count;
	struct tm_statistic_diff *diffs =
		malloc((cap ? cap : 1) * sizeof(*diffs));
	bool *matched = calloc(before.count ? before.count : 1, 1);
	if (!diffs || !matched) {
		err = &tm_enomem;
		goto out;
	}
	// _compare_grouped_stats: every new group, then the old ones left.
	for (size_t i = 0; i < now.count; i++) {
		const struct tm_statistic *s = &now.stats[i];
		size_t slot;
		int64_t size_diff = (int64_t)s->size;
		int64_t count_diff = (int64_t)s->count;
		if (tm_hashmap_find(&before.index, key_of(s->traceback),
				    &slot)) {
			const struct tm_statistic *p =
				&before.stats[before.index.values[slot]];
			matched[before.index.values[slot]] = true;
			size_diff -= (int64_t)p->size;
			count_diff -= (int64_t)p->count;
		}
		diffs[n++] = (struct tm_statistic_diff){ s->traceback, s->size,
							 size_diff, s->count,
							 count_diff };
	}
	for (size_t i = 0; i < before.count; i++)
		if (!matched[i])
			diffs[n++] = (struct tm_statistic_diff){
				before.stats[i].traceback, 0,
				-(int64_t)before.stats[i].size, 0,
				-(int64_t)before.stats[i].count
			};
	if (n)
		qsort(diffs, n, sizeof(*diffs), diff_order);
out:
	free(matched);
	free(now.stats);
	free(before.stats);
	tm_hashmap_deinit(&now.index);
	tm_hashmap_deinit(&before.index);
	if (err) {
		free(diffs);
		return err;
	}
	*ret = diffs;
	*ret_count = n;
	return NULL;
}
