// source_pid.c: a source over a live process's memory, read with
// process_vm_readv (falling back to /proc/PID/mem); its segments are the
// readable mappings in /proc/PID/maps.
#include "source.h"

#include "cleanup.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct process {
	pid_t pid;
	int mem_fd; // /proc/PID/mem, opened if process_vm_readv is refused
};

static struct tm_error *pid_read(void *buf, uint64_t address, size_t n,
				 void *arg)
{
	struct process *p = arg;
	size_t done = 0;

	while (done < n && p->mem_fd < 0) {
		struct iovec local = { (uint8_t *)buf + done, n - done };
		struct iovec remote = { (void *)(uintptr_t)(address + done),
					n - done };
		ssize_t got =
			process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
		if (got > 0) {
			done += (size_t)got;
			continue;
		}
		if (got < 0 && (errno == EPERM || errno == ENOSYS)) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
			p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
			if (p->mem_fd < 0)
				return tm_error_errno(TM_ERR_IO, errno, path,
						      "cannot read process "
						      "memory (try as root, or "
						      "see ptrace_scope)");
			break;
		}
		return tm_error_create(TM_ERR_FAULT,
				       "cannot read %zu bytes at 0x%" PRIx64
				       " in process %d",
				       n, address, p->pid);
	}
	while (done < n) {
		ssize_t got = pread(p->mem_fd, (uint8_t *)buf + done, n - done,
				    (off_t)(address + done));
		if (got <= 0)
			return tm_error_create(TM_ERR_FAULT,
					       "cannot read %zu bytes at "
					       "0x%" PRIx64 " in process %d",
					       n, address, p->pid);
		done += (size_t)got;
	}
	return NULL;
}

static void pid_release(void *arg)
{
	struct process *p = arg;

	if (p->mem_fd >= 0)
		close(p->mem_fd);
	free(p);
}

static struct tm_error *add_maps(struct tm_source *src, pid_t pid)
{
	char path[64], line[4096];
	struct tm_error *err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	_cleanup_fclose_ FILE *maps = fopen(path, "re");
	if (!maps && errno == ENOENT)
		return tm_error_create(TM_ERR_IO,
				       "no process %d here (it has exited, or "
				       "runs in another PID namespace)",
				       pid);
	if (!maps && (errno == EACCES || errno == EPERM))
		return tm_error_errno(TM_ERR_IO, errno, path,
				      "cannot read process %d's memory "
				      "(tm-core must run as its user or as "
				      "root, and in its container)",
				      pid);
	if (!maps)
		return tm_error_errno(TM_ERR_IO, errno, path, "cannot open");
	while (fgets(line, sizeof(line), maps)) {
		uint64_t start, end;
		char perms[8];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &start, &end,
			   perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar]"))
			continue;
		if ((err = tm_source_add_segment(src, start, end - start)))
			return err;
	}
	return NULL;
}

struct tm_error *tm_source_pid_create(int pid, struct tm_source **ret)
{
	struct tm_source *src;
	struct tm_error *err;
	struct process *p = malloc(sizeof(*p));

	if (!p)
		return &tm_enomem;
	*p = (struct process){ pid, -1 };
	if ((err = tm_source_create_owned(pid_read, p, pid_release, &src)))
		return err;
	if ((err = add_maps(src, pid))) {
		tm_source_destroy(src);
		return err;
	}
	*ret = src;
	return NULL;
}
