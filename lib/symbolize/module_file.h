// module_file.h: which file names the frames of a module a table records.
#ifndef TM_SYMBOLIZE_MODULE_FILE_H
#define TM_SYMBOLIZE_MODULE_FILE_H

#include "tm/reader.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

// The GNU build-id of the ELF file at @path: its length, with *@ret a
// copy to free; 0 if it has none; -1 if it cannot be opened or is not
// ELF (*@ret NULL then).
ssize_t tm_file_build_id(const char *path, uint8_t **ret);

// The file at @m's recorded path (under @sysroot, if not NULL: the root
// of the system the traced program ran on, as GDB's `set sysroot`), when
// it still has the build-id the table recorded for @m (or the table
// recorded none); else the file at the recorded path outside the sysroot,
// if it has that build-id; else a file found by that build-id: in the
// store of debug files (/usr/lib/debug/.build-id/xx/yyyy.debug, where
// Debian's -dbgsym packages and libc6-dbg put them; the sysroot's first),
// or from the debuginfod servers DEBUGINFOD_URLS names.  A debug file
// stands in for the module itself: it holds the same symbols and lines at
// the same addresses.  Returns a new path, or NULL when no file has the
// build-id; *@changed then says whether a file is at the recorded path
// with another build-id (the module was rebuilt or replaced).
char *tm_module_file(const struct tm_module *m, const char *sysroot,
		     bool *changed);

// The recorded path of @m, under @sysroot if not NULL (a new string).
char *tm_module_recorded_file(const struct tm_module *m, const char *sysroot);

// Whether the ELF file at @path has @m's build-id (which @m must have).
bool tm_file_has_build_id_of(const char *path, const struct tm_module *m);

#endif // TM_SYMBOLIZE_MODULE_FILE_H
