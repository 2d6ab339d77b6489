// sleeper.c: leaks a known block, says so, and waits to be killed (for the
// SIGKILL and live-process tests).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void *sleeper_block(size_t n)
{
	return malloc(n);
}

int main(void)
{
	for (int i = 0; i < 1000; i++)
		sleeper_block(7777);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
