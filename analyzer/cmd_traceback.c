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

// The traced block containing @address: the one that starts there, else
// the smallest one around it (blocks of other domains may overlap).
static const struct tm_trace *containing(const struct tm_table *table,
					 uint64_t address)
{
	size_t n;
	const struct tm_trace *traces = tm_table_traces(table, &n);
	const struct tm_trace *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct tm_trace *t = &traces[i];
		bool inside = address == t->address ||
			      (address > t->address &&
			       address - t->address < t->size);
		if (!inside)
			continue;
		if (!best ||
		    (t->address == address && best->address != address) ||
		    (t->size < best->size && best->address != address))
			best = t;
	}
	return best;
}

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
	const struct tm_trace *t = containing(o.table, address);
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
	} else if (!t) {
		printf("0x%" PRIx64 " is not in any traced block\n", address);
	} else {
		printf("0x%" PRIx64 " is %" PRIu64 " bytes into a block of "
		       "%" PRIu64 " bytes at 0x%" PRIx64 " (domain %u), "
		       "allocated at (most recent call first):\n",
		       address, address - t->address, t->size, t->address,
		       t->domain);
		for (uint32_t k = 0; k < t->traceback->nframe; k++) {
			const struct tm_frame_info *f;
			size_t n;
			tm_symbolizer_expand(o.sym, t->traceback->frames[k], &f,
					     &n);
			for (size_t e = 0; e < n; e++) {
				printf("  File \"%s\", line %u, in %s\n",
				       f[e].filename, f[e].lineno,
				       f[e].function);
				char src[1024];
				if (tm_source_line(f[e].filename, f[e].lineno,
						   src, sizeof(src)))
					printf("    %s\n", src);
			}
		}
		if (t->traceback->total_nframe > t->traceback->nframe)
			printf("  (%u more frames not recorded: the traceback "
			       "limit was %u)\n",
			       t->traceback->total_nframe -
				       t->traceback->nframe,
			       tm_table_info(o.table)->traceback_limit);
	}
	source_close(&o);
	return EXIT_DONE;
}
