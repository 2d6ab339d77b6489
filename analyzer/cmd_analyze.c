// cmd_analyze.c: tm-core analyze: the top statistics of a snapshot.
#include "commands.h"
#include "exit.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

void json_key_traceback(struct json *j, const struct tm_frames *tb)
{
	json_begin_array(j, "traceback");
	for (uint32_t i = 0; i < tb->nframe; i++) {
		json_begin_object(j, NULL);
		json_string(j, "filename", tb->frames[i].filename);
		json_uint(j, "lineno", tb->frames[i].lineno);
		json_end_object(j);
	}
	json_end_array(j);
}

int cmd_analyze(int argc, char **argv)
{
	struct view_options opt;
	int status = view_options_parse(&opt, "analyze", argc, argv);

	if (status)
		return status;
	const char *path = opt.source_count ? opt.sources[0] : NULL;
	if ((path != NULL) == (opt.pid > 0) || opt.source_count > 1) {
		fprintf(stderr, "tm-core analyze: give one SOURCE: a file or "
				"--pid PID\n");
		return EXIT_USAGE;
	}

	struct opened o;
	struct tm_snapshot *filtered = NULL;
	struct tm_statistic *stats = NULL;
	size_t count = 0;
	status = source_open(path, opt.pid, &o);
	if (status)
		goto out;
	source_warn_damage(&o);
	status = source_failed(tm_snapshot_filter(o.snapshot, opt.filters,
						  opt.filter_count, &filtered));
	if (!status)
		status = source_failed(tm_snapshot_statistics(
			filtered, opt.key, opt.cumulative, &stats, &count));
	if (status)
		goto out;
	if (!opt.json) {
		tm_report_statistics(stdout, stats, count, opt.key,
				     opt.cumulative, opt.top);
		goto out;
	}
	size_t shown = opt.top && opt.top < count ? opt.top : count;
	struct json j;
	json_begin_document(&j, "analyze", &o);
	json_grouping(&j, &opt, count);
	json_begin_array(&j, "statistics");
	for (size_t i = 0; i < shown; i++) {
		json_begin_object(&j, NULL);
		json_uint(&j, "size", stats[i].size);
		json_uint(&j, "count", stats[i].count);
		json_key_traceback(&j, stats[i].traceback);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_document(&j);
out:
	free(stats);
	tm_snapshot_destroy(filtered);
	source_close(&o);
	return status;
}
