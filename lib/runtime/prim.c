// prim.c: spin locks, diagnostics and number formatting for the runtime.
// Nothing here may call malloc, printf or anything that might.
#include "prim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

__thread uint32_t tm_thread_lock_token
	__attribute__((tls_model("initial-exec")));

uint32_t tm_lock_token_assign(void)
{
	// Unique among the process's threads (until 2^32 threads took one),
	// and so in a forked child too.
	static uint32_t last;
	uint32_t token;

	do
		token = __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
	while (!token);
	tm_thread_lock_token = token;
	return token;
}

void tm_spin_lock_slow(uint32_t *lock, uint32_t token)
{
	unsigned spins = 0;

	for (;;) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
			// The holder may be preempted; after a short spin give
			// it the CPU rather than burn the time slice.
			if (++spins < 128)
				cpu_relax();
			else {
				sched_yield();
				spins = 0;
			}
		}
		if (!__atomic_exchange_n(lock, token, __ATOMIC_ACQUIRE))
			return;
	}
}

int tm_cancel_off(void)
{
	int state = PTHREAD_CANCEL_ENABLE;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	return state;
}

void tm_cancel_restore(int state)
{
	pthread_setcancelstate(state, NULL);
}

void tm_close(int fd)
{
	int cancel_state = tm_cancel_off();

	close(fd);
	tm_cancel_restore(cancel_state);
}

void tm_diag(const char *first, ...)
{
	char line[512];
	size_t len = 0;
	va_list ap;
	int saved_errno = errno;

	const char *prefix = "tm: ";
	memcpy(line, prefix, 4);
	len = 4;
	va_start(ap, first);
	for (const char *part = first; part; part = va_arg(ap, const char *)) {
		size_t n = strlen(part);
		if (n > sizeof(line) - 1 - len)
			n = sizeof(line) - 1 - len;
		memcpy(line + len, part, n);
		len += n;
	}
	va_end(ap);
	line[len++] = '\n';
	// A diagnostic that cannot be written is dropped: never fail the
	// host.  Written into a pipe nobody reads any more (`prog 2>&1 |
	// head -1`), it would raise SIGPIPE and end a program that may never
	// write there itself: the signal is blocked, and taken back if this
	// write raised it.
	sigset_t pipe_only, saved, pending;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
	int cancel_state = tm_cancel_off();
	bool was_pending = sigpending(&pending) == 0 &&
			   sigismember(&pending, SIGPIPE) == 1;
	if (write(STDERR_FILENO, line, len) < 0 && errno == EPIPE &&
	    !was_pending) {
		const struct timespec now = { 0, 0 };
		sigtimedwait(&pipe_only, NULL, &now);
	}
	tm_cancel_restore(cancel_state);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	errno = saved_errno;
}

int tm_fd_move_high(int fd)
{
	struct rlimit limit;
	int lowest = 1000;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
	    limit.rlim_cur < 2 * (rlim_t)lowest)
		lowest = (int)(limit.rlim_cur / 2);
	int high = fcntl(fd, F_DUPFD_CLOEXEC, lowest);
	if (high < 0)
		return fd;
	tm_close(fd);
	return high;
}

char *tm_fmt_u64(char *buf, uint64_t value)
{
	char tmp[21];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

long tm_parse_decimal(const char *text, long max)
{
	long value = 0;

	if (!text || !*text)
		return -1;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		value = value * 10 + (*p - '0');
		if (value > max)
			return -1;
	}
	return value;
}
