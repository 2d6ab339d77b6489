// module_file.c: a module's file, at its path or by its build-id
// (module_file.h).
#include "module_file.h"

#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Where Debian installs debug files by build-id (libdwfl's default too).
#define DEBUG_FILE_STORE "/usr/lib/debug/.build-id"

ssize_t tm_file_build_id(const char *path, uint8_t **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = -1;

	*ret = NULL;
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *id = NULL;
	if (elf) {
		len = dwelf_elf_gnu_build_id(elf, &id);
		if (len < 0)
			len = 0;
		if (len > 0 && (*ret = malloc((size_t)len)))
			memcpy(*ret, id, (size_t)len);
		else if (len > 0)
			len = -1;
	}
	elf_end(elf);
	close(fd);
	return len;
}

enum build_id_match { NO_FILE, SAME_BUILD_ID, OTHER_BUILD_ID };

// Whether the ELF file at @path has @m's build-id.
static enum build_id_match compare_build_id(const char *path,
					    const struct tm_module *m)
{
	uint8_t *id;
	ssize_t len = tm_file_build_id(path, &id);
	enum build_id_match match =
		len < 0 ? NO_FILE
		: (size_t)len == m->build_id_len &&
				memcmp(id, m->build_id, m->build_id_len) == 0
			? SAME_BUILD_ID
			: OTHER_BUILD_ID;

	free(id);
	return match;
}

// @path under @sysroot (NULL: @path itself), as a new string.
static char *under(const char *sysroot, const char *path)
{
	size_t n = (sysroot ? strlen(sysroot) : 0) + strlen(path) + 1;
	char *joined = malloc(n);

	if (joined)
		snprintf(joined, n, "%s%s", sysroot ? sysroot : "", path);
	return joined;
}

// The file for @m's build-id (with @suffix) in the store under @sysroot,
// if it is there.
static char *from_store(const char *sysroot, const struct tm_module *m,
			const char *suffix)
{
	char *store = under(sysroot, DEBUG_FILE_STORE);
	size_t n = (store ? strlen(store) : 0) + 2 * m->build_id_len + 16;
	char *path = malloc(n);

	if (!store || !path || m->build_id_len < 2) {
		free(store);
		free(path);
		return NULL;
	}
	int k = snprintf(path, n, "%s/%02x/", store, m->build_id[0]);
	for (size_t i = 1; i < m->build_id_len; i++)
		k += snprintf(path + k, n - (size_t)k, "%02x", m->build_id[i]);
	snprintf(path + k, n - (size_t)k, "%s", suffix);
	free(store);
	if (compare_build_id(path, m) == SAME_BUILD_ID)
		return path;
	free(path);
	return NULL;
}

// The debug file, else the module itself, from the debuginfod servers,
// when DEBUGINFOD_URLS names any.
static char *from_debuginfod(const struct tm_module *m)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	char *path = NULL;

	if (!urls || !*urls)
		return NULL;
	debuginfod_client *client = debuginfod_begin();
	if (!client)
		return NULL;
	int fd = debuginfod_find_debuginfo(client, m->build_id,
					   (int)m->build_id_len, &path);
	if (fd < 0)
		fd = debuginfod_find_executable(client, m->build_id,
						(int)m->build_id_len, &path);
	debuginfod_end(client);
	if (fd < 0)
		return NULL;
	close(fd);
	if (path && compare_build_id(path, m) == SAME_BUILD_ID)
		return path;
	free(path);
	return NULL;
}

char *tm_module_recorded_file(const struct tm_module *m, const char *sysroot)
{
	return under(sysroot, m->path);
}

bool tm_file_has_build_id_of(const char *path, const struct tm_module *m)
{
	return m->build_id_len && compare_build_id(path, m) == SAME_BUILD_ID;
}

// Whether the file at @path can name @m's frames: it has @m's build-id,
// or is there and the table recorded none.
static bool usable(enum build_id_match match, const struct tm_module *m)
{
	return match == SAME_BUILD_ID ||
	       (match != NO_FILE && m->build_id_len == 0);
}

char *tm_module_file(const struct tm_module *m, const char *sysroot,
		     bool *changed)
{
	char *path = tm_module_recorded_file(m, sysroot);
	enum build_id_match recorded =
		path ? compare_build_id(path, m) : NO_FILE;

	*changed = false;
	if (usable(recorded, m))
		return path;
	free(path);
	// Outside the sysroot, the file at the recorded path is another
	// system's: only its build-id can say it is the same file (a library
	// the sysroot's system shares with this one; the program --exe
	// names).
	if (sysroot && m->build_id_len &&
	    compare_build_id(m->path, m) == SAME_BUILD_ID)
		return strdup(m->path);
	if (m->build_id_len == 0)
		return NULL;
	if ((sysroot && ((path = from_store(sysroot, m, ".debug")) ||
			 (path = from_store(sysroot, m, "")))) ||
	    (path = from_store(NULL, m, ".debug")) ||
	    (path = from_store(NULL, m, "")) || (path = from_debuginfod(m)))
		return path;
	*changed = recorded == OTHER_BUILD_ID;
	return NULL;
}
