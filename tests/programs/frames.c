// frames.c: allocations reached through libc frames that have no frame
// pointers (through_libc.h).  Each leaks, so its traceback can be checked
// from the trace file.
#include "through_libc.h"

int main(void)
{
	leak_strdup();
	leak_fopen();
	sort_things();
	printf("frames done\n");
	return 0;
}
