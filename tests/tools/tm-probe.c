// tm-probe.c: a test tool that reads trace tables and prints them in a form
// end-to-end scripts can check.
//
//   tm-probe file PATH          the table at offset 0 of PATH
//   tm-probe pid PID            the table in a live process (magic scan)
//   tm-probe freeze ROUNDS PROGRAM [ARG...]
//       run PROGRAM (tests/programs/churn), stop it at ROUNDS random
//       instants, decode each frozen image and compare it with the
//       program's own ground truth.
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tm/reader.h"
#include "tm/symbolize.h"

static int fail(struct tm_error *err)
{
	fprintf(stderr, "tm-probe: %s\n", tm_error_message(err));
	int status = tm_error_exit_status(err);
	tm_error_destroy(err);
	return status;
}

static void print_table(const struct tm_table *t)
{
	const struct tm_table_info *info = tm_table_info(t);
	const struct tm_damage *d = tm_table_damage(t);
	size_t n, nmod;
	const struct tm_trace *traces = tm_table_traces(t, &n);
	const struct tm_module *mods = tm_table_modules(t, &nmod);
	struct tm_symbolizer *sym = NULL;
	struct tm_error *err =
		tm_symbolizer_create_modules(mods, nmod, NULL, &sym);

	if (err) {
		fail(err);
		sym = NULL;
	}
	printf("table traces=%zu size=%" PRIu64 " tracebacks=%zu tracing=%d "
	       "limit=%u pid=%u modules=%zu peak=%" PRIu64 " untraced=%" PRIu64
	       " writer=%s\n",
	       n, info->traced_size, tm_table_traceback_count(t), info->tracing,
	       info->traceback_limit, info->pid, nmod, info->peak_size,
	       info->untraced, info->writer);
	printf("damage in_flight=%" PRIu64 " unreadable=%" PRIu64
	       " inconsistent=%" PRIu64 " bad=%" PRIu64 " missing=%" PRIu64
	       " modules_bad=%" PRIu64 "\n",
	       d->shards_in_flight, d->shards_unreadable,
	       d->shards_inconsistent, d->traces_bad, d->bytes_unreadable,
	       d->modules_bad);
	for (size_t i = 0; i < nmod; i++)
		printf("module %s build_id_len=%zu\n", mods[i].path,
		       mods[i].build_id_len);
	for (size_t i = 0; i < n; i++) {
		const struct tm_traceback *tb = traces[i].traceback;
		printf("trace domain=%u size=%" PRIu64 " nframe=%u total=%u "
		       "frames=",
		       traces[i].domain, traces[i].size, tb->nframe,
		       tb->total_nframe);
		for (unsigned k = 0; k < tb->nframe; k++) {
			const char *fn =
				sym ? tm_symbolizer_lookup(sym, tb->frames[k])
						->function
				    : "<unknown>";
			printf("%s%s", k ? ";" : "", fn);
		}
		printf("\n");
	}
	tm_symbolizer_destroy(sym);
}

static int probe(struct tm_source *src, uint64_t base)
{
	struct tm_table *t;
	struct tm_error *err = tm_table_decode(src, base, &t);

	if (err)
		return fail(err);
	print_table(t);
	tm_table_destroy(t);
	return 0;
}

static int probe_file(const char *path)
{
	struct tm_source *src;
	struct tm_error *err = tm_source_file_create(path, &src);

	if (err)
		return fail(err);
	int status = probe(src, 0);
	tm_source_destroy(src);
	return status;
}

static int probe_pid(int pid)
{
	struct tm_source *src;
	uint64_t base;
	struct tm_error *err = tm_source_pid_create(pid, &src);

	if (err)
		return fail(err);
	if ((err = tm_locate_scan(src, &base, NULL))) {
		tm_source_destroy(src);
		return fail(err);
	}
	int status = probe(src, base);
	tm_source_destroy(src);
	return status;
}

// The ground truth churn keeps: per thread, blocks it holds and their bytes.
struct truth {
	uint64_t count, bytes;
};

struct freeze_stats {
	unsigned rounds, in_flight_images, max_diff;
};

static bool is_worker_frame(struct tm_symbolizer *sym,
			    const struct tm_traceback *tb)
{
	return tb->nframe &&
	       strcmp(tm_symbolizer_lookup(sym, tb->frames[0])->function,
		      "churn_allocate") == 0;
}

// Decode one frozen image and compare it with the truth; 0 if it agrees.
static int check_image(struct tm_source *src, uint64_t base,
		       uint64_t truth_addr, unsigned threads,
		       struct tm_symbolizer **sym, struct freeze_stats *st)
{
	struct truth truth[64];
	struct tm_table *t;
	struct tm_error *err;

	if ((err = tm_source_read(src, truth, truth_addr,
				  threads * sizeof(truth[0]))) ||
	    (err = tm_table_decode(src, base, &t)))
		return fail(err);
	if (!*sym) {
		size_t nmod;
		const struct tm_module *m = tm_table_modules(t, &nmod);
		if ((err = tm_symbolizer_create_modules(m, nmod, NULL, sym)))
			return fail(err);
	}
	const struct tm_damage *d = tm_table_damage(t);
	size_t n;
	const struct tm_trace *traces = tm_table_traces(t, &n);
	uint64_t count = 0, bytes = 0, want_count = 0, want_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_worker_frame(*sym, traces[i].traceback)) {
			count++;
			bytes += traces[i].size;
		}
	}
	for (unsigned k = 0; k < threads; k++) {
		want_count += truth[k].count;
		want_bytes += truth[k].bytes;
	}
	// Each thread may be between its malloc and its bookkeeping (or its
	// bookkeeping and its free): at most one block apiece, of at most
	// 4096 bytes.
	uint64_t diff =
		count > want_count ? count - want_count : want_count - count;
	uint64_t bdiff =
		bytes > want_bytes ? bytes - want_bytes : want_bytes - bytes;
	st->rounds++;
	if (d->shards_in_flight)
		st->in_flight_images++;
	if (diff > st->max_diff)
		st->max_diff = (unsigned)diff;
	int bad = d->shards_inconsistent || d->traces_bad ||
		  d->shards_unreadable || d->bytes_unreadable ||
		  diff > threads || bdiff > (uint64_t)threads * 4096;
	if (bad)
		fprintf(stderr,
			"tm-probe: image %u disagrees: decoded %" PRIu64
			" blocks/%" PRIu64 " bytes, truth %" PRIu64 "/%" PRIu64
			"; in_flight=%" PRIu64 " inconsistent=%" PRIu64
			" bad=%" PRIu64 "\n",
			st->rounds, count, bytes, want_count, want_bytes,
			d->shards_in_flight, d->shards_inconsistent,
			d->traces_bad);
	tm_table_destroy(t);
	return bad;
}

static int freeze(unsigned rounds, char **argv)
{
	int out[2];
	struct freeze_stats st = { 0 };
	struct tm_symbolizer *sym = NULL;
	struct tm_source *src = NULL;
	struct tm_error *err;
	int status = 0;

	if (pipe(out) < 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	FILE *from = fdopen(out[0], "r");
	uint64_t truth_addr;
	unsigned threads;
	if (fscanf(from, "truth %" SCNx64 " threads %u", &truth_addr,
		   &threads) != 2 ||
	    threads > 64) {
		fprintf(stderr, "tm-probe: %s did not report its truth\n",
			argv[0]);
		kill(pid, SIGKILL);
		return 2;
	}
	srand((unsigned)time(NULL));
	uint64_t base = 0;
	for (unsigned r = 0; r < rounds && !status; r++) {
		usleep(200 + (unsigned)(rand() % 3000));
		kill(pid, SIGSTOP);
		int ws;
		if (waitpid(pid, &ws, WUNTRACED) < 0 || !WIFSTOPPED(ws)) {
			fprintf(stderr, "tm-probe: the program ended early\n");
			return 2;
		}
		// The mappings change as the table grows: re-read them.
		tm_source_destroy(src);
		if ((err = tm_source_pid_create(pid, &src)) ||
		    (!base && (err = tm_locate_scan(src, &base, NULL))))
			status = fail(err);
		else
			status = check_image(src, base, truth_addr, threads,
					     &sym, &st);
		kill(pid, SIGCONT);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tm_source_destroy(src);
	tm_symbolizer_destroy(sym);
	printf("freeze rounds=%u in_flight_images=%u max_block_diff=%u "
	       "threads=%u %s\n",
	       st.rounds, st.in_flight_images, st.max_diff, threads,
	       status ? "FAILED" : "ok");
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "file") == 0)
		return probe_file(argv[2]);
	if (argc == 3 && strcmp(argv[1], "pid") == 0)
		return probe_pid(atoi(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "freeze") == 0)
		return freeze((unsigned)atoi(argv[2]), argv + 3);
	fprintf(stderr, "usage: tm-probe file PATH | pid PID | "
			"freeze ROUNDS PROGRAM [ARG...]\n");
	return 1;
}
