// source.c: opening tm-core's SOURCE argument.
#include "source.h"

#include "exit.h"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

// Find the table in a core or a process: through the descriptor symbol
// when the binaries are at hand, else by scanning memory for the magic.
static struct tm_error *locate(struct opened *o, const char *core, int pid,
			       uint64_t *base)
{
	uint64_t descriptor;
	struct tm_error *err = core ? tm_find_descriptor_core(core, &descriptor)
				    : tm_find_descriptor_pid(pid, &descriptor);

	if (!err)
		err = tm_locate_descriptor(o->src, descriptor, base);
	if (!err) {
		o->located_by = "symbol";
		return NULL;
	}
	// Tracing that never started is an answer, not a reason to scan.
	if (strstr(tm_error_message(err), "never started"))
		return err;
	tm_error_destroy(err);
	o->located_by = "scan";
	return tm_locate_scan(o->src, base, NULL);
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
// resume it).  A process that is already stopped stays as it is.
static bool stop_process(int pid)
{
	if (process_state(pid) == 't' || process_state(pid) == 'T')
		return false;
	if (kill(pid, SIGSTOP) < 0) {
		fprintf(stderr,
			"tm-core: warning: cannot stop process %d (%s); "
			"reading it while it runs\n",
			pid, strerror(errno));
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

static int failed(struct tm_error *err);

const char *source_exe;

// The symbolizer, with --exe standing in for the module of its build-id.
static int make_symbolizer(struct opened *o)
{
	size_t n;
	const struct tm_module *mods = tm_table_modules(o->table, &n);
	struct tm_module *copy = NULL;
	struct tm_error *err;
	// Modules are reported by absolute path; libdwfl copies it.
	char *exe = NULL;

	if (source_exe) {
		exe = realpath(source_exe, NULL);
		const void *id = NULL;
		ssize_t len = -1;
		int fd = open(source_exe, O_RDONLY | O_CLOEXEC);
		elf_version(EV_CURRENT);
		Elf *elf =
			fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
		if (elf)
			len = dwelf_elf_gnu_build_id(elf, &id);
		copy = malloc((n ? n : 1) * sizeof(*copy));
		size_t matched = 0;
		for (size_t i = 0; copy && i < n; i++) {
			copy[i] = mods[i];
			if (len > 0 && mods[i].build_id_len == (size_t)len &&
			    memcmp(mods[i].build_id, id, (size_t)len) == 0) {
				copy[i].path = exe;
				matched++;
			}
		}
		elf_end(elf);
		if (fd >= 0)
			close(fd);
		if (!copy || !matched || !exe) {
			free(copy);
			free(exe);
			fprintf(stderr, "tm-core: --exe %s: %s\n", source_exe,
				fd < 0	   ? "cannot open it"
				: len <= 0 ? "it has no build-id"
					   : "its build-id matches no module "
					     "in the table; it is not the "
					     "program that was traced");
			return EXIT_USAGE;
		}
		mods = copy;
	}
	err = tm_symbolizer_create_modules(mods, n, &o->sym);
	free(copy);
	free(exe);
	return err ? failed(err) : EXIT_DONE;
}

static int failed(struct tm_error *err)
{
	int status = tm_error_exit_status(err);

	fprintf(stderr, "tm-core: %s\n", tm_error_message(err));
	tm_error_destroy(err);
	return status;
}

enum file_kind { FILE_TABLE, FILE_CORE, FILE_OTHER };

// What kind of file this is, by its first bytes; for FILE_OTHER, *why
// says what it is instead.
static enum file_kind file_kind(const char *path, const char **why)
{
	unsigned char head[32] = { 0 };
	static char buf[4400];
	FILE *f = fopen(path, "rb");

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
		snprintf(buf, sizeof(buf),
			 "%s is an ELF program, not a core, a trace file or "
			 "a snapshot",
			 path);
	} else {
		snprintf(buf, sizeof(buf),
			 "%s is not a core, a trace file or a snapshot (no "
			 "trace table at its start)",
			 path);
	}
	*why = buf;
	return FILE_OTHER;
}

int source_open(const char *path, int pid, struct opened *o)
{
	struct tm_error *err;
	uint64_t base = 0;

	memset(o, 0, sizeof(*o));
	if (path) {
		const char *why = NULL;
		enum file_kind kind = file_kind(path, &why);
		snprintf(o->name, sizeof(o->name), "%s", path);
		if (kind == FILE_OTHER) {
			fprintf(stderr, "tm-core: %s\n", why);
			return EXIT_NO_TABLE;
		}
		if (kind == FILE_CORE) {
			o->kind = "core";
			if ((err = tm_source_core_create(path, &o->src)) ||
			    (err = locate(o, path, 0, &base)))
				return failed(err);
		} else {
			o->kind = "trace-file";
			o->located_by = "offset 0";
			if ((err = tm_source_file_create(path, &o->src)))
				return failed(err);
		}
	} else {
		o->kind = "process";
		snprintf(o->name, sizeof(o->name), "%d", pid);
		// Stopped only while the table is found and read, so that no
		// thread changes it half-way through.
		bool stopped = stop_process(pid);
		err = tm_source_pid_create(pid, &o->src);
		if (!err)
			err = locate(o, NULL, pid, &base);
		if (!err)
			err = tm_table_decode(o->src, base, &o->table);
		if (stopped)
			kill(pid, SIGCONT);
		if (err)
			return failed(err);
	}
	o->base = base;
	if (!o->table && (err = tm_table_decode(o->src, base, &o->table)))
		return failed(err);
	int status = make_symbolizer(o);
	if (status)
		return status;
	if ((err = tm_snapshot_from_table(o->table, o->sym, &o->snapshot)))
		return failed(err);
	return EXIT_DONE;
}

void source_close(struct opened *o)
{
	tm_snapshot_destroy(o->snapshot);
	tm_symbolizer_destroy(o->sym);
	tm_table_destroy(o->table);
	tm_source_destroy(o->src);
}

static void warn_mismatches(const struct opened *o)
{
	const char *path;
	size_t n = tm_symbolizer_mismatches(o->sym, &path);

	if (n)
		fprintf(stderr,
			"tm-core: warning: %zu module(s) changed since the "
			"trace was taken (build-id differs), e.g. %s; their "
			"frames are not named\n",
			n, path);
}

void source_warn_damage(const struct opened *o)
{
	warn_mismatches(o);
	const struct tm_damage *d = tm_table_damage(o->table);

	if (!d->shards_in_flight && !d->shards_unreadable &&
	    !d->shards_inconsistent && !d->traces_bad && !d->bytes_unreadable &&
	    !d->modules_bad)
		return;
	fprintf(stderr,
		"tm-core: warning: partial table: %llu shard(s) mid-operation, "
		"%llu unreadable, %llu inconsistent; %llu trace(s) with a bad "
		"traceback; %llu byte(s) missing; %llu bad module record(s)\n",
		(unsigned long long)d->shards_in_flight,
		(unsigned long long)d->shards_unreadable,
		(unsigned long long)d->shards_inconsistent,
		(unsigned long long)d->traces_bad,
		(unsigned long long)d->bytes_unreadable,
		(unsigned long long)d->modules_bad);
}
