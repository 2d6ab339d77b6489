// symbolize_dwfl.c: return address -> file, line, function with libdwfl,
// for the modules a trace table records, inlined calls expanded.
#include "tm/symbolize.h"

#include "error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN "<unknown>"
// Inlining deeper than this is cut off (the outermost frames are kept).
#define MAX_INLINE 32

// libstdc++'s demangler (cxxabi.h), declared here for C.
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

// One pc, resolved: frames[0] is innermost; `outer` is the same place seen
// as one frame, named after the function the code was inlined into.
struct cached {
	uint64_t pc;
	size_t count;
	struct tm_frame_info *frames; // or &outer
	struct tm_frame_info outer;
};

struct tm_symbolizer {
	Dwfl *dwfl;
	// Reported modules whose build-id differs from the table's record.
	Dwfl_Module **mismatched;
	size_t mismatch_count;
	char *first_mismatch;
	// pc -> frames, open addressing.  Entries are allocated one by one,
	// so what lookups return stays put as the table grows.
	struct cached **cache;
	size_t capacity, count;
};

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct tm_error *tm_symbolizer_create_modules(const struct tm_module *modules,
					      size_t count,
					      struct tm_symbolizer **ret)
{
	struct tm_symbolizer *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return &tm_enomem;
	sym->dwfl = dwfl_begin(&callbacks);
	if (!sym->dwfl) {
		free(sym);
		return tm_error_create(TM_ERR_NOMEM, "libdwfl: %s",
				       dwfl_errmsg(-1));
	}
	sym->mismatched = calloc(count ? count : 1, sizeof(*sym->mismatched));
	if (!sym->mismatched) {
		tm_symbolizer_destroy(sym);
		return &tm_enomem;
	}
	dwfl_report_begin(sym->dwfl);
	for (size_t i = 0; i < count; i++) {
		const struct tm_module *m = &modules[i];
		// A module that cannot be opened (vdso, deleted file) only
		// leaves its frames unknown.
		if (m->path[0] != '/')
			continue;
		Dwfl_Module *mod = dwfl_report_elf(sym->dwfl, m->path, m->path,
						   -1, m->load_bias, false);
		const unsigned char *id;
		GElf_Addr vaddr;
		int len = mod ? dwfl_module_build_id(mod, &id, &vaddr) : 0;
		// The file was rebuilt or replaced since the trace was taken:
		// naming frames from it would name the wrong code.
		if (mod && m->build_id_len &&
		    (len != (int)m->build_id_len ||
		     memcmp(id, m->build_id, m->build_id_len) != 0)) {
			sym->mismatched[sym->mismatch_count++] = mod;
			if (!sym->first_mismatch)
				sym->first_mismatch = strdup(m->path);
		}
	}
	dwfl_report_end(sym->dwfl, NULL, NULL);
	*ret = sym;
	return NULL;
}

size_t tm_symbolizer_mismatches(const struct tm_symbolizer *sym,
				const char **ret)
{
	*ret = sym->first_mismatch;
	return sym->mismatch_count;
}

static bool is_mismatched(const struct tm_symbolizer *sym, Dwfl_Module *mod)
{
	for (size_t i = 0; i < sym->mismatch_count; i++)
		if (sym->mismatched[i] == mod)
			return true;
	return false;
}

static void free_frame(struct tm_frame_info *f)
{
	if (f->filename && strcmp(f->filename, UNKNOWN) != 0)
		free((char *)f->filename);
	if (f->function && strcmp(f->function, UNKNOWN) != 0)
		free((char *)f->function);
	if (f->module && strcmp(f->module, UNKNOWN) != 0)
		free((char *)f->module);
}

void tm_symbolizer_destroy(struct tm_symbolizer *sym)
{
	if (!sym)
		return;
	for (size_t i = 0; i < sym->capacity; i++) {
		struct cached *c = sym->cache[i];
		if (!c)
			continue;
		if (c->frames != &c->outer) {
			for (size_t k = 0; k < c->count; k++)
				free_frame(&c->frames[k]);
			free(c->frames);
		}
		free_frame(&c->outer);
		free(c);
	}
	free(sym->cache);
	free(sym->mismatched);
	free(sym->first_mismatch);
	if (sym->dwfl)
		dwfl_end(sym->dwfl);
	free(sym);
}

static char *dup_or_unknown(const char *s)
{
	char *copy = s && *s ? strdup(s) : NULL;

	return copy ? copy : (char *)UNKNOWN;
}

// C++ names read as the programmer wrote them: "make_widgets()".
static char *function_name(const char *symbol)
{
	int status = -1;
	char *demangled = NULL;

	if (!symbol || !*symbol)
		return (char *)UNKNOWN;
	if (symbol[0] == '_' && symbol[1] == 'Z')
		demangled = __cxa_demangle(symbol, NULL, NULL, &status);
	if (demangled && status == 0)
		return demangled;
	free(demangled);
	return dup_or_unknown(symbol);
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

// @file as a path that does not depend on the reader's directory: a
// relative name is taken from the compilation directory @comp_dir, and
// "." and ".." are folded lexically.  Returns a new string or NULL.
static char *absolute_file(const char *file, const char *comp_dir)
{
	if (!file || file[0] == '/' || !comp_dir || comp_dir[0] != '/')
		return file ? strdup(file) : NULL;
	size_t n = strlen(comp_dir) + strlen(file) + 2;
	char *joined = malloc(n), *out = malloc(n);
	if (!joined || !out) {
		free(joined);
		free(out);
		return strdup(file);
	}
	snprintf(joined, n, "%s/%s", comp_dir, file);
	size_t len = 0;
	for (char *save = NULL, *part = strtok_r(joined, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (len > 0 && out[--len] != '/')
				;
			continue;
		}
		out[len++] = '/';
		size_t k = strlen(part);
		memcpy(out + len, part, k);
		len += k;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	free(joined);
	return out;
}

static struct tm_frame_info make_frame(uint64_t pc, const char *file, int line,
				       const char *function, const char *module,
				       const char *comp_dir)
{
	char *path = file ? absolute_file(file, comp_dir) : NULL;

	// Without line information the module stands in for the file, with
	// line 0; with no module either, "<unknown>" as in tracemalloc.
	return (struct tm_frame_info){
		.filename = path ? path : dup_or_unknown(module),
		.lineno = file && line > 0 ? (unsigned)line : 0,
		.function = function_name(function),
		.module = dup_or_unknown(module),
		.pc = pc,
	};
}

static void resolve(struct tm_symbolizer *sym, struct cached *c, uint64_t pc)
{
	// A return address points after the call; pc - 1 is inside it.
	Dwarf_Addr at = pc ? pc - 1 : 0, bias = 0;
	Dwfl_Module *mod = dwfl_addrmodule(sym->dwfl, at);
	const char *file = NULL, *symbol = NULL, *module = NULL;
	const char *comp_dir = NULL;
	int line = 0;
	struct tm_frame_info frames[MAX_INLINE + 1];
	size_t n = 0;

	if (mod) {
		module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					  NULL, NULL);
		// Only the module's name is to be trusted in a rebuilt file.
		if (is_mismatched(sym, mod))
			mod = NULL;
	}
	if (mod) {
		symbol = dwfl_module_addrname(mod, at);
		Dwfl_Line *l = dwfl_module_getsrc(mod, at);
		if (l) {
			file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
			comp_dir = dwfl_line_comp_dir(l);
		}
	}
	c->outer = make_frame(pc, file, line, symbol, module, comp_dir);

	// The innermost function-like scope at the address.  If it is an
	// inlined instance, the scopes that contain that instance (not those
	// of its abstract definition, which dwarf_getscopes continues with)
	// give the callers: each inlined subroutine's call site is where the
	// next frame out stands.
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, at, &bias) : NULL;
	Dwarf_Die *scopes = NULL, *chain = NULL;
	int nscopes = cu ? dwarf_getscopes(cu, at - bias, &scopes) : 0;
	int innermost = 0;
	while (innermost < nscopes &&
	       dwarf_tag(&scopes[innermost]) != DW_TAG_inlined_subroutine &&
	       dwarf_tag(&scopes[innermost]) != DW_TAG_subprogram)
		innermost++;
	int nchain = innermost < nscopes
			     ? dwarf_getscopes_die(&scopes[innermost], &chain)
			     : 0;
	Dwarf_Files *files = NULL;
	if (cu)
		dwarf_getsrcfiles(cu, &files, NULL);
	const char *here_file = file;
	int here_line = line;
	for (int i = 0; i < nchain && n < MAX_INLINE; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (tag != DW_TAG_inlined_subroutine &&
		    tag != DW_TAG_subprogram)
			continue;
		frames[n++] = make_frame(pc, here_file, here_line,
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
	free(scopes);
	free(chain);
	// No scopes (no debug info): the one frame the symbol table gives.
	if (n == 0)
		frames[n++] =
			make_frame(pc, file, line, symbol, module, comp_dir);
	c->frames = malloc(n * sizeof(*c->frames));
	if (!c->frames) {
		// Out of memory: the one frame the symbol table gives.
		for (size_t k = 0; k < n; k++)
			free_frame(&frames[k]);
		c->frames = &c->outer;
		c->count = 1;
		return;
	}
	memcpy(c->frames, frames, n * sizeof(*frames));
	c->count = n;
}

static size_t slot_of(uint64_t pc, size_t capacity)
{
	return (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 20) & (capacity - 1);
}

static bool grow(struct tm_symbolizer *sym)
{
	size_t cap = sym->capacity ? sym->capacity * 2 : 256;
	struct cached **fresh = calloc(cap, sizeof(*fresh));

	if (!fresh)
		return false;
	for (size_t i = 0; i < sym->capacity; i++) {
		if (!sym->cache[i])
			continue;
		size_t j = slot_of(sym->cache[i]->pc, cap);
		while (fresh[j])
			j = (j + 1) & (cap - 1);
		fresh[j] = sym->cache[i];
	}
	free(sym->cache);
	sym->cache = fresh;
	sym->capacity = cap;
	return true;
}

static struct cached *lookup(struct tm_symbolizer *sym, uint64_t pc)
{
	if ((sym->count + 1) * 2 > sym->capacity && !grow(sym))
		return NULL;
	for (size_t j = slot_of(pc, sym->capacity);;
	     j = (j + 1) & (sym->capacity - 1)) {
		struct cached *c = sym->cache[j];
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c)
				return NULL;
			c->pc = pc;
			resolve(sym, c, pc);
			sym->cache[j] = c;
			sym->count++;
			return c;
		}
		if (c->pc == pc)
			return c;
	}
}

static const struct tm_frame_info unknown_frame = { UNKNOWN, 0, UNKNOWN,
						    UNKNOWN, 0 };

const struct tm_frame_info *tm_symbolizer_lookup(struct tm_symbolizer *sym,
						 uint64_t pc)
{
	struct cached *c = lookup(sym, pc);

	return c ? &c->outer : &unknown_frame;
}

void tm_symbolizer_expand(struct tm_symbolizer *sym, uint64_t pc,
			  const struct tm_frame_info **ret, size_t *count)
{
	struct cached *c = lookup(sym, pc);

	*ret = c ? c->frames : &unknown_frame;
	*count = c ? c->count : 1;
}
