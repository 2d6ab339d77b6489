// modules.c: the module map stored with the traces (docs/layout.md,
// "Modules"): path, build-id and load address of every loaded object, so a
// trace file can be symbolized without the process or a core.
//
// The map is refreshed when tracing starts and whenever an unwind finds a
// frame outside every known module (the first allocation from a dlopen()ed
// library).  Records are only ever added, newest first.
#include "runtime.h"

#include "prim.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define MAX_KNOWN 1024

struct known {
	uintptr_t start, end, bias;
};

static struct known known[MAX_KNOWN];
static unsigned known_count;
// Set when a module is forgotten; cleared with the traces.
static bool forgotten;

static bool is_known(uintptr_t start, uintptr_t bias)
{
	for (unsigned i = 0; i < known_count; i++)
		if (known[i].start == start && known[i].bias == bias)
			return true;
	return false;
}

// The NT_GNU_BUILD_ID note of a loaded object, read from its own PT_NOTE.
static const uint8_t *find_build_id(const struct dl_phdr_info *info,
				    uint32_t *len)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p =
			(const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)p;
			size_t name_size = (note->n_namesz + 3) & ~3u;
			size_t desc_size = (note->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*note);
			const uint8_t *desc = name + name_size;
			if (desc + desc_size > end)
				break;
			if (note->n_type == NT_GNU_BUILD_ID &&
			    note->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 &&
			    note->n_descsz <= TM_LAYOUT_MAX_BUILD_ID) {
				*len = note->n_descsz;
				return desc;
			}
			p = desc + desc_size;
		}
	}
	return NULL;
}

static uint64_t copy_bytes(const void *bytes, size_t len)
{
	uint64_t offset = tm_region_alloc(&tm_rt.region, len + 1, 8);

	if (offset)
		memcpy(tm_region_ptr(&tm_rt.region, offset), bytes, len);
	return offset;
}

// Whether the ELF file at @path has entry point @entry.
static bool file_has_entry(const char *path, uint64_t entry)
{
	ElfW(Ehdr) eh;
	int cancel_state = tm_cancel_off();
	// Non-blocking: a FIFO put at a name must not stop the program.
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool same = fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) &&
		    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		    eh.e_entry == entry;
	if (fd >= 0)
		tm_close(fd);
	tm_cancel_restore(cancel_state);
	return same;
}

// @name made absolute from the current folder into @buf (@size bytes), if
// it is relative (the folder may have changed since the start: the best
// there is), without its leading "./".
static const char *absolute(const char *name, char *buf, size_t size)
{
	if (!name || name[0] == '/' || !getcwd(buf, size))
		return name;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	size_t dir = strlen(buf), len = strlen(name);
	if (dir + 1 + len >= size)
		return name;
	buf[dir] = '/';
	memcpy(buf + dir + 1, name, len + 1);
	return buf;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

// The file mapped at @addr, as /proc/self/maps names it, into @buf (@size
// bytes), or NULL.  The loader keeps a name as dlopen() was given it, and
// a relative one is relative to the folder at that time; the kernel knows
// the file itself.  Read in small pieces, as the bytes come: a line's path
// may be longer than any buffer the stack has room for here.
static const char *mapped_file(uintptr_t addr, char *buf, size_t size)
{
	enum { START, END, FIELDS, GAP, PATH, NEXT_LINE } at = START;
	uintptr_t start = 0, end = 0;
	unsigned fields = 0; // perms, offset, device, inode
	size_t len = 0;
	bool found = false;
	char piece[256];
	ssize_t n;

	int cancel_state = tm_cancel_off();
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && !found && (n = read(fd, piece, sizeof(piece))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char c = piece[i];
			if (c == '\n') {
				found = at == PATH && len > 0;
				if (found)
					break;
				at = START;
				start = end = 0;
				fields = len = 0;
				continue;
			}
			int digit = hex_digit(c);
			switch (at) {
			case START:
				if (digit >= 0)
					start = start << 4 | (uintptr_t)digit;
				else
					at = c == '-' ? END : NEXT_LINE;
				break;
			case END:
				if (digit >= 0)
					end = end << 4 | (uintptr_t)digit;
				else if (c == ' ' && addr >= start &&
					 addr < end)
					at = FIELDS;
				else
					at = NEXT_LINE;
				break;
			case FIELDS:
				if (c == ' ' && ++fields == 4)
					at = GAP;
				break;
			case GAP:
				if (c == ' ')
					break;
				at = PATH;
				// fall through
			case PATH:
				if (len + 1 < size)
					buf[len++] = c;
				else
					at = NEXT_LINE; // too long: no name
				break;
			case NEXT_LINE:
				break;
			}
		}
	}
	if (fd >= 0)
		tm_close(fd);
	tm_cancel_restore(cancel_state);
	if (!found || buf[0] != '/')
		return NULL;
	buf[len] = '\0';
	// Deleted since it was loaded: its name is still the best there is.
	static const char deleted[] = " (deleted)";
	size_t mark = sizeof(deleted) - 1;
	if (len > mark && memcmp(buf + len - mark, deleted, mark) == 0)
		buf[len - mark] = '\0';
	return buf;
}

// *@checked tells whether the file's entry point was found to be the
// program's.
static const char *find_program_path(uintptr_t bias, char *buf, size_t size,
				     bool *checked)
{
	uint64_t entry = getauxval(AT_ENTRY) - bias;
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	*checked = true;
	if (n > 0) {
		buf[n] = '\0';
		if (file_has_entry(buf, entry))
			return buf;
	}
	// Started through the dynamic loader by name (ld.so ./prog),
	// /proc/self/exe is the loader, and the loader gives the program's
	// name as its argv[0]; without /proc, the name it was started by.
	char other[TM_LAYOUT_MAX_PATH];
	const char *names[] = { program_invocation_name,
				(const char *)getauxval(AT_EXECFN) };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *path = absolute(names[i], other, sizeof(other));
		if (path && file_has_entry(path, entry) && strlen(path) < size)
			return memcpy(buf, path, strlen(path) + 1);
	}
	*checked = false;
	if (n > 0)
		return buf;
	const char *path = absolute(names[1], other, sizeof(other));
	if (!path || strlen(path) >= size)
		return "";
	return memcpy(buf, path, strlen(path) + 1);
}

// Each search reads /proc and opens the file (about 12 us here), and the
// program's path is asked for by two readers as tracing starts: the file
// found to be the program is kept for the life of the process (a fork runs
// the same program; exec starts afresh).  Written once, by whoever claims
// it first, and read only once it is whole.
enum { PATH_UNKNOWN, PATH_WRITING, PATH_KEPT };
static char program_path[TM_LAYOUT_MAX_PATH];
static int program_path_state;

const char *tm_main_program_path(uintptr_t bias, char *buf, size_t size)
{
	bool checked;

	if (__atomic_load_n(&program_path_state, __ATOMIC_ACQUIRE) ==
	    PATH_KEPT) {
		size_t len = strlen(program_path);
		return len < size ? memcpy(buf, program_path, len + 1) : "";
	}
	const char *path = find_program_path(bias, buf, size, &checked);
	int unknown = PATH_UNKNOWN;
	if (checked && path[0] && strlen(path) < sizeof(program_path) &&
	    __atomic_compare_exchange_n(&program_path_state, &unknown,
					PATH_WRITING, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED)) {
		memcpy(program_path, path, strlen(path) + 1);
		__atomic_store_n(&program_path_state, PATH_KEPT,
				 __ATOMIC_RELEASE);
	}
	return path;
}

bool tm_object_span(const struct dl_phdr_info *info, uint32_t flags,
		    uintptr_t *start, uintptr_t *end)
{
	*start = UINTPTR_MAX;
	*end = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & flags) != flags)
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr;
		if (s < *start)
			*start = s;
		if (s + ph->p_memsz > *end)
			*end = s + ph->p_memsz;
	}
	return *start < *end;
}

// Whether the table has a record of this module already: a library
// closed and loaded again at the same place, whose every load would add
// one more alike.
static bool has_record(uintptr_t bias, uintptr_t start, uintptr_t end,
		       const char *path, size_t path_len,
		       const uint8_t *build_id, uint32_t build_id_len)
{
	if (!build_id)
		build_id_len = 0;
	for (uint64_t at = tm_rt.header->modules; at;) {
		const struct tm_module_rec *rec =
			tm_region_ptr(&tm_rt.region, at);
		if (rec->load_bias == bias && rec->start == start &&
		    rec->end == end && rec->path_len == path_len &&
		    rec->build_id_len == build_id_len &&
		    memcmp(tm_region_ptr(&tm_rt.region, rec->path), path,
			   path_len) == 0 &&
		    (!build_id_len ||
		     memcmp(tm_region_ptr(&tm_rt.region, rec->build_id),
			    build_id, build_id_len) == 0))
			return true;
		at = rec->next;
	}
	return false;
}

// Count the module as known, its record written; 0 for dl_iterate_phdr.
static int remember(uintptr_t start, uintptr_t end, uintptr_t bias)
{
	known[known_count] = (struct known){ start, end, bias };
	__atomic_store_n(&known_count, known_count + 1, __ATOMIC_RELEASE);
	return 0;
}

static int record_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t start, end;
	char path_buf[TM_LAYOUT_MAX_PATH];
	const char *path = info->dlpi_name;
	bool *new_wrappers = arg;

	(void)size;
	if (!tm_object_span(info, 0, &start, &end) ||
	    is_known(start, info->dlpi_addr))
		return 0;
	if (tm_unwind_note_library(info))
		*new_wrappers = true;
	if (known_count == MAX_KNOWN)
		return 0;
	if (!path || !*path)
		path = tm_main_program_path(info->dlpi_addr, path_buf,
					    sizeof(path_buf));
	else if (path[0] != '/' && strchr(path, '/')) {
		// dlopen("./plugin.so") keeps the name as given, relative
		// to the folder it was loaded from; the vdso's name has no
		// '/'.  Without /proc, the current folder is likely still
		// that one.
		const char *mapped =
			mapped_file(start, path_buf, sizeof(path_buf));
		path = mapped ? mapped
			      : absolute(path, path_buf, sizeof(path_buf));
	}
	size_t path_len = strnlen(path, TM_LAYOUT_MAX_PATH - 1);
	uint32_t build_id_len = 0;
	const uint8_t *build_id = find_build_id(info, &build_id_len);

	if (has_record(info->dlpi_addr, start, end, path, path_len, build_id,
		       build_id_len))
		return remember(start, end, info->dlpi_addr);
	uint64_t offset =
		tm_region_alloc(&tm_rt.region, sizeof(struct tm_module_rec), 8);
	uint64_t path_off = copy_bytes(path, path_len);
	uint64_t id_off = build_id ? copy_bytes(build_id, build_id_len) : 0;
	if (!offset || !path_off || (build_id && !id_off))
		return 1; // the region is full; stop here
	struct tm_module_rec *rec = tm_region_ptr(&tm_rt.region, offset);
	rec->load_bias = info->dlpi_addr;
	rec->start = start;
	rec->end = end;
	rec->path = path_off;
	rec->path_len = (uint32_t)path_len;
	rec->build_id = id_off;
	rec->build_id_len = id_off ? build_id_len : 0;
	rec->next = tm_rt.header->modules;
	// Publish the complete record.
	__atomic_store_n(&tm_rt.header->modules, offset, __ATOMIC_RELEASE);
	__atomic_store_n(&tm_rt.header->module_count,
			 tm_rt.header->module_count + 1, __ATOMIC_RELEASE);
	return remember(start, end, info->dlpi_addr);
}

// The loader's counts of objects loaded and unloaded so far (glibc's
// dl_phdr_info carries them); known is false where it does not.
struct loader_counts {
	bool known;
	unsigned long long adds, subs;
};

// As of the last walk that recorded every object.
static struct loader_counts walked;

static int read_loader_counts(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct loader_counts *counts = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			    sizeof(info->dlpi_subs)) {
		counts->known = true;
		counts->adds = info->dlpi_adds;
		counts->subs = info->dlpi_subs;
	}
	return 1; // the first object has them
}

// Takes the loader's lock; called from allocation hooks only through
// tm_modules_refresh's trylock, so a thread in dlopen() that allocates never
// waits for us while we wait for the loader.
enum tm_refresh tm_modules_refresh(void)
{
	bool new_wrappers = false;
	struct loader_counts now = { 0 };

	if (!tm_spin_trylock(&tm_rt.module_lock))
		return TM_REFRESH_BUSY;
	// Frames outside every module (code made at run time, say) send each
	// unwind here: without a load or an unload since the last complete
	// walk, another would find nothing new.
	dl_iterate_phdr(read_loader_counts, &now);
	if (!now.known || !walked.known || now.adds != walked.adds ||
	    now.subs != walked.subs) {
		walked.known = false;
		if (dl_iterate_phdr(record_module, &new_wrappers) == 0)
			walked = now;
	}
	tm_modules_unlock();
	return new_wrappers ? TM_REFRESH_NEW_WRAPPERS : TM_REFRESH_DONE;
}

static int mark_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	bool *loaded = arg;

	(void)size;
	for (unsigned i = 0; i < known_count; i++)
		if (known[i].bias == info->dlpi_addr)
			loaded[i] = true;
	return 0;
}

// After dlclose(): forget the modules that are gone, so that whatever is
// loaded at their addresses next is recorded too, not taken for them.
// Their records stay in the table: traces from them still name them.
static void forget_unloaded_locked(void)
{
	static bool loaded[MAX_KNOWN];

	memset(loaded, 0, sizeof(loaded));
	dl_iterate_phdr(mark_loaded, loaded);
	unsigned kept = 0;
	for (unsigned i = 0; i < known_count; i++) {
		if (loaded[i])
			known[kept++] = known[i];
		else
			tm_unwind_forget_library(known[i].bias, known[i].start,
						 known[i].end);
	}
	if (kept < known_count)
		__atomic_store_n(&forgotten, true, __ATOMIC_RELAXED);
	__atomic_store_n(&known_count, kept, __ATOMIC_RELEASE);
}

// Set by a dlclose() that found the map's lock held (dlclose must not wait
// for an allocating thread); whoever holds the lock forgets for it.
static uint32_t forget_pending;

void tm_modules_unlock(void)
{
	for (;;) {
		if (__atomic_exchange_n(&forget_pending, 0, __ATOMIC_ACQ_REL))
			forget_unloaded_locked();
		tm_spin_unlock(&tm_rt.module_lock);
		// A dlclose() that came after the exchange failed to take the
		// lock; now that it is free, forget for it.  The fence pairs
		// with the one in tm_modules_forget_unloaded: either it sees
		// the lock free or this sees its flag.
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&forget_pending, __ATOMIC_RELAXED) ||
		    !tm_spin_trylock(&tm_rt.module_lock))
			return;
	}
}

void tm_modules_forget_unloaded(void)
{
	__atomic_store_n(&forget_pending, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (tm_spin_trylock(&tm_rt.module_lock))
		tm_modules_unlock();
}

bool tm_modules_cover(const uint64_t *pcs, unsigned n)
{
	unsigned count = __atomic_load_n(&known_count, __ATOMIC_ACQUIRE);

	// A closed library's range may still be known, with another library
	// at its addresses: refresh, which forgets it.
	if (__atomic_load_n(&forget_pending, __ATOMIC_RELAXED))
		return false;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		while (k < count &&
		       !(pcs[i] >= known[k].start && pcs[i] < known[k].end))
			k++;
		if (k == count)
			return false;
	}
	return true;
}

bool tm_modules_forgotten(void)
{
	return __atomic_load_n(&forgotten, __ATOMIC_RELAXED);
}

// After the region was reset: the records are gone, so forget them too.
void tm_modules_clear_locked(void)
{
	known_count = 0;
	forgotten = false;
	walked.known = false;
	tm_rt.header->modules = 0;
	tm_rt.header->module_count = 0;
}
