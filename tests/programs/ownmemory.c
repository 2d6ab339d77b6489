// ownmemory.c: with tracing off, tm_get_tracemalloc_memory() reports the
// runtime's own writable pages that are its alone (its state, its fixed
// arrays, its GOT: the anonymous ones, not pages of its file only read),
// as the kernel counts them in /proc/self/smaps.
// Prints both and exits 0 if they agree.
#include "tm/tracemalloc.h"

#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uintptr_t data_start = UINTPTR_MAX, data_end;

static int find_runtime(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!strstr(info->dlpi_name, "/libtracemalloc.so"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		if (start < data_start)
			data_start = start;
		if (start + ph->p_memsz > data_end)
			data_end = start + ph->p_memsz;
	}
	return 1;
}

// The anonymous kilobytes of the mappings that hold [start, end).
static size_t anonymous_kib(uintptr_t start, uintptr_t end)
{
	FILE *smaps = fopen("/proc/self/smaps", "r");
	char line[4096];
	unsigned long from, to;
	size_t kib, total = 0;
	int inside = 0;

	if (!smaps)
		return 0;
	while (fgets(line, sizeof(line), smaps)) {
		// A mapping's first line; no field's name reads as a range.
		if (sscanf(line, "%lx-%lx ", &from, &to) == 2)
			inside = from < end && to > start;
		else if (inside && sscanf(line, "Anonymous: %zu kB", &kib) == 1)
			total += kib;
	}
	fclose(smaps);
	return total;
}

int main(void)
{
	if (tm_is_tracing()) {
		fprintf(stderr, "ownmemory: run it with tracing off\n");
		return 2;
	}
	dl_iterate_phdr(find_runtime, NULL);
	if (!data_end) {
		fprintf(stderr, "ownmemory: libtracemalloc.so is not loaded\n");
		return 2;
	}
	// The kernel first: a page the runtime touches in between can only
	// add to what it reports, within the slack below.
	size_t anonymous = anonymous_kib(data_start, data_end) * 1024;
	size_t reported = tm_get_tracemalloc_memory();
	printf("ownmemory reported=%zu anonymous=%zu\n", reported, anonymous);
	return !(anonymous > 0 && reported >= anonymous &&
		 reported <= anonymous + 8192);
}
