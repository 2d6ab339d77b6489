// threads.c: 8 threads allocate and free at once; each ends holding 100
// blocks of 333 bytes from thread_leak.
//
// Each thread's key destructor, which runs after the runtime's own (whose
// key was created first, at load), starts a child thread and allocates
// 100 blocks of 444 bytes from late_keep while the child allocates 100 of
// 555 from child_keep; each child's destructor allocates its own 100 of
// 444.  After the 8 threads above, 5 more waves of 8 threads do only
// that.  The runtime's destructor hands its thread's stack cache, with the
// stack unwinds run on, to the next thread that needs one: here the
// child, at once.  Had the exiting thread kept using it, both would
// unwind on one stack.
//
// With "nospare", a seccomp filter first refuses every mapping of the size
// the runtime maps for a thread's own unwind stack (stackcache.h,
// TM_SPARE_STACK_SIZE, plus its guard page), as a full address space
// would: every thread then unwinds on its own stack, where it fits.
//   threads [nospare]
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "seccomp.h"

#define THREADS 8
#define LATE_BLOCKS 100
#define LATE_WAVES 6

static pthread_key_t late_key;
// The key's value in a thread whose destructor starts a child.
static char spawn_child;

__attribute__((noinline)) void *thread_leak(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) void *late_keep(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) void *child_keep(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

static void *child_work(void *arg)
{
	(void)arg;
	pthread_setspecific(late_key, "no child");
	for (int i = 0; i < LATE_BLOCKS; i++)
		child_keep(555);
	return NULL;
}

static void late_destructor(void *value)
{
	pthread_t child;
	int spawned = value == &spawn_child &&
		      pthread_create(&child, NULL, child_work, NULL) == 0;

	for (int i = 0; i < LATE_BLOCKS; i++)
		late_keep(444);
	if (spawned)
		pthread_join(child, NULL);
}

#define SPARE_STACK_MAPPING ((64 << 10) + 4096)

static void refuse_spare_stacks(void)
{
	const struct sock_filter rules[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		// The length, low word then high word.
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SPARE_STACK_MAPPING, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1]) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMEM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	refuse_calls("nospare", rules, sizeof(rules) / sizeof(rules[0]));
	void *p = mmap(NULL, SPARE_STACK_MAPPING, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED || errno != ENOMEM) {
		fprintf(stderr, "nospare: the filter let a mapping through\n");
		exit(1);
	}
}

static void *exit_at_once(void *arg)
{
	(void)arg;
	pthread_setspecific(late_key, &spawn_child);
	return NULL;
}

static void *work(void *arg)
{
	void *tmp[256];
	unsigned seed = (unsigned)(size_t)arg;

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 256; i++) {
			seed = seed * 1103515245 + 12345;
			tmp[i] = malloc(1 + seed % 2000);
		}
		for (int i = 0; i < 256; i++)
			free(tmp[i]);
	}
	for (int i = 0; i < 100; i++)
		thread_leak(333);
	pthread_setspecific(late_key, &spawn_child);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];

	if (argc > 1 && strcmp(argv[1], "nospare") == 0)
		refuse_spare_stacks();
	if (pthread_key_create(&late_key, late_destructor) != 0)
		return 1;
	for (size_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int wave = 1; wave < LATE_WAVES; wave++) {
		for (size_t i = 0; i < THREADS; i++)
			pthread_create(&t[i], NULL, exit_at_once, NULL);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
	}
	printf("threads done\n");
	return 0;
}
