// snapshot.c: struct tm_snapshot, the traces it holds and the interning
// that makes equal filenames and equal tracebacks the same pointer.
#include "snapshot_internal.h"

#include "error.h"
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

static const char unknown_file[] = "<unknown>";

static uint64_t hash_bytes(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL; // FNV-1a
	return h;
}

// FNV's low bits depend only on the inputs' low bits, and the sets use the
// low bits: mix every bit into them first.
static uint64_t finish(uint64_t h)
{
	return tm_mix64(h);
}

// Find the slot of @key in @set by @hash and @equal; an empty slot if absent.
static void **set_slot(struct ptr_set *set, uint64_t hash,
		       bool (*equal)(const void *stored, const void *key),
		       const void *key)
{
	size_t mask = set->capacity - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask)
		if (!set->slots[i] || equal(set->slots[i], key))
			return &set->slots[i];
}

static bool set_reserve(struct ptr_set *set, uint64_t (*hash_of)(const void *))
{
	if ((set->count + 1) * 2 <= set->capacity)
		return true;
	size_t cap = set->capacity ? set->capacity * 2 : 64;
	void **slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < set->capacity; i++) {
		if (!set->slots[i])
			continue;
		size_t j = hash_of(set->slots[i]) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->capacity = cap;
	return true;
}

static uint64_t string_hash(const void *s)
{
	return finish(hash_bytes(s, strlen(s), 0xcbf29ce484222325ULL));
}

static bool string_equal(const void *stored, const void *key)
{
	return strcmp(stored, key) == 0;
}

const char *tm_snapshot_intern_string(struct tm_snapshot *snap, const char *s)
{
	if (!set_reserve(&snap->filenames, string_hash))
		return NULL;
	void **slot =
		set_slot(&snap->filenames, string_hash(s), string_equal, s);
	if (!*slot) {
		*slot = strdup(s);
		if (!*slot)
			return NULL;
		snap->filenames.count++;
	}
	return *slot;
}

// Frames hold interned filenames, so a frame hashes by pointer.
static uint64_t frames_hash(const struct tm_frame *frames, uint32_t n,
			    uint32_t total)
{
	uint64_t h = hash_bytes(&total, sizeof(total), 0xcbf29ce484222325ULL);

	for (uint32_t i = 0; i < n; i++) {
		h = hash_bytes(&frames[i].filename, sizeof(frames[i].filename),
			       h);
		h = hash_bytes(&frames[i].lineno, sizeof(frames[i].lineno), h);
	}
	return finish(h);
}

static uint64_t interned_hash(const void *p)
{
	return ((const struct interned *)p)->hash;
}

static bool interned_equal(const void *stored, const void *key)
{
	const struct tm_frames *a = stored, *b = key;

	if (a->nframe != b->nframe || a->total_nframe != b->total_nframe)
		return false;
	for (uint32_t i = 0; i < a->nframe; i++)
		if (a->frames[i].filename != b->frames[i].filename ||
		    a->frames[i].lineno != b->frames[i].lineno)
			return false;
	return true;
}

const struct tm_frames *tm_snapshot_intern(struct tm_snapshot *snap,
					   const struct tm_frame *frames,
					   uint32_t nframe,
					   uint32_t total_nframe)
{
	struct tm_frames key = { nframe, total_nframe, frames };
	uint64_t hash = frames_hash(frames, nframe, total_nframe);

	if (!set_reserve(&snap->tracebacks, interned_hash))
		return NULL;
	void **slot = set_slot(&snap->tracebacks, hash, interned_equal, &key);
	if (*slot)
		return *slot;
	struct interned *tb = malloc(sizeof(*tb) + nframe * sizeof(*frames));
	if (!tb)
		return NULL;
	struct tm_frame *copy = (struct tm_frame *)(tb + 1);
	memcpy(copy, frames, nframe * sizeof(*frames));
	tb->public = (struct tm_frames){ nframe, total_nframe, copy };
	tb->hash = hash;
	*slot = tb;
	snap->tracebacks.count++;
	return &tb->public;
}

struct tm_error *tm_snapshot_create(unsigned traceback_limit,
				    struct tm_snapshot **ret)
{
	struct tm_snapshot *snap = calloc(1, sizeof(*snap));

	if (!snap)
		return &tm_enomem;
	snap->traceback_limit = traceback_limit;
	*ret = snap;
	return NULL;
}

void tm_snapshot_destroy(struct tm_snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->filenames.capacity; i++)
		free(snap->filenames.slots[i]);
	for (size_t i = 0; i < snap->tracebacks.capacity; i++)
		free(snap->tracebacks.slots[i]);
	free(snap->filenames.slots);
	free(snap->tracebacks.slots);
	free(snap->traces);
	free(snap);
}

// Append a trace whose traceback is already interned here.
static struct tm_error *append(struct tm_snapshot *snap, uint32_t domain,
			       uint64_t address, uint64_t size,
			       const struct tm_frames *tb)
{
	if (snap->trace_count == snap->trace_capacity) {
		size_t cap =
			snap->trace_capacity ? snap->trace_capacity * 2 : 256;
		struct tm_snapshot_trace *grown =
			realloc(snap->traces, cap * sizeof(*grown));
		if (!grown)
			return &tm_enomem;
		snap->traces = grown;
		snap->trace_capacity = cap;
	}
	snap->traces[snap->trace_count++] =
		(struct tm_snapshot_trace){ domain, address, size, tb };
	return NULL;
}

// Intern frames whose filenames may belong to someone else.
static struct tm_error *intern_frames(struct tm_snapshot *snap,
				      const struct tm_frame *frames,
				      uint32_t nframe, uint32_t total_nframe,
				      const struct tm_frames **ret)
{
	struct tm_frame stack_frames[128];
	struct tm_frame *local = stack_frames;
	struct tm_error *err = NULL;

	// tracemalloc's unknown frame stands in for an empty traceback.
	if (nframe == 0) {
		static const struct tm_frame unknown = { unknown_file, 0 };
		frames = &unknown;
		nframe = 1;
		if (total_nframe < 1)
			total_nframe = 1;
	}
	if (nframe > sizeof(stack_frames) / sizeof(stack_frames[0]) &&
	    !(local = malloc(nframe * sizeof(*local))))
		return &tm_enomem;
	for (uint32_t i = 0; i < nframe && !err; i++) {
		local[i].filename =
			tm_snapshot_intern_string(snap, frames[i].filename);
		local[i].lineno = frames[i].lineno;
		if (!local[i].filename)
			err = &tm_enomem;
	}
	const struct tm_frames *tb =
		err ? NULL
		    : tm_snapshot_intern(snap, local, nframe, total_nframe);
	if (local != stack_frames)
		free(local);
	if (!tb)
		return err ? err : &tm_enomem;
	*ret = tb;
	return NULL;
}

struct tm_error *tm_snapshot_add_trace(struct tm_snapshot *snap,
				       uint32_t domain, uint64_t address,
				       uint64_t size,
				       const struct tm_frame *frames,
				       uint32_t nframe, uint32_t total_nframe)
{
	const struct tm_frames *tb;
	struct tm_error *err =
		intern_frames(snap, frames, nframe, total_nframe, &tb);

	return err ? err : append(snap, domain, address, size, tb);
}

struct tm_error *tm_snapshot_copy_trace(struct tm_snapshot *snap,
					const struct tm_snapshot_trace *trace,
					struct tm_snapshot_memo *memo)
{
	uint64_t key = (uint64_t)(uintptr_t)trace->traceback;
	const struct tm_frames *tb;
	struct tm_error *err;
	size_t slot;

	if (!tm_hashmap_reserve(&memo->map))
		return &tm_enomem;
	if (tm_hashmap_find(&memo->map, key, &slot)) {
		tb = memo->interned[memo->map.values[slot]];
	} else {
		const struct tm_frames **grown = realloc(
			memo->interned, (memo->count + 1) * sizeof(*grown));
		if (!grown)
			return &tm_enomem;
		memo->interned = grown;
		if ((err = intern_frames(snap, trace->traceback->frames,
					 trace->traceback->nframe,
					 trace->traceback->total_nframe, &tb)))
			return err;
		tm_hashmap_put_at(&memo->map, slot, key, memo->count);
		memo->interned[memo->count++] = tb;
	}
	return append(snap, trace->domain, trace->address, trace->size, tb);
}

// Whether @filename is one of the C++ standard library's headers
// (/usr/include/c++/12/bits/new_allocator.h, libc++'s .../include/c++/v1/):
// code inlined from them, a vector's growth or a string's construction,
// allocates for its caller, whose line is the allocation's cause.  The
// runtime passes over such code compiled as functions of its own by their
// names (when the symbol table has them); inlined, it is in the caller's
// code, and only the line information tells it apart.
static bool is_standard_header(const char *filename)
{
	return strstr(filename, "/include/c++/") != NULL;
}

struct tm_error *tm_snapshot_from_table(const struct tm_table *table,
					struct tm_symbolizer *sym,
					struct tm_snapshot **ret)
{
	// Inlined calls expand one return address into several frames.
	enum { MAX_FRAMES = 1024 };
	struct tm_frame *frames = malloc(MAX_FRAMES * sizeof(*frames));
	// Traces share tracebacks: name and intern each table traceback once.
	struct tm_hashmap done = { 0 };
	const struct tm_frames **interned = NULL;
	size_t interned_count = 0;
	struct tm_snapshot *snap = NULL;
	struct tm_error *err;
	size_t n;
	const struct tm_trace *traces = tm_table_traces(table, &n);

	if (!frames)
		return &tm_enomem;
	err = tm_snapshot_create(tm_table_info(table)->traceback_limit, &snap);
	for (size_t i = 0; i < n && !err; i++) {
		const struct tm_traceback *tb = traces[i].traceback;
		size_t slot;
		if (!tm_hashmap_reserve(&done)) {
			err = &tm_enomem;
			break;
		}
		if (tm_hashmap_find(&done, (uint64_t)(uintptr_t)tb, &slot)) {
			err = append(snap, traces[i].domain, traces[i].address,
				     traces[i].size,
				     interned[done.values[slot]]);
			continue;
		}
		uint32_t count = 0;
		for (uint32_t k = 0; k < tb->nframe; k++) {
			const struct tm_frame_info *f;
			size_t expanded;
			tm_symbolizer_expand(sym, tb->frames[k], &f, &expanded);
			for (size_t e = 0; e < expanded && count < MAX_FRAMES;
			     e++)
				frames[count++] =
					(struct tm_frame){ f[e].filename,
							   f[e].lineno };
		}
		// The frames that inlining added count in the total too, and
		// the standard library's leading frames in neither (unless
		// they are all there is).
		uint32_t skip = 0;
		while (skip + 1 < count &&
		       is_standard_header(frames[skip].filename))
			skip++;
		uint32_t total = tb->total_nframe + (count - tb->nframe) - skip;
		const struct tm_frames *key;
		const struct tm_frames **grown = realloc(
			interned, (interned_count + 1) * sizeof(*grown));
		if (!grown) {
			err = &tm_enomem;
			break;
		}
		interned = grown;
		err = intern_frames(snap, frames + skip, count - skip, total,
				    &key);
		if (err)
			break;
		tm_hashmap_put_at(&done, slot, (uint64_t)(uintptr_t)tb,
				  interned_count);
		interned[interned_count++] = key;
		err = append(snap, traces[i].domain, traces[i].address,
			     traces[i].size, key);
	}
	free(frames);
	free(interned);
	tm_hashmap_deinit(&done);
	if (err) {
		tm_snapshot_destroy(snap);
		return err;
	}
	*ret = snap;
	return NULL;
}

const struct tm_snapshot_trace *
tm_snapshot_traces(const struct tm_snapshot *snap, size_t *count)
{
	*count = snap->trace_count;
	return snap->traces;
}

unsigned tm_snapshot_traceback_limit(const struct tm_snapshot *snap)
{
	return snap->traceback_limit;
}

int tm_frames_compare(const struct tm_frames *a, const struct tm_frames *b)
{
	uint32_t n = a->nframe < b->nframe ? a->nframe : b->nframe;

	for (uint32_t i = 0; i < n; i++) {
		const struct tm_frame *x = &a->frames[a->nframe - 1 - i];
		const struct tm_frame *y = &b->frames[b->nframe - 1 - i];
		int c = x->filename == y->filename
				? 0
				: strcmp(x->filename, y->filename);
		if (c)
			return c < 0 ? -1 : 1;
		if (x->lineno != y->lineno)
			return x->lineno < y->lineno ? -1 : 1;
	}
	return (a->nframe > b->nframe) - (a->nframe < b->nframe);
}
