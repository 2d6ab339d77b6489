// malloc-bench.c: ns per malloc+free pair, at call depth ~20, for three
// workloads:
//   big  sizes 16..4096 B, ~100k live blocks (cache misses dominate)
//   hot  sizes 1..256 B, ~1k live blocks (the allocator's fast path)
//   new  sizes 1..256 B, ~1k live blocks, each pair from a call stack not
//        seen before (~30 more frames, each one of two functions: what a
//        tracer pays for a stack it must unwind)
// Usage: malloc-bench big|hot|new THREADS PAIRS_PER_THREAD
// Prints "ns_per_pair=X" and, when libtracemalloc is loaded, the table's
// memory per live trace, as tm_get_tracemalloc_memory() reports it and as
// the kernel counts the region's resident pages.
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEPTH 20

struct workload {
	size_t live;
	size_t min_size, max_size;
	int fresh_stacks;
};

static struct workload work;
static uint64_t pairs;
static pthread_barrier_t ready;

// One cache line each: the seed is written on every iteration, and threads
// sharing its line would measure the bench, not the allocator.
struct thread {
	pthread_t id;
	unsigned seed;
	void **slots;
	double ns;
} __attribute__((aligned(64)));

static inline unsigned next(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static size_t pick_size(unsigned *seed)
{
	return work.min_size + next(seed) % (work.max_size - work.min_size + 1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pair(struct thread *t)
{
	size_t k = next(&t->seed) % work.live;
	free(t->slots[k]);
	t->slots[k] = malloc(pick_size(&t->seed));
}

// FRESH_DEPTH levels, each through one of two functions with frames of
// different sizes, picked at random: 2^30 stacks, none seen twice.
#define FRESH_DEPTH 30

static void fresh_a(struct thread *t, int depth);
static void fresh_b(struct thread *t, int depth);

// The level below @depth, through either function; the pair at the bottom.
static inline void fresh_below(struct thread *t, int depth)
{
	if (depth == 0)
		pair(t);
	// The top bit: the generator's low bits repeat within a few hundred
	// calls, which would make the stacks repeat too.
	else if (next(&t->seed) >> 23)
		fresh_a(t, depth - 1);
	else
		fresh_b(t, depth - 1);
}

__attribute__((noinline)) static void fresh_a(struct thread *t, int depth)
{
	volatile char frame[48];
	frame[0] = (char)depth;
	fresh_below(t, depth);
	frame[1] = frame[0];
}

__attribute__((noinline)) static void fresh_b(struct thread *t, int depth)
{
	volatile char frame[176];
	frame[0] = (char)depth;
	fresh_below(t, depth);
	frame[1] = frame[0];
}

__attribute__((noinline)) static void loop(struct thread *t)
{
	for (size_t i = 0; i < work.live; i++)
		t->slots[i] = malloc(pick_size(&t->seed));
	pthread_barrier_wait(&ready);
	double start = now();
	for (uint64_t i = 0; i < pairs; i++) {
		if (work.fresh_stacks)
			fresh_a(t, FRESH_DEPTH);
		else
			pair(t);
	}
	t->ns = (now() - start) / (double)pairs;
}

// Recurse so every allocation has ~20 frames below it, as in a real
// program; the volatile sum keeps the calls from becoming jumps.
__attribute__((noinline)) static int descend(struct thread *t, int depth)
{
	volatile int sum = depth;
	if (depth == 0)
		loop(t);
	else
		sum += descend(t, depth - 1);
	return sum;
}

static void *run(void *arg)
{
	descend(arg, DEPTH);
	return NULL;
}

// The resident bytes of the mapping that holds @address (/proc/self/smaps).
static uint64_t resident_of(uint64_t address)
{
	char line[512];
	uint64_t rss = 0;
	int inside = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi, kb;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 &&
		    strchr(line, ' ') && strchr(line, ' ') - line < 40)
			inside = address >= lo && address < hi;
		else if (inside && sscanf(line, "Rss: %" SCNu64, &kb) == 1)
			rss += kb * 1024;
	}
	fclose(f);
	return rss;
}

static void report_table(size_t live)
{
	size_t (*memory)(void) = (size_t(*)(void))dlsym(
		RTLD_DEFAULT, "tm_get_tracemalloc_memory");
	const uint64_t *desc = dlsym(RTLD_DEFAULT, "__tracemalloc_descriptor");

	if (!memory || !desc)
		return;
	// desc: version, flags (4+4 bytes), then the region's address.
	uint64_t region = desc[1];
	printf("table_bytes=%zu resident_bytes=%" PRIu64
	       " bytes_per_trace=%.1f resident_per_trace=%.1f\n",
	       memory(), resident_of(region), (double)memory() / (double)live,
	       (double)resident_of(region) / (double)live);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
			"usage: malloc-bench big|hot|new THREADS PAIRS\n");
		return 1;
	}
	if (strcmp(argv[1], "big") == 0)
		work = (struct workload){ 100000, 16, 4096, 0 };
	else if (strcmp(argv[1], "hot") == 0)
		work = (struct workload){ 1000, 1, 256, 0 };
	else if (strcmp(argv[1], "new") == 0)
		work = (struct workload){ 1000, 1, 256, 1 };
	else
		return 1;
	int threads = atoi(argv[2]);
	pairs = strtoull(argv[3], NULL, 10);
	if (threads < 1 || threads > 64 || !pairs)
		return 1;
	// Split the live set among the threads.
	work.live /= (size_t)threads;
	pthread_barrier_init(&ready, NULL, (unsigned)threads);
	struct thread *t = aligned_alloc(64, (size_t)threads * sizeof(*t));
	memset(t, 0, (size_t)threads * sizeof(*t));
	for (int i = 0; i < threads; i++) {
		t[i].seed = (unsigned)i * 7919u + 17u;
		// Not from malloc: the bench's own bookkeeping stays untraced.
		t[i].slots = calloc(work.live, sizeof(void *));
		pthread_create(&t[i].id, NULL, run, &t[i]);
	}
	double ns = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i].id, NULL);
		ns += t[i].ns;
	}
	printf("ns_per_pair=%.1f\n", ns / threads);
	report_table(work.live * (size_t)threads);
	return 0;
}
