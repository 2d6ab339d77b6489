// report.c: the text every front end prints for a session: status, top
// statistics, differences, an address's block and traceback, warnings.
#include "tm/session.h"

#include "error.h"
#include "symbolizer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_names[] = { "filename", "lineno", "traceback" };

const char *tm_key_name(enum tm_key key)
{
	return (unsigned)key < 3 ? key_names[key] : "?";
}

struct tm_error *tm_key_parse(const char *name, enum tm_key *ret)
{
	for (unsigned k = 0; k < 3; k++) {
		if (strcmp(name, key_names[k]) == 0) {
			*ret = (enum tm_key)k;
			return NULL;
		}
	}
	return tm_error_create(TM_ERR_USAGE,
			       "'%s' is not a key: use lineno, filename or "
			       "traceback",
			       name);
}

const struct tm_trace *tm_table_find_block(const struct tm_table *t,
					   uint64_t address)
{
	size_t n;
	const struct tm_trace *traces = tm_table_traces(t, &n);
	const struct tm_trace *best = NULL;

	// Blocks of other domains may overlap: one that starts at @address
	// wins, else the smallest one around it.
	for (size_t i = 0; i < n; i++) {
		const struct tm_trace *b = &traces[i];
		bool inside = address == b->address ||
			      (address > b->address &&
			       address - b->address < b->size);
		if (!inside)
			continue;
		if (!best ||
		    (b->address == address && best->address != address) ||
		    (b->size < best->size && best->address != address))
			best = b;
	}
	return best;
}

void tm_report_warnings(FILE *out, const char *prefix,
			const struct tm_session *s)
{
	const char *path, *damage;
	size_t n = tm_symbolizer_mismatches(tm_session_symbolizer(s), &path);

	if (tm_session_compression(s, &damage) && damage)
		fprintf(out, "%s: warning: %s\n", prefix, damage);

	if (n)
		fprintf(out,
			"%s: warning: %zu module(s) changed since the trace "
			"was taken (build-id differs), e.g. %s; their frames "
			"are not named\n",
			prefix, n, path);
	// Two modules at one address: a library was closed and another was
	// loaded where it had been; the table cannot say which one a frame
	// there came from.
	const struct tm_module *older, *newer;
	size_t shared = tm_symbolizer_module_conflicts(tm_session_symbolizer(s),
						       &older, &newer);
	if (shared)
		fprintf(out,
			"%s: warning: %zu module(s) had another loaded at "
			"some of their addresses after them (e.g. %s, then "
			"%s); frames there are named after the later one\n",
			prefix, shared, older->path, newer->path);
	const char *file = tm_source_substitute(tm_session_source(s));
	if (file)
		fprintf(out,
			"%s: warning: the core does not hold the trace "
			"table's pages; they were read from %s, which the "
			"core maps there (as the file is now, not as it was "
			"when the core was written)\n",
			prefix, file);
	const struct tm_damage *d = tm_table_damage(tm_session_table(s));
	if (!d->shards_in_flight && !d->shards_unreadable &&
	    !d->shards_inconsistent && !d->traces_bad && !d->bytes_unreadable &&
	    !d->modules_bad)
		return;
	fprintf(out,
		"%s: warning: partial table: %llu shard(s) mid-operation, "
		"%llu unreadable, %llu inconsistent; %llu trace(s) with a bad "
		"traceback; %llu byte(s) missing; %llu bad module record(s)\n",
		prefix, (unsigned long long)d->shards_in_flight,
		(unsigned long long)d->shards_unreadable,
		(unsigned long long)d->shards_inconsistent,
		(unsigned long long)d->traces_bad,
		(unsigned long long)d->bytes_unreadable,
		(unsigned long long)d->modules_bad);
}

void tm_report_status(FILE *out, const struct tm_session *s)
{
	const struct tm_table *table = tm_session_table(s);
	const struct tm_table_info *info = tm_table_info(table);
	char size[32], peak[32], memory[32];
	size_t traces;

	tm_table_traces(table, &traces);
	const char *compression = tm_session_compression(s, NULL);
	fprintf(out, "source: %s %s%s%s%s\n", tm_session_kind(s),
		tm_session_name(s),
		tm_session_piped(s) ? ", read from a pipe" : "",
		compression ? ", decompressed from " : "",
		compression ? compression : "");
	fprintf(out,
		"table: layout %u.%u, written by %s for pid %u, %s, "
		"traceback limit %u\n",
		info->version_major, info->version_minor, info->writer,
		info->pid, info->tracing ? "tracing" : "not tracing",
		info->traceback_limit);
	fprintf(out,
		"traced: %zu blocks, %s (peak %s), %zu tracebacks; "
		"table %s\n",
		traces,
		tm_format_size(size, sizeof(size), (double)info->traced_size,
			       false),
		tm_format_size(peak, sizeof(peak), (double)info->peak_size,
			       false),
		tm_table_traceback_count(table),
		tm_format_size(memory, sizeof(memory),
			       (double)info->memory_size, false));
	if (info->untraced)
		fprintf(out,
			"untraced: %llu allocations (no room in the table, "
			"or too little stack left to unwind)\n",
			(unsigned long long)info->untraced);
}

void tm_report_statistics(FILE *out, const struct tm_statistic *stats,
			  size_t count, enum tm_key key, bool cumulative,
			  size_t top)
{
	char line[8192];
	size_t shown = top && top < count ? top : count;

	fprintf(out, "[ Top %zu by %s%s ]\n", shown, tm_key_name(key),
		cumulative ? ", cumulative" : "");
	for (size_t i = 0; i < shown; i++) {
		tm_format_statistic(line, sizeof(line), &stats[i]);
		fprintf(out, "%s\n", line);
	}
}

struct tm_error *tm_report_top(FILE *out, const struct tm_session *s,
			       const struct tm_filter *filters,
			       size_t filter_count, enum tm_key key,
			       bool cumulative, size_t top)
{
	struct tm_snapshot *view = NULL;
	struct tm_statistic *stats = NULL;
	size_t count = 0;
	struct tm_error *err = tm_snapshot_filter(tm_session_snapshot(s),
						  filters, filter_count, &view);

	if (!err)
		err = tm_snapshot_statistics(view, key, cumulative, &stats,
					     &count);
	if (!err)
		tm_report_statistics(out, stats, count, key, cumulative, top);
	free(stats);
	tm_snapshot_destroy(view);
	return err;
}

void tm_report_statistic_diffs(FILE *out, const struct tm_statistic_diff *diffs,
			       size_t count, enum tm_key key, bool cumulative,
			       size_t top)
{
	char line[8192];
	size_t shown = top && top < count ? top : count;

	fprintf(out, "[ Top %zu differences by %s%s ]\n", shown,
		tm_key_name(key), cumulative ? ", cumulative" : "");
	for (size_t i = 0; i < shown; i++) {
		tm_format_statistic_diff(line, sizeof(line), &diffs[i]);
		fprintf(out, "%s\n", line);
	}
}

struct tm_error *tm_report_diff(FILE *out, const struct tm_session *old,
				const struct tm_session *now,
				const struct tm_filter *filters,
				size_t filter_count, enum tm_key key,
				bool cumulative, size_t top)
{
	struct tm_snapshot *old_view = NULL, *now_view = NULL;
	struct tm_statistic_diff *diffs = NULL;
	size_t count = 0;
	struct tm_error *err;

	if (!(err = tm_snapshot_filter(tm_session_snapshot(old), filters,
				       filter_count, &old_view)) &&
	    !(err = tm_snapshot_filter(tm_session_snapshot(now), filters,
				       filter_count, &now_view)))
		err = tm_snapshot_compare(now_view, old_view, key, cumulative,
					  &diffs, &count);
	if (!err)
		tm_report_statistic_diffs(out, diffs, count, key, cumulative,
					  top);
	free(diffs);
	tm_snapshot_destroy(old_view);
	tm_snapshot_destroy(now_view);
	return err;
}

void tm_report_traceback(FILE *out, const struct tm_session *s,
			 uint64_t address)
{
	const struct tm_table *table = tm_session_table(s);
	const struct tm_trace *t = tm_table_find_block(table, address);

	if (!t) {
		fprintf(out, "0x%" PRIx64 " is not in any traced block\n",
			address);
		return;
	}
	fprintf(out,
		"0x%" PRIx64 " is %" PRIu64 " bytes into a block of %" PRIu64
		" bytes at 0x%" PRIx64 " (domain %u), allocated at (most "
		"recent call first):\n",
		address, address - t->address, t->size, t->address, t->domain);
	for (uint32_t k = 0; k < t->traceback->nframe; k++) {
		const struct tm_frame_info *f;
		size_t n;
		tm_symbolizer_expand(tm_session_symbolizer(s),
				     t->traceback->frames[k], &f, &n);
		for (size_t e = 0; e < n; e++) {
			fprintf(out, "  File \"%s\", line %u, in %s\n",
				f[e].filename, f[e].lineno, f[e].function);
			char src[1024];
			if (tm_source_line(f[e].filename, f[e].lineno, src,
					   sizeof(src)))
				fprintf(out, "    %s\n", src);
		}
	}
	if (t->traceback->total_nframe > t->traceback->nframe)
		fprintf(out,
			"  (%u more frames not recorded: the traceback limit "
			"was %u)\n",
			t->traceback->total_nframe - t->traceback->nframe,
			tm_table_info(table)->traceback_limit);
}
