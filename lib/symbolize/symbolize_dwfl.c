// symbolize_dwfl.c: return address -> file, line, function with libdwfl,
// for the modules a trace table records, inlined calls expanded.
#include "symbolizer.h"

#include "error.h"
#include "module_file.h"
#include "symbol_index.h"
#include "unit_index.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

// The modules a table records, reported to libdwfl.
struct dwfl_symbolizer {
	Dwfl *dwfl;
	// Reported modules whose build-id differs from the table's record.
	Dwfl_Module **mismatched;
	size_t mismatch_count;
};

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

// What is kept for each module, in its libdwfl user data: indexes, each
// built on first need.
struct module_indexes {
	struct tm_unit_index *units;
	struct tm_symbol_index *symbols;
};

static int free_indexes(Dwfl_Module *mod, void **userdata, const char *name,
			Dwarf_Addr start, void *arg)
{
	struct module_indexes *m = *userdata;

	if (m) {
		tm_unit_index_free(m->units);
		tm_symbol_index_free(m->symbols);
		free(m);
	}
	*userdata = NULL;
	return DWARF_CB_OK;
}

// @mod's indexes, NULL if out of memory.
static struct module_indexes *indexes_of(Dwfl_Module *mod)
{
	void **userdata;

	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!*userdata)
		*userdata = calloc(1, sizeof(struct module_indexes));
	return *userdata;
}

static void release(void *impl)
{
	struct dwfl_symbolizer *d = impl;

	if (d->dwfl) {
		dwfl_getmodules(d->dwfl, free_indexes, NULL, 0);
		dwfl_end(d->dwfl);
	}
	free(d->mismatched);
	free(d);
}

static void resolve(struct tm_symbolizer *sym, uint64_t pc,
		    struct tm_frame_info *frames, size_t *count,
		    struct tm_frame_info *outer);

static const struct tm_symbolizer_backend dwfl_backend = {
	.resolve = resolve,
	.release = release,
};

static int by_module(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (Dwfl_Module *const *)a;
	uintptr_t y = (uintptr_t) * (Dwfl_Module *const *)b;

	return (x > y) - (x < y);
}

struct tm_error *tm_symbolizer_create_modules(const struct tm_module *modules,
					      size_t count, const char *sysroot,
					      struct tm_symbolizer **ret)
{
	struct dwfl_symbolizer *d = calloc(1, sizeof(*d));
	struct tm_symbolizer *sym;
	struct tm_error *err;

	if (!d)
		return &tm_enomem;
	d->dwfl = dwfl_begin(&callbacks);
	d->mismatched = calloc(count ? count : 1, sizeof(*d->mismatched));
	if (!d->dwfl || !d->mismatched) {
		err = d->dwfl ? &tm_enomem
			      : tm_error_create(TM_ERR_NOMEM, "libdwfl: %s",
						dwfl_errmsg(-1));
		release(d);
		return err;
	}
	if ((err = tm_symbolizer_create(&dwfl_backend, d, &sym)))
		return err;
	// libdwfl takes no overlapping modules.  Where records overlap (a
	// library closed, and it or another loaded at its addresses), frames
	// are named from the newer, as the map's lookup does
	// (tm_symbolizer_module_at): the older is not reported.
	struct tm_module_index reported;
	if (!tm_module_index_init(&reported, modules, count, true)) {
		tm_symbolizer_destroy(sym);
		return &tm_enomem;
	}
	dwfl_report_begin(d->dwfl);
	for (size_t i = 0; i < count; i++) {
		const struct tm_module *m = &modules[i];
		// A module with no file (vdso), or whose file is nowhere to be
		// found, only leaves its frames unnamed.
		if (m->path[0] != '/' || reported.hidden[i])
			continue;
		bool changed;
		char *file = tm_module_file(m, sysroot, &changed);
		// Rebuilt or replaced, with nothing to stand in for it: the
		// file as it is now is reported, for the mismatch to be seen.
		if (!file && changed)
			file = tm_module_recorded_file(m, sysroot);
		if (!file)
			continue;
		Dwfl_Module *mod = dwfl_report_elf(d->dwfl, m->path, file, -1,
						   m->load_bias, false);
		free(file);
		const unsigned char *id;
		GElf_Addr vaddr;
		int len = mod ? dwfl_module_build_id(mod, &id, &vaddr) : 0;
		// The file was rebuilt or replaced since the trace was taken:
		// naming frames from it would name the wrong code.
		if (mod && m->build_id_len &&
		    (len != (int)m->build_id_len ||
		     memcmp(id, m->build_id, m->build_id_len) != 0)) {
			d->mismatched[d->mismatch_count++] = mod;
			sym->mismatch_count++;
			if (!sym->first_mismatch)
				sym->first_mismatch = strdup(m->path);
		}
	}
	dwfl_report_end(d->dwfl, NULL, NULL);
	tm_module_index_deinit(&reported);
	qsort(d->mismatched, d->mismatch_count, sizeof(*d->mismatched),
	      by_module);
	*ret = sym;
	return NULL;
}

static bool is_mismatched(const struct dwfl_symbolizer *d, Dwfl_Module *mod)
{
	return d->mismatch_count &&
	       bsearch(&mod, d->mismatched, d->mismatch_count,
		       sizeof(*d->mismatched), by_module);
}

// The linkage or plain name of a function's DIE, following
// DW_AT_abstract_origin for inlined instances.
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));

	if (!name)
		name = dwarf_formstring(
			dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name;
}

// Deeper than any real program nests scopes; bounds the recursion on
// damaged debug information.
#define MAX_SCOPE_DEPTH 256

// Find the innermost function or inlined call below @parent whose code
// covers @pc, into *@ret; false if none.  Descends through the functions,
// inlined calls and blocks that cover pc, and through the namespaces and
// types C++ may nest definitions in.  (dwarf_getscopes finds the same
// scope but returns nothing when an inlined call's abstract definition
// lies in another unit, as GCC's link-time optimization writes it.)
static bool find_innermost(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *ret,
			   int depth)
{
	Dwarf_Die child;

	if (depth > MAX_SCOPE_DEPTH || dwarf_child(parent, &child) != 0)
		return false;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			if (dwarf_haspc(&child, pc) > 0) {
				*ret = child;
				// An inlined call inside it, if any, is
				// more precise.
				find_innermost(&child, pc, ret, depth + 1);
				return true;
			}
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			if (dwarf_haspc(&child, pc) > 0)
				return find_innermost(&child, pc, ret,
						      depth + 1);
			break;
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			if (find_innermost(&child, pc, ret, depth + 1))
				return true;
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

// The compile unit that holds @at: through .debug_aranges, or, in a module
// without them, through its units' own ranges (unit_index.h), indexed on
// first need and kept in the module's user data.
static Dwarf_Die *unit_at(Dwfl_Module *mod, Dwarf_Addr at, Dwarf_Addr *bias)
{
	Dwarf_Die *unit = dwfl_module_addrdie(mod, at, bias);
	struct module_indexes *m;

	if (unit || !(m = indexes_of(mod)))
		return unit;
	if (!m->units)
		m->units = tm_unit_index_build(mod);
	return m->units ? tm_unit_index_find(m->units, at, bias) : NULL;
}

// The name of the symbol at @at, through the module's symbol index (out of
// memory, through libdwfl's own search).
static const char *symbol_at(Dwfl_Module *mod, Dwarf_Addr at)
{
	struct module_indexes *m = indexes_of(mod);

	if (m && !m->symbols)
		m->symbols = tm_symbol_index_build(mod);
	return m && m->symbols ? tm_symbol_index_find(m->symbols, at)
			       : dwfl_module_addrname(mod, at);
}

// The file and line of @address in @unit (for split DWARF, the skeleton,
// which holds the line table).
static void unit_line(Dwarf_Die *unit, Dwarf_Addr address, const char **file,
		      int *line, const char **comp_dir)
{
	Dwarf_Line *l = dwarf_getsrc_die(unit, address);
	Dwarf_Attribute attr;

	if (!l)
		return;
	*file = dwarf_linesrc(l, NULL, NULL);
	dwarf_lineno(l, line);
	*comp_dir = dwarf_formstring(dwarf_attr(unit, DW_AT_comp_dir, &attr));
}

// The unit that holds @unit's scopes: @unit itself, or with split DWARF
// (-gsplit-dwarf) the split unit of the .dwo file its skeleton names, read
// into *@split.  A missing .dwo leaves the skeleton: lines, no scopes.
static Dwarf_Die *scopes_unit(Dwarf_Die *unit, Dwarf_Die *split)
{
	uint8_t type = 0;

	if (dwarf_cu_info(unit->cu, NULL, &type, NULL, split, NULL, NULL,
			  NULL) == 0 &&
	    type == DW_UT_skeleton && split->addr)
		return split;
	return unit;
}

static void resolve(struct tm_symbolizer *sym, uint64_t pc,
		    struct tm_frame_info *frames, size_t *count,
		    struct tm_frame_info *outer)
{
	struct dwfl_symbolizer *d = sym->impl;
	// A return address points after the call; pc - 1 is inside it.
	Dwarf_Addr at = pc ? pc - 1 : 0, bias = 0;
	Dwfl_Module *mod = dwfl_addrmodule(d->dwfl, at);
	const char *file = NULL, *symbol = NULL, *module = NULL;
	const char *comp_dir = NULL;
	int line = 0;
	size_t n = 0;

	if (mod) {
		module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					  NULL, NULL);
		// Only the module's name is to be trusted in a rebuilt file.
		if (is_mismatched(d, mod))
			mod = NULL;
	}
	// Found nowhere: the module is still known from the table.
	if (!module)
		module = tm_symbolizer_module_at(sym, at);
	Dwarf_Die *cu = NULL;
	if (mod) {
		symbol = symbol_at(mod, at);
		cu = unit_at(mod, at, &bias);
		if (cu)
			unit_line(cu, at - bias, &file, &line, &comp_dir);
	}
	*outer = tm_frame_make(pc, file, line, symbol, module, comp_dir);

	// The innermost function or inlined call at the address; the scopes
	// that contain it give the callers: each inlined subroutine's call
	// site is where the next frame out stands.
	Dwarf_Die split, innermost, *chain = NULL;
	if (cu)
		cu = scopes_unit(cu, &split);
	int nchain = cu && find_innermost(cu, at - bias, &innermost, 0)
			     ? dwarf_getscopes_die(&innermost, &chain)
			     : 0;
	Dwarf_Files *files = NULL;
	if (cu)
		dwarf_getsrcfiles(cu, &files, NULL);
	const char *here_file = file;
	int here_line = line;
	for (int i = 0; i < nchain && n < TM_MAX_INLINE; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (tag != DW_TAG_inlined_subroutine &&
		    tag != DW_TAG_subprogram)
			continue;
		frames[n++] =
			tm_frame_make(pc, here_file, here_line,
				      die_name(&chain[i]), module, comp_dir);
		if (tag == DW_TAG_subprogram)
			break;
		Dwarf_Attribute attr;
		Dwarf_Word call_file = 0, call_line = 0;
		dwarf_formudata(dwarf_attr(&chain[i], DW_AT_call_file, &attr),
				&call_file);
		dwarf_formudata(dwarf_attr(&chain[i], DW_AT_call_line, &attr),
				&call_line);
		here_file = files ? dwarf_filesrc(files, call_file, NULL, NULL)
				  : NULL;
		here_line = (int)call_line;
	}
	free(chain);
	// No scopes (no debug info): the one frame the symbol table gives.
	if (n == 0)
		frames[n++] =
			tm_frame_make(pc, file, line, symbol, module, comp_dir);
	*count = n;
}
