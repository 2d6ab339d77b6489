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
#include <signal.h>

int tm_stack_cache_enabled = 1;

// Stack an unwind may use below the allocator hook's frame, with room to
// spare: an unwind from a signal handler needed 5.5 KiB
// (tests/programs/altstack.c).
#define TM_UNWIND_STACK_NEEDED (8 * 1024)

// Whether an unwind fits in the stack below @hook_frame, as far as can be
// known without a spare stack.  A signal handler may run on an alternate
// stack of SIGSTKSZ (8 KiB), of which the kernel's signal frame takes 3.5
// KiB with AVX-512 (more with AMX): enough for malloc, not for the capture
// and libunwind's state as well (about 5.5 KiB).  A thread's own stack may
// be small too (16 KiB, say).  Its bounds are known from its first
// unwind on (@c); off it, sigaltstack() tells whether this is the
// alternate stack and where it ends.
static bool unwind_fits(const struct tm_stack_cache *c, const void *hook_frame)
{
	uintptr_t sp = (uintptr_t)hook_frame;
	stack_t alternate;

	if (c && tm_stack_cache_covers(c, sp))
		return sp - c->stack_low >= TM_UNWIND_STACK_NEEDED;
	if (sigaltstack(NULL, &alternate) != 0 ||
	    !(alternate.ss_flags & SS_ONSTACK))
		return true;
	return sp - (uintptr_t)alternate.ss_sp >= TM_UNWIND_STACK_NEEDED;
}

// The interned traceback of the current stack, by a full unwind, or 0 if
// none could be made.  Its frame holds the capture (over 1 KiB): called on
// the runtime's own stack, or where the unwind fits.  Cancellation is off
// meanwhile (prim.h): libunwind checks addresses with read(2) and write(2)
// on a pipe.
static TM_RUNTIME_TEXT uint32_t unwound_traceback(const void *hook_frame,
						  uint64_t epoch)
{
	uint32_t ref;
	struct tm_stack stack;
	unsigned n, total;
	enum tm_refresh refresh = TM_REFRESH_DONE;
	int cancel_state = tm_cancel_off();

	tm_capture(&stack);
	const uint64_t *frames =
		tm_frames_of(&stack, (unsigned)tm_rt.nframe, &n, &total);
	// A frame in no known module: a library was loaded since the last
	// look (dlopen), and goes into the module map.  If it is the C++
	// runtime (a C program that loads C++ code), or an allocator, its
	// frames were taken for the caller's: find them again.  Only a new
	// traceback can hold such a frame, until a library is closed: loaded
	// again at the same addresses, it gives the frames interned while it
	// was known, so from then on every unwind looks, before interning.
	bool every_unwind = tm_modules_forgotten(), fresh = false;
	ref = every_unwind ? 0 : tm_intern(frames, n, total, epoch, &fresh);
	if ((every_unwind || fresh) && !tm_modules_cover(frames, n))
		refresh = tm_modules_refresh();
	if (refresh == TM_REFRESH_NEW_WRAPPERS)
		frames = tm_frames_of(&stack, (unsigned)tm_rt.nframe, &n,
				      &total);
	if (every_unwind || refresh == TM_REFRESH_NEW_WRAPPERS)
		ref = tm_intern(frames, n, total, epoch, &fresh);
	// While another thread records new libraries, the frames may still
	// be wrong; the next unwind of this stack finds them.
	if (ref && tm_stack_cache_enabled && refresh != TM_REFRESH_BUSY)
		tm_stack_cache_store(hook_frame, stack.pcs, stack.count,
				     stack.count < TM_STACK_CAPACITY, ref,
				     epoch);
	tm_cancel_restore(cancel_state);
	return ref;
}

#if defined(__x86_64__)
// Each frame between the unwinder and the hook costs the unwind about 80
// instructions: unwound_traceback is called straight from the switch.
uint32_t tm_call_on_stack(uint32_t (*fn)(const void *, uint64_t),
			  const void *hook_frame, uint64_t epoch, void *top);
#define HAVE_SPARE_STACK 1
#else // switch_stack.S is for x86_64 only
#define HAVE_SPARE_STACK 0
#define tm_call_on_stack(fn, hook_frame, epoch, top) 0
#endif

// The traceback of a stack the cache did not hold.  The unwind runs on a
// stack of the runtime's own (switch_stack.S), so that an allocation needs
// hardly more of the program's stack than under plain malloc, wherever it
// runs: with little room left on a small thread stack, on a signal
// handler's alternate stack, on a coroutine's stack whose end nothing
// tells (one that is an array on the thread's stack looks like the
// thread's own).  Without one, the unwind runs where it fits.
static TM_RUNTIME_TEXT uint32_t stack_traceback(const void *hook_frame,
						uint64_t epoch)
{
	struct tm_stack_cache *c = tm_stack_cache_prepare();
	void *spare =
		HAVE_SPARE_STACK && c ? tm_stack_cache_spare_stack(c) : NULL;
	if (spare)
		return tm_call_on_stack(unwound_traceback, hook_frame, epoch,
					spare);
	return unwind_fits(c, hook_frame) ? unwound_traceback(hook_frame, epoch)
					  : 0;
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
		ref = stack_traceback(hook_frame, epoch);
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
