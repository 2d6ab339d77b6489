// getattr.c: threads whose first allocation happens inside glibc's
// pthread_getattr_np, which holds the thread's own lock while it calls
// realloc (the JVM asks for its stack this way on every new thread).  Each
// thread then leaves 10 blocks of 777 bytes from getattr_leak.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4

__attribute__((noinline)) void *getattr_leak(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

static void *work(void *arg)
{
	pthread_attr_t attr;

	(void)arg;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return NULL;
	pthread_attr_destroy(&attr);
	for (int i = 0; i < 10; i++)
		getattr_leak(777);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("getattr done\n");
	return 0;
}
