// frames.c: allocations reached through libc frames that have no frame
// pointers: strdup, fopen, and a qsort comparator.  Each leaks, so its
// traceback can be checked from the trace file.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

// Visible and volatile: the compiler may not drop these allocations.
void *volatile kept[4];

NOINLINE void leak_strdup(void)
{
	kept[0] = strdup("a string duplicated by libc");
	KEEP();
}

NOINLINE void leak_fopen(void)
{
	FILE *f = fopen("/proc/self/stat", "r"); // never closed
	kept[1] = f;
	KEEP();
}

static int calls;

NOINLINE int compare_and_allocate(const void *a, const void *b)
{
	if (calls++ == 0)
		kept[2] = malloc(4242);
	return *(const int *)a - *(const int *)b;
}

NOINLINE void sort_things(void)
{
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof(v[0]), compare_and_allocate);
	KEEP();
}

int main(void)
{
	leak_strdup();
	leak_fopen();
	sort_things();
	printf("frames done\n");
	return 0;
}
