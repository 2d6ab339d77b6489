// source.c: opening tm-core's SOURCE argument through a session.
#include "source.h"

#include "exit.h"

#include <stdio.h>
#include <string.h>

struct tm_file_search source_files;

int source_open(const char *path, int pid, struct opened *o)
{
	struct tm_session *s = NULL;
	struct tm_error *err =
		path ? tm_session_open_path(path, &source_files, &s)
		     : tm_session_open_pid(pid, &source_files, &s);

	memset(o, 0, sizeof(*o));
	if (err)
		return source_failed(err);
	o->session = s;
	o->kind = tm_session_kind(s);
	o->name = tm_session_name(s);
	o->src = tm_session_source(s);
	o->base = tm_session_base(s);
	o->located_by = tm_session_located_by(s);
	o->table = tm_session_table(s);
	o->sym = tm_session_symbolizer(s);
	o->snapshot = tm_session_snapshot(s);
	return EXIT_DONE;
}

int source_failed(struct tm_error *err)
{
	if (!err)
		return EXIT_DONE;
	int status = tm_error_exit_status(err);
	fprintf(stderr, "tm-core: %s\n", tm_error_message(err));
	tm_error_destroy(err);
	return status;
}

void source_close(struct opened *o)
{
	tm_session_destroy(o->session);
	o->session = NULL;
}

void source_warn_damage(const struct opened *o)
{
	tm_report_warnings(stderr, "tm-core", o->session);
}
