// forkexec.c: a parent that forks while another thread allocates, and a
// child that allocates and then execs another program.  Each process must
// keep a table of its own: checked here in process, and from the trace
// files by run-forkexec.sh.  Then children and a sibling that fork in
// turn, which must not hold up the parent's fork().
//   forkexec LEAF   (LEAF is the program the child execs)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tm/tracemalloc.h"

#define NOINLINE __attribute__((noinline, visibility("default")))

NOINLINE void *parent_block(void)
{
	return malloc(1111);
}

NOINLINE void *child_block(void)
{
	return malloc(2222);
}

NOINLINE void *after_fork_block(void)
{
	return malloc(3333);
}

static volatile int stop;

static void *background(void *arg)
{
	(void)arg;
	while (!stop)
		free(malloc(64));
	return NULL;
}

static int traced(void *p)
{
	struct tm_block b;

	return tm_get_object_traceback(p, &b, NULL, 0) == 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fork_and_reap(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

// Children that fork at once, beside a sibling that forks without pause.
// With a file-backed table fork() waits until the child has its own copy
// of the table (at most 5 s, should the child never say so); no child's
// or grandchild's fork may make the parent wait for that time.  Returns
// the longest fork() in seconds.
static double forks_of_forks(void)
{
	pid_t sibling = fork();

	if (sibling == 0) {
		for (int i = 0; i < 300; i++)
			fork_and_reap();
		_exit(0);
	}
	double longest = 0;
	for (int i = 0; i < 30; i++) {
		double start = now();
		pid_t pid = fork();
		double took = now() - start;
		if (pid == 0) {
			fork_and_reap();
			_exit(0);
		}
		if (took > longest)
			longest = took;
		waitpid(pid, NULL, 0);
		if (longest > 2.5)
			break;
	}
	waitpid(sibling, NULL, 0);
	return longest;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 2 || !tm_is_tracing()) {
		fprintf(stderr, "usage: TRACEMALLOC=N forkexec LEAF\n");
		return 2;
	}
	void *mine = parent_block();
	pthread_create(&t, NULL, background, NULL);
	// Many forks while another thread holds table locks at random.
	for (int i = 0; i < 50; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			void *p = malloc(10);
			free(p);
			_exit(traced(mine) ? 0 : 1);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "forkexec: child %d lost the table\n",
				i);
			return 1;
		}
	}
	stop = 1;
	pthread_join(t, NULL);

	if (forks_of_forks() > 2.5) {
		fprintf(stderr, "forkexec: a fork() took over 2.5 s: the "
				"parent waited for a "
				"child that had already copied the table\n");
		return 1;
	}

	pid_t pid = fork();
	if (pid == 0) {
		void *c = child_block();
		if (!traced(c) || !traced(mine)) {
			fprintf(stderr, "forkexec: the child's table is "
					"wrong\n");
			_exit(1);
		}
		execl(argv[1], argv[1], (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	void *after = after_fork_block();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !traced(after)) {
		fprintf(stderr, "forkexec: child failed (%d)\n", status);
		return 1;
	}
	printf("forkexec parent=%d child=%d\n", (int)getpid(), (int)pid);
	return 0;
}
