// source.c: opening tm-core's SOURCE argument.
#include "source.h"

#include "exit.h"

#include <elf.h>
#include <errno.h>
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
		if ((err = tm_source_pid_create(pid, &o->src)) ||
		    (err = locate(o, NULL, pid, &base)))
			return failed(err);
	}
	size_t nmod;
	o->base = base;
	if ((err = tm_table_decode(o->src, base, &o->table)))
		return failed(err);
	const struct tm_module *mods = tm_table_modules(o->table, &nmod);
	if ((err = tm_symbolizer_create_modules(mods, nmod, &o->sym)) ||
	    (err = tm_snapshot_from_table(o->table, o->sym, &o->snapshot)))
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
