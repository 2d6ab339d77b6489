/* tracemalloc.h: control API of libtracemalloc, the tracing runtime.
 *
 * The calls mirror Python's tracemalloc module.  All of them are safe to call
 * from any thread, never allocate through malloc, and return 0 or a negative
 * errno value; they never abort the program.
 */
#ifndef TM_TRACEMALLOC_H
#define TM_TRACEMALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TM_PUBLIC
#define TM_PUBLIC __attribute__((visibility("default")))
#endif

/** The largest traceback limit tm_start() accepts. */
#define TM_MAX_NFRAME 128

/** The deepest stack whose frames are counted in total_nframe; deeper
 * stacks report this value. */
#define TM_UNWIND_LIMIT 256

/**
 * Start tracing allocations, storing at most @nframe frames per traceback.
 *
 * Returns 0, or -EINVAL if @nframe is outside 1..TM_MAX_NFRAME, or -ENOMEM
 * if the trace table cannot be mapped.  Like tracemalloc.start(), calling it
 * while tracing changes nothing (not even the limit).  Thread-safe.
 */
TM_PUBLIC int tm_start(int nframe);

/** Stop tracing and clear every trace.  Thread-safe. */
TM_PUBLIC void tm_stop(void);

/** 1 while allocations are traced, else 0. */
TM_PUBLIC int tm_is_tracing(void);

/** Clear all traces and tracebacks; tracing goes on.  Current and peak
 * traced memory become 0.  Thread-safe. */
TM_PUBLIC void tm_clear_traces(void);

/** The traceback limit of tm_start(); 1 before the first start. */
TM_PUBLIC int tm_get_traceback_limit(void);

/**
 * Store the total size of traced blocks now and at its peak since tracing
 * started or tm_reset_peak().  Either pointer may be NULL.  Both are 0 while
 * not tracing.  The peak is exact for a single thread; with several threads
 * allocating at once it may lag by up to 256 KiB per thread.
 */
TM_PUBLIC void tm_get_traced_memory(size_t *current, size_t *peak);

/** Set the peak to the current traced size. */
TM_PUBLIC void tm_reset_peak(void);

/** Bytes of memory the runtime uses: the trace table's resident pages (traces,
 * tracebacks, module map), the per-thread stack caches, libunwind's
 * per-thread caches (256 KiB for each live thread that unwound) and its own
 * data pages that are resident and its alone (in a static program, its
 * state only). */
TM_PUBLIC size_t tm_get_tracemalloc_memory(void);

/** The traced block that contains an address. */
struct tm_block {
	uintptr_t address; /**< start of the block */
	size_t size;
	unsigned int domain;
	unsigned int nframe;	   /**< frames stored */
	unsigned int total_nframe; /**< stack depth before truncation */
};

/**
 * Find the traced block of domain 0 that starts at or contains @ptr, store it
 * in @ret and copy up to @max_frames return addresses (most recent first)
 * into @frames, which may be NULL when @max_frames is 0.
 *
 * Returns the number of frames copied, -ENOENT if no traced block contains
 * @ptr, or -ENODATA while not tracing.  An exact start is found in constant
 * time; an interior address costs a walk over all traces.  Thread-safe.
 *
 * It may be called from a signal handler (a crash handler, say), even one
 * that interrupted an allocation on its own thread: it then does not wait
 * for the table that allocation is changing, and returns -EAGAIN if that
 * change may hide the block.  The other calls, but tm_is_tracing(), must
 * not be made from a handler that may interrupt an allocation.
 */
TM_PUBLIC int tm_get_object_traceback(const void *ptr, struct tm_block *ret,
				      uintptr_t *frames, size_t max_frames);

/**
 * Record (or replace) a block of @size bytes at @ptr in @domain, with the
 * caller's traceback, for memory that does not come from malloc.
 * Returns 0, -EINVAL for a NULL @ptr, -ENODATA while not tracing, or -ENOMEM
 * if the table is full.
 */
TM_PUBLIC int tm_track(unsigned int domain, uintptr_t ptr, size_t size);

/** Forget the block at @ptr in @domain.  Returns 0 (also when it was not
 * traced) or -ENODATA while not tracing. */
TM_PUBLIC int tm_untrack(unsigned int domain, uintptr_t ptr);

/**
 * A copy of the whole trace table, in the format of a trace file
 * (docs/layout.md), taken at one consistent instant.  Decode it with the
 * reader library (reader.h) through a buffer source.
 */
struct tm_raw_snapshot {
	void *data;
	size_t size;
};

/**
 * Copy the trace table into @ret.  Returns 0, -ENODATA while not tracing, or
 * -ENOMEM.  Caller releases with tm_raw_snapshot_release().  Thread-safe.
 */
TM_PUBLIC int tm_take_snapshot(struct tm_raw_snapshot *ret);

/** Release a snapshot taken by tm_take_snapshot(); NULL data is allowed. */
TM_PUBLIC void tm_raw_snapshot_release(struct tm_raw_snapshot *snap);

#ifdef __cplusplus
}
#endif

#endif /* TM_TRACEMALLOC_H */
