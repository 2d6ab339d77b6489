// unit_index.c: a module's compile units by address (unit_index.h).
#include "unit_index.h"

#include "sorted.h"

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

struct unit_range {
	Dwarf_Addr start, end; // [start, end), in the debug information's
			       // addresses
	Dwarf_Die *unit;       // owned by libdwfl, valid while the Dwfl is
};

struct tm_unit_index {
	Dwarf_Addr bias;
	size_t count, capacity;
	struct unit_range *ranges; // sorted by start
};

static bool add_range(struct tm_unit_index *index, Dwarf_Addr start,
		      Dwarf_Addr end, Dwarf_Die *unit)
{
	if (index->count == index->capacity) {
		size_t capacity = index->capacity ? index->capacity * 2 : 64;
		struct unit_range *ranges =
			realloc(index->ranges, capacity * sizeof(*ranges));
		if (!ranges)
			return false;
		index->ranges = ranges;
		index->capacity = capacity;
	}
	index->ranges[index->count++] =
		(struct unit_range){ .start = start, .end = end, .unit = unit };
	return true;
}

static int by_start(const void *a, const void *b)
{
	const struct unit_range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

struct tm_unit_index *tm_unit_index_build(Dwfl_Module *mod)
{
	struct tm_unit_index *index = calloc(1, sizeof(*index));
	Dwarf_Addr bias;

	if (!index)
		return NULL;
	for (Dwarf_Die *unit = dwfl_module_nextcu(mod, NULL, &bias); unit;
	     unit = dwfl_module_nextcu(mod, unit, &bias)) {
		index->bias = bias;
		Dwarf_Addr base, start, end;
		ptrdiff_t offset = 0;
		while ((offset = dwarf_ranges(unit, offset, &base, &start,
					      &end)) > 0) {
			if (start < end &&
			    !add_range(index, start, end, unit)) {
				tm_unit_index_free(index);
				return NULL;
			}
		}
	}
	if (index->count)
		qsort(index->ranges, index->count, sizeof(*index->ranges),
		      by_start);
	return index;
}

Dwarf_Die *tm_unit_index_find(const struct tm_unit_index *index, Dwarf_Addr at,
			      Dwarf_Addr *bias)
{
	Dwarf_Addr address = at - index->bias;
	// The last range that starts at or before the address.
	size_t low = tm_sorted_count_at_or_below(
		index->ranges, index->count, sizeof(*index->ranges),
		offsetof(struct unit_range, start), address);

	if (low == 0 || address >= index->ranges[low - 1].end)
		return NULL;
	*bias = index->bias;
	return index->ranges[low - 1].unit;
}

void tm_unit_index_free(struct tm_unit_index *index)
{
	if (!index)
		return;
	free(index->ranges);
	free(index);
}
