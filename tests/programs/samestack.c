// samestack.c: stacks that look alike to a cache keyed on stack addresses.
// via_a and via_b have the same frame layout and call alloc_leaf, so its
// malloc runs at the same stack address with the same return address; only
// their own return addresses differ.  Recursion at alternating depths
// changes total_nframe while the innermost frames stay identical;
// outer_x and outer_z differ only two frames above the allocation, deep_x
// and deep_z ten frames above it.
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

void *volatile kept[8000];

NOINLINE void *alloc_leaf(size_t n)
{
	void *p = malloc(n);
	KEEP();
	return p;
}

NOINLINE void *via_a(size_t n)
{
	volatile char pad[32];
	pad[0] = 1;
	return alloc_leaf(n);
}

NOINLINE void *via_b(size_t n)
{
	volatile char pad[32];
	pad[0] = 2;
	return alloc_leaf(n);
}

// Two frames up: outer_x and outer_z differ, middle and alloc_leaf do not.
NOINLINE void *middle(size_t n)
{
	void *p = alloc_leaf(n);
	KEEP();
	return p;
}

NOINLINE void *outer_x(size_t n)
{
	volatile char pad[32];
	pad[0] = 3;
	return middle(n);
}

NOINLINE void *outer_z(size_t n)
{
	volatile char pad[32];
	pad[0] = 4;
	return middle(n);
}

NOINLINE void *recurse(int depth, size_t n)
{
	void *p = depth ? recurse(depth - 1, n) : alloc_leaf(n);
	KEEP();
	return p;
}

// Ten identical frames below them: only a cache that compares every frame
// tells deep_x's stacks from deep_z's.
NOINLINE void *deep_x(size_t n)
{
	volatile char pad[32];
	pad[0] = 5;
	return recurse(8, n);
}

NOINLINE void *deep_z(size_t n)
{
	volatile char pad[32];
	pad[0] = 6;
	return recurse(8, n);
}

int main(void)
{
	for (int i = 0; i < 2000; i++)
		kept[i] = i % 2 ? via_a(101) : via_b(202);
	for (int i = 0; i < 2000; i++)
		kept[2000 + i] = i % 2 ? recurse(3, 303) : recurse(5, 505);
	for (int i = 0; i < 2000; i++)
		kept[4000 + i] = i % 2 ? outer_x(707) : outer_z(808);
	for (int i = 0; i < 2000; i++)
		kept[6000 + i] = i % 2 ? deep_x(909) : deep_z(1010);
	printf("samestack done\n");
	return 0;
}
