// symbolize_dwfl.c: return address -> file, line, function with libdwfl,
// for the modules a trace table records.
#include "tm/symbolize.h"

#include "error.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN "<unknown>"

// libstdc++'s demangler (cxxabi.h), declared here for C.
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct cached {
	uint64_t pc;
	struct tm_frame_info info;
};

struct tm_symbolizer {
	Dwfl *dwfl;
	// pc -> frame, open addressing; strings are owned here.
	struct cached *cache;
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
	dwfl_report_begin(sym->dwfl);
	for (size_t i = 0; i < count; i++) {
		const struct tm_module *m = &modules[i];
		// A module that cannot be opened (vdso, deleted file) only
		// leaves its frames unknown.
		if (m->path[0] != '/')
			continue;
		dwfl_report_elf(sym->dwfl, m->path, m->path, -1, m->load_bias,
				false);
	}
	dwfl_report_end(sym->dwfl, NULL, NULL);
	*ret = sym;
	return NULL;
}

void tm_symbolizer_destroy(struct tm_symbolizer *sym)
{
	if (!sym)
		return;
	for (size_t i = 0; i < sym->capacity; i++) {
		struct tm_frame_info *f = &sym->cache[i].info;
		if (!f->filename)
			continue;
		if (strcmp(f->filename, UNKNOWN) != 0)
			free((char *)f->filename);
		if (strcmp(f->function, UNKNOWN) != 0)
			free((char *)f->function);
		if (strcmp(f->module, UNKNOWN) != 0)
			free((char *)f->module);
	}
	free(sym->cache);
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

static void resolve(struct tm_symbolizer *sym, uint64_t pc,
		    struct tm_frame_info *info)
{
	// A return address points after the call; pc - 1 is inside it.
	Dwarf_Addr at = pc ? pc - 1 : 0;
	Dwfl_Module *mod = dwfl_addrmodule(sym->dwfl, at);
	const char *file = NULL, *function = NULL, *module = NULL;
	int line = 0;

	if (mod) {
		module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
					  NULL, NULL);
		function = dwfl_module_addrname(mod, at);
		Dwfl_Line *l = dwfl_module_getsrc(mod, at);
		if (l)
			file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	}
	info->pc = pc;
	// Without line information the module stands in for the file, with
	// line 0; with no module either, "<unknown>" as in tracemalloc.
	info->filename = dup_or_unknown(file ? file : module);
	info->lineno = file && line > 0 ? (unsigned)line : 0;
	info->function = function_name(function);
	info->module = dup_or_unknown(module);
}

static bool grow(struct tm_symbolizer *sym)
{
	size_t cap = sym->capacity ? sym->capacity * 2 : 256;
	struct cached *fresh = calloc(cap, sizeof(*fresh));

	if (!fresh)
		return false;
	for (size_t i = 0; i < sym->capacity; i++) {
		if (!sym->cache[i].info.filename)
			continue;
		size_t j = (sym->cache[i].pc * 0x9e3779b97f4a7c15ULL) >> 20;
		while (fresh[j & (cap - 1)].info.filename)
			j++;
		fresh[j & (cap - 1)] = sym->cache[i];
	}
	free(sym->cache);
	sym->cache = fresh;
	sym->capacity = cap;
	return true;
}

const struct tm_frame_info *tm_symbolizer_lookup(struct tm_symbolizer *sym,
						 uint64_t pc)
{
	static const struct tm_frame_info unknown = { UNKNOWN, 0, UNKNOWN,
						      UNKNOWN, 0 };

	if ((sym->count + 1) * 2 > sym->capacity && !grow(sym))
		return &unknown;
	size_t j = (pc * 0x9e3779b97f4a7c15ULL) >> 20;
	for (;; j++) {
		struct cached *c = &sym->cache[j & (sym->capacity - 1)];
		if (!c->info.filename) {
			c->pc = pc;
			resolve(sym, pc, &c->info);
			sym->count++;
			return &c->info;
		}
		if (c->pc == pc)
			return &c->info;
	}
}
