// ownmalloc.c: an allocator of the program's own (OWNMALLOC_PROGRAM) or a
// library preloaded to replace malloc, as programs that bundle jemalloc or
// mimalloc do and as those allocators' own preloadable libraries do.  It
// passes each call on to glibc's allocator under the names glibc exports
// for that (run-environment.sh).
//   ownmalloc: keeps 100 strdup()ed strings and says "ownmalloc done".
#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void __libc_free(void *block);

void *malloc(size_t size)
{
	return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
	return __libc_calloc(count, size);
}

void *realloc(void *block, size_t size)
{
	return __libc_realloc(block, size);
}

void free(void *block)
{
	__libc_free(block);
}

#ifdef OWNMALLOC_PROGRAM
static char *kept[100];

int main(void)
{
	for (int i = 0; i < 100; i++)
		kept[i] = strdup("kept by ownmalloc");
	puts("ownmalloc done");
	return 0;
}
#endif
