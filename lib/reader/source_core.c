// source_core.c: a source over an ELF core dump (from the kernel or gcore):
// memory is what the core's PT_LOAD segments hold.  Parts a truncated core
// lacks, and segments dumped without contents (most file-backed text), are
// left out of the segments and fail to read.
#include "source.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct load {
	uint64_t vaddr, size, offset; // size: bytes present in the file
};

struct core {
	int fd;
	char *path;
	struct load *loads;
	size_t count;
};

static struct tm_error *core_read(void *buf, uint64_t address, size_t n,
				  void *arg)
{
	const struct core *c = arg;
	uint8_t *out = buf;

	while (n) {
		const struct load *l = NULL;
		for (size_t i = 0; i < c->count; i++)
			if (address >= c->loads[i].vaddr &&
			    address - c->loads[i].vaddr < c->loads[i].size)
				l = &c->loads[i];
		if (!l)
			return tm_error_create(TM_ERR_FAULT,
					       "%s: address 0x%llx is not in "
					       "the core",
					       c->path,
					       (unsigned long long)address);
		uint64_t within = address - l->vaddr;
		size_t chunk =
			l->size - within < n ? (size_t)(l->size - within) : n;
		ssize_t got =
			pread(c->fd, out, chunk, (off_t)(l->offset + within));
		if (got <= 0)
			return tm_error_errno(
				TM_ERR_IO, got < 0 ? errno : EIO, c->path,
				"cannot read the core at offset "
				"%llu",
				(unsigned long long)(l->offset + within));
		out += got;
		address += (uint64_t)got;
		n -= (size_t)got;
	}
	return NULL;
}

static void core_release(void *arg)
{
	struct core *c = arg;

	close(c->fd);
	free(c->loads);
	free(c->path);
	free(c);
}

// Read the program headers; only what the file really holds counts.
static struct tm_error *read_loads(struct core *c, Elf *elf, uint64_t file_size)
{
	size_t phnum;
	GElf_Ehdr ehdr;

	if (!gelf_getehdr(elf, &ehdr) || ehdr.e_type != ET_CORE)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "%s is not an ELF core dump", c->path);
	if (elf_getphdrnum(elf, &phnum) != 0)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "%s: cannot read its program headers: "
				       "%s",
				       c->path, elf_errmsg(-1));
	c->loads = calloc(phnum ? phnum : 1, sizeof(*c->loads));
	if (!c->loads)
		return &tm_enomem;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !ph.p_filesz || ph.p_offset >= file_size)
			continue;
		uint64_t size = ph.p_filesz;
		if (size > file_size - ph.p_offset)
			size = file_size - ph.p_offset; // a truncated core
		c->loads[c->count++] =
			(struct load){ ph.p_vaddr, size, ph.p_offset };
	}
	return NULL;
}

struct tm_error *tm_source_core_create(const char *path, struct tm_source **ret)
{
	struct tm_source *src;
	struct tm_error *err;
	struct stat st;
	struct core *c = calloc(1, sizeof(*c));

	if (!c)
		return &tm_enomem;
	c->path = strdup(path);
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!c->path || c->fd < 0 || fstat(c->fd, &st) < 0) {
		err = c->path ? tm_error_errno(TM_ERR_IO, errno, path,
					       "cannot open")
			      : &tm_enomem;
		if (c->fd >= 0)
			close(c->fd);
		free(c->path);
		free(c);
		return err;
	}
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
	err = elf ? read_loads(c, elf, (uint64_t)st.st_size)
		  : tm_error_create(TM_ERR_NO_TABLE, "%s: not ELF: %s", path,
				    elf_errmsg(-1));
	elf_end(elf);
	if (err) {
		core_release(c);
		return err;
	}
	if ((err = tm_source_create_owned(core_read, c, core_release, &src)))
		return err;
	for (size_t i = 0; i < c->count && !err; i++)
		err = tm_source_add_segment(src, c->loads[i].vaddr,
					    c->loads[i].size);
	if (err) {
		tm_source_destroy(src);
		return err;
	}
	*ret = src;
	return NULL;
}
