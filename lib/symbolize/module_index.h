// module_index.h: which of a table's module records names an address.
//
// Records may overlap: a library was closed and another (or the same one,
// elsewhere) loaded at its addresses.  The newest record, the first in the
// table's list, names the addresses it covers.  A table may hold 65,536
// records and millions of distinct return addresses, so the answer is a
// binary search over the addresses each record is seen at, built in
// O(n log n): comparing every record with every other, or scanning them for
// each address, took seconds to minutes on a crafted table.
#ifndef TM_SYMBOLIZE_MODULE_INDEX_H
#define TM_SYMBOLIZE_MODULE_INDEX_H

#include "tm/reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_NO_MODULE SIZE_MAX

// A stretch of addresses, [start, end), that record @record names.
struct tm_module_span {
	uint64_t start, end;
	size_t record;
};

struct tm_module_index {
	struct tm_module_span *spans; // sorted, disjoint
	size_t span_count;
	// Per record: a newer record covers some of its addresses.
	bool *hidden;
	// Records hidden other than by a newer one alike (same addresses,
	// load bias, path and build-id: a library loaded again in place),
	// and one of them with a newer record that covers it.
	size_t conflicts;
	size_t conflict_older, conflict_newer;
};

// Index @modules (newest first); with @files_only, records with no file
// (a path not starting with '/') are left out, as if absent.  Records
// whose end is not above their start name nothing.  False if out of
// memory.
bool tm_module_index_init(struct tm_module_index *ix,
			  const struct tm_module *modules, size_t count,
			  bool files_only);
void tm_module_index_deinit(struct tm_module_index *ix);

// The record that names @address, or TM_NO_MODULE.
size_t tm_module_index_find(const struct tm_module_index *ix, uint64_t address);

#endif // TM_SYMBOLIZE_MODULE_INDEX_H
