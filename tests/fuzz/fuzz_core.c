// fuzz_core.c: mutate a real core dump and read it the way tm-core does
// (core source, magic scan, decode), under ASan and UBSan.  Asserts only
// that every read ends cleanly.
//   fuzz_core CORE ROUNDS [SEED]
// CORE is changed in place during a round and restored after it.
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tm/reader.h"

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void read_core(const char *path)
{
	struct tm_source *src;
	struct tm_table *table = NULL;
	uint64_t base;
	struct tm_error *err = tm_source_core_create(path, &src);

	if (err) {
		tm_error_destroy(err);
		return;
	}
	if (!(err = tm_locate_scan(src, &base, NULL)))
		err = tm_table_decode(src, base, &table);
	if (table) {
		size_t n;
		const struct tm_trace *t = tm_table_traces(table, &n);
		uint64_t sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += t[i].size + t[i].traceback->nframe;
		if (sum == 1)
			fputc(' ', stderr);
	}
	tm_error_destroy(err);
	tm_table_destroy(table);
	tm_source_destroy(src);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fuzz_core CORE ROUNDS [SEED]\n");
		return 1;
	}
	const char *path = argv[1];
	unsigned rounds = (unsigned)strtoul(argv[2], NULL, 10);
	rng = argc > 3 ? strtoull(argv[3], NULL, 0) | 1 : 0x9e3779b97f4a7c15ULL;
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		perror(path);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *orig = malloc(size);
	if (!orig || pread(fd, orig, size, 0) != (ssize_t)size)
		return 1;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)orig;
	size_t headers = eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (headers > size)
		headers = size;

	read_core(path); // unmutated: must work
	for (unsigned r = 0; r < rounds; r++) {
		// Where to change: mostly the ELF and program headers, the
		// rest anywhere in the first megabytes.
		size_t at[8];
		unsigned edits = 1 + (unsigned)(next() % 8);
		for (unsigned e = 0; e < edits; e++) {
			size_t span = next() % 3 ? headers : size;
			at[e] = span ? next() % span : 0;
			uint8_t byte = next() % 4 == 0 ? 0xff : (uint8_t)next();
			if (pwrite(fd, &byte, 1, (off_t)at[e]) != 1)
				return 1;
		}
		bool truncated = next() % 8 == 0;
		if (truncated && ftruncate(fd, (off_t)(next() % size)) < 0)
			return 1;
		read_core(path);
		// Restore.
		if (truncated) {
			if (pwrite(fd, orig, size, 0) != (ssize_t)size)
				return 1;
		} else {
			for (unsigned e = 0; e < edits; e++)
				if (pwrite(fd, orig + at[e], 1, (off_t)at[e]) !=
				    1)
					return 1;
		}
	}
	close(fd);
	free(orig);
	printf("fuzz_core: %s: %u rounds, no faults\n", path, rounds);
	return 0;
}
