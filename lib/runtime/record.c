// record.c: what every hook does once it knows an allocation happened:
// capture the stack, intern it, store the trace, account for the peak.
#include "runtime.h"

#include "guard.h"
#include "prim.h"
#include "tm/tracemalloc.h"

#include <errno.h>

TM_RUNTIME_TEXT bool tm_record(uint32_t domain, uint64_t address,
			       uint64_t size)
{
	// Read the epoch first: a clear after this point makes the table
	// refuse the trace instead of storing a dangling traceback.
	uint64_t epoch = __atomic_load_n(&tm_rt.epoch, __ATOMIC_ACQUIRE);
	uint64_t frames[TM_MAX_NFRAME];
	unsigned total;
	unsigned n = tm_unwind(frames, (unsigned)tm_rt.nframe, &total);
	bool fresh;
	uint32_t ref = tm_intern(frames, n, total, epoch, &fresh);
	int64_t delta;

	if (ref && tm_table_put(domain, address, size, ref, epoch, &delta)) {
		tm_account(delta);
		if (fresh && !tm_modules_cover(frames, n))
			tm_modules_refresh();
		return true;
	}
	if (__atomic_load_n(&tm_rt.epoch, __ATOMIC_RELAXED) == epoch)
		__atomic_fetch_add(&tm_rt.header->untraced, 1,
				   __ATOMIC_RELAXED);
	return false;
}

bool tm_forget(uint32_t domain, uint64_t address, struct tm_trace_found *ret)
{
	if (!tm_table_take(domain, address, ret))
		return false;
	tm_account(-(int64_t)ret->size);
	return true;
}

TM_RUNTIME_TEXT int tm_track(unsigned int domain, uintptr_t ptr, size_t size)
{
	if (!tm_is_tracing())
		return -ENODATA;
	if (!ptr)
		return -EINVAL;
	bool entered = tm_guard_enter();
	bool stored = tm_record(domain, ptr, size);
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
