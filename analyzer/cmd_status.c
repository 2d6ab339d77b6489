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
	if (json) {
		struct json j;
		json_begin_document(&j, "status", &o);
		json_end_document(&j);
	} else {
		tm_report_status(stdout, o.session);
	}
	source_close(&o);
	return EXIT_DONE;
}
