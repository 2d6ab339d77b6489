// library_wrappers.c: the C++ standard library's functions compiled into
// shared libraries, which tm_frames_of passes over at the top of a stack.
//
// Template instances (std::vector<T>'s growth, std::map's nodes) are
// compiled into the library that uses them, not into libstdc++.so, and a
// library linked with -static-libstdc++ carries all of libstdc++.  Their
// names tell them apart (program_wrappers.c reads them, as it does the
// program's own); there may be thousands in one library, so each library
// has a sorted array of them, searched by binary search.
//
// Threads search the arrays without a lock while a dlclose() may forget a
// library.  So an array is never freed: a slot that says where a library
// is loaded points to it, and a library closed and loaded again (a
// plugin reloaded) finds its file's array by the file's identity and is
// not read again.  What is kept is bounded by the number of different
// files (MAX_FILES) and by MAX_BYTES.
#include "runtime.h"

#include <link.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_FILES 1024
#define MAX_LOADED 1024
#define MAX_BYTES ((size_t)64 << 20)
#define CHUNK_BYTES ((size_t)64 << 10)

// The functions read from one file; never changed once published.
struct file_functions {
	struct tm_file_identity identity;
	const struct tm_code_range *offsets; // from the load bias
	size_t count;
};
static struct file_functions files[MAX_FILES];
static unsigned file_count;

// A loaded library with such functions.  An emptied slot (start == end)
// is used again; its count is odd while it changes, so that a thread
// searching meanwhile never takes one library's place with another's
// functions (as the wrapper slots in unwind.c).
struct loaded_slot {
	uint32_t seq;
	uintptr_t start, end, bias;
	const struct file_functions *functions;
};
static struct loaded_slot loaded[MAX_LOADED];
static unsigned loaded_count;

// The arrays are cut from chunks mapped for them, never through malloc.
static uint8_t *chunk;
static size_t chunk_used, chunk_size, mapped_bytes;

static void *allocate(size_t bytes)
{
	bytes = (bytes + 15) & ~(size_t)15;
	if (chunk && chunk_size - chunk_used >= bytes) {
		void *at = chunk + chunk_used;
		chunk_used += bytes;
		return at;
	}
	// A large array gets a mapping of its own; a small one a new chunk,
	// whose rest serves the next ones.
	size_t size = bytes > CHUNK_BYTES / 2
			      ? (bytes + TM_LAYOUT_PAGE_SIZE - 1) &
					~(size_t)(TM_LAYOUT_PAGE_SIZE - 1)
			      : CHUNK_BYTES;
	if (mapped_bytes + size > MAX_BYTES)
		return NULL;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	mapped_bytes += size;
	if (size == CHUNK_BYTES) {
		chunk = mem;
		chunk_size = size;
		chunk_used = bytes;
	}
	return mem;
}

static bool same_file(const struct tm_file_identity *a,
		      const struct tm_file_identity *b)
{
	return a->device == b->device && a->inode == b->inode &&
	       a->size == b->size && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec;
}

// The functions of @info's file, read once.
static const struct file_functions *
functions_of(const struct dl_phdr_info *info)
{
	struct tm_file_identity identity;

	if (tm_file_identity_of(info->dlpi_name, &identity))
		for (unsigned i = 0; i < file_count; i++)
			if (same_file(&files[i].identity, &identity))
				return &files[i];
	if (file_count == MAX_FILES)
		return NULL;
	struct tm_library_functions found;
	if (!tm_library_standard_functions(info, allocate, &found))
		return NULL;
	struct file_functions *f = &files[file_count++];
	*f = (struct file_functions){ found.identity, found.offsets,
				      found.count };
	return f;
}

static void write_slot(struct loaded_slot *slot, uintptr_t start, uintptr_t end,
		       uintptr_t bias, const struct file_functions *functions)
{
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&slot->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->end, end, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->bias, bias, __ATOMIC_RELAXED);
	// Released: a reader that sees the pointer sees the array.
	__atomic_store_n(&slot->functions, functions, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELEASE);
}

bool tm_library_wrappers_note(const struct dl_phdr_info *info)
{
	uintptr_t start, end;

	// The vdso has no file.
	if (!strchr(info->dlpi_name, '/') ||
	    !tm_object_span(info, PF_X, &start, &end))
		return false;
	const struct file_functions *functions = functions_of(info);
	if (!functions || !functions->count)
		return false;
	unsigned count = loaded_count, i = 0;
	while (i < count && loaded[i].start != loaded[i].end)
		i++;
	if (i == MAX_LOADED)
		return false;
	write_slot(&loaded[i], start, end, info->dlpi_addr, functions);
	if (i == count)
		__atomic_store_n(&loaded_count, count + 1, __ATOMIC_RELEASE);
	return true;
}

void tm_library_wrappers_forget(uintptr_t bias)
{
	for (unsigned i = 0; i < loaded_count; i++)
		if (loaded[i].start != loaded[i].end && loaded[i].bias == bias)
			write_slot(&loaded[i], 0, 0, 0, NULL);
}

static bool in_offsets(const struct file_functions *f, uintptr_t offset)
{
	size_t low = 0, high = f->count;

	// The last range that starts at or below @offset.
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (f->offsets[mid].start <= offset)
			low = mid + 1;
		else
			high = mid;
	}
	return low > 0 && offset < f->offsets[low - 1].end;
}

// A slot being written counts as not holding @pc: a signal handler
// interrupting its writer must not wait for it.  An array read from a
// slot that changed meanwhile is still mapped (none is freed); only the
// answer is dropped.
bool tm_library_wrappers_contain(uintptr_t pc)
{
	unsigned count = __atomic_load_n(&loaded_count, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < count; i++) {
		const struct loaded_slot *slot = &loaded[i];
		uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
		uintptr_t start =
			__atomic_load_n(&slot->start, __ATOMIC_RELAXED);
		uintptr_t end = __atomic_load_n(&slot->end, __ATOMIC_RELAXED);
		if (pc < start || pc >= end)
			continue;
		uintptr_t bias = __atomic_load_n(&slot->bias, __ATOMIC_RELAXED);
		const struct file_functions *f =
			__atomic_load_n(&slot->functions, __ATOMIC_ACQUIRE);
		bool found = f && in_offsets(f, pc - bias);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(seq & 1) &&
		    __atomic_load_n(&slot->seq, __ATOMIC_RELAXED) == seq)
			return found;
	}
	return false;
}

size_t tm_library_wrappers_memory(void)
{
	return __atomic_load_n(&mapped_bytes, __ATOMIC_RELAXED);
}
