// cmd_dump.c: tm-core dump: every trace as JSON, or the table itself into a
// file that every command reads back as a SOURCE.
#include "commands.h"
#include "exit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The table as a trace file that every command reads back as a SOURCE.
static int write_table(struct opened *o, const char *path)
{
	return source_failed(tm_session_save(o->session, path));
}

static void json_traces(struct json *j, struct opened *o)
{
	size_t n;
	const struct tm_trace *traces = tm_table_traces(o->table, &n);

	json_begin_array(j, "traces");
	for (size_t i = 0; i < n; i++) {
		const struct tm_traceback *tb = traces[i].traceback;
		json_begin_object(j, NULL);
		json_uint(j, "domain", traces[i].domain);
		json_uint(j, "address", traces[i].address);
		json_uint(j, "size", traces[i].size);
		json_uint(j, "total_nframe", tb->total_nframe);
		json_begin_array(j, "traceback");
		for (uint32_t k = 0; k < tb->nframe; k++) {
			const struct tm_frame_info *f;
			size_t count;
			tm_symbolizer_expand(o->sym, tb->frames[k], &f, &count);
			for (size_t e = 0; e < count; e++) {
				json_begin_object(j, NULL);
				json_string(j, "filename", f[e].filename);
				json_uint(j, "lineno", f[e].lineno);
				json_string(j, "function", f[e].function);
				json_string(j, "module", f[e].module);
				json_uint(j, "pc", f[e].pc);
				json_end_object(j);
			}
		}
		json_end_array(j);
		json_end_object(j);
	}
	json_end_array(j);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	const char *output = NULL;
	int pid = 0, json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		if (c == 'p')
			pid = atoi(optarg);
		else if (c == 'j')
			json = 1;
		else if (c == 'o')
			output = optarg;
		else
			return EXIT_USAGE;
	}
	const char *path = optind < argc ? argv[optind] : NULL;
	if ((path != NULL) == (pid > 0) || optind + (path ? 1 : 0) != argc ||
	    !json == !output) {
		fprintf(stderr, "tm-core dump: give one SOURCE (a file or "
				"--pid PID) and either --json or -o FILE\n");
		return EXIT_USAGE;
	}
	struct opened o;
	int status = source_open(path, pid, &o);
	if (!status) {
		source_warn_damage(&o);
		if (output) {
			status = write_table(&o, output);
		} else {
			struct json j;
			json_begin_document(&j, "dump", &o);
			json_traces(&j, &o);
			json_end_document(&j);
		}
	}
	source_close(&o);
	return status;
}
