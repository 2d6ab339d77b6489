// cmd_status.c: tm-core status: what a table holds.
#include "commands.h"
#include "exit.h"
#include "options.h"

#include <getopt.h>
#include <stdlib.h>

int cmd_status(int argc, char **argv)
{
	int pid;
	bool json;

	if (source_options(argc, argv, &pid, &json))
		return EXIT_USAGE;
	const char *path = optind < argc ? argv[optind] : NULL;
	if ((path != NULL) == (pid > 0) || optind + (path ? 1 : 0) != argc) {
		fprintf(stderr, "tm-core status: give one SOURCE: a file or "
				"--pid PID\n");
		return EXIT_USAGE;
	}
	struct opened o;
	int status = source_open(path, pid, &o);
	if (status) {
		source_close(&o);
		return status;
	}
	source_warn_damage(&o);
	const struct tm_table_info *info = tm_table_info(o.table);
	if (json) {
		struct json j;
		json_begin_document(&j, "status", &o);
		json_end_document(&j);
	} else {
		char size[32], peak[32], table[32];
		size_t traces;
		tm_table_traces(o.table, &traces);
		printf("source: %s %s\n", o.kind, o.name);
		printf("table: layout %u.%u, written by %s for pid %u, %s, "
		       "traceback limit %u\n",
		       info->version_major, info->version_minor, info->writer,
		       info->pid, info->tracing ? "tracing" : "not tracing",
		       info->traceback_limit);
		printf("traced: %zu blocks, %s (peak %s), %zu tracebacks; "
		       "table %s\n",
		       traces,
		       tm_format_size(size, sizeof(size),
				      (double)info->traced_size, false),
		       tm_format_size(peak, sizeof(peak),
				      (double)info->peak_size, false),
		       tm_table_traceback_count(o.table),
		       tm_format_size(table, sizeof(table),
				      (double)info->memory_size, false));
		if (info->untraced)
			printf("untraced: %llu allocations (the table was "
			       "full)\n",
			       (unsigned long long)info->untraced);
	}
	source_close(&o);
	return EXIT_DONE;
}
