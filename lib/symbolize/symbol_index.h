// symbol_index.h: a module's symbol table sorted by address, for naming
// many addresses.
//
// dwfl_module_addrname reads the whole symbol table on every call (elfutils
// 0.188): node's has 184,000 symbols, and naming the 5,000 return addresses
// of one of its cores took 4 s.  This index reads the table once and
// answers by binary search, with libdwfl's choice among the symbols that
// cover an address (symbol_index.c says where it differs).
#ifndef TM_SYMBOLIZE_SYMBOL_INDEX_H
#define TM_SYMBOLIZE_SYMBOL_INDEX_H

#include <elfutils/libdwfl.h>

struct tm_symbol_index;

// Index the symbols of @mod; NULL if out of memory.  A module without a
// symbol table gives an empty index.
struct tm_symbol_index *tm_symbol_index_build(Dwfl_Module *mod);

// The name of the symbol at @at (an address in the process, as
// dwfl_module_addrname takes it), or NULL; owned by libdwfl.
const char *tm_symbol_index_find(const struct tm_symbol_index *index,
				 GElf_Addr at);

void tm_symbol_index_free(struct tm_symbol_index *index);

#endif // TM_SYMBOLIZE_SYMBOL_INDEX_H
