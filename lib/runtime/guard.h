// guard.h: the per-thread recursion guard of the allocator hooks.
//
// While a thread runs runtime code, any allocation it makes (from libunwind,
// the dynamic loader, or a signal handler that interrupts us) goes straight
// to the real allocator untraced, so the runtime never recurses into itself.
#ifndef TM_RUNTIME_GUARD_H
#define TM_RUNTIME_GUARD_H

#include <stdbool.h>

// initial-exec: a general-dynamic TLS access may call malloc on first use.
extern __thread int tm_guard_depth __attribute__((tls_model("initial-exec")));

// What a hook leaves in tm_guard_depth when it finds the guard held: the
// runtime calls malloc and free itself to learn whether the program's
// calls reach its hooks (hooks.c, tm_hooks_check_interposed).
#define TM_GUARD_HOOK_REACHED 2

static inline bool tm_guard_enter(void)
{
	if (tm_guard_depth) {
		tm_guard_depth = TM_GUARD_HOOK_REACHED;
		return false;
	}
	tm_guard_depth = 1;
	return true;
}

static inline void tm_guard_leave(void)
{
	tm_guard_depth = 0;
}

#endif // TM_RUNTIME_GUARD_H
