// churn.c: threads that allocate and free at random forever, keeping their
// own count of what they hold, for the crash-consistency test (tm-probe
// freeze).  Prints "truth ADDRESS threads N" and runs until killed.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 64
#define SLOTS 4096

struct truth {
	uint64_t count, bytes;
};

// Read from outside by tm-probe, so every update is a plain store the
// freeze can observe.
static volatile struct truth truth[MAX_THREADS];

__attribute__((noinline, visibility("default"))) void *
churn_allocate(size_t size)
{
	void *p = malloc(size);
	__asm__ volatile("" ::: "memory");
	return p;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned seed = id * 7919 + 1;
	static __thread void *slots[SLOTS];
	static __thread size_t sizes[SLOTS];

	for (;;) {
		seed = seed * 1103515245 + 12345;
		unsigned k = (seed >> 8) % SLOTS;
		if (slots[k]) {
			truth[id].count--;
			truth[id].bytes -= sizes[k];
			free(slots[k]);
			slots[k] = NULL;
		} else {
			sizes[k] = 1 + (seed >> 4) % 4096;
			slots[k] = churn_allocate(sizes[k]);
			truth[id].count++;
			truth[id].bytes += sizes[k];
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned threads = argc > 1 ? (unsigned)atoi(argv[1]) : 8;
	pthread_t t;

	if (threads < 1 || threads > MAX_THREADS)
		return 1;
	printf("truth %p threads %u\n", (void *)truth, threads);
	fflush(stdout);
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t, NULL, worker, (void *)(uintptr_t)i);
	pthread_join(t, NULL);
	return 0;
}
