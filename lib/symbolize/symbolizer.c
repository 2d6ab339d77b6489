// symbolizer.c: what every symbolizer shares: the cache that resolves each
// distinct pc once, and how a frame's strings are made and released.
#include "symbolizer.h"

#include "error.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN TM_UNKNOWN

// One pc, resolved: frames[0] is innermost; `outer` is the same place seen
// as one frame, named after the function the code was inlined into.
struct cached {
	uint64_t pc;
	size_t count;
	struct tm_frame_info *frames; // or &outer
	struct tm_frame_info outer;
};

struct tm_error *tm_symbolizer_create(const struct tm_symbolizer_backend *b,
				      void *impl, struct tm_symbolizer **ret)
{
	struct tm_symbolizer *sym = calloc(1, sizeof(*sym));

	if (!sym) {
		b->release(impl);
		return &tm_enomem;
	}
	sym->backend = b;
	sym->impl = impl;
	*ret = sym;
	return NULL;
}

void tm_frame_release(struct tm_frame_info *f)
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
	for (size_t i = 0; i < sym->cache.capacity; i++) {
		if (!sym->cache.keys[i])
			continue;
		struct cached *c = (struct cached *)sym->cache.values[i];
		if (c->frames != &c->outer) {
			for (size_t k = 0; k < c->count; k++)
				tm_frame_release(&c->frames[k]);
			free(c->frames);
		}
		tm_frame_release(&c->outer);
		free(c);
	}
	tm_hashmap_deinit(&sym->cache);
	free(sym->first_mismatch);
	tm_module_index_deinit(&sym->module_index);
	sym->backend->release(sym->impl);
	free(sym);
}

struct tm_error *tm_symbolizer_use_modules(struct tm_symbolizer *sym,
					   const struct tm_module *modules,
					   size_t count)
{
	struct tm_module_index index;

	if (!tm_module_index_init(&index, modules, count, false))
		return &tm_enomem;
	tm_module_index_deinit(&sym->module_index);
	sym->module_index = index;
	sym->modules = modules;
	sym->module_count = count;
	return NULL;
}

const char *tm_symbolizer_module_at(const struct tm_symbolizer *sym,
				    uint64_t address)
{
	size_t i = tm_module_index_find(&sym->module_index, address);

	return i == TM_NO_MODULE ? NULL : sym->modules[i].path;
}

size_t tm_symbolizer_module_conflicts(const struct tm_symbolizer *sym,
				      const struct tm_module **older,
				      const struct tm_module **newer)
{
	const struct tm_module_index *ix = &sym->module_index;

	*older = ix->conflicts ? &sym->modules[ix->conflict_older] : NULL;
	*newer = ix->conflicts ? &sym->modules[ix->conflict_newer] : NULL;
	return ix->conflicts;
}

size_t tm_symbolizer_mismatches(const struct tm_symbolizer *sym,
				const char **ret)
{
	*ret = sym->first_mismatch;
	return sym->mismatch_count;
}

static char *dup_or_unknown(const char *s)
{
	// "<unknown>" itself stays the shared constant, never a copy.
	char *copy = s && *s && strcmp(s, UNKNOWN) != 0 ? strdup(s) : NULL;

	return copy ? copy : (char *)UNKNOWN;
}

// libstdc++'s demangler (cxxabi.h), declared here for C.
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

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

// @path with "." and ".." folded lexically and "//" made "/".  A relative
// path stays relative, keeping the ".." that lead out of it.  Returns a new
// string or NULL.
static char *fold_path(const char *path)
{
	size_t n = strlen(path);
	char *copy = strdup(path), *out = malloc(n + 2);
	// The length of @out before each kept part, to drop it on "..".
	size_t *starts = malloc((n / 2 + 2) * sizeof(*starts));
	size_t kept = 0, len = 0, fixed = 0; // `fixed`: leading ".." parts

	if (!copy || !out || !starts) {
		free(copy);
		free(out);
		free(starts);
		return NULL;
	}
	bool absolute = path[0] == '/';
	if (absolute)
		out[len++] = '/';
	for (char *save = NULL, *part = strtok_r(copy, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0 && kept > fixed) {
			len = starts[--kept];
			continue;
		}
		if (strcmp(part, "..") == 0 && absolute)
			continue; // "/.." is "/"
		starts[kept++] = len;
		if (len > (absolute ? 1u : 0u))
			out[len++] = '/';
		if (strcmp(part, "..") == 0)
			fixed = kept;
		size_t k = strlen(part);
		memcpy(out + len, part, k);
		len += k;
	}
	if (len == 0)
		out[len++] = '.';
	out[len] = '\0';
	free(copy);
	free(starts);
	return out;
}

// Whether relative @file already begins with @comp_dir.  libdw puts the
// line table's directory 0, the compilation directory, in front of the
// names of files in it; a build whose paths were mapped to relative ones
// (-ffile-prefix-map=/build/pkg=., as Debian builds) leaves that relative,
// so "./nptl" and "pthread_once.c" give "./nptl/pthread_once.c", which
// must not become "nptl/nptl/pthread_once.c".  Other directories are
// relative to the compilation directory and still need it.
static bool starts_with_dir(const char *file, const char *comp_dir)
{
	size_t n = strlen(comp_dir);

	while (n > 1 && comp_dir[n - 1] == '/')
		n--;
	return comp_dir[0] != '/' && strncmp(file, comp_dir, n) == 0 &&
	       file[n] == '/';
}

// @file as a path that does not depend on the reader's directory: a
// relative name is taken from the compilation directory @comp_dir, and
// folded.  Returns a new string or NULL.
static char *absolute_file(const char *file, const char *comp_dir)
{
	if (!file)
		return NULL;
	if (file[0] == '/' || !comp_dir || !*comp_dir ||
	    starts_with_dir(file, comp_dir))
		return fold_path(file);
	size_t n = strlen(comp_dir) + strlen(file) + 2;
	char *joined = malloc(n);
	if (!joined)
		return NULL;
	snprintf(joined, n, "%s/%s", comp_dir, file);
	char *folded = fold_path(joined);
	free(joined);
	return folded;
}

struct tm_frame_info tm_frame_make(uint64_t pc, const char *file, int line,
				   const char *function, const char *module,
				   const char *comp_dir)
{
	char *path = file && *file ? absolute_file(file, comp_dir) : NULL;

	// Without line information the module stands in for the file, with
	// line 0; with no module either, "<unknown>" as in tracemalloc.
	return (struct tm_frame_info){
		.filename = path ? path : dup_or_unknown(module),
		.lineno = path && line > 0 ? (unsigned)line : 0,
		.function = function_name(function),
		.module = dup_or_unknown(module),
		.pc = pc,
	};
}

// Resolve @pc into @c through the backend.
static void resolve(struct tm_symbolizer *sym, struct cached *c, uint64_t pc)
{
	struct tm_frame_info frames[TM_MAX_INLINE + 1];
	size_t n = 0;

	sym->backend->resolve(sym, pc, frames, &n, &c->outer);
	c->frames = malloc(n * sizeof(*c->frames));
	if (!c->frames) {
		// Out of memory: the one frame the symbol table gives.
		for (size_t k = 0; k < n; k++)
			tm_frame_release(&frames[k]);
		c->frames = &c->outer;
		c->count = 1;
		return;
	}
	memcpy(c->frames, frames, n * sizeof(*frames));
	c->count = n;
}

static struct cached *lookup(struct tm_symbolizer *sym, uint64_t pc)
{
	uint64_t key = pc + 1; // never a return address: all ones
	size_t slot;

	if (key == 0)
		return NULL;
	if (tm_hashmap_find(&sym->cache, key, &slot))
		return (struct cached *)sym->cache.values[slot];
	struct cached *c = calloc(1, sizeof(*c));
	if (!c || !tm_hashmap_reserve(&sym->cache)) {
		free(c);
		return NULL;
	}
	c->pc = pc;
	resolve(sym, c, pc);
	// Reserving may have moved the slots: find it again.
	tm_hashmap_find(&sym->cache, key, &slot);
	tm_hashmap_put_at(&sym->cache, slot, key, (size_t)c);
	return c;
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
