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
// library.  So an array is never freed: the list of loaded libraries
// points to it, and a library closed and loaded again (a plugin
// reloaded) finds its file's array by the file's identity and is not read
// again.  What is kept is bounded by the number of different files
// (MAX_FILES) and by MAX_BYTES.
#include "runtime.h"

#include <link.h>
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

// The loaded libraries that have such functions, sorted by address, in
// two copies.  The writer (under the module lock) rewrites the copy that
// readers are not sent to, then sends them to it: a signal handler that
// interrupted the writer searches a copy that is whole.  A copy's `seq`
// is odd while it is rewritten; a reader that was searching it meanwhile
// (the writer changed the list twice) drops its answer.
struct loaded_library {
	uintptr_t start, end, bias;
	const struct file_functions *functions;
};
struct loaded_copy {
	uint32_t seq;
	unsigned count;
	struct loaded_library libraries[MAX_LOADED];
};
static struct loaded_copy copies[2];
static unsigned current;

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

// The functions of @info's @file, read once.
static const struct file_functions *
functions_of(const struct dl_phdr_info *info, const struct tm_elf_file *file)
{
	for (unsigned i = 0; i < file_count; i++)
		if (same_file(&files[i].identity, &file->identity))
			return &files[i];
	if (file_count == MAX_FILES)
		return NULL;
	struct tm_library_functions found;
	if (!tm_library_standard_functions(file, info, allocate, &found))
		return NULL;
	struct file_functions *f = &files[file_count++];
	*f = (struct file_functions){ found.identity, found.offsets,
				      found.count };
	return f;
}

static void store_library(struct loaded_library *to,
			  const struct loaded_library *from)
{
	__atomic_store_n(&to->start, from->start, __ATOMIC_RELAXED);
	__atomic_store_n(&to->end, from->end, __ATOMIC_RELAXED);
	__atomic_store_n(&to->bias, from->bias, __ATOMIC_RELAXED);
	// Released: a reader that sees the pointer sees the array.
	__atomic_store_n(&to->functions, from->functions, __ATOMIC_RELEASE);
}

// Rewrite the other copy as the current one without the libraries loaded
// at @gone_bias (if @gone), with @added (if not NULL) in its place, and
// send readers to it.
static void publish(bool gone, uintptr_t gone_bias,
		    const struct loaded_library *added)
{
	const struct loaded_copy *from = &copies[current];
	struct loaded_copy *to = &copies[current ^ 1];
	unsigned n = 0;

	__atomic_store_n(&to->seq, to->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (unsigned i = 0; i < from->count; i++) {
		const struct loaded_library *lib = &from->libraries[i];
		if (gone && lib->bias == gone_bias)
			continue;
		if (added && added->start < lib->start) {
			store_library(&to->libraries[n++], added);
			added = NULL;
		}
		store_library(&to->libraries[n++], lib);
	}
	if (added)
		store_library(&to->libraries[n++], added);
	__atomic_store_n(&to->count, n, __ATOMIC_RELAXED);
	__atomic_store_n(&to->seq, to->seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&current, current ^ 1, __ATOMIC_RELEASE);
}

bool tm_library_wrappers_note(const struct dl_phdr_info *info,
			      const struct tm_elf_file *file)
{
	struct loaded_library lib = { .bias = info->dlpi_addr };

	if (!tm_object_span(info, PF_X, &lib.start, &lib.end) ||
	    copies[current].count == MAX_LOADED)
		return false;
	lib.functions = functions_of(info, file);
	if (!lib.functions || !lib.functions->count)
		return false;
	// Loaded again where it was without having been forgotten: the
	// entry it had makes way for this one.
	publish(true, lib.bias, &lib);
	return true;
}

void tm_library_wrappers_forget(uintptr_t bias)
{
	const struct loaded_copy *now = &copies[current];

	for (unsigned i = 0; i < now->count; i++)
		if (now->libraries[i].bias == bias) {
			publish(true, bias, NULL);
			return;
		}
}

// The library among @copy's whose code holds @pc, or NULL.  The copy may
// change meanwhile: every field is read once, and the count is bounded.
static const struct loaded_library *library_at(const struct loaded_copy *copy,
					       uintptr_t pc)
{
	unsigned low = 0,
		 high = __atomic_load_n(&copy->count, __ATOMIC_RELAXED);

	if (high > MAX_LOADED)
		return NULL;
	// The last library that starts at or below @pc.
	while (low < high) {
		unsigned mid = low + (high - low) / 2;
		if (__atomic_load_n(&copy->libraries[mid].start,
				    __ATOMIC_RELAXED) <= pc)
			low = mid + 1;
		else
			high = mid;
	}
	if (low == 0)
		return NULL;
	const struct loaded_library *lib = &copy->libraries[low - 1];
	return pc < __atomic_load_n(&lib->end, __ATOMIC_RELAXED) ? lib : NULL;
}

// Any thread, at any time, without a lock.  An array read from a copy
// that changed meanwhile is still mapped (none is freed); only the answer
// is dropped, and the search is made again in the copy readers are sent
// to now.  A thread that keeps missing the writer takes @pc for the
// program's: it is kept as a frame.
bool tm_library_wrappers_contain(uintptr_t pc)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		const struct loaded_copy *copy =
			&copies[__atomic_load_n(&current, __ATOMIC_ACQUIRE)];
		uint32_t seq = __atomic_load_n(&copy->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		const struct loaded_library *lib = library_at(copy, pc);
		const struct file_functions *f =
			lib ? __atomic_load_n(&lib->functions, __ATOMIC_ACQUIRE)
			    : NULL;
		bool found =
			f && tm_code_ranges_contain(
				     f->offsets, f->count,
				     pc - __atomic_load_n(&lib->bias,
							  __ATOMIC_RELAXED));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&copy->seq, __ATOMIC_RELAXED) == seq)
			return found;
	}
	return false;
}

size_t tm_library_wrappers_memory(void)
{
	return __atomic_load_n(&mapped_bytes, __ATOMIC_RELAXED);
}
