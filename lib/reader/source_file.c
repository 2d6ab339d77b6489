// source_file.c: a source over a file's bytes, address = file offset (a
// persisted trace file, or a snapshot file).
#include "source.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file {
	int fd;
	uint64_t size;
	char *path;
};

static struct tm_error *file_read(void *buf, uint64_t address, size_t n,
				  void *arg)
{
	const struct file *f = arg;
	uint8_t *out = buf;

	if (address > f->size || n > f->size - address)
		return tm_error_create(TM_ERR_FAULT,
				       "%s: cannot read %zu bytes at offset "
				       "%llu: the file has %llu bytes",
				       f->path, n, (unsigned long long)address,
				       (unsigned long long)f->size);
	while (n) {
		ssize_t got = pread(f->fd, out, n, (off_t)address);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return tm_error_errno(TM_ERR_IO, errno, f->path,
					      "cannot read at offset %llu",
					      (unsigned long long)address);
		if (got == 0)
			return tm_error_create(TM_ERR_FAULT,
					       "%s: file shrank while being "
					       "read",
					       f->path);
		out += got;
		address += (uint64_t)got;
		n -= (size_t)got;
	}
	return NULL;
}

static void file_release(void *arg)
{
	struct file *f = arg;

	close(f->fd);
	free(f->path);
	free(f);
}

struct tm_error *tm_source_file_create(const char *path, struct tm_source **ret)
{
	struct tm_source *src;
	struct tm_error *err;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return tm_error_errno(TM_ERR_IO, errno, path, "cannot open");
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return tm_error_errno(TM_ERR_IO, e, path, "cannot stat");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return tm_error_create(TM_ERR_IO,
				       "%s: not a regular file; give a core, "
				       "a trace file or a snapshot",
				       path);
	}
	struct file *f = malloc(sizeof(*f));
	char *copy = strdup(path);
	if (!f || !copy) {
		free(f);
		free(copy);
		close(fd);
		return &tm_enomem;
	}
	*f = (struct file){ fd, (uint64_t)st.st_size, copy };
	if ((err = tm_source_create_owned(file_read, f, file_release, &src)))
		return err;
	if ((err = tm_source_add_segment(src, 0, f->size))) {
		tm_source_destroy(src);
		return err;
	}
	*ret = src;
	return NULL;
}
