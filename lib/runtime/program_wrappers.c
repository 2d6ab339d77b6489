// program_wrappers.c: the C and C++ runtimes' allocating functions when
// they are linked into the program itself; in a shared library, operator
// new when it is linked in (tm_library_operators) and the C++ standard
// library's functions (tm_library_standard_functions, kept by
// library_wrappers.c), at the end.
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

// Sorted by start; mapped, never allocated through malloc; read-only once
// tm_program_wrappers_init() has returned.
static struct tm_code_range *ranges;
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

// Called for every function of every library: a string call each was a
// millisecond for LLVM's 50,000.
static bool is_operator_new(const char *name)
{
	return name[0] == '_' && name[1] == 'Z' && name[2] == 'n' &&
	       (name[3] == 'w' || name[3] == 'a');
}

// C reserves every name that begins with an underscore at file scope; the
// compiler's too are no C library's: _Z... are mangled C++ names, and
// _GLOBAL__sub_I_... run a C++ file's static constructors.
static bool is_reserved_c_name(const char *name)
{
	return name[0] == '_' && name[1] != 'Z' &&
	       strncmp(name, "_GLOBAL__", 9) != 0;
}

// C++ standard library code, by its mangled name: in namespace std
// (St, and Sa, Sb, Ss, Si, So, Sd: the allocator, basic_string, string and
// the streams) or __gnu_cxx, as a free function (_ZSt...) or a member
// (_ZN, any cv- and ref-qualifiers, then the namespace).  Template
// instances (std::vector<T>'s growth, std::string's construction) are
// compiled into the program, not into libstdc++.so; with -static-libstdc++
// all of it is, and so is the C++ ABI's runtime (__cxa_throw, and
// __cxa_allocate_exception, which allocates the exception thrown).
static bool is_standard_library_name(const char *name)
{
	if (name[0] != '_')
		return false;
	if (name[1] == '_')
		return strncmp(name + 2, "cxa_", 4) == 0;
	if (name[1] != 'Z')
		return false;
	const char *p = name + 2;
	if (p[0] == 'S' && p[1] == 't')
		return true;
	if (*p++ != 'N')
		return false;
	while (*p == 'r' || *p == 'V' || *p == 'K' || *p == 'R' || *p == 'O')
		p++;
	if (p[0] == 'S' && p[1] && strchr("tabsiod", p[1]))
		return true;
	return strncmp(p, "9__gnu_cxx", 10) == 0;
}

// Which functions a symbol table's reader passes over, besides operator new.
enum wrapper_kinds {
	C_LIBRARY = 1,	      // the C library, linked into the program
	STANDARD_LIBRARY = 2, // the C++ standard library's code
};

static bool is_wrapper_name(const char *name, unsigned kinds)
{
	if (is_operator_new(name))
		return true;
	if ((kinds & STANDARD_LIBRARY) && is_standard_library_name(name))
		return true;
	if (!(kinds & C_LIBRARY))
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

// @length bytes at @offset of the file, or NULL if they are not all in it.
static const void *image_at(const struct tm_elf_file *image, uint64_t offset,
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

// The file's symbol table of @type (SHT_SYMTAB, SHT_DYNSYM); false if it
// has none, or none that can be read.
static bool find_table(const struct tm_elf_file *image, uint32_t type,
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
	for (unsigned i = 0; i < eh->e_shnum && !chosen; i++)
		if (sections[i].sh_type == type)
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

// The file's symbol table, the static one if it has one; false if none.
static bool find_symbols(const struct tm_elf_file *image,
			 struct symbol_table *table)
{
	return find_table(image, SHT_SYMTAB, table) ||
	       find_table(image, SHT_DYNSYM, table);
}

// The name of @sym, or NULL if it lies outside the string table (which
// find_table() made sure ends in a NUL).
static const char *symbol_name(const struct symbol_table *table,
			       const ElfW(Sym) * sym)
{
	return sym->st_name < table->names_size ? table->names + sym->st_name
						: NULL;
}

// Visit the wrapper functions of @table; the number visited.  Store the
// ranges of the first @max of them in @out (@bias added).
static size_t visit_wrappers(const struct symbol_table *table, unsigned kinds,
			     uintptr_t bias, struct tm_code_range *out,
			     size_t max)
{
	size_t found = 0;

	for (size_t i = 0; i < table->count; i++) {
		const ElfW(Sym) *sym = &table->symbols[i];
		if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
		    sym->st_shndx == SHN_UNDEF || sym->st_size == 0)
			continue;
		const char *name = symbol_name(table, sym);
		if (!name || !is_wrapper_name(name, kinds))
			continue;
		if (found < max)
			out[found] =
				(struct tm_code_range){ bias + sym->st_value,
							bias + sym->st_value +
								sym->st_size };
		found++;
	}
	return found;
}

// --- sorted ranges ---------------------------------------------------------

// Heapsort: qsort may allocate, and this runs with the hooks live.
static void sift_down(struct tm_code_range *a, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1].start > a[child].start)
			child++;
		if (a[root].start >= a[child].start)
			return;
		struct tm_code_range t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

// Sort @a and join the ranges that overlap (aliases such as strdup and
// __strdup, a function and a symbol inside it), so that no two nest;
// returns how many are left.
static size_t sort_and_join(struct tm_code_range *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t end = n; end-- > 1;) {
		struct tm_code_range t = a[0];
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

bool tm_code_ranges_contain(const struct tm_code_range *sorted, size_t count,
			    uintptr_t pc)
{
	size_t low = 0, high = count;

	// The last range that starts at or below pc.
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (sorted[mid].start <= pc)
			low = mid + 1;
		else
			high = mid;
	}
	return low > 0 && pc < sorted[low - 1].end;
}

bool tm_program_wrappers_contain(uintptr_t pc)
{
	return tm_code_ranges_contain(ranges, range_count, pc);
}

size_t tm_program_wrappers_memory(void)
{
	return ranges_bytes;
}

// --- reading it, once ------------------------------------------------------

static struct tm_file_identity identity_of(const struct stat *st)
{
	return (struct tm_file_identity){
		.device = st->st_dev,
		.inode = st->st_ino,
		.size = (uint64_t)st->st_size,
		.mtime_sec = st->st_mtim.tv_sec,
		.mtime_nsec = st->st_mtim.tv_nsec,
	};
}

// Non-blocking: a FIFO put at a name must not stop the program.
bool tm_elf_file_map(const char *path, struct tm_elf_file *image)
{
	int cancel_state = tm_cancel_off();
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
	*image = (struct tm_elf_file){ bytes, (size_t)st.st_size,
				       identity_of(&st) };
	if (memcmp(bytes, ELFMAG, SELFMAG) == 0)
		return true;
	munmap(bytes, (size_t)st.st_size);
	return false;
}

void tm_elf_file_unmap(const struct tm_elf_file *image)
{
	munmap((void *)image->bytes, image->size);
}

// The program's file, mapped; false if it cannot be, or is not the
// program that runs.
static bool map_program(uintptr_t bias, struct tm_elf_file *image)
{
	char path[TM_LAYOUT_MAX_PATH];

	if (!tm_elf_file_map(tm_main_program_path(bias, path, sizeof(path)),
			     image))
		return false;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)image->bytes;
	if (eh->e_entry + bias == getauxval(AT_ENTRY))
		return true;
	tm_elf_file_unmap(image);
	return false;
}

void tm_program_wrappers_init(uintptr_t bias, bool libc_linked_in)
{
	struct tm_elf_file image;
	struct symbol_table table;

	if (ranges || !map_program(bias, &image))
		return;
	unsigned kinds = STANDARD_LIBRARY | (libc_linked_in ? C_LIBRARY : 0);
	if (find_symbols(&image, &table)) {
		size_t n = visit_wrappers(&table, kinds, 0, NULL, 0);
		size_t bytes = n * sizeof(struct tm_code_range);
		void *mem = n ? mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			      : MAP_FAILED;
		if (mem != MAP_FAILED) {
			visit_wrappers(&table, kinds, bias, mem, n);
			range_count = sort_and_join(mem, n);
			mprotect(mem, bytes, PROT_READ);
			ranges = mem;
			ranges_bytes = (bytes + TM_LAYOUT_PAGE_SIZE - 1) &
				       ~(size_t)(TM_LAYOUT_PAGE_SIZE - 1);
		}
	}
	tm_elf_file_unmap(&image);
}

// --- a shared library's own operator new -----------------------------------

// Whether the file in @image is the object @info describes: its program
// headers are the ones loaded (not a newer file installed at the name
// since the library was loaded).
static bool is_loaded_file(const struct tm_elf_file *image,
			   const struct dl_phdr_info *info)
{
	const ElfW(Ehdr) *eh = image_at(image, 0, sizeof(*eh));
	size_t size = (size_t)info->dlpi_phnum * sizeof(ElfW(Phdr));
	const void *headers =
		eh && eh->e_phnum == info->dlpi_phnum &&
				eh->e_phentsize == sizeof(ElfW(Phdr))
			? image_at(image, eh->e_phoff, size)
			: NULL;
	return headers && memcmp(headers, info->dlpi_phdr, size) == 0;
}

// Whether @table names operator new without defining it: the library
// calls another's (libstdc++.so's).
static bool imports_operator_new(const struct symbol_table *table)
{
	for (size_t i = 0; i < table->count; i++) {
		const ElfW(Sym) *sym = &table->symbols[i];
		const char *name = symbol_name(table, sym);
		if (sym->st_shndx == SHN_UNDEF && name && is_operator_new(name))
			return true;
	}
	return false;
}

// The operators defined in @image, the file of the library @info: the
// dynamic symbols first.  A library that calls libstdc++.so's operator
// new (most C++ libraries) is done with there, and one that exports its
// own has them all there.  Only a library with no operator new among them
// (C code, or libstdc++ linked in with its symbols hidden) has its static
// symbol table read, if it was not stripped: an unstripped C++ library's
// is many times larger.
size_t tm_library_operators(const struct tm_elf_file *image,
			    const struct dl_phdr_info *info,
			    struct tm_code_range *out, size_t max)
{
	struct symbol_table table;
	size_t n = 0;

	if (!max || !is_loaded_file(image, info))
		return 0;
	if (find_table(image, SHT_DYNSYM, &table)) {
		if (imports_operator_new(&table))
			return 0;
		n = visit_wrappers(&table, 0, info->dlpi_addr, out, max);
	}
	if (!n && find_table(image, SHT_SYMTAB, &table))
		n = visit_wrappers(&table, 0, info->dlpi_addr, out, max);
	return sort_and_join(out, n < max ? n : max);
}

// --- the C++ standard library's code in a shared library ------------------

bool tm_library_standard_functions(const struct tm_elf_file *image,
				   const struct dl_phdr_info *info,
				   void *(*allocate)(size_t bytes),
				   struct tm_library_functions *found)
{
	struct symbol_table table;
	bool read = is_loaded_file(image, info);

	*found = (struct tm_library_functions){ .identity = image->identity };
	// The static symbol table first: instances a library hides (built
	// with -fvisibility=hidden, or libstdc++ linked in with its symbols
	// hidden) are only there.
	if (read && find_symbols(image, &table)) {
		size_t n = visit_wrappers(&table, STANDARD_LIBRARY, 0, NULL, 0);
		struct tm_code_range *offsets =
			n ? allocate(n * sizeof(*offsets)) : NULL;
		if (offsets) {
			visit_wrappers(&table, STANDARD_LIBRARY, 0, offsets, n);
			found->offsets = offsets;
			found->count = sort_and_join(offsets, n);
		}
		read = !n || offsets;
	}
	return read;
}
