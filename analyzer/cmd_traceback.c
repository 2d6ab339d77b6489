// cmd_traceback.c: tm-core traceback: which traced block contains an
// address, and where it was allocated.
#include "commands.h"
#include "exit.h"
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int cmd_traceback(int argc, char **argv)
{
	int pid;
	bool json;
	char *end;

	if (source_options(argc, argv, &pid, &json))
		return EXIT_USAGE;
	int positional = argc - optind;
	if (positional != (pid > 0 ? 1 : 2)) {
		fprintf(stderr, "tm-core traceback: give SOURCE ADDR (or "
				"--pid PID ADDR)\n");
		return EXIT_USAGE;
	}
	const char *text = argv[argc - 1];
	errno = 0;
	uint64_t address = strtoull(text, &end, 0);
	if (!*text || *end || errno) {
		fprintf(stderr,
			"tm-core traceback: '%s' is not an address "
			"(write 0x55d0c0a012a0 or a decimal)\n",
			text);
		return EXIT_USAGE;
	}
	struct opened o;
	int status = source_open(pid > 0 ? NULL : argv[optind], pid, &o);
	if (status) {
		source_close(&o);
		return status;
	}
	source_warn_damage(&o);
	const struct tm_trace *t = tm_table_find_block(o.table, address);
	if (json) {
		struct json j;
		json_begin_document(&j, "traceback", &o);
		json_uint(&j, "address", address);
		if (t) {
			json_begin_object(&j, "block");
			json_uint(&j, "address", t->address);
			json_uint(&j, "size", t->size);
			json_uint(&j, "offset", address - t->address);
			json_uint(&j, "domain", t->domain);
			json_uint(&j, "total_nframe",
				  t->traceback->total_nframe);
			json_begin_array(&j, "traceback");
			for (uint32_t k = 0; k < t->traceback->nframe; k++) {
				const struct tm_frame_info *f;
				size_t n;
				tm_symbolizer_expand(
					o.sym, t->traceback->frames[k], &f, &n);
				for (size_t e = 0; e < n; e++) {
					json_begin_object(&j, NULL);
					json_string(&j, "filename",
						    f[e].filename);
					json_uint(&j, "lineno", f[e].lineno);
					json_string(&j, "function",
						    f[e].function);
					json_string(&j, "module", f[e].module);
					json_uint(&j, "pc", f[e].pc);
					json_end_object(&j);
				}
			}
			json_end_array(&j);
			json_end_object(&j);
		} else {
			fputs(",\"block\":null", stdout);
		}
		json_end_document(&j);
	} else {
		tm_report_traceback(stdout, o.session, address);
	}
	source_close(&o);
	return EXIT_DONE;
}
