// tm-core.c: the command line analyzer: dispatch to one file per verb.
#include "commands.h"
#include "exit.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
	fputs("usage: tm-core COMMAND SOURCE [OPTIONS]\n"
	      "\n"
	      "SOURCE is a core dump, a trace file (TRACEMALLOC_FILE), a\n"
	      "snapshot, or --pid PID for a live process; - is standard\n"
	      "input.  Files compressed with zstd, lz4, xz or gzip, and\n"
	      "what comes through a pipe, are copied into $TMPDIR first.\n"
	      "\n"
	      "commands:\n"
	      "  status SOURCE [--json]\n"
	      "      what the table holds: layout, writer, tracing, totals,\n"
	      "      damage\n"
	      "  analyze SOURCE [--key lineno|filename|traceback]\n"
	      "          [--cumulative] [--top N] [--include PATTERN[:LINE]]\n"
	      "          [--exclude PATTERN[:LINE]] [--all-frames]\n"
	      "          [--domain N] [--json]\n"
	      "      the top statistics, as Python's tracemalloc prints them\n"
	      "  diff OLD NEW [the options of analyze]\n"
	      "      what grew and shrank, as Snapshot.compare_to prints it\n"
	      "  traceback SOURCE ADDR [--json]\n"
	      "      the traced block that contains ADDR, and its traceback\n"
	      "  dump SOURCE --json | -o FILE\n"
	      "      every trace as JSON, or the table into FILE, which every\n"
	      "      command reads as a SOURCE\n"
	      "\n"
	      "--exe FILE, with any command: name the frames of the module\n"
	      "with FILE's build-id from FILE (the program moved).\n"
	      "--sysroot DIR, with any command: look for the files the\n"
	      "table names under DIR first (a container's root, such as\n"
	      "/proc/PID/root, or an unpacked image).\n"
	      "\n"
	      "exit status: 0 done, 1 bad usage, 2 the source cannot be read\n"
	      "or holds no trace table, 3 the table is there but unreadable.\n",
	      out);
}

void json_source(struct json *j, const struct opened *o)
{
	const struct tm_table_info *info = tm_table_info(o->table);
	const struct tm_damage *d = tm_table_damage(o->table);
	size_t traces;

	tm_table_traces(o->table, &traces);
	json_begin_object(j, "source");
	json_string(j, "kind", o->kind);
	json_string(j, "name", o->name);
	json_string(j, "located_by", o->located_by);
	const char *damage;
	const char *compression = tm_session_compression(o->session, &damage);
	json_string(j, "compression", compression);
	json_string(j, "compression_damage", damage);
	json_bool(j, "piped", tm_session_piped(o->session));
	json_end_object(j);
	json_begin_object(j, "table");
	json_uint(j, "layout_major", info->version_major);
	json_uint(j, "layout_minor", info->version_minor);
	json_string(j, "writer", info->writer);
	json_uint(j, "pid", info->pid);
	json_bool(j, "tracing", info->tracing);
	json_uint(j, "traceback_limit", info->traceback_limit);
	json_uint(j, "traces", traces);
	json_uint(j, "tracebacks", tm_table_traceback_count(o->table));
	json_uint(j, "traced_size", info->traced_size);
	json_uint(j, "peak_size", info->peak_size);
	json_uint(j, "untraced", info->untraced);
	json_uint(j, "table_size", info->memory_size);
	json_end_object(j);
	json_begin_object(j, "damage");
	json_uint(j, "shards_in_flight", d->shards_in_flight);
	json_uint(j, "shards_unreadable", d->shards_unreadable);
	json_uint(j, "shards_inconsistent", d->shards_inconsistent);
	json_uint(j, "traces_bad", d->traces_bad);
	json_uint(j, "bytes_unreadable", d->bytes_unreadable);
	json_uint(j, "modules_bad", d->modules_bad);
	json_end_object(j);
}

void json_begin_document(struct json *j, const char *command,
			 const struct opened *o)
{
	json_init(j, stdout);
	json_begin_object(j, NULL);
	json_uint(j, "version", 1);
	json_string(j, "command", command);
	if (o)
		json_source(j, o);
}

void json_end_document(struct json *j)
{
	json_end_object(j);
	json_finish(j);
}

// If argv[*i] is --exe or --sysroot, store its value in source_files
// (moving *i past a separate value) and return where; else NULL.
static const char **file_option(char **argv, int argc, int *i)
{
	static const struct {
		const char *name;
		const char **value;
	} options[] = {
		{ "--exe", &source_files.exe },
		{ "--sysroot", &source_files.sysroot },
	};

	for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
		const char *arg = argv[*i];
		size_t len = strlen(options[k].name);
		if (strncmp(arg, options[k].name, len))
			continue;
		if (!arg[len] && *i + 1 < argc)
			*options[k].value = argv[++*i];
		else if (arg[len] == '=')
			*options[k].value = arg + len + 1;
		else
			continue;
		return options[k].value;
	}
	return NULL;
}

static bool is_folder(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
	// A copy of a compressed or piped source that grows past `ulimit -f`
	// is then one clear error (EFBIG), not the end of tm-core.
	signal(SIGXFSZ, SIG_IGN);
	// --exe FILE and --sysroot DIR apply to every command: take them out
	// here.
	int kept = 0;
	for (int i = 0; i < argc; i++) {
		const char **value = file_option(argv, argc, &i);
		if (!value)
			argv[kept++] = argv[i];
	}
	argc = kept;
	argv[argc] = NULL;
	if (source_files.sysroot && !is_folder(source_files.sysroot)) {
		fprintf(stderr,
			"tm-core: --sysroot %s: not a folder; give the root of "
			"the system the program ran on (/proc/PID/root for a "
			"process in a container)\n",
			source_files.sysroot);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "traceback"))
		return cmd_traceback(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	fprintf(stderr, "tm-core: unknown command '%s'; see tm-core --help\n",
		argv[1]);
	return EXIT_USAGE;
}
