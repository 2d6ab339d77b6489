// threads.c: 8 threads allocate and free at once; each ends holding 100
// blocks of 333 bytes from thread_leak.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 8

__attribute__((noinline)) void *thread_leak(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
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
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (size_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("threads done\n");
	return 0;
}
