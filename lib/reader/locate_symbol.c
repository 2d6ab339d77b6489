// locate_symbol.c: find the well-known descriptor symbol
// (__tracemalloc_descriptor, docs/layout.md "Finding the table") in a live
// process or a core, through the modules libdwfl reports for it.  Needs the
// binaries: without them the magic scan (locate.c) still works.
#include "tm/reader.h"

#include "error.h"
#include "module_file.h"
#include "tm_layout.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

// The root of the system the core's process ran on (--sysroot), for
// find_elf_in_sysroot: libdwfl's callbacks take no argument of ours.
static __thread const char *core_sysroot;

// A core's module at its path under the sysroot, when the file there has
// the module's build-id; else where libdwfl looks (the build-id stores,
// then the path itself, outside the sysroot).
static int find_elf_in_sysroot(Dwfl_Module *mod, void **userdata,
			       const char *modname, Dwarf_Addr base,
			       char **file_name, Elf **elfp)
{
	const unsigned char *id;
	GElf_Addr id_address;
	int id_len = dwfl_module_build_id(mod, &id, &id_address);

	if (core_sysroot && modname && modname[0] == '/' && id_len > 0) {
		const struct tm_module m = { .path = modname,
					     .build_id = id,
					     .build_id_len = (size_t)id_len };
		char *path = tm_module_recorded_file(&m, core_sysroot);
		int fd = path && tm_file_has_build_id_of(path, &m)
				 ? open(path, O_RDONLY | O_CLOEXEC)
				 : -1;
		if (fd >= 0) {
			*file_name = path;
			return fd;
		}
		free(path);
	}
	return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name,
				      elfp);
}

static const Dwfl_Callbacks core_callbacks = {
	.find_elf = find_elf_in_sysroot,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

struct search {
	uint64_t address;
	bool found;
};

static int look_in_module(Dwfl_Module *mod, void **userdata, const char *name,
			  Dwarf_Addr start, void *arg)
{
	struct search *s = arg;
	int count = dwfl_module_getsymtab(mod);

	(void)userdata;
	(void)name;
	(void)start;
	for (int i = 0; i < count; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *sname = dwfl_module_getsym_info(mod, i, &sym, &addr,
							    NULL, NULL, NULL);
		if (sname && strcmp(sname, TM_DESCRIPTOR_SYMBOL) == 0 &&
		    sym.st_shndx != SHN_UNDEF) {
			s->address = addr;
			s->found = true;
			return DWARF_CB_ABORT;
		}
	}
	return DWARF_CB_OK;
}

static struct tm_error *search(Dwfl *dwfl, uint64_t *ret)
{
	struct search s = { 0, false };

	dwfl_getmodules(dwfl, look_in_module, &s, 0);
	if (!s.found)
		return tm_error_create(TM_ERR_NO_TABLE,
				       "no module defines " TM_DESCRIPTOR_SYMBOL
				       " (libtracemalloc's binaries are not "
				       "at hand)");
	*ret = s.address;
	return NULL;
}

struct tm_error *tm_find_descriptor_pid(int pid, uint64_t *ret)
{
	Dwfl *dwfl = dwfl_begin(&proc_callbacks);
	struct tm_error *err;

	if (!dwfl)
		return &tm_enomem;
	dwfl_report_begin(dwfl);
	int rc = dwfl_linux_proc_report(dwfl, pid);
	dwfl_report_end(dwfl, NULL, NULL);
	err = rc == 0 ? search(dwfl, ret)
		      : tm_error_create(TM_ERR_IO,
					"cannot list the modules of process "
					"%d",
					pid);
	dwfl_end(dwfl);
	return err;
}

struct tm_error *tm_find_descriptor_core(const char *path, const char *sysroot,
					 uint64_t *ret)
{
	struct tm_error *err;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return tm_error_create(TM_ERR_IO, "%s: cannot open", path);
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Dwfl *dwfl = dwfl_begin(&core_callbacks);
	if (!elf || !dwfl) {
		err = tm_error_create(TM_ERR_NO_TABLE, "%s: not an ELF core",
				      path);
	} else {
		core_sysroot = sysroot;
		dwfl_report_begin(dwfl);
		int rc = dwfl_core_file_report(dwfl, elf, NULL);
		dwfl_report_end(dwfl, NULL, NULL);
		err = rc >= 0 ? search(dwfl, ret)
			      : tm_error_create(TM_ERR_NO_TABLE,
						"%s: no modules in the core",
						path);
		core_sysroot = NULL;
	}
	if (dwfl)
		dwfl_end(dwfl);
	elf_end(elf);
	close(fd);
	return err;
}
