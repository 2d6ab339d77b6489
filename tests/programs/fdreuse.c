// fdreuse.c: a program that takes the trace file's descriptor away from the
// runtime, as programs do, while the table keeps growing and giving pages
// back.
//
// close: changes to / and closes every descriptor from 3 up (as daemons
//   do), then opens its own file, which gets the lowest free number.
// dup2: opens its own file and puts it on every other open descriptor from
//   3 up (as a shell's `exec N>file` does), the runtime's among them.
// nopunch: keeps its descriptors, but a seccomp filter makes fallocate
//   fail, as on a file system that cannot punch holes: pages the table
//   gives back then keep their bytes.
//
// In close and nopunch modes it then opens a file to read, and starts a
// thread that allocates: libunwind checks addresses on the new stack by
// writing them into a pipe it opened on the first unwind, at what were the
// lowest free numbers (unwind.c, pipe2).  The program must then read its
// whole file.  (dup2 mode puts its file on libunwind's numbers too, and
// libunwind closes them when it opens its pipe again: not tested.)
//
// Then it tracks whole pages of addresses and untracks them, keeps LIVE
// blocks while it frees and allocates others, forks a child that writes
// to its file and does the same, and checks that its file holds exactly
// what the two wrote, that every descriptor it set up is still open in
// both, and that the traced size is exactly what its blocks add up to.
// Before the runtime checked its descriptor, growing the table truncated
// and overwrote the program's file, and a table whose freed pages kept
// their bytes hung the next insertion.
//   fdreuse close|dup2|nopunch FILE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "seccomp.h"
#include "tm/tracemalloc.h"

#define NOINLINE __attribute__((noinline))
// Enough blocks that the table's shards grow several times, and their old
// slot arrays (a page or more) are given back and reused.
#define LIVE 200000
#define MAX_FDS 1024

static void *blocks[LIVE];
static size_t live_bytes;
static int own_fd = -1;
static int taken[MAX_FDS];
static int taken_count;

static NOINLINE void *keep_block(size_t size)
{
	return malloc(size);
}

static void put_own_file_on_others(void)
{
	for (int fd = 3; fd < MAX_FDS; fd++) {
		if (fd == own_fd || fcntl(fd, F_GETFD) < 0)
			continue;
		if (dup2(own_fd, fd) < 0) {
			perror("dup2");
			exit(1);
		}
		taken[taken_count++] = fd;
	}
}

static void refuse_fallocate(void)
{
	const struct sock_filter rules[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	refuse_calls("nopunch", rules, sizeof(rules) / sizeof(rules[0]));
}

// The traces of one page go to one shard (table.c): whole pages of tracked
// addresses make some shards grow far ahead of others, so that the slot
// arrays they give back are taken again by shards that grow later.
#define LUMP_PAGES 64
#define LUMP_DOMAIN 7
#define LUMP_BASE ((uintptr_t)1 << 44)

static void track_lumps(int track)
{
	for (uintptr_t page = 0; page < LUMP_PAGES; page++)
		for (uintptr_t offset = 0; offset < 4096; offset += 16) {
			uintptr_t address =
				LUMP_BASE + page * 3 * 4096 + offset;
			if ((track ? tm_track(LUMP_DOMAIN, address, 16)
				   : tm_untrack(LUMP_DOMAIN, address)) != 0)
				exit(1);
		}
}

static size_t size_of(unsigned k)
{
	return 16 + (k % 7) * 24;
}

// Free every second block and allocate it again.
static void churn(void)
{
	for (unsigned k = 0; k < LIVE; k += 2) {
		free(blocks[k]);
		blocks[k] = keep_block(size_of(k));
		if (!blocks[k])
			exit(1);
	}
}

static int table_agrees(size_t baseline)
{
	size_t current = 0, peak = 0;

	tm_get_traced_memory(&current, &peak);
	return current == baseline + live_bytes;
}

static int descriptors_open(void)
{
	if (fcntl(own_fd, F_GETFD) < 0)
		return 0;
	for (int i = 0; i < taken_count; i++)
		if (fcntl(taken[i], F_GETFD) < 0)
			return 0;
	return 1;
}

static void *allocate_on_new_stack(void *arg)
{
	void *volatile block = keep_block(64);

	free(block);
	return arg;
}

// "intact" if the program reads back all of a file it opened before a new
// thread allocated.
static const char *input_after_new_thread(const char *path)
{
	char name[4096], got[16];
	pthread_t thread;

	snprintf(name, sizeof(name), "%s.in", path);
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "input\n", 6) != 6 || close(fd) < 0)
		return "unwritable";
	int input = open(name, O_RDONLY);
	if (input < 0 ||
	    pthread_create(&thread, NULL, allocate_on_new_stack, NULL) != 0)
		return "unreadable";
	pthread_join(thread, NULL);
	ssize_t n = read(input, got, sizeof(got));
	close(input);
	return n == 6 && memcmp(got, "input\n", 6) == 0 ? "intact" : "damaged";
}

// The runtime's descriptor, found by the trace file's name (trace.PID).
static int trace_fd(void)
{
	char suffix[32], link[64], target[4096];

	snprintf(suffix, sizeof(suffix), "/trace.%d", (int)getpid());
	size_t len = strlen(suffix);
	for (int fd = 0; fd < MAX_FDS; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < (ssize_t)len)
			continue;
		target[n] = '\0';
		if (strcmp(target + n - len, suffix) == 0)
			return fd;
	}
	return -1;
}

// What the runtime says it uses: at least a slot a live block, and far from
// the wrapped-around count that taking back pages it never gave back would
// make.
static int memory_plausible(void)
{
	size_t memory = tm_get_tracemalloc_memory();
	return memory >= (size_t)LIVE * 24 && memory < ((size_t)1 << 30);
}

static int all_well(size_t baseline)
{
	return descriptors_open() && memory_plausible() &&
	       table_agrees(baseline);
}

static int say(const char *text)
{
	size_t n = strlen(text);
	return write(own_fd, text, n) == (ssize_t)n;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fdreuse close|dup2|nopunch FILE\n");
		return 1;
	}
	const char *mode = argv[1], *path = argv[2];
	if (!tm_is_tracing()) {
		fprintf(stderr, "fdreuse: not traced\n");
		return 1;
	}
	// Programs get the lowest free numbers for their own files: the
	// runtime keeps out of their way.
	int runtime_fd = trace_fd();
	// A daemon allocates before it closes its descriptors: the first
	// unwind opens libunwind's pipe.
	void *volatile first = keep_block(16);
	free(first);
	if (strcmp(mode, "close") == 0) {
		if (chdir("/") < 0 || syscall(SYS_close_range, 3, ~0u, 0) < 0) {
			perror("close_range");
			return 1;
		}
	} else if (strcmp(mode, "nopunch") == 0) {
		refuse_fallocate();
	} else if (strcmp(mode, "dup2") != 0) {
		fprintf(stderr, "fdreuse: unknown mode %s\n", mode);
		return 1;
	}
	own_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (own_fd < 0) {
		perror(path);
		return 1;
	}
	if (strcmp(mode, "dup2") == 0)
		put_own_file_on_others();
	if (!say("own\n"))
		return 1;
	const char *input = strcmp(mode, "dup2") == 0
				    ? "untested"
				    : input_after_new_thread(path);

	size_t current = 0, peak = 0;
	tm_get_traced_memory(&current, &peak);
	size_t baseline = current;
	track_lumps(1);
	track_lumps(0);
	for (unsigned k = 0; k < LIVE; k++) {
		blocks[k] = keep_block(size_of(k));
		if (!blocks[k])
			return 1;
		live_bytes += size_of(k);
	}
	churn();

	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		churn();
		_exit(say("child\n") && all_well(baseline) ? 0 : 1);
	}
	int child_ok = finished(pid);
	churn();
	int parent_ok = say("parent\n") && all_well(baseline);

	char expected[] = "own\nchild\nparent\n", got[sizeof(expected) + 64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, got, sizeof(got));
	int file_ok = n == (ssize_t)strlen(expected) &&
		      memcmp(got, expected, (size_t)n) == 0;

	const char *where = runtime_fd < 0	? "none"
			    : runtime_fd >= 256 ? "high"
						: "low";
	printf("fdreuse %s descriptor=%s input=%s child=%s parent=%s file=%s\n",
	       mode, where, input, child_ok ? "ok" : "failed",
	       parent_ok ? "ok" : "failed", file_ok ? "intact" : "damaged");
	return child_ok && parent_ok && file_ok ? 0 : 1;
}
