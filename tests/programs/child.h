// child.h: waiting for a forked child that may hang, for the test programs
// that fork.  Only async-signal-safe calls: a signal handler may wait.
#ifndef TM_TESTS_CHILD_H
#define TM_TESTS_CHILD_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

// Wait for @pid at most 10 s; true if it exited with status 0.  A child
// still running then is killed.
static int finished(pid_t pid)
{
	struct timespec step = { 0, 1000 * 1000 };

	for (int i = 0; i < 10000; i++) {
		int status;
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		nanosleep(&step, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

#endif // TM_TESTS_CHILD_H
