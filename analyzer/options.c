// options.c: parsing the options analyze and diff share.
#include "options.h"
#include "tm/session.h"

#include "exit.h"
#include "json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int view_options_parse(struct view_options *o, const char *verb, int argc,
		       char **argv)
{
	struct tm_error *err;
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
	bool all_frames = false;
	long domain = -1, top;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->key = TM_KEY_LINENO;
	o->top = 10;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pid = atoi(optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'c':
			o->cumulative = true;
			break;
		case 'a':
			all_frames = true;
			break;
		case 'k':
			if ((err = tm_key_parse(optarg, &o->key))) {
				tm_error_destroy(err);
				fprintf(stderr,
					"tm-core %s: --key is lineno, filename "
					"or traceback, not '%s'\n",
					verb, optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			top = strtol(optarg, &end, 10);
			if (*end || top < 0) {
				fprintf(stderr,
					"tm-core %s: --top takes a count (0 "
					"for all)\n",
					verb);
				return EXIT_USAGE;
			}
			o->top = (size_t)top;
			break;
		case 'd':
			domain = strtol(optarg, &end, 10);
			if (*end || domain < 0 || domain > UINT32_MAX) {
				fprintf(stderr,
					"tm-core %s: --domain takes a domain "
					"number\n",
					verb);
				return EXIT_USAGE;
			}
			break;
		case 'i':
		case 'x':
			if (o->filter_count == MAX_FILTERS - 1) {
				fprintf(stderr,
					"tm-core %s: at most %d filters\n",
					verb, MAX_FILTERS - 1);
				return EXIT_USAGE;
			}
			parse_filter(&o->filters[o->filter_count++], optarg,
				     c == 'i');
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (o->cumulative && o->key == TM_KEY_TRACEBACK) {
		fprintf(stderr,
			"tm-core %s: --cumulative is for --key lineno or "
			"filename\n",
			verb);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < o->filter_count; i++)
		o->filters[i].all_frames = all_frames;
	if (domain >= 0)
		o->filters[o->filter_count++] =
			(struct tm_filter){ true, NULL, -1, false, domain };
	o->sources = argv + optind;
	o->source_count = argc - optind;
	return 0;
}

void json_grouping(struct json *j, const struct view_options *o, size_t groups)
{
	json_string(j, "key", tm_key_name(o->key));
	json_bool(j, "cumulative", o->cumulative);
	json_uint(j, "groups", groups);
}

int source_options(int argc, char **argv, int *pid, bool *json)
{
	static const struct option options[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int c;

	*pid = 0;
	*json = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'p')
			*pid = atoi(optarg);
		else if (c == 'j')
			*json = true;
		else
			return EXIT_USAGE;
	}
	return 0;
}
