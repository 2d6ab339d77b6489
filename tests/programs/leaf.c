// leaf.c: the program forkexec's child execs; it leaks one known block.
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void *leaf_block(void)
{
	return malloc(4444);
}

int main(void)
{
	leaf_block();
	return 0;
}
