// runtime.h: the state of the tracing runtime shared by its files.
//
// One process has one runtime.  The trace table lives in `region`; the
// pointers below point into it and stay valid because a region never moves.
#ifndef TM_RUNTIME_RUNTIME_H
#define TM_RUNTIME_RUNTIME_H

#include "region.h"
#include "tm/tracemalloc.h"
#include "tm_layout.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Traces are spread over independently locked shards, in sets: each thread
// inserts into a set of its own, so threads rarely share a shard (table.c).
#define TM_SHARD_BITS 6
#define TM_SHARDS_PER_SET (1u << TM_SHARD_BITS)
#define TM_SHARD_SETS 4
#define TM_SHARD_COUNT (TM_SHARDS_PER_SET * TM_SHARD_SETS)

struct tm_intern {
	uint32_t lock;
	uint32_t count;	   // tracebacks interned
	uint64_t capacity; // slots, a power of two
	uint64_t slots;	   // region offset of uint32_t refs
};

struct tm_runtime {
	// Read on every allocation and rarely written: a cache line of their
	// own, so writes elsewhere never make threads fetch it again.
	struct {
		int tracing;
		int nframe;
		uint64_t epoch;	     // changes when every trace is dropped
		uint64_t peak_epoch; // changes when the peak is reset
		struct tm_shard_rec *shards;
		struct tm_header_rec *header;
		unsigned sets_in_use; // shard sets handed to threads, up to 4
	} __attribute__((aligned(64)));

	unsigned next_set; // the set the next new thread gets

	uint64_t peak __attribute__((aligned(64)));
	struct tm_region region;
	struct tm_intern intern;
	size_t fixed_size;     // region bytes that clear_traces keeps
	uint32_t control_lock; // serializes start, stop, clear, snapshot
	uint32_t module_lock;
};

extern struct tm_runtime tm_rt;

// table.c: traces by (domain, address).
struct tm_trace_found {
	uint64_t address;
	uint64_t size;
	uint32_t domain;
	uint32_t traceback;
};

// Insert or replace a trace in @shard, from tm_table_shard() (table.h);
// returns the change in traced bytes through @delta.  Returns false
// (nothing stored) if the table is full or @epoch is no longer current.
bool tm_table_put(struct tm_shard_rec *shard, uint32_t domain, uint64_t address,
		  uint64_t size, uint32_t traceback, uint64_t epoch,
		  int64_t *delta);
// Remove a trace; false if none.
bool tm_table_take(uint32_t domain, uint64_t address,
		   struct tm_trace_found *ret);
// Find the trace that starts at or contains @address: 1 if found, 0 if
// not, -EAGAIN if not found while a shard looked at was being changed by
// this very thread (a signal handler interrupted it), which may hide it.
int tm_table_find(uint32_t domain, uint64_t address,
		  struct tm_trace_found *ret);
int tm_table_init(void);
void tm_table_lock_all(void);
void tm_table_unlock_all(void);
void tm_table_clear_locked(void);
uint64_t tm_table_traced_size(void);

// intern.c: tracebacks, stored once each.
// Returns a traceback reference (offset / TM_LAYOUT_TRACEBACK_ALIGN) or 0.
// @fresh tells whether the traceback was new.
uint32_t tm_intern(const uint64_t *frames, unsigned nframe,
		   unsigned total_nframe, uint64_t epoch, bool *fresh);
void tm_intern_clear_locked(void);
static inline const struct tm_traceback_rec *tm_traceback_get(uint32_t ref)
{
	return tm_region_ptr(&tm_rt.region,
			     (uint64_t)ref * TM_LAYOUT_TRACEBACK_ALIGN);
}

// unwind.c: the caller's stack, without the runtime and allocator wrappers.
// A capture has room past TM_UNWIND_LIMIT for the frames dropped from its
// top, so total_nframe counts up to TM_UNWIND_LIMIT frames of the program's.
#define TM_STACK_CAPACITY (TM_UNWIND_LIMIT + 32)
struct tm_stack {
	void *pcs[TM_STACK_CAPACITY]; // innermost first
	unsigned count;
};
int tm_unwind_init(void);
void tm_capture(struct tm_stack *stack);
// Memory libunwind holds for the threads that unwound, and the ranges of
// the wrappers linked into the program, in bytes.
size_t tm_unwind_memory(void);
// Around fork: wait until no other thread is inside the unwinder and keep
// them out (before); let them in again (after, in parent or @child).
void tm_unwind_before_fork(void);
void tm_unwind_after_fork(bool child);
// The program's frames in @stack, from the first one outside the runtime
// and the C and C++ runtime libraries: up to @max of them (*@n says how
// many); *@total counts them all (capped).  Not a copy: the capture is
// large, and a signal handler may run on a small stack.
const uint64_t *tm_frames_of(const struct tm_stack *stack, unsigned max,
			     unsigned *n, unsigned *total);
// A loaded object: if it is one of the C and C++ runtime libraries (or an
// allocator), its code joins the frames tm_frames_of passes over, and so
// do the operator new functions of a library that has its own and the
// C++ standard library's functions compiled into it; true if any were not
// known before.  Under the module lock.
struct dl_phdr_info;
bool tm_unwind_note_library(const struct dl_phdr_info *info);
// The object loaded at @bias, over [@start, @end), was unloaded: frames
// there are not the C and C++ runtimes' any more.  Under the module lock.
void tm_unwind_forget_library(uintptr_t bias, uintptr_t start, uintptr_t end);

// program_wrappers.c: the C and C++ runtimes' allocating functions linked
// into the program itself (operator new with -static-libstdc++; the C
// library too when it is linked statically), found by name in its symbol
// table once, before the first unwind.  @bias is where the program is
// loaded; @libc_linked_in whether the C library is part of it.
void tm_program_wrappers_init(uintptr_t bias, bool libc_linked_in);
bool tm_program_wrappers_contain(uintptr_t pc);
size_t tm_program_wrappers_memory(void);
struct tm_code_range {
	uintptr_t start, end;
};
// Whether @pc lies in one of the @count ranges of @sorted, sorted by start
// and disjoint.
bool tm_code_ranges_contain(const struct tm_code_range *sorted, size_t count,
			    uintptr_t pc);
// Which file was read: the same file loaded again has the same identity.
struct tm_file_identity {
	uint64_t device, inode, size;
	int64_t mtime_sec, mtime_nsec;
};
// An ELF file, mapped whole to read its symbol tables; a shared library's
// is mapped once for both readers below.
struct tm_elf_file {
	const uint8_t *bytes;
	size_t size;
	struct tm_file_identity identity;
};
// False if @path cannot be opened, is not a regular file, or is not ELF.
bool tm_elf_file_map(const char *path, struct tm_elf_file *file);
void tm_elf_file_unmap(const struct tm_elf_file *file);
// The operator new functions a shared library (@info, from its @file)
// defines itself, as one built with -static-libstdc++ does: their ranges,
// at most @max of them, sorted and joined, into @out; how many.  None if
// the file is not the one loaded.
size_t tm_library_operators(const struct tm_elf_file *file,
			    const struct dl_phdr_info *info,
			    struct tm_code_range *out, size_t max);
// The C++ standard library's functions a shared library (@info, from its
// @file) carries (template instances, and all of libstdc++ when it is
// linked in): as offsets from its load bias, sorted and joined, in memory
// from @allocate.  False if the file is not the one loaded, or @allocate
// failed; a library without such functions is read, and has none.
struct tm_library_functions {
	struct tm_file_identity identity;
	const struct tm_code_range *offsets;
	size_t count;
};
bool tm_library_standard_functions(const struct tm_elf_file *file,
				   const struct dl_phdr_info *info,
				   void *(*allocate)(size_t bytes),
				   struct tm_library_functions *found);

// library_wrappers.c: the C++ standard library's functions in the shared
// libraries that are loaded, read from each file once (a library closed
// and loaded again is not read again).  Under the module lock but
// _contain, which any thread may call at any time.
bool tm_library_wrappers_note(const struct dl_phdr_info *info,
			      const struct tm_elf_file *file);
void tm_library_wrappers_forget(uintptr_t bias);
bool tm_library_wrappers_contain(uintptr_t pc);
size_t tm_library_wrappers_memory(void);

// modules.c: the module map stored in the region.
enum tm_refresh {
	TM_REFRESH_DONE,
	TM_REFRESH_NEW_WRAPPERS, // a C or C++ runtime library was loaded
	TM_REFRESH_BUSY,	 // another thread is refreshing it
};
// Record the objects loaded since the last look.
enum tm_refresh tm_modules_refresh(void);
// The span [*@start, *@end) of @info's loadable segments that have all of
// @flags (PF_W, PF_X; 0 for all of them); false if none has.
bool tm_object_span(const struct dl_phdr_info *info, uint32_t flags,
		    uintptr_t *start, uintptr_t *end);
bool tm_modules_cover(const uint64_t *pcs, unsigned n);
// Whether a module was forgotten (closed) since tracing started or traces
// were last cleared.
bool tm_modules_forgotten(void);
void tm_modules_clear_locked(void);
// After dlclose(); if another thread holds the map, it forgets on unlocking.
void tm_modules_forget_unloaded(void);
// Release tm_rt.module_lock, first forgetting what a dlclose() left for us.
void tm_modules_unlock(void);
// The main program's file (loaded at @bias) into @buf (@size bytes): the
// file whose entry point is the program's, of /proc/self/exe, the name it
// was started by through the loader, or the name given to exec(), or the
// first that exists.  The loader gives no name for it.
const char *tm_main_program_path(uintptr_t bias, char *buf, size_t size);

// hooks.c: resolve the real allocator.
void tm_hooks_init(void);
// Whether this is a fully static program (linked with -static), whose
// allocator the runtime calls by the C library's internal names.
bool tm_hooks_static_program(void);
// Say on stderr if the program's calls to malloc or free reach another
// definition first (the program's own allocator, or one preloaded
// before the runtime): the table would stay empty without a word.  Call
// with the recursion guard held (guard.h).
void tm_hooks_check_interposed(void);

// env.c: the trace file named by TRACEMALLOC_FILE, or NULL.
extern const char *tm_file_template;

#endif // TM_RUNTIME_RUNTIME_H
