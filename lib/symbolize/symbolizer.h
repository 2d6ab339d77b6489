// symbolizer.h: what every symbolizer shares (a per-pc cache and how a
// frame is made) and the backend each kind plugs in (libdwfl over the
// table's modules, or a debugger's callback).
#ifndef TM_SYMBOLIZE_SYMBOLIZER_H
#define TM_SYMBOLIZE_SYMBOLIZER_H

#include "hashmap.h"
#include "module_index.h"
#include "tm/symbolize.h"

#define TM_UNKNOWN "<unknown>"
// Inlining deeper than this is cut off (the outermost frames are kept).
#define TM_MAX_INLINE 32

struct tm_symbolizer_backend {
	// Resolve return address @pc into @frames (at most TM_MAX_INLINE + 1,
	// innermost first; *@count >= 1) and @outer, the same place as one
	// frame named after the function the code was inlined into.  Every
	// string is made by tm_frame_make().
	void (*resolve)(struct tm_symbolizer *sym, uint64_t pc,
			struct tm_frame_info *frames, size_t *count,
			struct tm_frame_info *outer);
	void (*release)(void *impl);
};

struct cached;

struct tm_symbolizer {
	const struct tm_symbolizer_backend *backend;
	void *impl;
	// Modules whose file has another build-id than the table recorded.
	size_t mismatch_count;
	char *first_mismatch;
	// The table's module map (tm_symbolizer_use_modules).
	const struct tm_module *modules;
	size_t module_count;
	struct tm_module_index module_index;
	// pc + 1 -> struct cached * (hashmap keys are nonzero).  Entries are
	// allocated one by one, so what lookups return stays put.
	struct tm_hashmap cache;
};

// A symbolizer with @backend over @impl (released by tm_symbolizer_destroy,
// or at once if this fails).
struct tm_error *tm_symbolizer_create(const struct tm_symbolizer_backend *b,
				      void *impl, struct tm_symbolizer **ret);

// A frame whose strings the symbolizer owns: @file (relative to @comp_dir
// if it is relative, folded lexically), @function demangled; a missing
// @file is replaced by @module with line 0, anything else missing by
// "<unknown>".
struct tm_frame_info tm_frame_make(uint64_t pc, const char *file, int line,
				   const char *function, const char *module,
				   const char *comp_dir);
void tm_frame_release(struct tm_frame_info *f);

// The table's module map (@modules, borrowed until the symbolizer is
// destroyed): a frame's module is named as the traced process loaded it,
// whatever file named the frame, and a frame that no file names keeps its
// module's path.  Indexes them (module_index.h); only out of memory fails.
struct tm_error *tm_symbolizer_use_modules(struct tm_symbolizer *sym,
					   const struct tm_module *modules,
					   size_t count);
// The path the module map gives for @address, or NULL.
const char *tm_symbolizer_module_at(const struct tm_symbolizer *sym,
				    uint64_t address);
// How many modules had another loaded at some of their addresses after
// them (not counting a library loaded again in place); *@older and
// *@newer get one such pair (borrowed).
size_t tm_symbolizer_module_conflicts(const struct tm_symbolizer *sym,
				      const struct tm_module **older,
				      const struct tm_module **newer);

#endif // TM_SYMBOLIZE_SYMBOLIZER_H
