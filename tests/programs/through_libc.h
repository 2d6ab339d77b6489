// through_libc.h: allocations reached through libc frames that have no
// frame pointers: strdup, fopen, and a qsort comparator.  Each leaks into
// through_libc_kept, so that its traceback can be checked from a table;
// the tests name these functions in the frames they expect.
#ifndef TM_TESTS_THROUGH_LIBC_H
#define TM_TESTS_THROUGH_LIBC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

// Visible and volatile: the compiler may not drop these allocations.
void *volatile through_libc_kept[3];

NOINLINE void leak_strdup(void)
{
	through_libc_kept[0] = strdup("a string duplicated by libc");
	KEEP();
}

NOINLINE void leak_fopen(void)
{
	FILE *f = fopen("/proc/self/stat", "r"); // never closed
	through_libc_kept[1] = f;
	KEEP();
}

static int compare_calls;

NOINLINE int compare_and_allocate(const void *a, const void *b)
{
	if (compare_calls++ == 0)
		through_libc_kept[2] = malloc(4242);
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

#endif
