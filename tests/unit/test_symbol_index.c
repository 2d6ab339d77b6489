// test_symbol_index.c: the symbol index names every address as libdwfl's
// own search does, over the real files this test has loaded (the C
// library's dynamic table, this program's full one with its local
// symbols, libdw's, ...): at each symbol's start, inside it, at its last
// byte and past it, just below it, and at addresses spread over each file;
// and at every byte of the cases symbols.S builds into this program.
// TM_TEST_SYMBOL_FILES (paths separated by ':') adds files, for checking
// a large program by hand.
#include "tm_test.h"

#include "symbol_index.h"

#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct comparison {
	unsigned long addresses, named, differ;
};

static void compare_at(Dwfl_Module *mod, const struct tm_symbol_index *index,
		       GElf_Addr at, struct comparison *c)
{
	const char *expected = dwfl_module_addrname(mod, at);
	const char *found = tm_symbol_index_find(index, at);

	c->addresses++;
	c->named += expected != NULL;
	if ((expected == NULL) != (found == NULL) ||
	    (expected && strcmp(expected, found) != 0)) {
		if (c->differ++ < 10)
			print_error("%#lx: libdwfl %s, index %s\n",
				    (unsigned long)at,
				    expected ? expected : "(none)",
				    found ? found : "(none)");
	}
}

// symbols.S
extern char tm_sym_outer[], tm_sym_alias_global[], tm_sym_label_global[];

static void compare_module(Dwfl_Module *mod, struct comparison *c)
{
	struct tm_symbol_index *index = tm_symbol_index_build(mod);
	Dwarf_Addr low, high;
	const char *name = dwfl_module_info(mod, NULL, &low, &high, NULL, NULL,
					    NULL, NULL);

	assert_non_null(index);
	int count = dwfl_module_getsymtab(mod);
	// At most about 20,000 addresses a file: libdwfl reads its whole
	// table for each.
	int step = count > 4000 ? count / 4000 : 1;
	for (int i = 1; i < count; i += step) {
		GElf_Sym sym;
		GElf_Addr value;
		if (!dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL,
					     NULL))
			continue;
		compare_at(mod, index, value, c);
		compare_at(mod, index, value - 1, c);
		compare_at(mod, index, value + sym.st_size, c);
		if (sym.st_size > 1) {
			compare_at(mod, index, value + sym.st_size / 2, c);
			compare_at(mod, index, value + sym.st_size - 1, c);
		}
	}
	uint64_t seed = 88172645463325252ull;
	for (int i = 0; i < 2000 && high > low; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		compare_at(mod, index, low + seed % (high - low), c);
	}
	// This program: every byte of symbols.S's code.
	uintptr_t cases = (uintptr_t)tm_sym_outer;
	if (cases >= low && cases < high)
		for (uintptr_t at = cases; at < cases + 320; at++)
			compare_at(mod, index, at, c);
	print_message("%s: %d symbols\n", name, count);
	tm_symbol_index_free(index);
}

static int report_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	Dwfl *dwfl = arg;
	char self[4096];
	const char *path = info->dlpi_name;

	(void)size;
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return 0;
		self[n] = '\0';
		path = self;
	}
	if (path[0] == '/')
		dwfl_report_elf(dwfl, path, path, -1, info->dlpi_addr, false);
	return 0;
}

static int compare_each(Dwfl_Module *mod, void **userdata, const char *name,
			Dwarf_Addr start, void *arg)
{
	compare_module(mod, arg);
	return DWARF_CB_OK;
}

static void test_names_as_libdwfl(void **state)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	struct comparison c = { 0 };

	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	dl_iterate_phdr(report_loaded, dwfl);
	// Files added by hand go far above what is loaded, 1 TiB apart.
	const char *extra = getenv("TM_TEST_SYMBOL_FILES");
	char *files = extra ? strdup(extra) : NULL, *save = NULL;
	GElf_Addr base = (GElf_Addr)1 << 44;
	for (char *f = files ? strtok_r(files, ":", &save) : NULL; f;
	     f = strtok_r(NULL, ":", &save), base += (GElf_Addr)1 << 40)
		assert_non_null(dwfl_report_elf(dwfl, f, f, -1, base, false));
	free(files);
	dwfl_report_end(dwfl, NULL, NULL);
	assert_int_equal(dwfl_getmodules(dwfl, compare_each, &c, 0), 0);
	print_message("%lu addresses, %lu named, %lu named otherwise\n",
		      c.addresses, c.named, c.differ);
	// Enough of them, and most named, for the comparison to mean
	// something.
	assert_true(c.addresses > 20000);
	assert_true(c.named > c.addresses / 2);
	assert_int_equal(c.differ, 0);
	dwfl_end(dwfl);
}

static int find_self(Dwfl_Module *mod, void **userdata, const char *name,
		     Dwarf_Addr start, void *arg)
{
	Dwarf_Addr low, high;

	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	if ((uintptr_t)tm_sym_outer >= low && (uintptr_t)tm_sym_outer < high)
		*(Dwfl_Module **)arg = mod;
	return DWARF_CB_OK;
}

static void expect_name(const struct tm_symbol_index *index, const char *at,
			const char *name)
{
	const char *found = tm_symbol_index_find(index, (uintptr_t)at);

	if (!name)
		assert_null(found);
	else
		assert_string_equal(found ? found : "(none)", name);
}

// The cases of symbols.S whose answer does not hang on the table's order.
static void test_rules(void **state)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	Dwfl_Module *self = NULL;

	assert_non_null(dwfl);
	dwfl_report_begin(dwfl);
	dl_iterate_phdr(report_loaded, dwfl);
	dwfl_report_end(dwfl, NULL, NULL);
	dwfl_getmodules(dwfl, find_self, &self, 0);
	assert_non_null(self);
	struct tm_symbol_index *index = tm_symbol_index_build(self);
	assert_non_null(index);
	// Outside the weak function, only the global one covers.
	expect_name(index, tm_sym_outer + 40, "tm_sym_outer");
	// A global alias over a weak one of the same start and size.
	expect_name(index, tm_sym_alias_global + 8, "tm_sym_alias_global");
	// Local ones, looked at only when no global covers: the smaller of
	// two at one start; past it, the larger; the one nested closer.
	const char *locals = tm_sym_alias_global + 32;
	expect_name(index, locals + 4, "tm_sym_local_small");
	expect_name(index, locals + 20, "tm_sym_local_nested");
	expect_name(index, locals + 30, "tm_sym_local_big");
	// Labels: a global one, a local one after it, none inside a sized
	// function that follows, one after that function.
	expect_name(index, tm_sym_label_global + 4, "tm_sym_label_global");
	expect_name(index, tm_sym_label_global + 20, "tm_sym_label_local");
	expect_name(index, tm_sym_label_global + 36, "tm_sym_after_labels");
	expect_name(index, tm_sym_label_global + 52,
		    "tm_sym_label_after_sized");
	tm_symbol_index_free(index);
	dwfl_end(dwfl);
}

// A module whose file has no symbols and no sections at all (a header and
// one loaded segment) names nothing.
static void test_no_symbols(void **state)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	char path[] = "/tmp/tm-test-nosym-XXXXXX";
	int fd = mkstemp(path);
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
	} file = {
		.eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_DYN,
			.e_machine = EM_X86_64,
			.e_version = EV_CURRENT,
			.e_phoff = sizeof(Elf64_Ehdr),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 1 },
		.ph = { .p_type = PT_LOAD,
			.p_flags = PF_R | PF_X,
			.p_filesz = sizeof(file),
			.p_memsz = 0x1000,
			.p_align = 0x1000 },
	};

	assert_non_null(dwfl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &file, sizeof(file)), sizeof(file));
	close(fd);
	dwfl_report_begin(dwfl);
	Dwfl_Module *mod =
		dwfl_report_elf(dwfl, path, path, -1, 0x10000, false);
	dwfl_report_end(dwfl, NULL, NULL);
	unlink(path);
	assert_non_null(mod);
	struct tm_symbol_index *index = tm_symbol_index_build(mod);
	assert_non_null(index);
	assert_null(tm_symbol_index_find(index, 0x10000));
	assert_null(tm_symbol_index_find(index, 0x10010));
	assert_null(tm_symbol_index_find(index, 0));
	tm_symbol_index_free(index);
	dwfl_end(dwfl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_as_libdwfl),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_no_symbols),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
