// session.c: opening a source down to a symbolized snapshot: told apart
// by content, the table located, decoded, and its frames named.
#include "tm/session.h"

#include "decompress.h"
#include "error.h"
#include "module_file.h"
#include "source.h"
#include "symbolizer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// What tm-core opens for the SOURCE "-".
#define STDIN_PATH "/dev/stdin"

struct tm_session {
	char kind[32];
	char name[4096];
	const char *located_by;
	struct tm_source *src;
	uint64_t base;
	struct tm_table *table;
	struct tm_symbolizer *sym;
	struct tm_snapshot *snapshot;
	// A compressed or piped file's copy, which the readers open.
	struct tm_decompressed decompressed;
};

// Find the table in a core or a process: through the descriptor symbol
// when the binaries are at hand (a core's under @sysroot first, if not
// NULL), else by scanning memory for the magic.
static struct tm_error *locate(struct tm_session *s, const char *core,
			       const char *sysroot, int pid)
{
	uint64_t descriptor;
	struct tm_error *err =
		core ? tm_find_descriptor_core(core, sysroot, &descriptor)
		     : tm_find_descriptor_pid(pid, &descriptor);

	if (!err)
		err = tm_locate_descriptor(s->src, descriptor, &s->base);
	if (!err) {
		s->located_by = "symbol";
		return NULL;
	}
	// Tracing that never started is an answer, not a reason to scan.
	if (strstr(tm_error_message(err), "never started"))
		return err;
	tm_error_destroy(err);
	s->located_by = "scan";
	return tm_locate_scan(s->src, &s->base, NULL);
}

// The state letter of process @pid (R, S, T, ...), or 0.
static char process_state(int pid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	// The name is in parentheses and may hold anything: skip past it.
	const char *end = strrchr(buf, ')');
	return end && end[1] == ' ' ? end[2] : 0;
}

// Stop @pid for a consistent read; true if we stopped it (and must
// resume it), else the reason in *@err (0 if it was stopped already: it
// stays as it is).
static bool stop_process(int pid, int *err)
{
	*err = 0;
	if (process_state(pid) == 't' || process_state(pid) == 'T')
		return false;
	if (kill(pid, SIGSTOP) < 0) {
		*err = errno;
		return false;
	}
	// Wait (at most 2 s) until every thread has stopped.
	for (int i = 0; i < 2000; i++) {
		char state = process_state(pid);
		if (state == 'T' || state == 0)
			break;
		usleep(1000);
	}
	return true;
}

// The modules of @table, with @exe standing in for the one with its
// build-id.  *@ret is a copy to free, or NULL when @exe is NULL.
static struct tm_error *modules_with_exe(const struct tm_table *table,
					 const char *exe,
					 struct tm_module **ret,
					 char **ret_path)
{
	size_t n;
	const struct tm_module *mods = tm_table_modules(table, &n);

	*ret = NULL;
	*ret_path = NULL;
	if (!exe)
		return NULL;
	uint8_t *id;
	ssize_t len = tm_file_build_id(exe, &id);
	if (len < 0)
		return tm_error_errno(TM_ERR_USAGE, errno, NULL,
				      "--exe %s: cannot open it", exe);
	// Modules are reported by absolute path; libdwfl copies it.
	char *path = realpath(exe, NULL);
	struct tm_module *copy = malloc((n ? n : 1) * sizeof(*copy));
	size_t matched = 0;
	for (size_t i = 0; copy && path && i < n; i++) {
		copy[i] = mods[i];
		if (len > 0 && mods[i].build_id_len == (size_t)len &&
		    memcmp(mods[i].build_id, id, (size_t)len) == 0) {
			copy[i].path = path;
			matched++;
		}
	}
	free(id);
	if (!copy || !path) {
		free(copy);
		free(path);
		return &tm_enomem;
	}
	if (!matched) {
		free(copy);
		free(path);
		return tm_error_create(TM_ERR_USAGE, "--exe %s: %s", exe,
				       len <= 0 ? "it has no build-id"
						: "its build-id matches no "
						  "module in the table; it is "
						  "not the program that was "
						  "traced");
	}
	*ret = copy;
	*ret_path = path;
	return NULL;
}

// Decode what is located, then name frames (from the files @search
// finds) and build the snapshot.
static struct tm_error *finish(struct tm_session *s,
			       const struct tm_file_search *search)
{
	const char *exe = search ? search->exe : NULL;
	const char *sysroot = search ? search->sysroot : NULL;
	struct tm_error *err;

	// Only the table's own reads count for tm_source_substitute(): a
	// scan may have read mapped libraries on the way.
	if (!s->table)
		s->src->substitute = NULL;
	if (!s->table && (err = tm_table_decode(s->src, s->base, &s->table)))
		return err;
	size_t n;
	const struct tm_module *mods = tm_table_modules(s->table, &n);
	if (!s->sym) {
		struct tm_module *copy;
		char *path;
		if ((err = modules_with_exe(s->table, exe, &copy, &path)))
			return err;
		err = tm_symbolizer_create_modules(copy ? copy : mods, n,
						   sysroot, &s->sym);
		free(copy);
		free(path);
		if (err)
			return err;
	}
	if ((err = tm_symbolizer_use_modules(s->sym, mods, n)))
		return err;
	return tm_snapshot_from_table(s->table, s->sym, &s->snapshot);
}

static struct tm_error *session_new(const char *kind, const char *name,
				    struct tm_session **ret)
{
	struct tm_session *s = calloc(1, sizeof(*s));

	*ret = s;
	if (!s)
		return &tm_enomem;
	s->decompressed.fd = -1;
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	snprintf(s->name, sizeof(s->name), "%s", name);
	return NULL;
}

// Hand over @s if @err is NULL, else destroy it.
static struct tm_error *done(struct tm_session *s, struct tm_error *err,
			     struct tm_session **ret)
{
	if (err)
		tm_session_destroy(s);
	else
		*ret = s;
	return err;
}

enum file_kind { FILE_TABLE, FILE_CORE, FILE_OTHER };

// What kind of file @path is, by its first bytes.
static enum file_kind file_kind(const char *path, bool *ret_elf)
{
	unsigned char head[32] = { 0 };
	FILE *f = fopen(path, "rb");

	*ret_elf = false;
	if (!f)
		return FILE_TABLE; // opening it will say why not
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n >= 8 && memcmp(head, "\x89TMT\r\n\x1a\n", 8) == 0)
		return FILE_TABLE;
	if (n >= 18 && memcmp(head, ELFMAG, SELFMAG) == 0) {
		uint16_t type = (uint16_t)(head[EI_DATA] == ELFDATA2MSB
						   ? head[16] << 8 | head[17]
						   : head[17] << 8 | head[16]);
		if (type == ET_CORE)
			return FILE_CORE;
		*ret_elf = true;
	}
	return FILE_OTHER;
}

// @err with @at, the name the readers opened, given as @path in its
// message.
static struct tm_error *named(struct tm_error *err, const char *at,
			      const char *path)
{
	const char *message = err ? tm_error_message(err) : NULL;
	const char *hit = message && at != path ? strstr(message, at) : NULL;

	if (!hit)
		return err;
	struct tm_error *renamed = tm_error_create(
		tm_error_code(err), "%.*s%s%s", (int)(hit - message), message,
		path, hit + strlen(at));
	tm_error_destroy(err);
	return renamed;
}

// @err, led by @damage (the note on compressed data that ended early, or
// NULL): what was lost may be why nothing could be read.
static struct tm_error *after_damage(struct tm_error *err, const char *damage)
{
	if (!err || !damage)
		return err;
	struct tm_error *led =
		tm_error_create(tm_error_code(err), "%s; in those: %s", damage,
				tm_error_message(err));
	tm_error_destroy(err);
	return led;
}

static struct tm_error *open_file(struct tm_session **ret, const char *path,
				  const char *at,
				  const struct tm_file_search *search,
				  struct tm_decompressed *decompressed)
{
	struct tm_session *s;
	struct tm_error *err;
	bool elf;

	switch (file_kind(at, &elf)) {
	case FILE_OTHER:
		return after_damage(
			tm_error_create(
				TM_ERR_NO_TABLE,
				elf ? "%s%s is an ELF program, not a "
				      "core, a trace file or a snapshot"
				    : "%s%s is not a core, a trace file "
				      "or a snapshot (no trace table "
				      "at its start)",
				path,
				decompressed->format ? ", decompressed," : ""),
			decompressed->damage);
	case FILE_CORE:
		if ((err = session_new("core", path, &s)))
			return err;
		err = tm_source_core_create(at, &s->src);
		if (!err)
			err = locate(s, at, search ? search->sysroot : NULL, 0);
		break;
	case FILE_TABLE:
	default:
		if ((err = session_new("trace-file", path, &s)))
			return err;
		s->located_by = "offset 0";
		err = tm_source_file_create(at, &s->src);
		break;
	}
	// The session keeps the decompressed copy, for its messages.
	s->decompressed = *decompressed;
	decompressed->fd = -1;
	decompressed->damage = NULL;
	if (!err)
		err = finish(s, search);
	return done(s, after_damage(err, s->decompressed.damage), ret);
}

// Why @path, which names no regular file, cannot be read, or NULL if it
// can: a pipe is copied to a file first, but a folder, a terminal or a
// device (`/dev/zero` never ends) cannot be.
static struct tm_error *unreadable_kind(const char *path, const char *shown)
{
	struct stat st;

	// A script's `tm-core status - <&-`: /dev/stdin then names nothing.
	if (!strcmp(path, STDIN_PATH) && fcntl(0, F_GETFD) < 0 &&
	    errno == EBADF)
		return tm_error_create(TM_ERR_IO,
				       "standard input is closed: pipe a core, "
				       "a trace file or a snapshot into "
				       "tm-core, or give its path");
	if (stat(path, &st) != 0 || S_ISREG(st.st_mode) ||
	    S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return NULL; // opening it will say why not, if it cannot be
	if (S_ISCHR(st.st_mode) && !strcmp(path, STDIN_PATH) && isatty(0))
		return tm_error_create(TM_ERR_IO,
				       "standard input is a terminal: pipe a "
				       "core, a trace file or a snapshot into "
				       "tm-core, or give its path");
	return tm_error_create(TM_ERR_IO,
			       "%s is %s, not a file: give tm-core a core, a "
			       "trace file or a snapshot, or pipe one into it",
			       shown,
			       S_ISDIR(st.st_mode) ? "a folder" : "a device");
}

struct tm_error *tm_session_open_path(const char *path,
				      const struct tm_file_search *search,
				      struct tm_session **ret)
{
	struct tm_decompressed decompressed;
	char copy[64];
	// "-" is standard input, as for most tools.
	bool from_stdin = !strcmp(path, "-");
	const char *shown = from_stdin ? "standard input" : path;
	const char *at = from_stdin ? STDIN_PATH : path;
	struct tm_error *err = unreadable_kind(at, shown);

	if (!err)
		err = tm_decompress(at, shown, &decompressed);
	if (err)
		return err;
	// The readers open files by name: the copy by its descriptor's.
	if (decompressed.fd >= 0) {
		snprintf(copy, sizeof(copy), "/proc/self/fd/%d",
			 decompressed.fd);
		at = copy;
	}
	err = open_file(ret, shown, at, search, &decompressed);
	tm_decompressed_release(&decompressed);
	return named(err, at, shown);
}

// Whether process @pid sees another root folder than this one (it runs in
// a container, or chrooted): the paths it loaded its modules from are then
// under /proc/PID/root here.
static bool has_own_root(int pid, char *root, size_t size)
{
	struct stat theirs, ours;

	snprintf(root, size, "/proc/%d/root", pid);
	return stat(root, &theirs) == 0 && stat("/", &ours) == 0 &&
	       (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino);
}

struct tm_error *tm_session_open_pid(int pid,
				     const struct tm_file_search *search,
				     struct tm_session **ret)
{
	char name[32], root[64];
	struct tm_session *s;
	struct tm_error *err;
	struct tm_file_search in_root = { 0 };

	if ((!search || !search->sysroot) &&
	    has_own_root(pid, root, sizeof(root))) {
		if (search)
			in_root = *search;
		in_root.sysroot = root;
		search = &in_root;
	}
	snprintf(name, sizeof(name), "%d", pid);
	if ((err = session_new("process", name, &s)))
		return err;
	// Stopped only while the table is found and read, so that no thread
	// changes it half-way through.
	int stop_err;
	bool stopped = stop_process(pid, &stop_err);
	err = tm_source_pid_create(pid, &s->src);
	// Said only of a process that can be read: one that cannot gets
	// the error, not a warning before it.
	if (!err && stop_err)
		fprintf(stderr,
			"tm: warning: cannot stop process %d (%s); reading "
			"it while it runs\n",
			pid, strerror(stop_err));
	if (!err)
		err = locate(s, NULL, NULL, pid);
	if (!err)
		err = tm_table_decode(s->src, s->base, &s->table);
	if (stopped)
		kill(pid, SIGCONT);
	if (!err)
		err = finish(s, search);
	return done(s, err, ret);
}

struct tm_error *tm_session_open_source(struct tm_source *src,
					uint64_t descriptor,
					struct tm_symbolizer *sym,
					const char *kind, const char *name,
					struct tm_session **ret)
{
	struct tm_session *s;
	struct tm_error *err = session_new(kind, name, &s);

	if (err) {
		tm_source_destroy(src);
		tm_symbolizer_destroy(sym);
		return err;
	}
	s->src = src;
	s->sym = sym;
	if (descriptor) {
		s->located_by = "symbol";
		err = tm_locate_descriptor(src, descriptor, &s->base);
	} else {
		s->located_by = "scan";
		err = tm_locate_scan(src, &s->base, NULL);
	}
	if (!err)
		err = finish(s, NULL);
	return done(s, err, ret);
}

void tm_session_destroy(struct tm_session *s)
{
	if (!s)
		return;
	tm_snapshot_destroy(s->snapshot);
	tm_symbolizer_destroy(s->sym);
	tm_table_destroy(s->table);
	tm_source_destroy(s->src);
	tm_decompressed_release(&s->decompressed);
	free(s);
}

const char *tm_session_kind(const struct tm_session *s)
{
	return s->kind;
}

const char *tm_session_name(const struct tm_session *s)
{
	return s->name;
}

const char *tm_session_compression(const struct tm_session *s,
				   const char **damage)
{
	if (damage)
		*damage = s->decompressed.damage;
	return s->decompressed.format;
}

bool tm_session_piped(const struct tm_session *s)
{
	return s->decompressed.piped;
}

const char *tm_session_located_by(const struct tm_session *s)
{
	return s->located_by;
}

struct tm_source *tm_session_source(const struct tm_session *s)
{
	return s->src;
}

uint64_t tm_session_base(const struct tm_session *s)
{
	return s->base;
}

bool tm_session_tracing(const struct tm_session *s)
{
	return tm_table_info(s->table)->tracing;
}

const struct tm_table *tm_session_table(const struct tm_session *s)
{
	return s->table;
}

struct tm_symbolizer *tm_session_symbolizer(const struct tm_session *s)
{
	return s->sym;
}

const struct tm_snapshot *tm_session_snapshot(const struct tm_session *s)
{
	return s->snapshot;
}

// Written aside and renamed, so a failed save never leaves half a file
// under the name (docs/layout.md: a trace file is the table's bytes).
struct tm_error *tm_session_save(const struct tm_session *s, const char *path)
{
	void *bytes;
	size_t size;
	struct tm_error *err = tm_table_extract(s->src, s->base, &bytes, &size);
	char tmp[4200];

	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	// A name of our own, never followed through a link someone left there
	// (it would truncate the file the link names); such a link or a file
	// a process with this pid left behind is removed first.
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, 0644);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, 0644);
	size_t written = 0;
	while (fd >= 0 && written < size) {
		ssize_t n = write(fd, (char *)bytes + written, size - written);
		if (n <= 0)
			break;
		written += (size_t)n;
	}
	int saved = errno;
	bool ok = fd >= 0 && written == size && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	free(bytes);
	if (!ok || rename(tmp, path) != 0) {
		err = tm_error_errno(TM_ERR_IO, ok ? errno : saved, NULL,
				     "cannot write %s", path);
		unlink(tmp);
		return err;
	}
	return NULL;
}
