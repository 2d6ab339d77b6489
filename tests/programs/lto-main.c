// lto-main.c: built with link-time optimization together with lto-calls.c,
// whose lto_middle() is inlined here from another unit.  Prints the address
// of the block it keeps, then waits to be killed.
#include <stdio.h>
#include <unistd.h>

void *lto_middle(size_t size);

int main(void)
{
	void *block = lto_middle(4321);

	printf("block %p\n", block);
	fflush(stdout);
	pause();
	return 0;
}
