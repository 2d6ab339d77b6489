// cxx_hooks.c: C++'s operator new and delete, interposed like malloc.
//
// libstdc++'s operators allocate through malloc, which the hooks in hooks.c
// already trace.  But jemalloc and tcmalloc define the operators themselves
// and allocate inside, without calling malloc: in a C++ program linked with
// or preloading them, every new would go untraced, and every delete would
// leave a trace behind.  So the runtime defines the operators too: each
// calls the next definition (libstdc++'s, jemalloc's, ...) and traces what
// that did not trace through malloc.
//
// The real operator new may throw std::bad_alloc through these frames:
// nothing is held across the call, no lock and no guard.  The definitions
// are weak, so a program that links libstdc++ statically and this runtime's
// static library keeps its own operators (which allocate through malloc).
//
// The names are the operators' Itanium C++ ABI names; std::align_val_t is
// passed as a size_t, std::nothrow_t by reference, here a pointer.
#include "record.h"
#include "runtime.h"

#include "guard.h"
#include "prim.h"

#include <dlfcn.h>
#include <stdlib.h>

#define CXX_HOOK TM_PUBLIC TM_RUNTIME_TEXT __attribute__((weak))

__thread uintptr_t tm_deleted_block __attribute__((tls_model("initial-exec")));

// The next definition of @name after this library's, looked up on first
// use (a C program may load C++ code later, with dlopen); NULL if none.
static void *next_definition(void **cache, const char *name)
{
	void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		__atomic_store_n(cache, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

#define NEXT(type, name)                                                       \
	({                                                                     \
		static void *cache;                                            \
		(type) next_definition(&cache, #name);                         \
	})

// After the real operator new returned @p: trace it, unless malloc's hook
// already did.
static inline void *traced_new(void *p, size_t size, const void *hook_frame)
{
	if (p && tm_recorded_block != (uintptr_t)p &&
	    __atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED) &&
	    tm_guard_enter()) {
		tm_record(0, (uintptr_t)p, size, hook_frame);
		tm_guard_leave();
	}
	return p;
}

// Before the real operator delete releases @p: forget its trace (the
// address may be handed out again as soon as it is released).
static inline void forget_deleted(void *p)
{
	if (!p || tm_deleted_block == (uintptr_t)p)
		return;
	if (__atomic_load_n(&tm_rt.tracing, __ATOMIC_RELAXED) &&
	    tm_guard_enter()) {
		struct tm_trace_found old;
		tm_forget(0, (uintptr_t)p, &old);
		tm_guard_leave();
	}
	tm_deleted_block = (uintptr_t)p;
}

// --- operator new ----------------------------------------------------------

typedef void *(*new_fn)(size_t);
typedef void *(*new_nothrow_fn)(size_t, const void *);
typedef void *(*new_aligned_fn)(size_t, size_t);
typedef void *(*new_aligned_nothrow_fn)(size_t, size_t, const void *);

// Without a next definition (none can be found) the operators fall back to
// malloc, which is traced; only a failure then differs (NULL, no throw).
#define NEW_HOOK(name, fn_type, params, args, fallback)                        \
	CXX_HOOK void *name params;                                            \
	CXX_HOOK void *name params                                             \
	{                                                                      \
		fn_type real = NEXT(fn_type, name);                            \
		tm_recorded_block = 0;                                         \
		void *p = real ? real args : fallback;                         \
		return traced_new(p, size, __builtin_frame_address(0));        \
	}

NEW_HOOK(_Znwm, new_fn, (size_t size), (size), malloc(size ? size : 1))
NEW_HOOK(_Znam, new_fn, (size_t size), (size), malloc(size ? size : 1))
NEW_HOOK(_ZnwmRKSt9nothrow_t, new_nothrow_fn,
	 (size_t size, const void *nothrow), (size, nothrow),
	 malloc(size ? size : 1))
NEW_HOOK(_ZnamRKSt9nothrow_t, new_nothrow_fn,
	 (size_t size, const void *nothrow), (size, nothrow),
	 malloc(size ? size : 1))
NEW_HOOK(_ZnwmSt11align_val_t, new_aligned_fn, (size_t size, size_t align),
	 (size, align), aligned_alloc(align, (size + align - 1) & ~(align - 1)))
NEW_HOOK(_ZnamSt11align_val_t, new_aligned_fn, (size_t size, size_t align),
	 (size, align), aligned_alloc(align, (size + align - 1) & ~(align - 1)))
NEW_HOOK(_ZnwmSt11align_val_tRKSt9nothrow_t, new_aligned_nothrow_fn,
	 (size_t size, size_t align, const void *nothrow),
	 (size, align, nothrow),
	 aligned_alloc(align, (size + align - 1) & ~(align - 1)))
NEW_HOOK(_ZnamSt11align_val_tRKSt9nothrow_t, new_aligned_nothrow_fn,
	 (size_t size, size_t align, const void *nothrow),
	 (size, align, nothrow),
	 aligned_alloc(align, (size + align - 1) & ~(align - 1)))

// --- operator delete -------------------------------------------------------

typedef void (*delete_fn)(void *);
typedef void (*delete_sized_fn)(void *, size_t);
typedef void (*delete_nothrow_fn)(void *, const void *);
typedef void (*delete_sized_aligned_fn)(void *, size_t, size_t);
typedef void (*delete_aligned_nothrow_fn)(void *, size_t, const void *);

#define DELETE_HOOK(name, fn_type, params, args)                               \
	CXX_HOOK void name params;                                             \
	CXX_HOOK void name params                                              \
	{                                                                      \
		fn_type real = NEXT(fn_type, name);                            \
		forget_deleted(p);                                             \
		if (real)                                                      \
			real args;                                             \
		else                                                           \
			free(p);                                               \
		tm_deleted_block = 0;                                          \
	}

DELETE_HOOK(_ZdlPv, delete_fn, (void *p), (p))
DELETE_HOOK(_ZdaPv, delete_fn, (void *p), (p))
DELETE_HOOK(_ZdlPvm, delete_sized_fn, (void *p, size_t size), (p, size))
DELETE_HOOK(_ZdaPvm, delete_sized_fn, (void *p, size_t size), (p, size))
DELETE_HOOK(_ZdlPvRKSt9nothrow_t, delete_nothrow_fn,
	    (void *p, const void *nothrow), (p, nothrow))
DELETE_HOOK(_ZdaPvRKSt9nothrow_t, delete_nothrow_fn,
	    (void *p, const void *nothrow), (p, nothrow))
DELETE_HOOK(_ZdlPvSt11align_val_t, delete_sized_fn, (void *p, size_t align),
	    (p, align))
DELETE_HOOK(_ZdaPvSt11align_val_t, delete_sized_fn, (void *p, size_t align),
	    (p, align))
DELETE_HOOK(_ZdlPvmSt11align_val_t, delete_sized_aligned_fn,
	    (void *p, size_t size, size_t align), (p, size, align))
DELETE_HOOK(_ZdaPvmSt11align_val_t, delete_sized_aligned_fn,
	    (void *p, size_t size, size_t align), (p, size, align))
DELETE_HOOK(_ZdlPvSt11align_val_tRKSt9nothrow_t, delete_aligned_nothrow_fn,
	    (void *p, size_t align, const void *nothrow), (p, align, nothrow))
DELETE_HOOK(_ZdaPvSt11align_val_tRKSt9nothrow_t, delete_aligned_nothrow_fn,
	    (void *p, size_t align, const void *nothrow), (p, align, nothrow))
