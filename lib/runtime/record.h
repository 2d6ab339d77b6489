// record.h: what the hooks call once they know a block was allocated or is
// about to be freed (the caller holds the guard).
#ifndef TM_RUNTIME_RECORD_H
#define TM_RUNTIME_RECORD_H

#include "peak.h"
#include "runtime.h"

#include <stdbool.h>
#include <stdint.h>

// The block tm_record() was last given on this thread, so that an operator
// new that allocated through malloc is not traced twice (cxx_hooks.c).
extern __thread uintptr_t tm_recorded_block
	__attribute__((tls_model("initial-exec")));
// The block an operator delete is releasing, its trace already forgotten,
// so that the free() it calls (libstdc++'s does) does not look again.
extern __thread uintptr_t tm_deleted_block
	__attribute__((tls_model("initial-exec")));

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
