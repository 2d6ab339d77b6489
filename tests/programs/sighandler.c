// sighandler.c: signal handlers that interrupt an allocation and call into
// the runtime.
//
// One thread allocates and frees without pause, from call stacks that keep
// changing (so the unwinder, the traceback store and the table's growth
// all run), while a timer's signal handler runs every 0.5 to 2 ms.  The signal
// often lands while the thread is inside the runtime holding one of its
// locks, which the handler's call must then not wait for.
//
// fork: the handler forks.  Each child returns from the handler, so that
// the interrupted allocation completes, allocates some more, and checks
// that the traced size is exactly what its blocks add up to; the parent
// checks the same at the end.  The handler gives each child 10 s.
//
// lookup: the handler asks where blocks that never change were allocated,
// by their start and by an address inside; each answer must be right, or
// -EAGAIN when the thread it interrupted was changing the shard.
//
// A hang in the parent's handler is the test's time limit.
//   sighandler fork|lookup COUNT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "child.h"
#include "tm/tracemalloc.h"

#define NOINLINE __attribute__((noinline))
#define LIVE 64
#define BURST 4000

static void *blocks[LIVE];
static size_t sizes[LIVE];
static size_t live_bytes;
// What was traced before the loop (the C library's blocks, the stable
// ones).
static size_t baseline;

static volatile sig_atomic_t handled, failed, in_child, again;

static void fork_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		in_child = 1;
		return;
	}
	if (pid < 0 || !finished(pid))
		failed++;
}

#define STABLE 16
static char *stable[STABLE];
#define STABLE_SIZE(k) (100 + (size_t)(k))

// One block by its start, one by an address inside.
static void look_up(void)
{
	static unsigned k;
	struct tm_block b;
	char *start = stable[k % STABLE];
	size_t size = STABLE_SIZE(k % STABLE);

	for (int inside = 0; inside < 2; inside++) {
		int n = tm_get_object_traceback(start + inside * size / 2, &b,
						NULL, 0);
		if (n == -EAGAIN)
			again++;
		else if (n < 0 || b.address != (uintptr_t)start ||
			 b.size != size)
			failed++;
	}
	k++;
}

static int looking_up;

static void on_timer(int sig)
{
	(void)sig;
	if (looking_up)
		look_up();
	else
		fork_child();
	handled++;
}

// Allocate @size bytes @depth calls down, each call through one of two
// functions as @path's bits say: up to 2^16 distinct stacks.
static NOINLINE void *left(unsigned depth, unsigned path, size_t size);
static NOINLINE void *right(unsigned depth, unsigned path, size_t size);

static void *down(unsigned depth, unsigned path, size_t size)
{
	if (!depth)
		return malloc(size);
	return (path & 1 ? left : right)(depth - 1, path >> 1, size);
}

static NOINLINE void *left(unsigned depth, unsigned path, size_t size)
{
	void *p = down(depth, path, size);
	__asm__ volatile("" ::: "memory"); // not a tail call
	return p;
}

static NOINLINE void *right(unsigned depth, unsigned path, size_t size)
{
	void *p = down(depth, path, size);
	__asm__ volatile("" ::: "memory");
	return p;
}

static unsigned next_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void replace(unsigned k, unsigned *state)
{
	unsigned r = next_random(state);
	free(blocks[k]);
	live_bytes -= sizes[k];
	sizes[k] = 16 + r % 500;
	blocks[k] = down(r % 16, r >> 4, sizes[k]);
	live_bytes += sizes[k];
}

// Many blocks at once, then none: the table's shards and region grow.
static void burst(void)
{
	static void *many[BURST];

	for (unsigned i = 0; i < BURST; i++)
		many[i] = malloc(24);
	for (unsigned i = 0; i < BURST; i++)
		free(many[i]);
}

// True if the runtime traces exactly the blocks this program holds.
static int table_agrees(void)
{
	size_t current, peak;

	tm_get_traced_memory(&current, &peak);
	return current == baseline + live_bytes;
}

int main(int argc, char **argv)
{
	if (argc != 3 ||
	    (strcmp(argv[1], "fork") && strcmp(argv[1], "lookup")) ||
	    !tm_is_tracing()) {
		fprintf(stderr, "usage: TRACEMALLOC=N sighandler fork|lookup "
				"COUNT\n");
		return 2;
	}
	looking_up = !strcmp(argv[1], "lookup");
	int want = atoi(argv[2]);
	unsigned state = 1;

	for (unsigned k = 0; k < STABLE; k++)
		stable[k] = malloc(STABLE_SIZE(k));
	size_t peak;
	tm_get_traced_memory(&baseline, &peak);
	struct sigaction sa = { .sa_handler = on_timer };
	sigaction(SIGALRM, &sa, NULL);
	// One shot at a time, armed again by the loop: a handler slower than
	// a periodic timer would leave the loop no time to run.
	int armed_for = -1;
	for (unsigned i = 0;; i++) {
		if (in_child) {
			for (unsigned k = 0; k < LIVE; k++)
				replace(k, &state);
			_exit(table_agrees() ? 0 : 3);
		}
		if (handled >= want || failed)
			break;
		if (armed_for != handled) {
			armed_for = handled;
			long usec = 500 + next_random(&state) % 1500;
			struct itimerval once = { { 0, 0 }, { 0, usec } };
			setitimer(ITIMER_REAL, &once, NULL);
		}
		replace(i % LIVE, &state);
		if (i % 4096 == 0)
			burst();
	}
	int agrees = table_agrees();
	printf("sighandler %s=%d failed=%d table=%s\n", argv[1], (int)handled,
	       (int)failed, agrees ? "agrees" : "differs");
	if (looking_up)
		fprintf(stderr, "sighandler: %d lookups answered -EAGAIN\n",
			(int)again);
	return failed || !agrees ? 1 : 0;
}
