// altstack.c: allocations with little stack left, as crash handlers,
// small threads and coroutines make them.  None may crash, and each is
// traced from its own frames: where the program's stack has too little
// room for an unwind, or an end the runtime cannot know, the runtime
// unwinds on a stack of its own.
//
// small: a signal handler on an alternate stack with room for the
//   kernel's signal frame plus 4.5 KiB, about what 8 KiB (the old
//   SIGSTKSZ) leaves on a machine with AVX-512: enough for malloc and
//   strdup, not for an unwind.  Its blocks (111 bytes, and strdup's 15)
//   are kept.
// large: 64 KiB more; its blocks are freed.
// first: a thread with a 64 KiB stack makes its very first allocation
//   (100 bytes) with 2 KiB left.  It asks pthread_getattr_np for its stack
//   before, which allocates inside: the runtime must not ask from there.
// thread: another such thread allocates (99 bytes), then allocates 101
//   with 2 KiB left.
// main: the main thread's stack ends RLIMIT_STACK below its top (run
//   under `ulimit -s 1024`); it allocates 102 bytes with 2 KiB left.
//   "main=untested" without a limit.
// coroutine: a makecontext coroutine on a 64 KiB stack from mmap, above a
//   guard page, allocates 103 bytes with 2 KiB left.
// array: the same on a 64 KiB array on the main thread's stack (104
//   bytes): the runtime takes it for the thread's own stack, with room.
//
// Before the runtime looked at the room left, the small handler and the
// threads died of SIGSEGV when traced, and ran untraced; then, until it
// unwound on a stack of its own, they ran with their blocks untraced, and
// the coroutines died.
//   altstack
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

#include "tm/tracemalloc.h"

#define NOINLINE __attribute__((noinline))

static char *block, *copy;

static void allocate(int sig)
{
	(void)sig;
	block = malloc(111);
	copy = strdup("a crash report");
}

// Run the handler once on an alternate stack of @size bytes.
static void on_alternate_stack(size_t size)
{
	stack_t stack = { .ss_sp = malloc(size), .ss_size = size };
	struct sigaction action;

	if (!stack.ss_sp || sigaltstack(&stack, NULL) < 0) {
		perror("sigaltstack");
		exit(1);
	}
	memset(&action, 0, sizeof(action));
	action.sa_handler = allocate;
	action.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &action, NULL);
	raise(SIGUSR1);
	stack.ss_flags = SS_DISABLE;
	sigaltstack(&stack, NULL);
	free(stack.ss_sp);
}

static const char *traced_block(const void *p)
{
	struct tm_block info;
	uintptr_t frames[4];

	return tm_get_object_traceback(p, &info, frames, 4) > 0 ? "traced"
								: "untraced";
}

// "traced" if both of the handler's blocks are, "untraced" if neither is.
static const char *traced(void)
{
	const char *a = traced_block(block), *b = traced_block(copy);

	return strcmp(a, b) == 0 ? a : "mixed";
}

static uintptr_t stack_low;
static size_t deep_size;
static void *shallow_block, *deep_block;

static NOINLINE void descend(void)
{
	volatile char pad[256];

	pad[0] = 1;
	// 2 KiB: as much as plain glibc's malloc needs, and a little more.
	if ((uintptr_t)pad - stack_low > 2 * 1024)
		descend();
	else
		deep_block = malloc(deep_size);
	pad[1] = 2;
}

// A thread with a 64 KiB stack; @arg, if not null, says to allocate
// before it allocates with 2 KiB left.
static void *small_thread(void *arg)
{
	pthread_attr_t attr;
	void *low;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0 ||
	    pthread_attr_getstack(&attr, &low, &size) != 0)
		return NULL;
	pthread_attr_destroy(&attr);
	stack_low = (uintptr_t)low;
	if (arg)
		shallow_block = malloc(99);
	descend();
	return arg;
}

// Run small_thread(@arg); "traced" if its deep block of @size bytes is.
static const char *on_small_thread(void *arg, size_t size)
{
	pthread_attr_t attr;
	pthread_t thread;

	deep_size = size;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&thread, &attr, small_thread, arg) != 0) {
		perror("pthread_create");
		exit(1);
	}
	pthread_join(thread, NULL);
	pthread_attr_destroy(&attr);
	return traced_block(deep_block);
}

// The top of the main thread's stack, from /proc/self/maps; 0 if unknown.
static uintptr_t main_stack_top(void)
{
	char line[512];
	unsigned long start, end;
	uintptr_t top = 0;
	FILE *maps = fopen("/proc/self/maps", "r");

	if (!maps)
		return 0;
	while (fgets(line, sizeof(line), maps))
		if (strstr(line, "[stack]") &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			top = end;
	fclose(maps);
	return top;
}

// "main=traced" and the like.
static void on_main_stack(char *out, size_t cap)
{
	struct rlimit limit;
	uintptr_t top = main_stack_top();

	if (!top || getrlimit(RLIMIT_STACK, &limit) != 0 ||
	    limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > 16 << 20) {
		snprintf(out, cap, "main=untested");
		return;
	}
	stack_low = top - limit.rlim_cur;
	deep_size = 102;
	descend();
	snprintf(out, cap, "main=%s", traced_block(deep_block));
}

static ucontext_t caller, coroutine;

static void coroutine_body(void)
{
	descend();
}

// Run a coroutine on the @size bytes at @stack, which allocates @block_size
// bytes with 2 KiB left; "traced" if that block is.
static const char *on_coroutine(char *stack, size_t size, size_t block_size)
{
	if (getcontext(&coroutine) != 0) {
		perror("getcontext");
		exit(1);
	}
	coroutine.uc_stack.ss_sp = stack;
	coroutine.uc_stack.ss_size = size;
	coroutine.uc_link = &caller;
	makecontext(&coroutine, coroutine_body, 0);
	stack_low = (uintptr_t)stack;
	deep_size = block_size;
	swapcontext(&caller, &coroutine);
	return traced_block(deep_block);
}

// A coroutine on a stack from mmap, above a guard page.
static const char *on_mapped_coroutine(void)
{
	size_t size = 64 * 1024, guard = 4096;
	char *stack = mmap(NULL, guard + size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (stack == MAP_FAILED || mprotect(stack, guard, PROT_NONE) != 0) {
		perror("mmap");
		exit(1);
	}
	return on_coroutine(stack + guard, size, 103);
}

// A coroutine on an array in this frame: to the runtime it looks like the
// thread's own stack, with room to spare below.  What lies below is this
// thread's suspended frames, which an unwind there would overwrite.
static NOINLINE const char *on_array_coroutine(void)
{
	char stack[64 * 1024] __attribute__((aligned(16)));

	return on_coroutine(stack, sizeof(stack), 104);
}

int main(void)
{
	long frame = sysconf(_SC_MINSIGSTKSZ);

	if (frame < 2048)
		frame = 2048;
	if (!tm_is_tracing()) {
		fprintf(stderr, "altstack: not traced\n");
		return 1;
	}
	on_alternate_stack((size_t)frame + 4608);
	const char *small = traced(); // its blocks are kept
	on_alternate_stack((size_t)frame + 65536);
	const char *large = traced();
	free(block);
	free(copy);
	// The first, so that the runtime has not yet asked where any
	// thread's stack ends: its own first calls cost stack too.
	const char *first = on_small_thread(NULL, 100);
	static int after_shallow;
	const char *thread = on_small_thread(&after_shallow, 101);
	const char *shallow = traced_block(shallow_block);
	char main_stack[32];
	on_main_stack(main_stack, sizeof(main_stack));
	const char *mapped = on_mapped_coroutine();
	printf("altstack small=%s large=%s first=%s shallow=%s thread=%s %s "
	       "coroutine=%s array=%s\n",
	       small, large, first, shallow, thread, main_stack, mapped,
	       on_array_coroutine());
	return 0;
}
