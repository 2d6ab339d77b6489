// tm-demo.c: a small program that leaks and grows memory from a few call
// sites, traces itself with libtracemalloc, and prints the top 10 source
// lines of its own snapshot the way Python's tracemalloc does.
//
// With --crash it then overflows a session's name into the pointer after
// it and frees that pointer; glibc aborts, the kernel writes a core, and
// scripts/demo reads it with tm-core.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm/reader.h"
#include "tm/snapshot.h"
#include "tm/symbolize.h"
#include "tm/tracemalloc.h"

struct node {
	struct node *next;
	char payload[48];
};

struct session {
	int id;
	char user[32];
	char *scratch;
};

static char *cache[20000];
static struct node *history;
static char *log_buffer;
static size_t log_size;

// Leak: cache keys are copied and never evicted.
static void cache_put(int i)
{
	char key[64];

	snprintf(key, sizeof(key), "user:%06d:preferences:theme", i);
	cache[i] = strdup(key);
}

// Leak: every event is kept on a list nobody reads.
static void remember_event(int i)
{
	struct node *n = calloc(1, sizeof(*n));

	snprintf(n->payload, sizeof(n->payload), "event %d", i);
	n->next = history;
	history = n;
}

// Growth: a log buffer that only ever gets bigger.
static void log_line(const char *line)
{
	size_t len = strlen(line);

	log_buffer = realloc(log_buffer, log_size + len + 1);
	memcpy(log_buffer + log_size, line, len + 1);
	log_size += len;
}

// Sessions: most are closed, some are forgotten.
static struct session *session_open(int id)
{
	struct session *s = malloc(sizeof(*s));

	s->id = id;
	snprintf(s->user, sizeof(s->user), "user%d", id);
	s->scratch = malloc(256 + (size_t)(id % 7) * 64);
	return s;
}

static void session_close(struct session *s)
{
	free(s->scratch);
	free(s);
}

static void serve(void)
{
	char line[128];

	for (int i = 0; i < 20000; i++) {
		cache_put(i);
		if (i % 2 == 0)
			remember_event(i);
		snprintf(line, sizeof(line), "request %d served\n", i);
		log_line(line);
		struct session *s = session_open(i);
		if (i % 10 != 0)
			session_close(s); // one session in ten leaks
	}
}

static int print_top(int limit)
{
	struct tm_raw_snapshot snap;
	struct tm_source *src = NULL;
	struct tm_table *table = NULL;
	struct tm_symbolizer *sym = NULL;
	struct tm_snapshot *snapshot = NULL;
	struct tm_statistic *stats = NULL;
	struct tm_error *err;
	size_t count, modules, current, peak;
	char line[1024], a[32], b[32], c[32];

	tm_get_traced_memory(&current, &peak);
	if (tm_take_snapshot(&snap) < 0) {
		fprintf(stderr, "tm-demo: cannot take a snapshot\n");
		return 1;
	}
	if ((err = tm_source_buffer_create(snap.data, snap.size, 0, &src)) ||
	    (err = tm_table_decode(src, 0, &table))) {
		fprintf(stderr, "tm-demo: %s\n", tm_error_message(err));
		tm_error_destroy(err);
		goto out;
	}
	const struct tm_module *mods = tm_table_modules(table, &modules);
	if ((err = tm_symbolizer_create_modules(mods, modules, NULL, &sym)) ||
	    (err = tm_snapshot_from_table(table, sym, &snapshot)) ||
	    (err = tm_snapshot_statistics(snapshot, TM_KEY_LINENO, false,
					  &stats, &count))) {
		fprintf(stderr, "tm-demo: %s\n", tm_error_message(err));
		tm_error_destroy(err);
		goto out;
	}
	size_t traces;
	tm_table_traces(table, &traces);
	printf("traced memory: current %s, peak %s; %zu blocks, %zu "
	       "tracebacks, table %s\n",
	       tm_format_size(a, sizeof(a), (double)current, false),
	       tm_format_size(b, sizeof(b), (double)peak, false), traces,
	       tm_table_traceback_count(table),
	       tm_format_size(c, sizeof(c), (double)tm_get_tracemalloc_memory(),
			      false));
	printf("[ Top %d ]\n", limit);
	for (size_t i = 0; i < count && i < (size_t)limit; i++) {
		tm_format_statistic(line, sizeof(line), &stats[i]);
		printf("%s\n", line);
	}
out:
	free(stats);
	tm_snapshot_destroy(snapshot);
	tm_symbolizer_destroy(sym);
	tm_table_destroy(table);
	tm_source_destroy(src);
	tm_raw_snapshot_release(&snap);
	return err ? 1 : 0;
}

// A bug: the copy does not stop at the 32-byte field, and overwrites the
// scratch pointer that follows it.
static void rename_user(struct session *s, const char *name)
{
	strcpy(s->user, name);
}

static void crash(void)
{
	char name[64];
	struct session *s = session_open(4242);

	fprintf(stderr, "tm-demo: renaming the user of session %p\n",
		(void *)s);
	snprintf(name, sizeof(name), "%s-%s", "a-user-name-far-too-long",
		 "for-its-32-byte-field");
	rename_user(s, name);
	// Frees the overwritten pointer: glibc's own check aborts.
	session_close(s);
}

int main(int argc, char **argv)
{
	// Under TRACEMALLOC=N tracing started at load; otherwise start here.
	if (!tm_is_tracing() && tm_start(25) < 0) {
		fprintf(stderr, "tm-demo: cannot start tracing\n");
		return 1;
	}
	serve();
	int status = print_top(10);
	if (argc > 1 && strcmp(argv[1], "--crash") == 0)
		crash();
	return status;
}
