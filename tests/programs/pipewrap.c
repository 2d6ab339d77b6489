// pipewrap.c: a library that wraps pipe2, as descriptor trackers and
// sandboxes do, preloaded after the runtime: the runtime's own pipe2 must
// pass the program's calls on to it (run-file-descriptors.sh).
#include <dlfcn.h>
#include <unistd.h>

typedef int (*pipe2_fn)(int fds[2], int flags);

int pipe2(int fds[2], int flags)
{
	static const char said[] = "pipewrap: pipe2\n";
	pipe2_fn next = (pipe2_fn)dlsym(RTLD_NEXT, "pipe2");

	if (write(2, said, sizeof(said) - 1) < 0 || !next)
		return -1;
	return next(fds, flags);
}
