// source_core.c: a source over an ELF core dump (from the kernel or gcore):
// memory is what the core's PT_LOAD segments hold.  Parts a truncated core
// lacks are left out of the segments and fail to read.  A file mapping the
// core has no contents for (shared file mappings are not dumped by
// default: a TRACEMALLOC_FILE table among them) is read from the file the
// core's NT_FILE note names, if it is still there; the source then says
// so (tm_source_substitute()).
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
	int fd;			      // the core, or a file it maps
	const char *path;
};

struct core {
	int fd;
	char *path;
	struct load *loads;
	size_t count, capacity;
	struct tm_source *src; // to note a read from a mapped file
};

// At most this many mapped files are opened to stand in for the core.
#define MAX_MAPPED_FILES 256

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
			pread(l->fd, out, chunk, (off_t)(l->offset + within));
		if (got <= 0)
			return tm_error_errno(
				TM_ERR_IO, got < 0 ? errno : EIO, l->path,
				"cannot read at offset %llu",
				(unsigned long long)(l->offset + within));
		if (l->fd != c->fd && !c->src->substitute)
			c->src->substitute = l->path;
		out += got;
		address += (uint64_t)got;
		n -= (size_t)got;
	}
	return NULL;
}

static void core_release(void *arg)
{
	struct core *c = arg;

	for (size_t i = 0; i < c->count; i++) {
		if (c->loads[i].fd != c->fd) {
			close(c->loads[i].fd);
			free((char *)c->loads[i].path);
		}
	}
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
	c->capacity = phnum + MAX_MAPPED_FILES;
	c->loads = calloc(c->capacity, sizeof(*c->loads));
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
			(struct load){ ph.p_vaddr, size, ph.p_offset, c->fd,
				       c->path };
	}
	return NULL;
}

static bool in_core(const struct core *c, uint64_t address)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->loads[i].fd == c->fd && address >= c->loads[i].vaddr &&
		    address - c->loads[i].vaddr < c->loads[i].size)
			return true;
	return false;
}

// One NT_FILE entry: if the core lacks its start, read it from the file.
static void add_mapped_file(struct core *c, uint64_t start, uint64_t end,
			    uint64_t offset, const char *name)
{
	struct stat st;

	if (c->count == c->capacity || end <= start || in_core(c, start) ||
	    name[0] != '/')
		return;
	int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	char *path = strdup(name);
	if (!path || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    offset >= (uint64_t)st.st_size) {
		free(path);
		close(fd);
		return;
	}
	uint64_t size = end - start;
	if (size > (uint64_t)st.st_size - offset)
		size = (uint64_t)st.st_size - offset;
	c->loads[c->count++] = (struct load){ start, size, offset, fd, path };
}

// The NT_FILE notes (linux/fs/binfmt_elf.c fill_files_note): a count, the
// page size, count (start, end, page offset) triples, then count names.
static void read_mapped_files(struct core *c, Elf *elf, bool is64)
{
	size_t phnum;
	unsigned word = is64 ? 8 : 4;

	if (elf_getphdrnum(elf, &phnum) != 0)
		return;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset,
						      ph.p_filesz, ELF_T_NHDR);
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while (data && (off = gelf_getnote(data, off, &nh, &name_off,
						   &desc_off)) > 0) {
			if (nh.n_type != NT_FILE || nh.n_descsz < 2 * word)
				continue;
			const uint8_t *d =
				(const uint8_t *)data->d_buf + desc_off;
			size_t size = nh.n_descsz;
			uint64_t count = 0, page = 0;
			memcpy(&count, d, word);
			memcpy(&page, d + word, word);
			if (count > (size - 2 * word) / (3 * word))
				continue;
			const char *names =
				(const char *)d + 2 * word + count * 3 * word;
			const char *end = (const char *)d + size;
			for (uint64_t k = 0; k < count && names < end; k++) {
				const uint8_t *e = d + 2 * word + k * 3 * word;
				uint64_t start = 0, stop = 0, pgoff = 0;
				memcpy(&start, e, word);
				memcpy(&stop, e + word, word);
				memcpy(&pgoff, e + 2 * word, word);
				const char *nul = memchr(names, '\0',
							 (size_t)(end - names));
				if (!nul)
					break;
				if (page && pgoff <= UINT64_MAX / page)
					add_mapped_file(c, start, stop,
							pgoff * page, names);
				names = nul + 1;
			}
		}
	}
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
	if (!err)
		read_mapped_files(c, elf, gelf_getclass(elf) == ELFCLASS64);
	elf_end(elf);
	if (err) {
		core_release(c);
		return err;
	}
	if ((err = tm_source_create_owned(core_read, c, core_release, &src)))
		return err;
	c->src = src;
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
