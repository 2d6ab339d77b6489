// many-stacks.c: allocate BLOCKS blocks from about STACKS distinct call
// stacks, for the analyzer benchmark (bench/run-analyze).  Each allocation
// walks 5 levels of calls, picking one of 10 functions at every level from
// the digits of its stack number, so stack k has its own traceback.
//   many-stacks BLOCKS STACKS
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

typedef void *(*level_fn)(unsigned long path, int depth);
static level_fn levels[10];

static void *descend(unsigned long path, int depth)
{
	if (depth == 0)
		return malloc(16 + path % 64);
	return levels[path % 10](path / 10, depth - 1);
}

// Ten functions of one shape, so the digits pick among them.
#define LEVEL(n)                                                               \
	NOINLINE static void *level##n(unsigned long path, int depth)          \
	{                                                                      \
		void *p = descend(path, depth);                                \
		__asm__ volatile("" ::: "memory");                             \
		return p;                                                      \
	}
LEVEL(0)
LEVEL(1)
LEVEL(2)
LEVEL(3)
LEVEL(4)
LEVEL(5)
LEVEL(6)
LEVEL(7)
LEVEL(8)
LEVEL(9)

int main(int argc, char **argv)
{
	unsigned long blocks = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long stacks = argc > 2 ? strtoul(argv[2], NULL, 10) : 50000;
	level_fn all[10] = { level0, level1, level2, level3, level4,
			     level5, level6, level7, level8, level9 };

	for (int i = 0; i < 10; i++)
		levels[i] = all[i];
	for (unsigned long i = 0; i < blocks; i++)
		descend(i % stacks, 5);
	printf("allocated %lu blocks from %lu stacks\n", blocks, stacks);
	return 0;
}
