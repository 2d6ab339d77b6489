// altstack.c: signal handlers that allocate on an alternate signal stack,
// as crash handlers do.
//
// small: the stack has room for the kernel's signal frame plus 4.5 KiB,
//   about what 8 KiB (the old SIGSTKSZ) leaves on a machine with AVX-512:
//   enough for malloc and strdup, not for an unwind.  The handler must
//   not crash; its blocks go untraced.
// large: 64 KiB more: the handler's blocks are traced, from the handler.
// thread: a thread's own stack can be small too.  After a first
//   allocation (traced), it allocates with 2 KiB left: no crash,
//   untraced.  first: a thread's very first allocation with 2 KiB left,
//   the same (it asks pthread_getattr_np for its stack first, which
//   allocates inside: the runtime must not ask from there).
// main: the main thread's stack ends RLIMIT_STACK below its top (run
//   under `ulimit -s 1024`); allocating with 2 KiB left there must not
//   crash either, and goes untraced.  "main=untested" without a limit.
//
// Before the runtime looked at the room left, the small handler and the
// thread died of SIGSEGV when traced, and ran untraced.
//   altstack
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tm/tracemalloc.h"

#define NOINLINE __attribute__((noinline))

static char *block, *copy;

static void allocate(int sig)
{
	(void)sig;
	block = malloc(100);
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

// "traced" if both of the handler's blocks are, "untraced" if neither is.
static const char *traced(void)
{
	struct tm_block info;
	uintptr_t frames[4];
	int a = tm_get_object_traceback(block, &info, frames, 4);
	int b = tm_get_object_traceback(copy, &info, frames, 4);

	if (a > 0 && b > 0)
		return "traced";
	if (a == -ENOENT && b == -ENOENT)
		return "untraced";
	return "mixed";
}

static uintptr_t stack_low;
static void *shallow_block, *deep_block;

static NOINLINE void descend(void)
{
	volatile char pad[256];

	pad[0] = 1;
	// 2 KiB: as much as plain glibc's malloc needs, a little more, and
	// what the runtime needs to find out that it cannot unwind.
	if ((uintptr_t)pad - stack_low > 2 * 1024)
		descend();
	else
		deep_block = malloc(100);
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
		shallow_block = malloc(100);
	descend();
	return arg;
}

static const char *traced_block(const void *p)
{
	struct tm_block info;
	uintptr_t frames[4];

	return tm_get_object_traceback(p, &info, frames, 4) > 0 ? "traced"
								: "untraced";
}

static void run_small_thread(void *arg)
{
	pthread_attr_t attr;
	pthread_t thread;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&thread, &attr, small_thread, arg) != 0) {
		perror("pthread_create");
		exit(1);
	}
	pthread_join(thread, NULL);
	pthread_attr_destroy(&attr);
}

// "shallow=traced deep=untraced first=untraced" and the like.
static void on_small_thread(char *out, size_t cap)
{
	static int after_shallow;

	// First, so that the runtime has not yet asked where any thread's
	// stack ends: its own first calls cost stack too.
	run_small_thread(NULL);
	const char *first = traced_block(deep_block);
	run_small_thread(&after_shallow);
	snprintf(out, cap, "shallow=%s deep=%s first=%s",
		 traced_block(shallow_block), traced_block(deep_block), first);
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

// "main=untraced" and the like.
static void on_main_stack(char *out, size_t cap)
{
	struct tm_block info;
	uintptr_t frames[4];
	struct rlimit limit;
	uintptr_t top = main_stack_top();

	if (!top || getrlimit(RLIMIT_STACK, &limit) != 0 ||
	    limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > 16 << 20) {
		snprintf(out, cap, "main=untested");
		return;
	}
	stack_low = top - limit.rlim_cur;
	descend();
	int deep = tm_get_object_traceback(deep_block, &info, frames, 4);
	snprintf(out, cap, "main=%s", deep > 0 ? "traced" : "untraced");
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
	const char *small = traced();
	free(block);
	free(copy);
	on_alternate_stack((size_t)frame + 65536);
	const char *large = traced();
	free(block);
	free(copy);
	char thread[80], main_stack[32];
	on_small_thread(thread, sizeof(thread));
	on_main_stack(main_stack, sizeof(main_stack));
	printf("altstack small=%s large=%s thread %s %s\n", small, large,
	       thread, main_stack);
	return 0;
}
