// module_index.c: which module record names an address (module_index.h).
//
// The index is painted in one sweep over the records' ends, sorted: at each
// point the newest open record (the lowest number, kept on top of a heap)
// names the stretch up to the next point.
#include "module_index.h"

#include "sorted.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static bool indexed(const struct tm_module *m, bool files_only)
{
	return m->start < m->end && (!files_only || m->path[0] == '/');
}

static int by_address(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

// Record numbers sorted with qsort_r(), @records being the records.
static int by_start(const void *a, const void *b, void *records)
{
	const struct tm_module *m = records;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	uint64_t x = m[i].start, y = m[k].start;

	return (x > y) - (x < y);
}

// Records alike (a library loaded again in place) sort next to each other,
// the newest first.
static int by_identity(const void *a, const void *b, void *records)
{
	const struct tm_module *m = records;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	const struct tm_module *x = &m[i], *y = &m[k];
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->load_bias != y->load_bias)
		return x->load_bias < y->load_bias ? -1 : 1;
	if (x->build_id_len != y->build_id_len)
		return x->build_id_len < y->build_id_len ? -1 : 1;
	if (x->build_id_len &&
	    (c = memcmp(x->build_id, y->build_id, x->build_id_len)))
		return c;
	if ((c = strcmp(x->path, y->path)))
		return c;
	return (i > k) - (i < k);
}

// A min-heap of record numbers: the newest open record is on top.
struct heap {
	size_t *items;
	size_t count;
};

static void heap_push(struct heap *h, size_t value)
{
	size_t at = h->count++;

	while (at && h->items[(at - 1) / 2] > value) {
		h->items[at] = h->items[(at - 1) / 2];
		at = (at - 1) / 2;
	}
	h->items[at] = value;
}

static void heap_pop(struct heap *h)
{
	size_t value = h->items[--h->count], at = 0;

	for (;;) {
		size_t child = 2 * at + 1;
		if (child >= h->count)
			break;
		if (child + 1 < h->count &&
		    h->items[child + 1] < h->items[child])
			child++;
		if (h->items[child] >= value)
			break;
		h->items[at] = h->items[child];
		at = child;
	}
	if (h->count)
		h->items[at] = value;
}

static void add_span(struct tm_module_index *ix, uint64_t start, uint64_t end,
		     size_t record)
{
	struct tm_module_span *last =
		ix->span_count ? &ix->spans[ix->span_count - 1] : NULL;

	if (last && last->record == record && last->end == start)
		last->end = end;
	else
		ix->spans[ix->span_count++] = (struct tm_module_span){
			.start = start, .end = end, .record = record
		};
}

// Paint the spans; @visible gets how many addresses each record names.
static void paint(struct tm_module_index *ix, const struct tm_module *m,
		  const uint64_t *points, size_t npoints, const size_t *order,
		  size_t norder, struct heap *open, uint64_t *visible)
{
	size_t next = 0;

	for (size_t p = 0; p + 1 < npoints; p++) {
		uint64_t at = points[p];
		while (next < norder && m[order[next]].start <= at)
			heap_push(open, order[next++]);
		// Records closed before here may stay in the heap until they
		// reach its top: only the top is ever read.
		while (open->count && m[open->items[0]].end <= at)
			heap_pop(open);
		if (!open->count)
			continue;
		size_t record = open->items[0];
		add_span(ix, at, points[p + 1], record);
		visible[record] += points[p + 1] - at;
	}
}

// Count the records hidden other than by a newer record alike, and keep
// one of them with the record that covers it.
// @alike: zeroed, one per record.
static void find_conflicts(struct tm_module_index *ix,
			   const struct tm_module *m, size_t count,
			   size_t *order, size_t norder, bool *alike)
{
	qsort_r(order, norder, sizeof(*order), by_identity, (void *)m);
	for (size_t k = 1; k < norder; k++) {
		const struct tm_module *a = &m[order[k - 1]], *b = &m[order[k]];
		alike[order[k]] =
			a->start == b->start && a->end == b->end &&
			a->load_bias == b->load_bias &&
			a->build_id_len == b->build_id_len &&
			(!a->build_id_len ||
			 !memcmp(a->build_id, b->build_id, a->build_id_len)) &&
			!strcmp(a->path, b->path);
	}
	for (size_t i = 0; i < count; i++) {
		if (!ix->hidden[i] || alike[i])
			continue;
		if (!ix->conflicts++) {
			ix->conflict_older = i;
			for (size_t s = 0; s < ix->span_count; s++) {
				const struct tm_module_span *sp = &ix->spans[s];
				if (sp->record != i && sp->start < m[i].end &&
				    m[i].start < sp->end) {
					ix->conflict_newer = sp->record;
					break;
				}
			}
		}
	}
}

bool tm_module_index_init(struct tm_module_index *ix,
			  const struct tm_module *modules, size_t count,
			  bool files_only)
{
	size_t n = count ? count : 1, norder = 0, npoints = 0;
	uint64_t *points = malloc(2 * n * sizeof(*points));
	size_t *order = malloc(n * sizeof(*order));
	uint64_t *visible = calloc(n, sizeof(*visible));
	struct heap open = { .items = malloc(n * sizeof(*open.items)) };
	bool *alike = calloc(n, sizeof(*alike));
	bool ok = false;

	*ix = (struct tm_module_index){
		.spans = malloc(2 * n * sizeof(*ix->spans)),
		.hidden = calloc(n, sizeof(*ix->hidden)),
	};
	if (!points || !order || !visible || !open.items || !alike ||
	    !ix->spans || !ix->hidden)
		goto out;
	for (size_t i = 0; i < count; i++) {
		if (!indexed(&modules[i], files_only))
			continue;
		order[norder++] = i;
		points[npoints++] = modules[i].start;
		points[npoints++] = modules[i].end;
	}
	qsort(points, npoints, sizeof(*points), by_address);
	size_t distinct = 0;
	for (size_t p = 0; p < npoints; p++)
		if (!distinct || points[p] != points[distinct - 1])
			points[distinct++] = points[p];
	qsort_r(order, norder, sizeof(*order), by_start, (void *)modules);
	paint(ix, modules, points, distinct, order, norder, &open, visible);
	for (size_t k = 0; k < norder; k++) {
		const struct tm_module *m = &modules[order[k]];
		ix->hidden[order[k]] = visible[order[k]] < m->end - m->start;
	}
	find_conflicts(ix, modules, count, order, norder, alike);
	ok = true;
out:
	free(points);
	free(order);
	free(visible);
	free(open.items);
	free(alike);
	if (!ok)
		tm_module_index_deinit(ix);
	return ok;
}

void tm_module_index_deinit(struct tm_module_index *ix)
{
	free(ix->spans);
	free(ix->hidden);
	*ix = (struct tm_module_index){ 0 };
}

size_t tm_module_index_find(const struct tm_module_index *ix, uint64_t address)
{
	// The first span that ends above @address.
	size_t lo = tm_sorted_count_at_or_below(
		ix->spans, ix->span_count, sizeof(*ix->spans),
		offsetof(struct tm_module_span, end), address);

	if (lo < ix->span_count && ix->spans[lo].start <= address)
		return ix->spans[lo].record;
	return TM_NO_MODULE;
}
