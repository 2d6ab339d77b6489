// allstatic.c: a fully static program (linked with -static) that traces
// itself: it leaks through libc (through_libc.h), from two
// threads at once, and from a forked child, each from a function of its
// own, so that the tables can be checked.  It also opens and closes a
// shared library, as a static program may.  The child checks its own copy
// of the table (with TRACEMALLOC_FILE it is not in the file).  With
// "crash" the program then dies of SIGSEGV, for a core.
#include "through_libc.h"
#include "tm/tracemalloc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREAD_BLOCKS 1000

// The child's block.
void *volatile child_kept;
// Where the crash writes.
static int *volatile nowhere;

// Each thread keeps every other block of THREAD_BLOCKS: 500 of 333 bytes.
NOINLINE void thread_keep(void **blocks)
{
	for (int i = 0; i < THREAD_BLOCKS; i++)
		blocks[i] = malloc(333);
	for (int i = 0; i < THREAD_BLOCKS; i += 2)
		free(blocks[i]);
	KEEP();
}

static void *thread_main(void *arg)
{
	thread_keep(arg);
	return NULL;
}

NOINLINE void child_keep(void)
{
	child_kept = calloc(7, 111);
	KEEP();
}

// The child's block is in its table, from child_keep; 0 if so.
static int child_checks_its_table(void)
{
	struct tm_block block;
	uintptr_t frames[4];
	int n = tm_get_object_traceback(child_kept, &block, frames, 4);
	// frames[0] returns into child_keep, a few bytes of code.
	uintptr_t in_child_keep = frames[0] - (uintptr_t)child_keep;

	if (n < 1 || block.size != 777 || in_child_keep > 64) {
		fprintf(stderr, "child: traceback %d, size %zu, frame 0 %+ld\n",
			n, n < 1 ? 0 : block.size, (long)in_child_keep);
		return 2;
	}
	return 0;
}

// dlclose, which the runtime wraps, still closes: 0 if so.
static int open_and_close_a_library(void)
{
	void *library = dlopen("libm.so.6", RTLD_NOW);
	if (!library) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 3;
	}
	if (dlclose(library) != 0) {
		fprintf(stderr, "dlclose failed\n");
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static void *blocks[2][THREAD_BLOCKS];
	pthread_t threads[2];

	if (open_and_close_a_library() != 0)
		return 3;
	leak_strdup();
	leak_fopen();
	sort_things();
	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, thread_main, blocks[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	pid_t child = fork();
	if (child == 0) {
		child_keep();
		_exit(child_checks_its_table());
	}
	int status;
	if (child < 0 || waitpid(child, &status, 0) != child ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	printf("allstatic done\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "crash") == 0)
		*nowhere = 1;
	return 0;
}
