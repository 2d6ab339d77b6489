// lifecycle.c: allocations at the edges of a program's life: in a
// constructor before main, in a library loaded with dlopen (and closed
// again), and in a signal handler interrupting allocations.  A second
// library, if given, is loaded after the first was closed (most likely at
// the same address) and allocates too.  With -r, the first library is
// loaded, called and closed TIMES times.
//   lifecycle [-r TIMES] PLUGIN.so [OTHER.so]
#include <dlfcn.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void *early;

__attribute__((noinline)) void *constructor_block(void)
{
	return malloc(6666);
}

__attribute__((constructor)) static void before_main(void)
{
	early = constructor_block();
}

static volatile sig_atomic_t handled;

// A size the main loop never allocates.  glibc's malloc is not safe in a
// signal handler: one that takes a block from the per-thread cache list
// that the interrupted malloc() was taking from corrupts it (a crash in
// about one run of 300 under load, with or without the runtime).  A block
// of this size is freed before the timer starts, so that glibc serves
// the handler from its cache, without the locks the interrupted call may
// hold, and the handler gives it back there.
#define HANDLER_SIZE 1000

static void on_alarm(int sig)
{
	(void)sig;
	// Programs do it; the runtime, interrupted anywhere in its hooks,
	// must neither deadlock nor corrupt its table.
	free(malloc(HANDLER_SIZE));
	handled++;
}

// Load @path, call its plugin_allocate() and close it again.
static bool load_call_close(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "lifecycle: %s\n", dlerror());
		return false;
	}
	void *(*plugin_allocate)(void) =
		(void *(*)(void))dlsym(h, "plugin_allocate");
	plugin_allocate();
	printf("lifecycle: %s at %p\n", path, (void *)plugin_allocate);
	dlclose(h);
	return true;
}

int main(int argc, char **argv)
{
	long times = 1;

	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		times = atol(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2 && argc != 3)
		return 2;
	for (long i = 0; i < times; i++)
		if (!load_call_close(argv[1]))
			return 1;
	if (argc == 3) {
		void *other = dlopen(argv[2], RTLD_NOW);
		if (!other) {
			fprintf(stderr, "lifecycle: %s\n", dlerror());
			return 1;
		}
		void *(*plugin_allocate)(void) =
			(void *(*)(void))dlsym(other, "plugin_allocate");
		plugin_allocate();
		printf("lifecycle: %s at %p\n", argv[2],
		       (void *)plugin_allocate);
	}

	free(malloc(HANDLER_SIZE));
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < 2000000 && handled < 500; i++)
		free(malloc((size_t)(i % 512) + 1));
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("lifecycle handled=%d early=%p\n", (int)handled, early);
	return 0;
}
