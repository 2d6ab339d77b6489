// record.c: what every hook does once it knows an allocation happened:
// capture the stack, intern it, store the trace, account for the peak.
#include "record.h"
#include "runtime.h"
#include "stackcache.h"
#include "table.h"

#include "guard.h"
#include "prim.h"
#include "tm/tracemalloc.h"

#include <errno.h>

int tm_stack_cache_enabled = 1;

// The interned traceback of the current stack, by a full unwind, or 0 if
// none could be made.
static TM_RUNTIME_TEXT uint32_t unwound_traceback(const void *hook_frame,
						  uint64_t epoch)
{
	uint32_t ref;
	struct tm_stack stack;
	uint64_t frames[TM_MAX_NFRAME];
	unsigned total;
	bool fresh;
	tm_capture(&stack);
	unsigned n =
		tm_frames_of(&stack, frames, (unsigned)tm_rt.nframe, &total);
	ref = tm_intern(frames, n, total, epoch, &fresh);
	if (!ref)
		return 0;
	if (tm_stack_cache_enabled)
		tm_stack_cache_store(hook_frame, stack.pcs, stack.count,
				     stack.count < TM_STACK_CAPACITY, ref,
				     epoch);
	if (fresh && !tm_modules_cover(frames, n))
		tm_modules_refresh();
	return ref;
}

TM_RUNTIME_TEXT bool tm_record(uint32_t domain, uint64_t address, uint64_t size,
			       const void *hook_frame)
{
	// Read the epoch first: a clear after this point makes the table
	// refuse the trace instead of storing a dangling traceback.
	uint64_t epoch = __atomic_load_n(&tm_rt.epoch, __ATOMIC_ACQUIRE);
	// The shard's line may be on another core: fetch it while the stack
	// is found.
	struct tm_shard_rec *shard = tm_table_shard(domain, address);
	// A stack seen before costs a few loads; a new one, a full unwind.
	uint32_t ref = tm_stack_cache_enabled
			       ? tm_stack_cache_find(hook_frame, epoch)
			       : 0;
	if (!ref)
		ref = unwound_traceback(hook_frame, epoch);
	int64_t delta;

	if (ref &&
	    tm_table_put(shard, domain, address, size, ref, epoch, &delta)) {
		tm_account(delta);
		return true;
	}
	if (__atomic_load_n(&tm_rt.epoch, __ATOMIC_RELAXED) == epoch)
		__atomic_fetch_add(&tm_rt.header->untraced, 1,
				   __ATOMIC_RELAXED);
	return false;
}

TM_RUNTIME_TEXT int tm_track(unsigned int domain, uintptr_t ptr, size_t size)
{
	if (!tm_is_tracing())
		return -ENODATA;
	if (!ptr)
		return -EINVAL;
	struct tm_trace_found old;
	bool entered = tm_guard_enter();
	// Tracking an address again replaces its trace, even one that another
	// thread's set holds.
	tm_forget(domain, ptr, &old);
	bool stored = tm_record(domain, ptr, size, __builtin_frame_address(0));
	if (entered)
		tm_guard_leave();
	return stored ? 0 : -ENOMEM;
}

int tm_untrack(unsigned int domain, uintptr_t ptr)
{
	struct tm_trace_found old;

	if (!tm_is_tracing())
		return -ENODATA;
	bool entered = tm_guard_enter();
	tm_forget(domain, ptr, &old);
	if (entered)
		tm_guard_leave();
	return 0;
}
