// altstack.c: signal handlers that allocate on an alternate signal stack,
// as crash handlers do.
//
// small: the stack has room for the kernel's signal frame plus 4.5 KiB,
//   about what 8 KiB (the old SIGSTKSZ) leaves on a machine with AVX-512:
//   enough for malloc and strdup, not for an unwind.  The handler must
//   not crash; its blocks go untraced.
// large: 64 KiB more: the handler's blocks are traced, from the handler.
//
// Before the runtime looked at the room left, the small handler died of
// SIGSEGV when traced, and ran untraced.
//   altstack
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tm/tracemalloc.h"

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
	printf("altstack small=%s large=%s\n", small, traced());
	free(block);
	free(copy);
	return 0;
}
