// plugin.c: a library that dl.c loads with dlopen; it leaks one block.
#include <stdlib.h>

__attribute__((noinline, visibility("default"))) void *plugin_allocate(void)
{
	void *p = malloc(5555);
	__asm__ volatile("" ::: "memory");
	return p;
}
