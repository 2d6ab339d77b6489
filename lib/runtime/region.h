// region.h: the memory that holds one trace table.
//
// A region is a large reservation of address space of which a growing prefix
// is usable, so it never moves and pointers into it stay valid while threads
// use them.  It is backed by anonymous memory or by a file (TRACEMALLOC_FILE),
// and hands out blocks with a bump allocator plus free lists for the
// power-of-two arrays that shards replace when they grow.
#ifndef TM_RUNTIME_REGION_H
#define TM_RUNTIME_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TM_REGION_PATH_MAX 4096
// The least address space a region sets aside (region.c); a start that
// cannot have even this much fails with ENOMEM.
#define TM_REGION_MIN_RESERVE ((size_t)4 << 20)
#define TM_REGION_FREE_LISTS 96
// Free blocks a list remembers; more are forgotten (their pages are still
// given back to the kernel, and still count as released).
#define TM_REGION_FREE_BLOCKS 64

struct tm_free_list {
	uint32_t count;
	// Offsets; for blocks of a page or more, bit 0 is set if the block's
	// pages could not be given back and were zeroed in place instead.
	uint64_t blocks[TM_REGION_FREE_BLOCKS];
};

struct tm_region {
	uint8_t *base;
	size_t reserved;  // address space set aside
	size_t committed; // usable prefix
	size_t used;	  // bump pointer
	uint32_t lock;	  // guards everything below and the free lists
	// Whether the memory is the trace file's (TRACEMALLOC_FILE), mapped
	// shared; set once, so it is read without the lock.
	bool file_backed;
	// The file's descriptor as last opened, -1 if there is no file or it
	// was lost.  The program may have closed the number or put a file of
	// its own there since: region.c checks it (file_fd) before each use.
	int fd;
	dev_t file_dev; // which file it must be
	ino_t file_ino;
	// The file's blocks are allocated up to here (region.c,
	// reserve_blocks); unless the file system cannot do it ahead.
	size_t file_reserved;
	bool cannot_reserve;
	uint64_t reserve_failed_at; // seconds (CLOCK_MONOTONIC_COARSE), or 0
	size_t released; // bytes of free blocks given back to the kernel
	// Kept here, not in the blocks: writing a link into a released block
	// would make a page of it resident again.
	struct tm_free_list free_lists[TM_REGION_FREE_LISTS];
	char path[TM_REGION_PATH_MAX]; // absolute, to open the file again
};

// Map a region, anonymous if @path_template is NULL, else backed by that
// file ("%p" becomes the pid).  Returns 0 or -errno.
int tm_region_map(struct tm_region *region, const char *path_template);

// Release the mapping and close the file.  The file itself stays.
void tm_region_unmap(struct tm_region *region);

// Hand out @size bytes aligned to @align (a power of two up to the page
// size), zero-filled.  Returns the offset, or 0 when the reservation is
// exhausted.  Thread-safe.
uint64_t tm_region_alloc(struct tm_region *region, size_t size, size_t align);

// Hand out / give back a zero-filled block of @size bytes from free list
// @list (< TM_REGION_FREE_LISTS); every block on one list has one size, so
// callers name the list by what they store there (a shard's slot array of
// one capacity, say).  Blocks of a page or more are page aligned, and their
// memory goes back to the kernel while they are free.  Thread-safe.
uint64_t tm_region_alloc_block(struct tm_region *region, unsigned list,
			       size_t size);
void tm_region_free_block(struct tm_region *region, unsigned list,
			  uint64_t offset, size_t size);

// Bytes of the region in use: handed out and not given back.
size_t tm_region_resident(struct tm_region *region);

// Forget every block past @keep (caller holds every other lock of the table).
void tm_region_reset(struct tm_region *region, size_t keep);

// The region's bytes, for consistent copies.
static inline void *tm_region_ptr(const struct tm_region *region,
				  uint64_t offset)
{
	return region->base + offset;
}

// After fork: give the child a private copy of a file-backed region at the
// same address (the file stays the parent's).  Returns 0 or -errno.
int tm_region_detach_file(struct tm_region *region);

#endif // TM_RUNTIME_REGION_H
