// tm-stats.c: print statistics and differences of two snapshots given as
// text, for the cross-check with Python's tracemalloc
// (tests/snapshot/crosscheck.py).  Input, one trace a line:
//   DOMAIN<TAB>SIZE<TAB>TOTAL_NFRAME<TAB>FILE:LINE;FILE:LINE...
// frames most recent first.  Output: sections "== statistics KEY CUMUL"
// and "== compare KEY CUMUL", one formatted statistic a line.
// With filters after the files, NEW is first filtered by them:
//   F<TAB>INCLUSIVE<TAB>PATTERN<TAB>LINENO<TAB>ALL_FRAMES<TAB>DOMAIN
//   D<TAB>INCLUSIVE<TAB>DOMAIN      (LINENO, DOMAIN: -1 for None)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm/snapshot.h"

static int fail(struct tm_error *err)
{
	fprintf(stderr, "tm-stats: %s\n", tm_error_message(err));
	tm_error_destroy(err);
	return 2;
}

static struct tm_error *load(const char *path, struct tm_snapshot **ret)
{
	static char line[1 << 16];
	struct tm_frame frames[256];
	struct tm_snapshot *snap;
	struct tm_error *err;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	if ((err = tm_snapshot_create(16, &snap)))
		return err;
	while (fgets(line, sizeof(line), f)) {
		unsigned domain, total, n = 0;
		unsigned long long size;
		int used;
		if (sscanf(line, "%u\t%llu\t%u\t%n", &domain, &size, &total,
			   &used) != 3)
			continue;
		char *rest = line + used, *save = NULL;
		rest[strcspn(rest, "\n")] = '\0';
		for (char *tok = strtok_r(rest, ";", &save); tok && n < 256;
		     tok = strtok_r(NULL, ";", &save)) {
			char *colon = strrchr(tok, ':');
			if (!colon)
				continue;
			*colon = '\0';
			frames[n++] = (struct tm_frame){
				tok, (unsigned)strtoul(colon + 1, NULL, 10)
			};
		}
		if ((err = tm_snapshot_add_trace(snap, domain, 0, size, frames,
						 n, total)))
			return err;
	}
	fclose(f);
	*ret = snap;
	return NULL;
}

static const char *const key_names[] = { "filename", "lineno", "traceback" };

int main(int argc, char **argv)
{
	struct tm_snapshot *old, *now;
	struct tm_error *err;
	char text[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: tm-stats OLD NEW [FILTER...]\n");
		return 1;
	}
	if ((err = load(argv[1], &old)) || (err = load(argv[2], &now)))
		return fail(err);
	if (argc > 3) {
		struct tm_filter filters[64];
		size_t n = 0;
		for (int i = 3; i < argc && n < 64; i++) {
			char *spec = argv[i], *save = NULL;
			char *kind = strtok_r(spec, "\t", &save);
			char *fields[5] = { 0 };
			for (int k = 0; k < 5; k++)
				fields[k] = strtok_r(NULL, "\t", &save);
			if (!kind || !fields[0])
				return 1;
			struct tm_filter *f = &filters[n++];
			f->inclusive = atoi(fields[0]);
			if (kind[0] == 'D') {
				f->filename_pattern = NULL;
				f->domain = atoll(fields[1]);
				continue;
			}
			f->filename_pattern = fields[1];
			f->lineno = atoi(fields[2]);
			f->all_frames = atoi(fields[3]);
			f->domain = atoll(fields[4]);
		}
		struct tm_snapshot *filtered;
		if ((err = tm_snapshot_filter(now, filters, n, &filtered)))
			return fail(err);
		tm_snapshot_destroy(now);
		now = filtered;
	}
	for (int key = 0; key < 3; key++) {
		for (int cumulative = 0; cumulative < 2; cumulative++) {
			struct tm_statistic *stats;
			size_t n;
			err = tm_snapshot_statistics(now, key, cumulative,
						     &stats, &n);
			printf("== statistics %s %d\n", key_names[key],
			       cumulative);
			if (err) {
				printf("error\n");
				tm_error_destroy(err);
			} else {
				for (size_t i = 0; i < n; i++) {
					tm_format_statistic(text, sizeof(text),
							    &stats[i]);
					printf("%s\n", text);
				}
				free(stats);
			}

			struct tm_statistic_diff *diffs;
			err = tm_snapshot_compare(now, old, key, cumulative,
						  &diffs, &n);
			printf("== compare %s %d\n", key_names[key],
			       cumulative);
			if (err) {
				printf("error\n");
				tm_error_destroy(err);
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				tm_format_statistic_diff(text, sizeof(text),
							 &diffs[i]);
				printf("%s\n", text);
			}
			free(diffs);
		}
	}
	// Traceback.format of each trace, with limits and orders in turn.
	static const int limits[] = { 0, 1, 2, 3, -1, -2 };
	size_t n;
	const struct tm_snapshot_trace *traces = tm_snapshot_traces(now, &n);
	printf("== format\n");
	for (size_t i = 0; i < n; i++) {
		bool limited = i % 7 != 6;
		char *lines = tm_traceback_format(traces[i].traceback, limited,
						  limits[i % 6], i % 2);
		printf("%s\n", lines ? lines : "error");
		free(lines);
	}
	tm_snapshot_destroy(old);
	tm_snapshot_destroy(now);
	return 0;
}
