// forkunwind.c: fork while other threads are inside the unwinder.
//
// Two threads keep starting short-lived threads that allocate from a few
// call sites; a new thread's unwinder knows none of its frames yet, so it
// spends its time in the unwinder's slow path, which holds locks of the
// unwinder's own.  Meanwhile the main thread forks FORKS times, and each
// child allocates from a call site the main thread never allocated from,
// so that its first unwind takes the slow path too.  A child that inherited
// such a lock held would wait for it forever, with every signal blocked:
// the parent gives each child 10 seconds, then kills it and stops.
//   forkunwind FORKS
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

#define SITE(n)                                                                \
	static NOINLINE void site##n(void)                                     \
	{                                                                      \
		void *block = malloc(n + 1);                                   \
		sink = block; /* kept: not optimized away */                   \
		free(block);                                                   \
	}
SITE(0)
SITE(1)
SITE(2)
SITE(3)
SITE(4)
SITE(5)
SITE(6)
SITE(7)

static void (*const sites[])(void) = {
	site0, site1, site2, site3, site4, site5, site6, site7,
};
#define SITES (sizeof(sites) / sizeof(sites[0]))

static volatile int stop;

static void *allocate_everywhere(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < SITES; i++)
		sites[i]();
	return NULL;
}

static void *start_threads(void *arg)
{
	(void)arg;
	while (!stop) {
		pthread_t t;
		if (pthread_create(&t, NULL, allocate_everywhere, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 4000;
	pthread_t starters[2];
	int hung = 0, done = 0;

	for (int i = 0; i < 2; i++)
		pthread_create(&starters[i], NULL, start_threads, NULL);
	for (int k = 0; k < forks && !hung; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			sites[k % SITES]();
			_exit(0);
		}
		if (pid < 0 || !finished(pid))
			hung++;
		else
			done++;
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(starters[i], NULL);
	printf("forkunwind forks=%d failed=%d\n", done, hung);
	return hung ? 1 : 0;
}
