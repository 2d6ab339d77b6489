// record.h: what the hooks call once they know a block was allocated or is
// about to be freed (the caller holds the guard).
#ifndef TM_RUNTIME_RECORD_H
#define TM_RUNTIME_RECORD_H

#include "peak.h"
#include "runtime.h"

#include <stdbool.h>
#include <stdint.h>

static inline bool tm_tracing(void)
{
	return __atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED);
}

// Trace a block.  @hook_frame: __builtin_frame_address(0) of the hook the
// program called.  False if the trace could not be stored (counted as
// untraced).
bool tm_record(uint32_t domain, uint64_t address, uint64_t size,
	       const void *hook_frame);

// Remove a block's trace, returned in @ret; false if it had none.
static inline bool tm_forget(uint32_t domain, uint64_t address,
			     struct tm_trace_found *ret)
{
	if (!tm_table_take(domain, address, ret))
		return false;
	tm_account(-(int64_t)ret->size);
	return true;
}

#endif // TM_RUNTIME_RECORD_H
