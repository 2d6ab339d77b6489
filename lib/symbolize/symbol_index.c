// symbol_index.c: a module's symbols by address (symbol_index.h).
//
// libdwfl's choice, which the index keeps (dwfl_module_addrname, which
// takes symbol values as they are, unadjusted): the symbols considered are
// the named, defined ones but sections, files and thread-local variables;
// first the global symbols (all of them when the module has only its
// dynamic table), then, if none of those has a size and covers the
// address, the local ones.  Among the sized symbols that cover the
// address, taken in table order, a symbol replaces the one chosen so far
// if it starts closer to the address or binds more strongly (global over
// weak over local), or if it starts at the same address, is smaller and
// binds as strongly.  If no sized symbol covers the address, a sizeless
// one (a label in hand-written assembly, or a linker's mark such as _end)
// may name it: the closest below it, above the end of every sized symbol
// below it, and in the same section as the address, as libdwfl finds
// sections (section_of); an absolute one names only its own address.
//
// Where libdwfl's answer depends on the order of the table beyond that,
// the index differs: of several sizeless symbols it takes the closest one,
// where libdwfl takes the last one in the table that was above every sized
// symbol seen until then.
#include "symbol_index.h"

#include "sorted.h"

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct symbol {
	GElf_Addr start, size;
	const char *name; // owned by libdwfl
	uint32_t order;	  // its index in the table
	uint8_t binding;  // global 3, weak 2, local 1, other 0
	bool absolute;	  // in no section (SHN_ABS and the like)
};

// The symbols of one pass, sorted by start (then order); reach[i] is the
// highest end among symbols[0..i], so a search for the symbols that cover
// an address stops where nothing below can.
struct symbol_set {
	struct symbol *symbols;
	GElf_Addr *reach;
	size_t count;
};

// A section that is loaded, in the process's addresses.
struct section {
	GElf_Addr start, end;
	size_t ndx;
};

struct tm_symbol_index {
	struct symbol_set first, second; // global, then local symbols
	// The module's loaded sections, sorted by start (section_of).
	struct section *sections;
	size_t section_count;
};

static uint8_t binding_of(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

static bool is_considered(const char *name, const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);

	return name && name[0] && sym->st_shndx != SHN_UNDEF &&
	       type != STT_SECTION && type != STT_FILE && type != STT_TLS;
}

static int by_start(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

// Read symbols [@from, @to) of @mod into @set; false if out of memory.
static bool read_set(Dwfl_Module *mod, int from, int to, struct symbol_set *set)
{
	size_t capacity = to > from ? (size_t)(to - from) : 0;

	if (!capacity)
		return true;
	set->symbols = malloc(capacity * sizeof(*set->symbols));
	set->reach = malloc(capacity * sizeof(*set->reach));
	if (!set->symbols || !set->reach)
		return false;
	for (int i = from; i < to; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value,
							   &shndx, NULL, NULL);
		if (!is_considered(name, &sym))
			continue;
		struct symbol *s = &set->symbols[set->count++];
		*s = (struct symbol){ .start = value,
				      .size = sym.st_size,
				      .name = name,
				      .order = (uint32_t)i,
				      .binding = binding_of(&sym),
				      .absolute = shndx >= SHN_LORESERVE };
	}
	qsort(set->symbols, set->count, sizeof(*set->symbols), by_start);
	GElf_Addr reach = 0;
	for (size_t i = 0; i < set->count; i++) {
		const struct symbol *sym = &set->symbols[i];
		// A damaged table's size may run past the address space.
		GElf_Addr end = sym->size > UINT64_MAX - sym->start
					? UINT64_MAX
					: sym->start + sym->size;
		if (end > reach)
			reach = end;
		set->reach[i] = reach;
	}
	return true;
}

static void free_set(struct symbol_set *set)
{
	free(set->symbols);
	free(set->reach);
}

void tm_symbol_index_free(struct tm_symbol_index *index)
{
	if (!index)
		return;
	free_set(&index->first);
	free_set(&index->second);
	free(index->sections);
	free(index);
}

static int by_address(const void *a, const void *b)
{
	const struct section *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	// libdwfl (0.188) lists sections that start together last first.
	return (x->ndx < y->ndx) - (x->ndx > y->ndx);
}

// The loaded sections of @mod's main file into @index; false if out of
// memory.  No file, or no sections: none.
static bool read_sections(Dwfl_Module *mod, struct tm_symbol_index *index)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t count;

	if (!elf || elf_getshdrnum(elf, &count) != 0 || !count)
		return true;
	index->sections = malloc(count * sizeof(*index->sections));
	if (!index->sections)
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn;
	     scn = elf_nextscn(elf, scn)) {
		GElf_Shdr mem, *shdr = gelf_getshdr(scn, &mem);
		if (shdr && (shdr->sh_flags & SHF_ALLOC))
			index->sections[index->section_count++] =
				(struct section){ shdr->sh_addr + bias,
						  shdr->sh_addr + bias +
							  shdr->sh_size,
						  elf_ndxscn(scn) };
	}
	qsort(index->sections, index->section_count, sizeof(*index->sections),
	      by_address);
	return true;
}

// The index of the section that holds @at, as libdwfl finds it for
// comparing an address's section with a label's: by binary search, a
// section's end counting as inside it unless the next one starts there
// (sections may overlap, as .tbss does the next ones); SHN_UNDEF if none.
static size_t section_of(const struct tm_symbol_index *index, GElf_Addr at)
{
	size_t low = 0, high = index->section_count;

	while (low < high) {
		size_t mid = (low + high) / 2;
		const struct section *s = &index->sections[mid];
		if (at < s->start)
			high = mid;
		else if (at > s->end)
			low = mid + 1;
		else if (at == s->end && mid + 1 < index->section_count &&
			 at == index->sections[mid + 1].start)
			return index->sections[mid + 1].ndx;
		else
			return s->ndx;
	}
	return SHN_UNDEF;
}

struct tm_symbol_index *tm_symbol_index_build(Dwfl_Module *mod)
{
	struct tm_symbol_index *index = calloc(1, sizeof(*index));

	if (!index)
		return NULL;
	int count = dwfl_module_getsymtab(mod);
	int first_global = dwfl_module_getsymtab_first_global(mod);
	// Entry 0 is the null symbol.  A module with only its dynamic table
	// has no local symbols first (first_global is 0).
	if (!read_sections(mod, index) ||
	    (count > 0 && first_global >= 0 &&
	     (!read_set(mod, first_global ? first_global : 1, count,
			&index->first) ||
	      !read_set(mod, 1, first_global, &index->second)))) {
		tm_symbol_index_free(index);
		return NULL;
	}
	return index;
}

// How many symbols of @set start at or below @at.
static size_t starting_at_or_below(const struct symbol_set *set, GElf_Addr at)
{
	return tm_sorted_count_at_or_below(set->symbols, set->count,
					   sizeof(*set->symbols),
					   offsetof(struct symbol, start), at);
}

static bool covers(const struct symbol *s, GElf_Addr at)
{
	return s->size && at - s->start < s->size;
}

// Whether @s replaces @chosen, the symbol chosen so far (libdwfl's rule).
static bool is_better(const struct symbol *s, const struct symbol *chosen)
{
	if (!chosen || chosen->start < s->start || chosen->binding < s->binding)
		return true;
	return chosen->start == s->start &&
	       ((chosen->size > s->size && chosen->binding <= s->binding) ||
		(chosen->size >= s->size && chosen->binding < s->binding));
}

// The sized symbol of @set that names @at, or NULL.  The symbols that cover
// it lie below the first that starts above it and above the last whose
// reach ends at or below it; they are taken in table order.
static const struct symbol *sized_at(const struct symbol_set *set, GElf_Addr at)
{
	size_t end = starting_at_or_below(set, at), begin = end;
	const struct symbol *chosen = NULL;

	while (begin > 0 && set->reach[begin - 1] > at)
		begin--;
	for (uint64_t after = 0;;) {
		// The next one in table order.
		const struct symbol *next = NULL;
		for (size_t i = begin; i < end; i++) {
			const struct symbol *s = &set->symbols[i];
			if (covers(s, at) && s->order + 1 > after &&
			    (!next || s->order < next->order))
				next = s;
		}
		if (!next)
			return chosen;
		if (is_better(next, chosen))
			chosen = next;
		after = (uint64_t)next->order + 1;
	}
}

// The highest end among the symbols of @set that start at or below @at.
static GElf_Addr reach_below(const struct symbol_set *set, GElf_Addr at)
{
	size_t n = starting_at_or_below(set, at);

	return n ? set->reach[n - 1] : 0;
}

// The closest sizeless symbol of @set at or below @at, in @at's section,
// that starts at or above @floor; the last in table order of those that
// start at the same address.
static const struct symbol *sizeless_at(const struct tm_symbol_index *index,
					const struct symbol_set *set,
					GElf_Addr at, GElf_Addr floor)
{
	size_t at_section = SHN_UNDEF;
	bool known = false;

	for (size_t i = starting_at_or_below(set, at); i > 0; i--) {
		const struct symbol *s = &set->symbols[i - 1];
		if (s->start < floor)
			break;
		if (s->size)
			continue;
		if (s->absolute) {
			if (s->start == at)
				return s;
			continue;
		}
		if (!known) {
			at_section = section_of(index, at);
			known = true;
		}
		if (section_of(index, s->start) == at_section)
			return s;
	}
	return NULL;
}

const char *tm_symbol_index_find(const struct tm_symbol_index *index,
				 GElf_Addr at)
{
	const struct symbol *s = sized_at(&index->first, at);

	if (s)
		return s->name;
	GElf_Addr floor = reach_below(&index->first, at);
	const struct symbol *label =
		sizeless_at(index, &index->first, at, floor);
	// A global label right at the address ends the search there.
	if (label && label->start == at)
		return label->name;
	if ((s = sized_at(&index->second, at)))
		return s->name;
	GElf_Addr second_floor = reach_below(&index->second, at);
	if (second_floor > floor)
		floor = second_floor;
	// Searched after the global ones, a local label at the same
	// address is taken over a global one.
	const struct symbol *local =
		sizeless_at(index, &index->second, at, floor);
	if (local && (!label || local->start >= label->start))
		label = local;
	return label && label->start >= floor ? label->name : NULL;
}
