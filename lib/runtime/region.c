// region.c: reserving, backing, growing and carving up the trace table's
// memory.  Only raw system calls: this code runs inside malloc.
#include "region.h"

#include "prim.h"
#include "tm_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// Address space is cheap on 64-bit; commit grows inside it.  Smaller sizes
// are tried when RLIMIT_AS (`ulimit -v`) or a 32-bit address space refuses
// the first: a process held to a few hundred MiB is still traced, in a
// smaller table (at 40 bytes a trace, 4 MiB hold 100,000 traces).
static const size_t reserve_mib[] = {
	64 << 10, 8 << 10, 1 << 10, 256, 64, 16, TM_REGION_MIN_RESERVE >> 20
};
#define INITIAL_COMMIT ((size_t)1 << 20)
#define COMMIT_STEP ((size_t)1 << 20)
// In a free list's offset of a paged block (region.h).
#define ZEROED_IN_PLACE 1u

static size_t round_up(size_t n, size_t align)
{
	return (n + align - 1) & ~(align - 1);
}

// Expand "%p" to the pid and "%%" to "%", and make the path absolute so
// that the file can be opened again after the program changed directory
// (file_fd); -ENAMETOOLONG if it does not fit.
static int expand_path(char *out, size_t cap, const char *template)
{
	char pid[21];
	size_t len = 0;

	tm_fmt_u64(pid, (uint64_t)getpid());
	// (A directory that is gone leaves the path relative.)
	if (template[0] != '/' && getcwd(out, cap)) {
		len = strlen(out);
		if (out[len - 1] != '/') {
			if (len + 1 >= cap)
				return -ENAMETOOLONG;
			out[len++] = '/';
		}
	}
	for (const char *p = template; *p; p++) {
		const char *piece = p;
		size_t n = 1;
		if (p[0] == '%' && p[1] == 'p') {
			piece = pid;
			n = strlen(pid);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
		if (len + n >= cap)
			return -ENAMETOOLONG;
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}

static int append(char *out, size_t cap, const char *suffix)
{
	size_t len = strlen(out), n = strlen(suffix);

	if (len + n >= cap)
		return -ENAMETOOLONG;
	memcpy(out + len, suffix, n + 1);
	return 0;
}

// Create @path, a file of our own: never through a link someone left at
// that name in a shared folder such as /tmp (it would truncate the file
// the link names).  What is there, a link or a file a process with this pid
// left behind, is removed first: removing a link leaves what it names.
static int create_new(const char *path)
{
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(path, flags, 0644);

	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = open(path, flags, 0644);
	return fd < 0 ? -errno : fd;
}

// Create the trace file under a temporary name and rename it into place, so
// a file another process still maps is replaced, never truncated under it
// (that process would die of SIGBUS).  A file that a live tracer holds
// (flock) keeps its name; this process then writes PATH.PID instead.
static int create_file(struct tm_region *region)
{
	char tmp[TM_REGION_PATH_MAX], pid[21];
	int fd, err;

	// Only to see whether a tracer holds it: a FIFO there must not block
	// the program, and a link is not followed (the rename replaces it).
	fd = open(region->path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		int busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
		close(fd);
		if (busy) {
			if ((err = append(region->path, sizeof(region->path),
					  ".")) ||
			    (err = append(region->path, sizeof(region->path),
					  tm_fmt_u64(pid, (uint64_t)getpid()))))
				return err;
			tm_diag("TRACEMALLOC_FILE is in use by another "
				"process; "
				"writing ",
				region->path, " instead", NULL);
		}
	}
	memcpy(tmp, region->path, sizeof(tmp));
	if ((err = append(tmp, sizeof(tmp), ".tmp.")) ||
	    (err = append(tmp, sizeof(tmp),
			  tm_fmt_u64(pid, (uint64_t)getpid()))))
		return err;
	fd = create_new(tmp);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(tmp, region->path) < 0) {
		err = -errno;
		unlink(tmp);
		close(fd);
		return err;
	}
	return fd;
}

// A signal handler that forks must not find a file-backed region half
// changed: the child copies the region aside and closes the file
// (tm_region_detach_file), and the interrupted code would go on to map or
// punch holes in the parent's file, or in a file that reused its number.
// Such changes are rare (the region grows, a large block is given back),
// so they run with every signal blocked, and with cancellation off
// (prim.h, tm_cancel_off): they open, close and fallocate.
struct quiet {
	sigset_t signals;
	int cancel_state;
};

static void quiet_begin(struct quiet *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved->signals);
	saved->cancel_state = tm_cancel_off();
}

static void quiet_end(const struct quiet *saved)
{
	tm_cancel_restore(saved->cancel_state);
	pthread_sigmask(SIG_SETMASK, &saved->signals, NULL);
}

static bool is_trace_file(const struct tm_region *region, int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 &&
	       st.st_dev == region->file_dev && st.st_ino == region->file_ino;
}

// Say once (per @said) that the trace file cannot grow, @why, and what to
// do about it.
static void say_table_stops(int *said, const struct tm_region *region,
			    const char *why, const char *remedy)
{
	if (!__atomic_exchange_n(said, 1, __ATOMIC_RELAXED))
		tm_diag("the trace file ", region->path, why,
			": the table stops growing, and allocations that "
			"need more room go untraced (",
			remedy, ")", NULL);
}

static int open_file_again(struct tm_region *region)
{
	static int reported;
	int fd = open(region->path, O_RDWR | O_CLOEXEC);

	if (fd >= 0 && !is_trace_file(region, fd)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		say_table_stops(&reported, region,
				" was removed or replaced after the program "
				"closed its descriptor",
				"keep the file in place while the program "
				"runs");
		return -1;
	}
	// Mark the file in use again (create_file).
	flock(fd, LOCK_EX | LOCK_NB);
	return tm_fd_move_high(fd);
}

// The trace file's descriptor, to grow the file or punch holes in it; -1
// if the file cannot be had.  A daemon closes every descriptor, a shell's
// `exec 3>out` puts its own file on the number: growing or punching
// through the old number would then damage the program's file.  So the
// number is checked first, and the file opened again by its path if it is
// no longer the trace file.  Called with the region's lock held.
static int file_fd(struct tm_region *region)
{
	// A file lost once stays lost: no open() on every attempt to grow.
	if (region->fd >= 0 && !is_trace_file(region, region->fd))
		region->fd = open_file_again(region);
	return region->fd;
}

// Whether the file may be @size bytes long.  Growing it past `ulimit -f`
// fails with EFBIG and raises SIGXFSZ, whose default action ends the
// program: a program that writes no big file of its own would die traced.
static bool within_file_size_limit(size_t size)
{
	struct rlimit limit;

	return getrlimit(RLIMIT_FSIZE, &limit) != 0 ||
	       limit.rlim_cur == RLIM_INFINITY || size <= limit.rlim_cur;
}

// Allocate the file's blocks for [@offset, @offset + @len) before the table
// writes there.  A page of a shared file mapping that the file system has
// no room for when it is first written (a full disk, a full tmpfs) raises
// SIGBUS, which ends the program.  True if the blocks are there, or if the
// file system cannot allocate ahead (the pages are then written as any
// mmap()ed file's are).  Called with the lock held.
static bool reserve_blocks(struct tm_region *region, uint64_t offset,
			   size_t len)
{
	static int full_reported;
	struct quiet saved;
	bool done = true;

	if (region->cannot_reserve)
		return true;
	// A failed attempt can cost a lot (tmpfs allocates pages, then gives
	// them all back: 300,000 allocations on a full one took 26 s of
	// system time), so after one the next waits a second.
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (region->reserve_failed_at &&
	    (uint64_t)now.tv_sec < region->reserve_failed_at + 1)
		return false;
	quiet_begin(&saved);
	// Tested after blocking: a forked child detaches the file.
	if (region->file_backed) {
		int fd = file_fd(region);
		if (fd < 0) {
			done = false;
		} else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset,
				     (off_t)len) != 0) {
			if (errno == EOPNOTSUPP || errno == ENOSYS)
				region->cannot_reserve = true;
			else
				done = false;
			if (!done) {
				char why[128] = " cannot grow: ";
				strncat(why, strerror(errno),
					sizeof(why) - strlen(why) - 1);
				say_table_stops(&full_reported, region, why,
						"make room on its file system "
						"to trace them");
			}
		}
	}
	quiet_end(&saved);
	region->reserve_failed_at = done ? 0 : (uint64_t)now.tv_sec;
	return done;
}

static int extend_file(struct tm_region *region, uint8_t *start, size_t len,
		       size_t new_committed)
{
	static int reported;
	int fd = file_fd(region);

	if (fd < 0)
		return -EBADF;
	if (!within_file_size_limit(new_committed)) {
		say_table_stops(&reported, region,
				" reached the file size limit (`ulimit -f`)",
				"raise the limit to trace them");
		return -EFBIG;
	}
	if (ftruncate(fd, (off_t)new_committed) < 0)
		return -errno;
	if (mmap(start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)region->committed) == MAP_FAILED)
		return -errno;
	return 0;
}

// Make [old committed, new_committed) usable.
static int commit(struct tm_region *region, size_t new_committed)
{
	uint8_t *start = region->base + region->committed;
	size_t len = new_committed - region->committed;
	struct quiet saved;
	int err = 0;

	quiet_begin(&saved);
	if (!region->file_backed) {
		if (mprotect(start, len, PROT_READ | PROT_WRITE) < 0)
			err = -errno;
		else
			madvise(start, len, MADV_DODUMP);
	} else {
		err = extend_file(region, start, len, new_committed);
	}
	if (!err)
		region->committed = new_committed;
	quiet_end(&saved);
	if (err)
		return err;
	struct tm_header_rec *header =
		tm_region_ptr(region, TM_LAYOUT_HEADER_OFFSET);
	__atomic_store_n(&header->region_size, new_committed, __ATOMIC_RELEASE);
	return 0;
}

static int map_region(struct tm_region *region, const char *path_template)
{
	void *base = MAP_FAILED;
	int err;

	memset(region, 0, sizeof(*region));
	region->fd = -1;
	for (size_t i = 0; i < sizeof(reserve_mib) / sizeof(reserve_mib[0]);
	     i++) {
		size_t size = reserve_mib[i] << 20;
		base = mmap(NULL, size, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base != MAP_FAILED) {
			region->reserved = size;
			break;
		}
	}
	if (base == MAP_FAILED)
		return -ENOMEM;
	// Cores (the kernel's and gcore's) leave out the part not yet in use:
	// otherwise every core would carry a 64 GiB hole.
	madvise(base, region->reserved, MADV_DONTDUMP);
	region->base = base;
	if (path_template) {
		err = expand_path(region->path, sizeof(region->path),
				  path_template);
		if (err >= 0)
			err = create_file(region);
		if (err < 0)
			goto fail;
		region->fd = tm_fd_move_high(err);
		region->file_backed = true;
		struct stat st;
		if (fstat(region->fd, &st) < 0)
			goto fail_errno;
		region->file_dev = st.st_dev;
		region->file_ino = st.st_ino;
	}
	// The header's region_size is written by commit(), so the header
	// page must exist first: commit the initial size in one step.
	if (!region->file_backed) {
		if (mprotect(base, INITIAL_COMMIT, PROT_READ | PROT_WRITE) < 0)
			goto fail_errno;
		madvise(base, INITIAL_COMMIT, MADV_DODUMP);
	} else {
		if (!within_file_size_limit(INITIAL_COMMIT)) {
			err = -EFBIG;
			goto fail;
		}
		// Size and blocks at once (reserve_blocks says why); where
		// the file system cannot allocate ahead, the size only.
		if (fallocate(region->fd, 0, 0, INITIAL_COMMIT) == 0) {
			region->file_reserved = INITIAL_COMMIT;
		} else if (errno == EOPNOTSUPP || errno == ENOSYS) {
			region->cannot_reserve = true;
			if (ftruncate(region->fd, INITIAL_COMMIT) < 0)
				goto fail_errno;
		} else {
			goto fail_errno;
		}
		if (mmap(base, INITIAL_COMMIT, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, region->fd, 0) == MAP_FAILED)
			goto fail_errno;
	}
	region->committed = INITIAL_COMMIT;
	region->used = 0;
	return 0;

fail_errno:
	err = -errno;
fail:
	if (region->fd >= 0) {
		unlink(region->path);
		close(region->fd);
	}
	munmap(base, region->reserved);
	region->base = NULL;
	region->fd = -1;
	region->file_backed = false;
	return err;
}

int tm_region_map(struct tm_region *region, const char *path_template)
{
	// tm_start() may run with a cancellation pending (prim.h).
	int cancel_state = tm_cancel_off();
	int err = map_region(region, path_template);

	tm_cancel_restore(cancel_state);
	return err;
}

void tm_region_unmap(struct tm_region *region)
{
	if (!region->base)
		return;
	munmap(region->base, region->reserved);
	if (is_trace_file(region, region->fd))
		tm_close(region->fd);
	region->base = NULL;
	region->fd = -1;
	region->file_backed = false;
}

static uint64_t bump_locked(struct tm_region *region, size_t size, size_t align)
{
	size_t start = round_up(region->used, align);

	if (start + size < start || start + size > region->reserved)
		return 0;
	if (start + size > region->committed) {
		size_t want = round_up(start + size, COMMIT_STEP);
		size_t grow = region->committed / 4;
		if (want < region->committed + grow)
			want = round_up(region->committed + grow, COMMIT_STEP);
		if (want > region->reserved)
			want = region->reserved;
		if (commit(region, want) < 0)
			return 0;
	}
	if (region->file_backed && start + size > region->file_reserved) {
		size_t upto = round_up(start + size, COMMIT_STEP);
		if (upto > region->committed)
			upto = region->committed;
		if (!reserve_blocks(region, region->file_reserved,
				    upto - region->file_reserved))
			return 0;
		region->file_reserved = upto;
	}
	region->used = start + size;
	struct tm_header_rec *header =
		tm_region_ptr(region, TM_LAYOUT_HEADER_OFFSET);
	// The header lives in the first allocation; before it exists there
	// is nothing to update.
	if (region->used > TM_LAYOUT_HEADER_OFFSET + sizeof(*header))
		__atomic_store_n(&header->used, region->used, __ATOMIC_RELAXED);
	return start;
}

uint64_t tm_region_alloc(struct tm_region *region, size_t size, size_t align)
{
	uint64_t offset;

	tm_spin_lock(&region->lock);
	offset = bump_locked(region, size, align);
	tm_spin_unlock(&region->lock);
	return offset;
}

// Readers report the table's resident size as used - released.
static void publish_released(struct tm_region *region)
{
	struct tm_header_rec *header =
		tm_region_ptr(region, TM_LAYOUT_HEADER_OFFSET);
	__atomic_store_n(&header->released, region->released, __ATOMIC_RELAXED);
}

// Blocks of a page or more own whole pages, so that giving one back to the
// kernel (which works in pages) never touches its neighbour.
static size_t footprint(size_t size)
{
	return size >= TM_LAYOUT_PAGE_SIZE ? round_up(size, TM_LAYOUT_PAGE_SIZE)
					   : size;
}

// Give a free block's pages back to the kernel, which zero-fills them when
// they are used again; false if it would not (a file system that cannot
// punch holes, a trace file lost), and the caller zeroes them itself:
// a slot array taken from the free list must hold no stale traces, or a
// probe for an empty slot would never end.  Called with the lock held.
static bool give_back(struct tm_region *region, uint64_t offset, size_t bytes)
{
	uint8_t *block = tm_region_ptr(region, offset);
	struct quiet saved;
	bool done;

	quiet_begin(&saved);
	// Tested after blocking: a forked child detaches the file.
	if (!region->file_backed) {
		done = madvise(block, bytes, MADV_DONTNEED) == 0;
	} else {
		int fd = file_fd(region);
		done = fd >= 0 &&
		       fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)offset, (off_t)bytes) == 0;
	}
	quiet_end(&saved);
	return done;
}

uint64_t tm_region_alloc_block(struct tm_region *region, unsigned list,
			       size_t size)
{
	struct tm_free_list *free = &region->free_lists[list];
	bool paged = size >= TM_LAYOUT_PAGE_SIZE;
	size_t bytes = footprint(size);
	uint64_t offset;

	tm_spin_lock(&region->lock);
	if (free->count) {
		offset = free->blocks[free->count - 1];
		if (paged && !(offset & ZEROED_IN_PLACE)) {
			// Its pages were given back: a file's holes need
			// blocks again before they are written.
			if (!reserve_blocks(region, offset, bytes)) {
				tm_spin_unlock(&region->lock);
				return 0;
			}
			region->released -= bytes;
			publish_released(region);
		}
		free->count--;
		offset &= ~(uint64_t)ZEROED_IN_PLACE;
	} else {
		offset = bump_locked(region, bytes,
				     paged ? TM_LAYOUT_PAGE_SIZE : 64);
	}
	tm_spin_unlock(&region->lock);
	// Released pages come back zero; smaller blocks are cleared here.
	if (offset && !paged)
		memset(tm_region_ptr(region, offset), 0, size);
	return offset;
}

void tm_region_free_block(struct tm_region *region, unsigned list,
			  uint64_t offset, size_t size)
{
	struct tm_free_list *free = &region->free_lists[list];
	bool paged = size >= TM_LAYOUT_PAGE_SIZE;
	size_t bytes = footprint(size);

	tm_spin_lock(&region->lock);
	if (paged) {
		if (give_back(region, offset, bytes)) {
			region->released += bytes;
			publish_released(region);
		} else {
			memset(tm_region_ptr(region, offset), 0, bytes);
			offset |= ZEROED_IN_PLACE;
		}
	}
	if (free->count < TM_REGION_FREE_BLOCKS)
		free->blocks[free->count++] = offset;
	tm_spin_unlock(&region->lock);
}

size_t tm_region_resident(struct tm_region *region)
{
	size_t n;

	tm_spin_lock(&region->lock);
	n = region->used - region->released;
	tm_spin_unlock(&region->lock);
	return n;
}

void tm_region_reset(struct tm_region *region, size_t keep)
{
	tm_spin_lock(&region->lock);
	// Zero what was handed out so the next user sees fresh memory, and
	// give anonymous pages back to the kernel.
	if (region->used > keep) {
		size_t tail = round_up(keep, TM_LAYOUT_PAGE_SIZE);
		memset(region->base + keep, 0, tail - keep);
		// Writing zeros into a file's holes would need blocks the
		// file system may not have (reserve_blocks): punch instead.
		if (region->used > tail) {
			if (give_back(region, tail, region->used - tail)) {
				if (region->file_reserved > tail)
					region->file_reserved = tail;
			} else {
				memset(region->base + tail, 0,
				       region->used - tail);
			}
		}
	}
	region->used = keep;
	region->released = 0;
	publish_released(region);
	memset(region->free_lists, 0, sizeof(region->free_lists));
	struct tm_header_rec *header =
		tm_region_ptr(region, TM_LAYOUT_HEADER_OFFSET);
	__atomic_store_n(&header->used, keep, __ATOMIC_RELAXED);
	tm_spin_unlock(&region->lock);
}

int tm_region_detach_file(struct tm_region *region)
{
	// The child must not write the parent's file.  The parent is held
	// until the child has its own copy (control.c), so the copy is made
	// once: the bytes in use go into fresh anonymous memory, faulted in
	// all at once (past them the file holds zeros, as fresh memory does:
	// tm_region_reset), and mremap moves its pages over the file's
	// mapping.  Copying aside and back took twice as long.
	size_t len = region->committed;
	void *copy = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (copy == MAP_FAILED)
		return -errno;
	memcpy(copy, region->base, region->used);
	if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   region->base) == MAP_FAILED) {
		int err = -errno;
		munmap(copy, len);
		return err;
	}
	// The number may be a file of the program's now (file_fd).
	if (is_trace_file(region, region->fd))
		tm_close(region->fd);
	region->fd = -1;
	region->file_backed = false;
	region->path[0] = '\0';
	struct tm_header_rec *header =
		tm_region_ptr(region, TM_LAYOUT_HEADER_OFFSET);
	header->flags &= ~TM_HEADER_FLAG_FILE_BACKED;
	return 0;
}
