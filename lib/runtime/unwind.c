// unwind.c: capture the allocating call stack.
//
// libunwind's unw_backtrace walks the stack through DWARF CFI, so it stays
// right across libc frames built without frame pointers (strdup, fopen,
// qsort).  It is loaded with dlopen(RTLD_LOCAL) rather than linked: a linked
// libunwind joins the global symbol scope and replaces the program's
// backtrace() and _Unwind_* functions with its own.  Without libunwind the
// runtime falls back to glibc's backtrace(), correct but several times slower.
//
// Frame 0 is the first frame outside the runtime and outside the C and C++
// runtime libraries (and malloc's replacements), so strdup() or operator
// new report their caller; program_wrappers.c finds those functions when
// they are linked into the program, or operator new into a library, and
// library_wrappers.c the C++ standard library's functions in a library.
// Libraries loaded later (a C program that loads C++ code brings
// libstdc++ in) are noted as the module map records them.
#include "runtime.h"

#include "prim.h"
#include "tm/tracemalloc.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TM_LIBUNWIND_SONAME
#define TM_LIBUNWIND_SONAME "libunwind.so.8"
#endif

// The runtime, the C and C++ runtime libraries' code (one range each),
// and the operator new functions of libraries that carry their own.
#define MAX_WRAPPER_RANGES 128
// Operator new functions read from one library (joined when adjacent).
#define MAX_LIBRARY_OPERATORS 16
// Libraries noted, each once while it stays loaded.
#define MAX_NOTED_LIBRARIES 1024

typedef int (*backtrace_fn)(void **buffer, int size);

static backtrace_fn capture;
static bool capture_is_libunwind;
// A slot emptied when its library was closed is used again for the next
// range; its count is odd while it changes, so that a thread unwinding
// meanwhile, which reads the two ends without a lock, never takes one end
// of the old range and one of the new for a range.
struct wrapper_slot {
	uint32_t seq;
	struct tm_code_range range;
};
static struct wrapper_slot wrappers[MAX_WRAPPER_RANGES];
static unsigned wrapper_count;
// Range 0 is the runtime itself when the linker provided its section.
static unsigned runtime_ranges;
// The load biases of the libraries tm_unwind_note_library() has seen.
static uintptr_t noted_libraries[MAX_NOTED_LIBRARIES];
static unsigned noted_count;

// The runtime's own code, hooks included (prim.h, TM_RUNTIME_TEXT).
extern const char __start_tm_runtime_text[] __attribute__((weak));
extern const char __stop_tm_runtime_text[] __attribute__((weak));

// Libraries whose frames are never the allocation's cause: the C and C++
// runtimes, the loader, this runtime, and the allocators that replace
// malloc (their operator new may allocate through aligned_alloc).
static const char *const wrapper_libraries[] = {
	"libc.so",     "libstdc++.so", "ld-linux",    "libtracemalloc.so",
	"libjemalloc", "libtcmalloc",  "libmimalloc",
};

static bool is_wrapper_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0;
	     i < sizeof(wrapper_libraries) / sizeof(wrapper_libraries[0]); i++)
		if (strncmp(base, wrapper_libraries[i],
			    strlen(wrapper_libraries[i])) == 0)
			return true;
	return false;
}

// Write @range into @slot.  Writers are serialized: tm_unwind_init runs
// before tracing starts, the rest under the module lock.
static void write_slot(struct wrapper_slot *slot, struct tm_code_range range)
{
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&slot->range.start, range.start, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->range.end, range.end, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELEASE);
}

// Whether @pc lies in @slot's range.  A slot being written counts as
// empty: a signal handler interrupting its writer must not wait for it,
// and its old range is an emptied one anyway, or one whose library is
// being closed.  So only a range that holds @pc is checked for a change.
static inline __attribute__((always_inline)) bool
slot_contains(const struct wrapper_slot *slot, uintptr_t pc)
{
	uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
	uintptr_t start = __atomic_load_n(&slot->range.start, __ATOMIC_RELAXED);
	uintptr_t end = __atomic_load_n(&slot->range.end, __ATOMIC_RELAXED);

	if (pc < start || pc >= end)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return !(seq & 1) &&
	       __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == seq;
}

// A new range goes in an emptied slot, or after the last one, published by
// the count.
static void add_range(uintptr_t start, uintptr_t end)
{
	unsigned count = __atomic_load_n(&wrapper_count, __ATOMIC_RELAXED);
	struct tm_code_range range = { start, end };

	for (unsigned i = runtime_ranges; i < count; i++)
		if (wrappers[i].range.start == wrappers[i].range.end) {
			write_slot(&wrappers[i], range);
			return;
		}
	if (count == MAX_WRAPPER_RANGES)
		return;
	write_slot(&wrappers[count], range);
	__atomic_store_n(&wrapper_count, count + 1, __ATOMIC_RELEASE);
}

// Whether the library loaded at @bias is seen for the first time since it
// was loaded; it is then remembered.
static bool note_once(uintptr_t bias)
{
	for (unsigned i = 0; i < noted_count; i++)
		if (noted_libraries[i] == bias)
			return false;
	if (noted_count == MAX_NOTED_LIBRARIES)
		return false;
	noted_libraries[noted_count++] = bias;
	return true;
}

// A library that is none of the runtime libraries may still carry the C++
// runtime's operator new (linked with -static-libstdc++), where calls from
// its own code reach it (its operators hidden, or no other definition in
// the process): their ranges.  And it may carry the C++ standard library's
// functions (library_wrappers.c).  Both come from its file, mapped once.
// Only libraries with a path: the vdso has no file.
static bool read_library_file(const struct dl_phdr_info *info)
{
	struct tm_code_range found[MAX_LIBRARY_OPERATORS];
	struct tm_elf_file file;

	if (!strchr(info->dlpi_name, '/') ||
	    !tm_elf_file_map(info->dlpi_name, &file))
		return false;
	size_t n =
		tm_library_operators(&file, info, found, MAX_LIBRARY_OPERATORS);
	for (size_t i = 0; i < n; i++)
		add_range(found[i].start, found[i].end);
	bool functions = tm_library_wrappers_note(info, &file);
	tm_elf_file_unmap(&file);
	return n > 0 || functions;
}

bool tm_unwind_note_library(const struct dl_phdr_info *info)
{
	bool added = false;

	// The program itself (unnamed) is read once, at start
	// (program_wrappers.c).
	if (!info->dlpi_name || !info->dlpi_name[0] ||
	    !note_once(info->dlpi_addr))
		return false;
	if (!is_wrapper_library(info->dlpi_name))
		return read_library_file(info);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			add_range(start, start + ph->p_memsz);
			added = true;
		}
	}
	return added;
}

void tm_unwind_forget_library(uintptr_t bias, uintptr_t start, uintptr_t end)
{
	// Replace it with the last one (the order does not matter).
	for (unsigned i = 0; i < noted_count;) {
		if (noted_libraries[i] == bias)
			noted_libraries[i] = noted_libraries[--noted_count];
		else
			i++;
	}
	for (unsigned i = runtime_ranges; i < wrapper_count; i++) {
		struct tm_code_range *range = &wrappers[i].range;
		if (range->start < range->end && range->start >= start &&
		    range->end <= end)
			write_slot(&wrappers[i],
				   (struct tm_code_range){ 0, 0 });
	}
	tm_library_wrappers_forget(bias);
}

// Where the program itself is loaded: glibc lists it first, unnamed.
struct program_place {
	bool found;
	uintptr_t bias;
};

static int collect_wrapper(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct program_place *program = arg;

	(void)size;
	if (!program->found && (!info->dlpi_name || !info->dlpi_name[0])) {
		program->found = true;
		program->bias = info->dlpi_addr;
	}
	tm_unwind_note_library(info);
	return 0;
}

static bool in_ranges(uintptr_t pc, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (slot_contains(&wrappers[i], pc))
			return true;
	return false;
}

// libunwind keeps a cache of frames for each thread that unwinds: 2^14
// entries of 16 bytes, all written on the thread's first unwind and
// unmapped when it exits (x86_64/Gtrace.c).  2,000 threads that each
// allocated once held 520 MB more with it than without.  It grows fourfold
// once the thread has met 8,192 different return addresses; that growth is
// not counted.
#define LIBUNWIND_THREAD_CACHE ((size_t)16 << 14)

// Threads alive that have unwound with libunwind; each is counted once (a
// key's destructor counts it out as it exits).
static size_t unwinder_threads;
static pthread_key_t unwinder_key;
static bool unwinder_key_ready;
static __thread bool unwinder_counted_here
	__attribute__((tls_model("initial-exec")));

static void unwinder_thread_gone(void *unused)
{
	(void)unused;
	__atomic_fetch_sub(&unwinder_threads, 1, __ATOMIC_RELAXED);
}

static void count_unwinder_thread(void)
{
	unwinder_counted_here = true;
	if (unwinder_key_ready &&
	    pthread_setspecific(unwinder_key, &unwinder_threads) == 0)
		__atomic_fetch_add(&unwinder_threads, 1, __ATOMIC_RELAXED);
}

size_t tm_unwind_memory(void)
{
	return __atomic_load_n(&unwinder_threads, __ATOMIC_RELAXED) *
		       LIBUNWIND_THREAD_CACHE +
	       tm_program_wrappers_memory() + tm_library_wrappers_memory();
}

int tm_unwind_init(void)
{
	if (capture)
		return 0;
	wrapper_count = 0;
	if (__start_tm_runtime_text)
		add_range((uintptr_t)__start_tm_runtime_text,
			  (uintptr_t)__stop_tm_runtime_text);
	runtime_ranges = wrapper_count;
	struct program_place program = { 0 };
	dl_iterate_phdr(collect_wrapper, &program);
	if (program.found)
		tm_program_wrappers_init(program.bias,
					 tm_hooks_static_program());

#ifndef PIC
	// A fully static program: libunwind, loaded with its own copy of the
	// C library, crashes on its first unwind there; backtrace() is
	// linked in.
	if (tm_hooks_static_program()) {
		capture = backtrace;
		return 0;
	}
#endif
	void *handle = dlopen(TM_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
	// Why it could not be loaded: not installed, or no room for it.  A
	// copy: the next dlsym() frees dlerror()'s string.
	char why[256] = "";
	const char *error = handle ? NULL : dlerror();
	if (error)
		strncpy(why, error, sizeof(why) - 1);
	if (handle)
		capture = (backtrace_fn)dlsym(handle, "unw_backtrace");
	capture_is_libunwind = capture != NULL;
	if (capture_is_libunwind &&
	    pthread_key_create(&unwinder_key, unwinder_thread_gone) == 0)
		unwinder_key_ready = true;
	if (!capture) {
		capture = (backtrace_fn)dlsym(RTLD_DEFAULT, "backtrace");
		tm_diag(TM_LIBUNWIND_SONAME " is not available",
			why[0] ? " (" : "", why, why[0] ? ")" : "",
			"; unwinding with glibc backtrace(), which is slower",
			NULL);
	}
	return capture ? 0 : -1;
}

// --- the unwinder and fork -------------------------------------------------
//
// libunwind takes locks of its own while it unwinds a frame it has not seen
// (with every signal blocked), and so may glibc's backtrace().  A child
// forked while another thread held one would wait for it forever on its
// first such unwind, unkillable but by SIGKILL.  So fork's prepare handler
// closes a gate in front of the unwinder and waits until no other thread
// is inside it; the gate opens again once fork has returned, in parent and
// child.  forks_waiting is a count, not a flag: forks in two threads at
// once keep the gate closed until both are done.  Both sides of the
// handshake are sequentially consistent: either a thread entering sees the
// gate closed, or the fork sees it inside.
//
// Who is inside is counted in per-thread slots, each on a cache line of its
// own: one shared count measured 12% slower on the `new` benchmark with two
// threads, whose every allocation unwinds.  Threads past GATE_SLOTS share.
#define GATE_SLOTS 64

struct gate_slot {
	_Alignas(64) unsigned inside;
};

static struct gate_slot gate[GATE_SLOTS];
static unsigned gate_next;
static unsigned forks_waiting;
// This thread's slot plus one (0: none yet).
static __thread unsigned gate_slot_here
	__attribute__((tls_model("initial-exec")));
// Set before this thread counts itself in and cleared after it counts
// itself out, so that a signal handler that forks on this thread never
// waits for its own count (tm_unwind_before_fork).
static __thread int unwinding_here __attribute__((tls_model("initial-exec")));

static unsigned *inside_count(void)
{
	if (!gate_slot_here)
		gate_slot_here =
			__atomic_fetch_add(&gate_next, 1, __ATOMIC_RELAXED) %
				GATE_SLOTS +
			1;
	return &gate[gate_slot_here - 1].inside;
}

// The flag and the count change in this order as a signal on this thread
// sees them.
static void set_unwinding_here(int value)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	unwinding_here = value;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

// Count this thread in, once no fork is waiting; returns its count.
static unsigned *enter_unwinder(void)
{
	unsigned *inside = inside_count();

	for (;;) {
		set_unwinding_here(1);
		__atomic_fetch_add(inside, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&forks_waiting, __ATOMIC_SEQ_CST))
			return inside;
		__atomic_fetch_sub(inside, 1, __ATOMIC_SEQ_CST);
		set_unwinding_here(0);
		while (__atomic_load_n(&forks_waiting, __ATOMIC_ACQUIRE))
			sched_yield();
	}
}

static void leave_unwinder(unsigned *inside)
{
	__atomic_fetch_sub(inside, 1, __ATOMIC_SEQ_CST);
	set_unwinding_here(0);
}

// libunwind checks stack addresses by writing a byte from each into a pipe
// of its own, which it opens on its first unwind, at the lowest free
// numbers, and opens again when a read from it fails.  A program that then
// closed every descriptor and opened files of its own had libunwind read
// a byte of its input and write a byte of stack into its output for each
// check.  So a pipe opened from inside the unwinder gets high numbers, as
// the trace file does.  (A program linked with the static runtime keeps
// libc's pipe2 for libunwind unless its executable exports this one.)
// Every call goes on to the next pipe2 (libc's, or another preloaded
// library's that wraps it).
typedef int (*pipe2_fn)(int fds[2], int flags);
static pipe2_fn next_pipe2;

TM_PUBLIC int pipe2(int fds[2], int flags)
{
	pipe2_fn next = __atomic_load_n(&next_pipe2, __ATOMIC_ACQUIRE);

	if (!next) {
		next = (pipe2_fn)dlsym(RTLD_NEXT, "pipe2");
		__atomic_store_n(&next_pipe2, next, __ATOMIC_RELEASE);
	}
	int ret = next ? next(fds, flags) : (int)syscall(SYS_pipe2, fds, flags);
	if (ret == 0 && unwinding_here) {
		fds[0] = tm_fd_move_high(fds[0]);
		fds[1] = tm_fd_move_high(fds[1]);
	}
	return ret;
}

static unsigned threads_inside(void)
{
	unsigned total = 0;

	for (unsigned i = 0; i < GATE_SLOTS; i++)
		total += __atomic_load_n(&gate[i].inside, __ATOMIC_SEQ_CST);
	return total;
}

// This thread's own count, 0 or 1, as a signal handler that forks on it
// sees it: the thread may be inside the unwinder (holding no unwinder
// lock: those block signals), or counting itself in or out.  Past
// GATE_SLOTS threads its slot is shared and the count may be another's;
// a fork there may go ahead of one other thread's unwind.
static unsigned own_count(void)
{
	if (!unwinding_here)
		return 0;
	return __atomic_load_n(inside_count(), __ATOMIC_SEQ_CST) ? 1 : 0;
}

void tm_unwind_before_fork(void)
{
	__atomic_fetch_add(&forks_waiting, 1, __ATOMIC_SEQ_CST);
	unsigned self = own_count();
	while (threads_inside() > self)
		sched_yield();
}

void tm_unwind_after_fork(bool child)
{
	if (child) {
		// Only this thread is left; counts other threads had raised
		// on their way back from the closed gate are gone with them.
		unsigned self = own_count();
		for (unsigned i = 0; i < GATE_SLOTS; i++)
			__atomic_store_n(&gate[i].inside, 0, __ATOMIC_RELAXED);
		__atomic_store_n(inside_count(), self, __ATOMIC_RELAXED);
		__atomic_store_n(&forks_waiting, 0, __ATOMIC_RELEASE);
		return;
	}
	__atomic_fetch_sub(&forks_waiting, 1, __ATOMIC_RELEASE);
}

TM_RUNTIME_TEXT void tm_capture(struct tm_stack *stack)
{
	unsigned *inside = enter_unwinder();
	int n = capture(stack->pcs, TM_STACK_CAPACITY);
	leave_unwinder(inside);
	stack->count = n > 0 ? (unsigned)n : 0;
	if (!unwinder_counted_here && capture_is_libunwind)
		count_unwinder_thread();
}

const uint64_t *tm_frames_of(const struct tm_stack *stack, unsigned max,
			     unsigned *n, unsigned *total)
{
	unsigned depth = stack->count, first = 0;
	unsigned ranges = __atomic_load_n(&wrapper_count, __ATOMIC_ACQUIRE);

	while (first < depth &&
	       (in_ranges((uintptr_t)stack->pcs[first], ranges) ||
		tm_program_wrappers_contain((uintptr_t)stack->pcs[first]) ||
		tm_library_wrappers_contain((uintptr_t)stack->pcs[first])))
		first++;
	// Memory the C library allocates for itself with no caller of ours
	// on the stack still gets its frames, minus the runtime's.
	if (first == depth) {
		first = 0;
		while (first < depth &&
		       in_ranges((uintptr_t)stack->pcs[first], runtime_ranges))
			first++;
	}
	*n = depth - first < max ? depth - first : max;
	*total = depth - first;
	if (*total > TM_UNWIND_LIMIT)
		*total = TM_UNWIND_LIMIT;
	_Static_assert(sizeof(stack->pcs[0]) == sizeof(uint64_t),
		       "a return address is a frame");
	return (const uint64_t *)(stack->pcs + first);
}
