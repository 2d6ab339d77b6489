// cmd_analyze.c: tm-core analyze: the top statistics of a snapshot.
#include "commands.h"
#include "exit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTERS 64

// PATTERN[:LINE] into a filter; the line is what follows the last colon if
// it is a number.
static void parse_filter(struct tm_filter *f, char *arg, bool inclusive)
{
	char *colon = strrchr(arg, ':');

	f->inclusive = inclusive;
	f->lineno = -1;
	f->domain = -1;
	f->all_frames = false;
	if (colon && colon[1] &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		*colon = '\0';
		f->lineno = atoi(colon + 1);
	}
	f->filename_pattern = arg;
}

static void json_traceback(struct json *j, const struct tm_frames *tb)
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
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ "cumulative", no_argument, NULL, 'c' },
		{ "top", required_argument, NULL, 't' },
		{ "include", required_argument, NULL, 'i' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "all-frames", no_argument, NULL, 'a' },
		{ "domain", required_argument, NULL, 'd' },
		{ 0 },
	};
	static const char *const keys[] = { "filename", "lineno", "traceback" };
	struct tm_filter filters[MAX_FILTERS];
	size_t nfilters = 0;
	int pid = 0, json = 0, cumulative = 0, all_frames = 0, c;
	long top = 10, domain = -1;
	enum tm_key key = TM_KEY_LINENO;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = atoi(optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			cumulative = 1;
			break;
		case 'a':
			all_frames = 1;
			break;
		case 'k':
			for (key = 0; key < 3 && strcmp(optarg, keys[key]);
			     key++)
				;
			if (key == 3) {
				fprintf(stderr,
					"tm-core analyze: --key is "
					"lineno, filename or "
					"traceback, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			top = strtol(optarg, &end, 10);
			if (*end || top < 0) {
				fprintf(stderr, "tm-core analyze: --top takes "
						"a count (0 for all)\n");
				return EXIT_USAGE;
			}
			break;
		case 'd':
			domain = strtol(optarg, &end, 10);
			if (*end || domain < 0 || domain > UINT32_MAX) {
				fprintf(stderr, "tm-core analyze: --domain "
						"takes a domain number\n");
				return EXIT_USAGE;
			}
			break;
		case 'i':
		case 'x':
			if (nfilters == MAX_FILTERS - 1) {
				fprintf(stderr,
					"tm-core analyze: at most %d "
					"filters\n",
					MAX_FILTERS - 1);
				return EXIT_USAGE;
			}
			parse_filter(&filters[nfilters++], optarg, c == 'i');
			break;
		default:
			return EXIT_USAGE;
		}
	}
	const char *path = optind < argc ? argv[optind] : NULL;
	if ((path != NULL) == (pid > 0) || optind + (path ? 1 : 0) != argc) {
		fprintf(stderr, "tm-core analyze: give one SOURCE: a file or "
				"--pid PID\n");
		return EXIT_USAGE;
	}
	if (cumulative && key == TM_KEY_TRACEBACK) {
		fprintf(stderr, "tm-core analyze: --cumulative is for --key "
				"lineno or filename\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < nfilters; i++)
		filters[i].all_frames = all_frames;
	if (domain >= 0)
		filters[nfilters++] =
			(struct tm_filter){ true, NULL, -1, false, domain };

	struct opened o;
	struct tm_snapshot *filtered = NULL;
	struct tm_statistic *stats = NULL;
	struct tm_error *err;
	size_t count = 0;
	int status = source_open(path, pid, &o);
	if (status)
		goto out;
	source_warn_damage(&o);
	if ((err = tm_snapshot_filter(o.snapshot, filters, nfilters,
				      &filtered)) ||
	    (err = tm_snapshot_statistics(filtered, key, cumulative, &stats,
					  &count))) {
		fprintf(stderr, "tm-core: %s\n", tm_error_message(err));
		status = tm_error_exit_status(err);
		tm_error_destroy(err);
		goto out;
	}
	size_t shown = top && (size_t)top < count ? (size_t)top : count;
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_uint(&j, "version", 1);
		json_string(&j, "command", "analyze");
		json_source(&j, &o);
		json_string(&j, "key", keys[key]);
		json_bool(&j, "cumulative", cumulative);
		json_uint(&j, "groups", count);
		json_begin_array(&j, "statistics");
		for (size_t i = 0; i < shown; i++) {
			json_begin_object(&j, NULL);
			json_uint(&j, "size", stats[i].size);
			json_uint(&j, "count", stats[i].count);
			json_traceback(&j, stats[i].traceback);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else {
		char line[8192];
		printf("[ Top %zu by %s%s ]\n", shown, keys[key],
		       cumulative ? ", cumulative" : "");
		for (size_t i = 0; i < shown; i++) {
			tm_format_statistic(line, sizeof(line), &stats[i]);
			printf("%s\n", line);
		}
	}
out:
	free(stats);
	tm_snapshot_destroy(filtered);
	source_close(&o);
	return status;
}
