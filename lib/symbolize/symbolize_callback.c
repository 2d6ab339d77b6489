// symbolize_callback.c: a symbolizer that asks its caller, frame by frame.
// The debugger plugins use it so that frames are named from the
// debugger's own view of the program (its debug-file search, sysroot and
// path substitutions), not from the files tm finds by itself.
#include "symbolizer.h"

#include "error.h"

#include <stdlib.h>

struct callback_symbolizer {
	tm_symbolize_fn fn;
	void *arg;
};

// Where the callback's frames go while one pc is resolved.
struct tm_frame_sink {
	uint64_t pc;
	const char *module; // from the table, or NULL
	struct tm_frame_info *frames;
	size_t count;
};

void tm_frame_sink_add(struct tm_frame_sink *sink, const char *filename,
		       int lineno, const char *function, const char *module)
{
	// Deeper inlining than this is cut, as libdwfl's is.
	if (!sink || sink->count > TM_MAX_INLINE)
		return;
	sink->frames[sink->count++] =
		tm_frame_make(sink->pc, filename, lineno, function,
			      sink->module ? sink->module : module, NULL);
}

static void resolve(struct tm_symbolizer *sym, uint64_t pc,
		    struct tm_frame_info *frames, size_t *count,
		    struct tm_frame_info *outer)
{
	struct callback_symbolizer *cb = sym->impl;
	uint64_t address = pc ? pc - 1 : 0;
	// Modules are named as the traced process saw them, whatever path
	// the debugger found the file under.
	struct tm_frame_sink sink = { pc, tm_symbolizer_module_at(sym, address),
				      frames, 0 };

	cb->fn(address, &sink, cb->arg);
	if (sink.count == 0)
		frames[sink.count++] =
			tm_frame_make(pc, NULL, 0, NULL, sink.module, NULL);
	// One frame for the whole place: the innermost line, in the function
	// everything was inlined into.
	const struct tm_frame_info *in = &frames[0];
	const struct tm_frame_info *out = &frames[sink.count - 1];
	bool has_line = in->lineno > 0;
	*outer =
		tm_frame_make(pc, has_line ? in->filename : NULL,
			      (int)in->lineno, out->function, in->module, NULL);
	*count = sink.count;
}

static void release(void *impl)
{
	free(impl);
}

static const struct tm_symbolizer_backend callback_backend = {
	.resolve = resolve,
	.release = release,
};

struct tm_error *tm_symbolizer_create_callback(tm_symbolize_fn fn, void *arg,
					       struct tm_symbolizer **ret)
{
	struct callback_symbolizer *cb = calloc(1, sizeof(*cb));

	if (!cb)
		return &tm_enomem;
	cb->fn = fn;
	cb->arg = arg;
	return tm_symbolizer_create(&callback_backend, cb, ret);
}
