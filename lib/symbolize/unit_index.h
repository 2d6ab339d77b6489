// unit_index.h: a module's compile units by address, for debug information
// without .debug_aranges.
//
// libdw finds the unit that holds an address through .debug_aranges.  Clang
// does not write that section, and libdw (elfutils 0.188) then finds no unit
// for any address: no line, no inlined calls.  This index reads every unit's
// own address ranges once and answers by binary search.
#ifndef TM_SYMBOLIZE_UNIT_INDEX_H
#define TM_SYMBOLIZE_UNIT_INDEX_H

#include <elfutils/libdwfl.h>

struct tm_unit_index;

// Index the compile units of @mod; NULL if out of memory.  A module without
// debug information gives an empty index.
struct tm_unit_index *tm_unit_index_build(Dwfl_Module *mod);

// The compile unit whose code covers @at (an address in the process, as
// dwfl_module_addrdie takes it), with the module's bias in *@bias; NULL if
// none does.
Dwarf_Die *tm_unit_index_find(const struct tm_unit_index *index, Dwarf_Addr at,
			      Dwarf_Addr *bias);

void tm_unit_index_free(struct tm_unit_index *index);

#endif // TM_SYMBOLIZE_UNIT_INDEX_H
