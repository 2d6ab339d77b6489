// plugin.c: a library that dl.c loads with dlopen; it leaks one block.
#include <stdlib.h>

__attribute__((noinline, visibility("default"))) void *plugin_allocate(void)
{
	void *p = malloc(5555);
	__asm__ volatile("" ::: "memory");
	return p;
}

#ifdef PLUGIN_OTHER
// The other plugin: other code, so another build-id, same shape.
__attribute__((noinline, visibility("default"))) int plugin_other(int x)
{
	return x * 3 + 1;
}
#endif
