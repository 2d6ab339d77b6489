// cmd_diff.c: tm-core diff: what grew or shrank between two sources
// (tracemalloc's Snapshot.compare_to).
#include "commands.h"
#include "exit.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

int cmd_diff(int argc, char **argv)
{
	struct view_options opt;
	int status = view_options_parse(&opt, "diff", argc, argv);

	if (status)
		return status;
	// OLD NEW, or OLD and --pid PID for NEW.
	if (opt.source_count != (opt.pid > 0 ? 1 : 2)) {
		fprintf(stderr, "tm-core diff: give OLD and NEW: two files, or "
				"a file and --pid PID\n");
		return EXIT_USAGE;
	}
	if (opt.source_count == 2 && !strcmp(opt.sources[0], "-") &&
	    !strcmp(opt.sources[1], "-")) {
		fprintf(stderr, "tm-core diff: standard input (-) can be only "
				"one of OLD and NEW\n");
		return EXIT_USAGE;
	}
	struct opened old, now;
	struct tm_snapshot *old_view = NULL, *now_view = NULL;
	struct tm_statistic_diff *diffs = NULL;
	size_t count = 0;
	memset(&now, 0, sizeof(now));
	status = source_open(opt.sources[0], 0, &old);
	if (!status)
		status = source_open(opt.pid > 0 ? NULL : opt.sources[1],
				     opt.pid, &now);
	if (status)
		goto out;
	source_warn_damage(&old);
	source_warn_damage(&now);
	status = source_failed(tm_snapshot_filter(old.snapshot, opt.filters,
						  opt.filter_count, &old_view));
	if (!status)
		status = source_failed(
			tm_snapshot_filter(now.snapshot, opt.filters,
					   opt.filter_count, &now_view));
	if (!status)
		status = source_failed(
			tm_snapshot_compare(now_view, old_view, opt.key,
					    opt.cumulative, &diffs, &count));
	if (status)
		goto out;
	if (!opt.json) {
		tm_report_statistic_diffs(stdout, diffs, count, opt.key,
					  opt.cumulative, opt.top);
		goto out;
	}
	size_t shown = opt.top && opt.top < count ? opt.top : count;
	struct json j;
	json_begin_document(&j, "diff", NULL);
	json_begin_object(&j, "old");
	json_source(&j, &old);
	json_end_object(&j);
	json_begin_object(&j, "new");
	json_source(&j, &now);
	json_end_object(&j);
	json_grouping(&j, &opt, count);
	json_begin_array(&j, "statistics");
	for (size_t i = 0; i < shown; i++) {
		json_begin_object(&j, NULL);
		json_uint(&j, "size", diffs[i].size);
		json_int(&j, "size_diff", diffs[i].size_diff);
		json_uint(&j, "count", diffs[i].count);
		json_int(&j, "count_diff", diffs[i].count_diff);
		json_key_traceback(&j, diffs[i].traceback);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_document(&j);
out:
	free(diffs);
	tm_snapshot_destroy(old_view);
	tm_snapshot_destroy(now_view);
	source_close(&now);
	source_close(&old);
	return status;
}
