// cxx_hooks.c: C++'s operator new and delete, interposed like malloc.
//
// libstdc++'s operators allocate through malloc and free, which the hooks in
// hooks.c trace.  But jemalloc and tcmalloc define the operators themselves
// and allocate inside them, without calling malloc: in a C++ program linked
// with or preloading them, every new would go untraced and every delete
// would leave a trace behind.  So the runtime defines the operators too.
//
// When the next definition is libstdc++'s, an operator does what libstdc++'s
// does, through the traced malloc family: allocate with malloc (or
// aligned_alloc), and only when that fails call libstdc++'s operator, for
// its new-handler loop and its std::bad_alloc; release with free.  That is
// no slower than before: the program's call reaches malloc's hook through
// one operator, as it did through libstdc++'s.  Otherwise an operator calls
// the next definition and traces what it returns, or forgets the block
// before releasing it.  (An allocator whose operators do call malloc gets
// its block traced twice; the second trace replaces the first.)
//
// The real operator new may throw std::bad_alloc through these frames:
// nothing is held across the call, no lock and no guard.
//
// Only the shared library has them (libtool defines PIC for its objects).
// In a program linked with the static library they would be the program's
// operators, and with libstdc++ linked statically too there would be no
// next definition to call: an operator new that fails could not throw.
// There libstdc++'s operators stay, and allocate through malloc.
//
// The names are the operators' Itanium C++ ABI names; std::align_val_t is
// passed as a size_t, std::nothrow_t by reference, here a pointer.
#include "record.h"
#include "runtime.h"

#include "guard.h"
#include "prim.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef PIC

#define CXX_HOOK TM_PUBLIC TM_RUNTIME_TEXT

// The next definitions of the operators, in this order.
#define OPERATORS(X)                                                           \
	X(_Znwm)                                                               \
	X(_Znam)                                                               \
	X(_ZnwmRKSt9nothrow_t)                                                 \
	X(_ZnamRKSt9nothrow_t)                                                 \
	X(_ZnwmSt11align_val_t)                                                \
	X(_ZnamSt11align_val_t)                                                \
	X(_ZnwmSt11align_val_tRKSt9nothrow_t)                                  \
	X(_ZnamSt11align_val_tRKSt9nothrow_t)                                  \
	X(_ZdlPv)                                                              \
	X(_ZdaPv)                                                              \
	X(_ZdlPvm)                                                             \
	X(_ZdaPvm)                                                             \
	X(_ZdlPvRKSt9nothrow_t)                                                \
	X(_ZdaPvRKSt9nothrow_t)                                                \
	X(_ZdlPvSt11align_val_t)                                               \
	X(_ZdaPvSt11align_val_t)                                               \
	X(_ZdlPvmSt11align_val_t)                                              \
	X(_ZdaPvmSt11align_val_t)                                              \
	X(_ZdlPvSt11align_val_tRKSt9nothrow_t)                                 \
	X(_ZdaPvSt11align_val_tRKSt9nothrow_t)

#define OPERATOR_INDEX(name) NEXT_##name,
enum { OPERATORS(OPERATOR_INDEX) OPERATOR_COUNT };

#define OPERATOR_NAME(name) #name,
static const char *const operator_names[] = { OPERATORS(OPERATOR_NAME) };

enum next_kind {
	UNRESOLVED,
	MALLOC_BASED, // the next operators are libstdc++'s
	OTHER,	      // another allocator's, or none
};

static void *next_operators[OPERATOR_COUNT];
static int next_kind; // enum next_kind

// The operators of @scope (RTLD_NEXT, or a library's handle).
static TM_RUNTIME_TEXT void find_operators(void *scope)
{
	for (int i = 0; i < OPERATOR_COUNT; i++)
		__atomic_store_n(&next_operators[i],
				 dlsym(scope, operator_names[i]),
				 __ATOMIC_RELAXED);
}

// Look the next definitions up on first use: a C program may load C++ code
// later, with dlopen.  Racing threads store the same answers.  The loader
// allocates for each name it does not find (dlerror's message): with the
// guard held, that is not taken for the program's allocation.
static TM_RUNTIME_TEXT enum next_kind resolve_operators(void)
{
	bool entered = tm_guard_enter();

	find_operators(RTLD_NEXT);
	// Loaded with dlopen(RTLD_LOCAL) by a C program, libstdc++ is not
	// among the next definitions, but the C++ code's calls reach these
	// operators first: libstdc++'s are then its own, found by its name.
	if (!next_operators[NEXT__Znwm]) {
		void *cxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
		if (cxx) {
			find_operators(cxx);
			dlclose(cxx);
		}
	}
	if (entered)
		tm_guard_leave();
	void *next_new = next_operators[NEXT__Znwm];
	Dl_info info;
	const char *base = NULL;
	if (next_new && dladdr(next_new, &info) && info.dli_fname) {
		base = strrchr(info.dli_fname, '/');
		base = base ? base + 1 : info.dli_fname;
	}
	enum next_kind kind = base && strncmp(base, "libstdc++.so", 12) == 0
				      ? MALLOC_BASED
				      : OTHER;
	__atomic_store_n(&next_kind, kind, __ATOMIC_RELEASE);
	return kind;
}

static inline enum next_kind next_operators_kind(void)
{
	enum next_kind kind = __atomic_load_n(&next_kind, __ATOMIC_ACQUIRE);

	return __builtin_expect(kind != UNRESOLVED, 1) ? kind
						       : resolve_operators();
}

// libstdc++'s allocation without its failure handling: NULL if it failed
// (or may not be done here), and then libstdc++'s operator runs.
static inline void *plain_new(size_t size)
{
	return malloc(size ? size : 1);
}

static inline void *aligned_new(size_t size, size_t align)
{
	if (!align || (align & (align - 1)) || size > SIZE_MAX - align)
		return NULL;
	// As C11 asks, and libstdc++ does: a multiple of the alignment.
	return aligned_alloc(align,
			     ((size ? size : 1) + align - 1) & ~(align - 1));
}

// After another allocator's operator new returned @p: trace it.
static inline void *traced_new(void *p, size_t size, const void *hook_frame)
{
	if (p && tm_tracing() && tm_guard_enter()) {
		tm_record(0, (uintptr_t)p, size, hook_frame);
		tm_guard_leave();
	}
	return p;
}

// Before another allocator's operator delete releases @p: forget its trace
// (the address may be handed out again as soon as it is released).
static inline void forget_deleted(void *p)
{
	if (p && tm_tracing() && tm_guard_enter()) {
		struct tm_trace_found old;
		tm_forget(0, (uintptr_t)p, &old);
		tm_guard_leave();
	}
}

// --- operator new ----------------------------------------------------------

typedef void *(*new_fn)(size_t);
typedef void *(*new_nothrow_fn)(size_t, const void *);
typedef void *(*new_aligned_fn)(size_t, size_t);
typedef void *(*new_aligned_nothrow_fn)(size_t, size_t, const void *);

// The common case (libstdc++'s operators next) is a load, a compare and a
// call to malloc; the rest is out of line.
#define NEW_HOOK(name, fn_type, params, args, allocate)                        \
	static TM_RUNTIME_TEXT void *name##_next params                        \
	{                                                                      \
		fn_type next = (fn_type)next_operators[NEXT_##name];           \
		if (!next)                                                     \
			return allocate;                                       \
		return traced_new(next args, size,                             \
				  __builtin_frame_address(0));                 \
	}                                                                      \
	CXX_HOOK void *name params;                                            \
	CXX_HOOK void *name params                                             \
	{                                                                      \
		if (__builtin_expect(next_operators_kind() == MALLOC_BASED,    \
				     1)) {                                     \
			void *p = allocate;                                    \
			if (p)                                                 \
				return p;                                      \
		}                                                              \
		return name##_next args;                                       \
	}

NEW_HOOK(_Znwm, new_fn, (size_t size), (size), plain_new(size))
NEW_HOOK(_Znam, new_fn, (size_t size), (size), plain_new(size))
NEW_HOOK(_ZnwmRKSt9nothrow_t, new_nothrow_fn,
	 (size_t size, const void *nothrow), (size, nothrow), plain_new(size))
NEW_HOOK(_ZnamRKSt9nothrow_t, new_nothrow_fn,
	 (size_t size, const void *nothrow), (size, nothrow), plain_new(size))
NEW_HOOK(_ZnwmSt11align_val_t, new_aligned_fn, (size_t size, size_t align),
	 (size, align), aligned_new(size, align))
NEW_HOOK(_ZnamSt11align_val_t, new_aligned_fn, (size_t size, size_t align),
	 (size, align), aligned_new(size, align))
NEW_HOOK(_ZnwmSt11align_val_tRKSt9nothrow_t, new_aligned_nothrow_fn,
	 (size_t size, size_t align, const void *nothrow),
	 (size, align, nothrow), aligned_new(size, align))
NEW_HOOK(_ZnamSt11align_val_tRKSt9nothrow_t, new_aligned_nothrow_fn,
	 (size_t size, size_t align, const void *nothrow),
	 (size, align, nothrow), aligned_new(size, align))

// --- operator delete -------------------------------------------------------

typedef void (*delete_fn)(void *);
typedef void (*delete_sized_fn)(void *, size_t);
typedef void (*delete_nothrow_fn)(void *, const void *);
typedef void (*delete_sized_aligned_fn)(void *, size_t, size_t);
typedef void (*delete_aligned_nothrow_fn)(void *, size_t, const void *);

#define DELETE_HOOK(name, fn_type, params, args)                               \
	static TM_RUNTIME_TEXT void name##_next params                         \
	{                                                                      \
		fn_type next = (fn_type)next_operators[NEXT_##name];           \
		if (!next) {                                                   \
			free(p);                                               \
			return;                                                \
		}                                                              \
		forget_deleted(p);                                             \
		next args;                                                     \
	}                                                                      \
	CXX_HOOK void name params;                                             \
	CXX_HOOK void name params                                              \
	{                                                                      \
		if (__builtin_expect(next_operators_kind() == MALLOC_BASED,    \
				     1))                                       \
			free(p);                                               \
		else                                                           \
			name##_next args;                                      \
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

#endif // PIC
