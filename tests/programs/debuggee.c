// debuggee.c: a program for the debugger tests.  It allocates known
// blocks from known lines (one through an inlined function), writes its
// pid to the file named by argv[2] (and two block addresses to that name
// with ".addr" added), and then ends as argv[1] says:
//   stop   stops at stop_here(), where a breakpoint catches it, then exits;
//   segv   dereferences a null pointer in the middle of its work;
//   abort  frees a block twice, so malloc's own check aborts inside free.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	struct node *next;
	char name[24];
};

// Always inlined: its malloc is named by the debugger's inline frames.
static inline __attribute__((always_inline)) struct node *new_node(int i)
{
	struct node *n = malloc(sizeof(*n));
	snprintf(n->name, sizeof(n->name), "node %d", i);
	return n;
}

__attribute__((noinline)) struct node *build_list(int count)
{
	struct node *head = NULL;

	for (int i = 0; i < count; i++) {
		struct node *n = new_node(i);
		n->next = head;
		head = n;
	}
	return head;
}

__attribute__((noinline)) char *make_buffer(size_t size)
{
	char *p = malloc(size);
	memset(p, 'x', size);
	return p;
}

__attribute__((noinline)) void stop_here(char *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

// The list's length up to the first node without a name: a crash in the
// middle of the program when a link is broken.
__attribute__((noinline)) int walk(struct node *n)
{
	int length = 0;

	while (n->name[0]) {
		length++;
		n = n->next;
	}
	return length;
}

// Global, so that a debugger can name them wherever the program stopped.
char *pages[3];

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stop";
	struct node *list = build_list(100);
	char *p = make_buffer(4000);

	for (int i = 0; i < 3; i++)
		pages[i] = make_buffer(65536);
	if (argc > 2) {
		// The pid, and beside it the addresses of p and list, for the
		// tests to give to tm-core.
		char path[4096];
		snprintf(path, sizeof(path), "%s.addr", argv[2]);
		FILE *f = fopen(path, "w");
		if (f) {
			fprintf(f, "%lu %lu\n", (unsigned long)p,
				(unsigned long)list);
			fclose(f);
		}
		if ((f = fopen(argv[2], "w"))) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	stop_here(p);
	if (strcmp(mode, "segv") == 0) {
		list->next->next = NULL; // the walk falls off the end
		printf("%d\n", walk(list));
	} else if (strcmp(mode, "abort") == 0) {
		free(p);
		free(p);
	}
	printf("done %s %d\n", list->name, pages[0][0]);
	return 0;
}
