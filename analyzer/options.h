// options.h: the options analyze and diff share (--key, --cumulative,
// --top, --include, --exclude, --all-frames, --domain, --json, --pid).
#ifndef TM_CORE_OPTIONS_H
#define TM_CORE_OPTIONS_H

#include "tm/snapshot.h"

#define MAX_FILTERS 64

struct view_options {
	int pid;
	bool json;
	enum tm_key key;
	bool cumulative;
	size_t top; // 0: all
	struct tm_filter filters[MAX_FILTERS];
	size_t filter_count;
	char **sources; // the positional arguments
	int source_count;
};

// Parse @argv for command @verb; 0 or EXIT_USAGE (after one line on
// stderr).
int view_options_parse(struct view_options *o, const char *verb, int argc,
		       char **argv);

struct json;

// The "key", "cumulative" and "groups" members of analyze and diff.
void json_grouping(struct json *j, const struct view_options *o, size_t groups);

// The options of status and traceback: --pid and --json.  Returns 0 (with
// optind at the first positional argument) or EXIT_USAGE.
int source_options(int argc, char **argv, int *pid, bool *json);

#endif // TM_CORE_OPTIONS_H
