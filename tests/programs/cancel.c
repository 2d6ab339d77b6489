// cancel.c: threads cancelled while they allocate.  glibc's malloc is no
// cancellation point: a thread with a pending pthread_cancel() keeps
// allocating until it reaches one of its own.  The runtime's hooks make
// system calls that are cancellation points (growing a trace file, opening
// it again, writing a diagnostic); had the cancellation taken effect
// there, the thread would have ended inside malloc with the runtime's
// locks held, and the next allocation of any thread would wait forever.
//
// Each worker cancels itself, allocates BLOCKS blocks that it keeps (the
// table grows several times on the way), and only then reaches
// pthread_testcancel().
//   grow:   as is;
//   reopen: every descriptor from 3 up is closed first (as daemons do),
//           so the runtime opens its trace file again to grow it;
//   lost:   the same, and the trace file is removed first too, so the
//           runtime says on stderr that the table stops growing;
//   start:  tracing is off until the worker calls tm_start() (found with
//           dlsym: the runtime is preloaded), which creates the trace
//           file.
// The main thread then allocates again, and prints what happened.
//   cancel grow|reopen|lost|start
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 100000

static void *blocks[BLOCKS];
static int allocated;
static int (*start_tracing)(int nframe);
static int started = -1;

static __attribute__((noinline, noclone)) void *cancelled_keep(size_t size)
{
	return malloc(size);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_cancel(pthread_self());
	if (start_tracing)
		started = start_tracing(1);
	for (int i = 0; i < BLOCKS; i++) {
		blocks[i] = cancelled_keep(48);
		if (blocks[i])
			allocated++;
	}
	pthread_testcancel();
	return NULL;
}

// The trace file's name: TRACEMALLOC_FILE with %p expanded.
static void trace_file_name(char *out, size_t size)
{
	const char *template = getenv("TRACEMALLOC_FILE");
	size_t n = 0;

	for (; template && *template && n + 24 < size; template ++) {
		if (template[0] == '%' && template[1] == 'p') {
			n += (size_t)snprintf(out + n, size - n, "%d",
					      (int)getpid());
			template ++;
		} else {
			out[n++] = *template;
		}
	}
	out[n] = '\0';
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";
	char trace_file[4096];
	pthread_t thread;
	void *result;

	if (strcmp(mode, "grow") && strcmp(mode, "reopen") &&
	    strcmp(mode, "lost") && strcmp(mode, "start")) {
		fprintf(stderr, "usage: cancel grow|reopen|lost|start\n");
		return 2;
	}
	trace_file_name(trace_file, sizeof(trace_file));
	if (!strcmp(mode, "lost") && trace_file[0] && unlink(trace_file) != 0) {
		perror(trace_file);
		return 1;
	}
	if (!strcmp(mode, "start")) {
		*(void **)&start_tracing = dlsym(RTLD_DEFAULT, "tm_start");
		if (!start_tracing) {
			fprintf(stderr, "no tm_start: run with the runtime\n");
			return 77;
		}
	} else if (strcmp(mode, "grow") && close_range(3, ~0u, 0) != 0) {
		perror("close_range");
		return 77;
	}
	if (pthread_create(&thread, NULL, worker, NULL) != 0 ||
	    pthread_join(thread, &result) != 0) {
		fprintf(stderr, "cannot run the worker thread\n");
		return 1;
	}
	for (int i = 0; i < 1000; i++)
		free(malloc(64));
	printf("cancel %s allocated=%d cancelled=%s", mode, allocated,
	       result == PTHREAD_CANCELED ? "yes" : "no");
	if (start_tracing)
		printf(" started=%d", started);
	printf("\n");
	return 0;
}
