// program_wrappers.c: the C and C++ runtimes' allocating functions when
// they are linked into the program itself.
//
// unwind.c drops the leading frames that lie in the C and C++ runtime
// libraries, by the libraries' address ranges.  A program linked with
// -static-libstdc++ carries operator new inside its own code, and a fully
// static one carries the C library too (strdup, fopen, stdio's buffers);
// no library's range tells those functions from the program's.  Their
// names do, in the program's symbol table, read once from its file:
// - operator new and new[] in all their forms (_Znw..., _Zna...),
//   whoever defines them: the caller of the program's own replacement is
//   the allocation's cause as much as the caller of libstdc++'s;
// - when the C library is not a shared library of the process, every
//   function whose name C reserves for the implementation (one that
//   begins with an underscore: C11 7.1.3), but for the names the compiler
//   gives the program's own C++ functions (_Z..., _GLOBAL__...).  glibc
//   names its internal functions so (__fopen_internal, _nl_find_locale,
//   _IO_file_doallocate), and most of its public functions share their
//   address with such a name (strdup is __strdup).  Those that do not
//   (setlocale) and its static helpers have plain names and stay; the
//   helpers met on the way from a common call to malloc are listed below.
// A stripped program (no symbol table but the dynamic one), or one whose
// file cannot be read, keeps its frames as they are.
#include "runtime.h"

#include "prim.h"
#include "tm_layout.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct code_range {
	uintptr_t start, end;
};

// Sorted by start; mapped, never allocated through malloc; read-only once
// tm_program_wrappers_init() has returned.
static struct code_range *ranges;
static size_t range_count, ranges_bytes;

// glibc 2.36's static functions between a public function and malloc:
// opendir -> opendir_tail -> __alloc_dir; dlopen -> ... -> dlopen_doit ->
// ... -> dl_open_worker -> ... -> dl_open_worker_begin.
static const char *const plain_libc_helpers[] = {
	"opendir_tail",
	"dlopen_doit",
	"dl_open_worker",
	"dl_open_worker_begin",
};

static bool is_operator_new(const char *name)
{
	return strncmp(name, "_Znw", 4) == 0 || strncmp(name, "_Zna", 4) == 0;
}

// C reserves every name that begins with an underscore at file scope; the
// compiler's too are no C library's: _Z... are mangled C++ names, and
// _GLOBAL__sub_I_... run a C++ file's static constructors.
static bool is_reserved_c_name(const char *name)
{
	return name[0] == '_' && name[1] != 'Z' &&
	       strncmp(name, "_GLOBAL__", 9) != 0;
}

static bool is_wrapper_name(const char *name, bool libc_linked_in)
{
	if (is_operator_new(name))
		return true;
	if (!libc_linked_in)
		return false;
	if (is_reserved_c_name(name))
		return true;
	for (size_t i = 0;
	     i < sizeof(plain_libc_helpers) / sizeof(plain_libc_helpers[0]);
	     i++)
		if (strcmp(name, plain_libc_helpers[i]) == 0)
			return true;
	return false;
}

// --- the program's file ----------------------------------------------------

struct elf_image {
	const uint8_t *bytes;
	size_t size;
};

// @length bytes at @offset of the file, or NULL if they are not all in it.
static const void *image_at(const struct elf_image *image, uint64_t offset,
			    uint64_t length)
{
	if (offset > image->size || length > image->size - offset)
		return NULL;
	return image->bytes + offset;
}

struct symbol_table {
	const ElfW(Sym) * symbols;
	size_t count;
	const char *names;
	size_t names_size;
};

// The file's symbol table, the static one if it has one; false if none.
static bool find_symbols(const struct elf_image *image,
			 struct symbol_table *table)
{
	const ElfW(Ehdr) *eh = image_at(image, 0, sizeof(*eh));

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(ElfW(Shdr)))
		return false;
	const ElfW(Shdr) *sections = image_at(
		image, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr)));
	if (!sections)
		return false;
	const ElfW(Shdr) *chosen = NULL;
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (sections[i].sh_type == SHT_SYMTAB ||
		    (sections[i].sh_type == SHT_DYNSYM && !chosen))
			chosen = &sections[i];
	if (!chosen || chosen->sh_link >= eh->e_shnum ||
	    chosen->sh_entsize != sizeof(ElfW(Sym)))
		return false;
	const ElfW(Shdr) *strings = &sections[chosen->sh_link];
	table->symbols = image_at(image, chosen->sh_offset, chosen->sh_size);
	table->names = image_at(image, strings->sh_offset, strings->sh_size);
	table->count = chosen->sh_size / sizeof(ElfW(Sym));
	table->names_size = strings->sh_size;
	// Every name then ends inside the table.
	return table->symbols && table->names && table->names_size &&
	       table->names[table->names_size - 1] == '\0';
}

// The name of @sym, or NULL if it lies outside the string table (which
// find_symbols() made sure ends in a NUL).
static const char *symbol_name(const struct symbol_table *table,
			       const ElfW(Sym) * sym)
{
	return sym->st_name < table->names_size ? table->names + sym->st_name
						: NULL;
}

// Visit the wrapper functions of @table; the number visited.  With
// @out, store each one's range there (@bias added).
static size_t visit_wrappers(const struct symbol_table *table,
			     bool libc_linked_in, uintptr_t bias,
			     struct code_range *out)
{
	size_t found = 0;

	for (size_t i = 0; i < table->count; i++) {
		const ElfW(Sym) *sym = &table->symbols[i];
		if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
		    sym->st_shndx == SHN_UNDEF || sym->st_size == 0)
			continue;
		const char *name = symbol_name(table, sym);
		if (!name || !is_wrapper_name(name, libc_linked_in))
			continue;
		if (out)
			out[found] =
				(struct code_range){ bias + sym->st_value,
						     bias + sym->st_value +
							     sym->st_size };
		found++;
	}
	return found;
}

// --- sorted ranges ---------------------------------------------------------

// Heapsort: qsort may allocate, and this runs with the hooks live.
static void sift_down(struct code_range *a, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1].start > a[child].start)
			child++;
		if (a[root].start >= a[child].start)
			return;
		struct code_range t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

// Sort @a and join the ranges that overlap (aliases such as strdup and
// __strdup, a function and a symbol inside it), so that no two nest;
// returns how many are left.
static size_t sort_and_join(struct code_range *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t end = n; end-- > 1;) {
		struct code_range t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end);
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept && a[i].start < a[kept - 1].end) {
			if (a[i].end > a[kept - 1].end)
				a[kept - 1].end = a[i].end;
			continue;
		}
		a[kept++] = a[i];
	}
	return kept;
}

bool tm_program_wrappers_contain(uintptr_t pc)
{
	size_t low = 0, high = range_count;

	// The last range that starts at or below pc.
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (ranges[mid].start <= pc)
			low = mid + 1;
		else
			high = mid;
	}
	return low > 0 && pc < ranges[low - 1].end;
}

size_t tm_program_wrappers_memory(void)
{
	return ranges_bytes;
}

// --- reading it, once ------------------------------------------------------

// The program's file, mapped; false if it cannot be, or is not the
// program that runs.
static bool map_program(uintptr_t bias, struct elf_image *image)
{
	char path[TM_LAYOUT_MAX_PATH];
	int cancel_state = tm_cancel_off();
	int fd = open(tm_main_program_path(bias, path, sizeof(path)),
		      O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	tm_cancel_restore(cancel_state);
	if (fd < 0)
		return false;
	struct stat st;
	void *bytes = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size >= (off_t)sizeof(ElfW(Ehdr)))
		bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			     fd, 0);
	tm_close(fd);
	if (bytes == MAP_FAILED)
		return false;
	*image = (struct elf_image){ bytes, (size_t)st.st_size };
	const ElfW(Ehdr) *eh = bytes;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh->e_entry + bias == getauxval(AT_ENTRY))
		return true;
	munmap(bytes, (size_t)st.st_size);
	return false;
}

void tm_program_wrappers_init(uintptr_t bias, bool libc_linked_in)
{
	struct elf_image image;
	struct symbol_table table;

	if (ranges || !map_program(bias, &image))
		return;
	if (find_symbols(&image, &table)) {
		size_t n = visit_wrappers(&table, libc_linked_in, 0, NULL);
		size_t bytes = n * sizeof(struct code_range);
		void *mem = n ? mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			      : MAP_FAILED;
		if (mem != MAP_FAILED) {
			visit_wrappers(&table, libc_linked_in, bias, mem);
			range_count = sort_and_join(mem, n);
			mprotect(mem, bytes, PROT_READ);
			ranges = mem;
			ranges_bytes = (bytes + TM_LAYOUT_PAGE_SIZE - 1) &
				       ~(size_t)(TM_LAYOUT_PAGE_SIZE - 1);
		}
	}
	munmap((void *)image.bytes, image.size);
}
