// lto-calls.c: the calls lto-main.c makes.  lto_leaf() stays a function of
// its own; lto_middle() is small and called once, so the link-time
// optimizer inlines it into main().
#include <stdlib.h>

__attribute__((noinline)) void *lto_leaf(size_t size)
{
	return malloc(size);
}

void *lto_middle(size_t size)
{
	void *block = lto_leaf(size);
	return block;
}
