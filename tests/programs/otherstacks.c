// otherstacks.c: allocations made on stacks that are not a thread's own
// stack as the kernel or pthread_create made it.
//
// - makecontext coroutines whose stacks come from mmap, from malloc, and
//   from an array inside the main thread's and a worker thread's own stack
//   (the one kind of coroutine stack the runtime's per-thread stack cache
//   covers).  Two coroutines with the same frame layout take turns, each
//   resumed in the middle of its stack.
// - one stack reused by coroutines that start in different functions, so
//   their allocations run at the same stack addresses;
// - recursion at alternating depths inside a coroutine;
// - signal handlers that allocate, on a sigaltstack from mmap, on one
//   inside the main thread's stack, and on the interrupted stack, each
//   raised from two functions with the same frame layout.
//
// The size of each allocation says which path made it, so a traceback that
// belongs to another path shows as a mismatch (run-other-stacks.sh).
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

enum { ROUNDS = 50, STACK_SIZE = 64 * 1024 };

// Every allocation is kept, so that the table lists it at the end.
static void *volatile kept[1024];
static volatile int kept_count;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

NOINLINE void alloc_leaf(size_t n)
{
	void *p = malloc(n);
	KEEP();
	if (!p)
		die("malloc");
	int k = __atomic_fetch_add(&kept_count, 1, __ATOMIC_RELAXED);
	if (k >= (int)(sizeof(kept) / sizeof(kept[0]))) {
		fputs("otherstacks: more allocations than kept[] holds\n",
		      stderr);
		exit(2);
	}
	kept[k] = p;
}

// One scheduler and two coroutines a thread.
struct pair {
	ucontext_t scheduler, coro[2];
	size_t size[2];
	int done[2];
};

static __thread struct pair *current_pair;

// Give the turn back to the scheduler; the coroutine resumes here, on its
// own stack, mid-way through its frames.
static void yield_to_scheduler(int which)
{
	struct pair *p = current_pair;
	if (swapcontext(&p->coro[which], &p->scheduler) != 0)
		die("swapcontext");
}

// coro_a and coro_b have the same frame layout: only their return
// addresses tell their stacks apart.
NOINLINE void coro_a(void)
{
	volatile char pad[48];
	pad[0] = 1;
	for (int i = 0; i < ROUNDS; i++) {
		alloc_leaf(current_pair->size[0]);
		yield_to_scheduler(0);
	}
	current_pair->done[0] = 1;
}

NOINLINE void coro_b(void)
{
	volatile char pad[48];
	pad[0] = 2;
	for (int i = 0; i < ROUNDS; i++) {
		alloc_leaf(current_pair->size[1]);
		yield_to_scheduler(1);
	}
	current_pair->done[1] = 1;
}

NOINLINE void recurse(int depth, size_t size)
{
	volatile char pad[16];
	pad[0] = (char)depth;
	if (depth)
		recurse(depth - 1, size);
	else
		alloc_leaf(size);
	KEEP();
}

// Depth 2 and depth 3 in turn; the size says which.
NOINLINE void coro_recurse(void)
{
	for (int i = 0; i < ROUNDS; i++) {
		recurse(2, current_pair->size[0]);
		yield_to_scheduler(0);
		recurse(3, current_pair->size[0] + 1);
		yield_to_scheduler(0);
	}
	current_pair->done[0] = 1;
}

static void make_coroutine(struct pair *p, int which, void (*body)(void),
			   void *stack)
{
	if (getcontext(&p->coro[which]) != 0)
		die("getcontext");
	p->coro[which].uc_stack.ss_sp = stack;
	p->coro[which].uc_stack.ss_size = STACK_SIZE;
	p->coro[which].uc_link = &p->scheduler;
	makecontext(&p->coro[which], body, 0);
	p->done[which] = 0;
}

// Resume the coroutines in turn until both (or the only one) finished.
static void run_pair(struct pair *p, int count)
{
	current_pair = p;
	for (;;) {
		int running = 0;
		for (int which = 0; which < count; which++) {
			if (p->done[which])
				continue;
			running = 1;
			if (swapcontext(&p->scheduler, &p->coro[which]) != 0)
				die("swapcontext");
		}
		if (!running)
			return;
	}
}

// coro_a on @stack_a with size @size_a and coro_b on @stack_b with
// @size_a + 1, taking turns.
static void run_two(void *stack_a, void *stack_b, size_t size_a)
{
	struct pair p = { .size = { size_a, size_a + 1 } };
	make_coroutine(&p, 0, coro_a, stack_a);
	make_coroutine(&p, 1, coro_b, stack_b);
	run_pair(&p, 2);
}

static void *mapped_stack(void)
{
	void *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		die("mmap");
	return s;
}

// Coroutine stacks that are arrays in this thread's own stack.
NOINLINE void coroutines_on_own_stack(size_t size_a)
{
	char stack_a[STACK_SIZE], stack_b[STACK_SIZE];
	run_two(stack_a, stack_b, size_a);
	KEEP();
}

static void *worker(void *arg)
{
	(void)arg;
	coroutines_on_own_stack(1401);
	return NULL;
}

// Signals.  The handler allocates signal_size bytes.
static volatile size_t signal_size;

static void on_signal(int sig)
{
	(void)sig;
	alloc_leaf(signal_size);
}

// sig_from_x and sig_from_y have the same frame layout.
NOINLINE void sig_from_x(int sig, size_t size)
{
	volatile char pad[48];
	pad[0] = 1;
	signal_size = size;
	raise(sig);
	KEEP();
}

NOINLINE void sig_from_y(int sig, size_t size)
{
	volatile char pad[48];
	pad[0] = 2;
	signal_size = size;
	raise(sig);
	KEEP();
}

static void handle(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		die("sigaction");
}

static void use_altstack(void *stack)
{
	stack_t ss = { .ss_sp = stack, .ss_size = STACK_SIZE };
	if (sigaltstack(&ss, NULL) != 0)
		die("sigaltstack");
}

// Raise @sig from x and from y in turn; sizes @size and @size + 1.
static void signals(int sig, size_t size)
{
	for (int i = 0; i < ROUNDS; i++) {
		sig_from_x(sig, size);
		sig_from_y(sig, size + 1);
	}
}

NOINLINE void altstack_on_own_stack(void)
{
	char stack[STACK_SIZE];
	use_altstack(stack);
	signals(SIGUSR1, 2301);
	stack_t off = { .ss_flags = SS_DISABLE };
	if (sigaltstack(&off, NULL) != 0)
		die("sigaltstack");
	KEEP();
}

int main(void)
{
	// Coroutines: stacks from mmap, from malloc, on this thread's stack
	// and on a worker thread's stack.
	run_two(mapped_stack(), mapped_stack(), 1101);
	void *heap_a = malloc(STACK_SIZE), *heap_b = malloc(STACK_SIZE);
	if (!heap_a || !heap_b)
		die("malloc");
	run_two(heap_a, heap_b, 1201);
	coroutines_on_own_stack(1301);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		die("pthread");

	// One stack, reused: coro_a runs to its end, then coro_b starts on
	// the same memory and allocates at the same addresses.
	void *reused = mapped_stack();
	struct pair p = { .size = { 1501, 1502 }, .done = { 0, 1 } };
	make_coroutine(&p, 0, coro_a, reused);
	run_pair(&p, 2);
	make_coroutine(&p, 1, coro_b, reused);
	run_pair(&p, 2);

	struct pair r = { .size = { 1601 } };
	make_coroutine(&r, 0, coro_recurse, mapped_stack());
	run_pair(&r, 1);

	// Signal handlers: on an alternate stack from mmap, on one inside
	// this thread's stack, and on the interrupted stack.
	use_altstack(mapped_stack());
	handle(SIGUSR1, SA_ONSTACK);
	signals(SIGUSR1, 2101);
	handle(SIGUSR2, 0);
	signals(SIGUSR2, 2201);
	altstack_on_own_stack();

	printf("otherstacks done %d\n", kept_count);
	return 0;
}
