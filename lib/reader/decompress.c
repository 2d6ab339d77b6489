// decompress.c: whole-file decompression of sources, and copies of piped
// ones (decompress.h).  One decoder per format, each reading the input a
// chunk at a time and handing what it produces to a sink that writes it,
// pages of zeros left as holes.
#include "decompress.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

// Input is read, and output staged, this much at a time.
#define CHUNK ((size_t)1 << 20)
// Output pages of zeros are not written: most of a core is pages nothing
// touched, and most of a trace table is empty slots.
#define PAGE ((size_t)4096)

struct input {
	int fd;
	unsigned char *buf; // CHUNK bytes
	size_t size, pos;   // bytes in buf, bytes of them consumed
	bool end;	    // the file was read to its end
	int error;	    // errno of a failed read, or 0
};

struct sink {
	int fd;
	unsigned char *buf; // CHUNK bytes
	size_t used;	    // bytes staged in buf
	uint64_t flushed;   // bytes before buf
	int error;	    // errno of a failed write, or 0
};

// Read more of @in after what its buffer holds, until it holds @want
// bytes or the input ends.  False on a read error.
static bool input_read(struct input *in, size_t want)
{
	while (in->size < want && !in->end) {
		ssize_t n = read(in->fd, in->buf + in->size, CHUNK - in->size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			in->error = errno;
			return false;
		}
		in->end = n == 0;
		in->size += (size_t)n;
	}
	return true;
}

// Refill @in once all of it was consumed.  False on a read error.
static bool input_fill(struct input *in)
{
	if (in->pos == in->size)
		in->pos = in->size = 0;
	return input_read(in, 1);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static bool write_all(int fd, const unsigned char *p, size_t n, uint64_t at,
		      int *error)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*error = w < 0 ? errno : EIO;
			return false;
		}
		p += w;
		n -= (size_t)w;
		at += (uint64_t)w;
	}
	return true;
}

static size_t page_at(const struct sink *s, size_t i)
{
	return s->used - i < PAGE ? s->used - i : PAGE;
}

// Write what is staged, each run of pages that are not all zeros at once.
static bool sink_flush(struct sink *s)
{
	size_t i = 0;

	while (i < s->used && !s->error) {
		while (i < s->used && all_zero(s->buf + i, page_at(s, i)))
			i += page_at(s, i);
		size_t start = i;
		while (i < s->used && !all_zero(s->buf + i, page_at(s, i)))
			i += page_at(s, i);
		if (i > start)
			write_all(s->fd, s->buf + start, i - start,
				  s->flushed + start, &s->error);
	}
	s->flushed += s->used;
	s->used = 0;
	return !s->error;
}

// Where a decoder writes next, and how much room there is (never 0).
static unsigned char *sink_next(struct sink *s, size_t *room)
{
	*room = CHUNK - s->used;
	return s->buf + s->used;
}

// A decoder wrote @n bytes at sink_next().  False on a write error.
static bool sink_commit(struct sink *s, size_t n)
{
	s->used += n;
	return s->used < CHUNK || sink_flush(s);
}

// Flush the rest, and make the file as long as the data, trailing zeros
// included.
static bool sink_finish(struct sink *s)
{
	if (s->error || !sink_flush(s))
		return false;
	if (ftruncate(s->fd, (off_t)s->flushed) != 0) {
		s->error = errno;
		return false;
	}
	return true;
}

// Each decoder decompresses all of @in into @s.  It returns NULL when the
// data ended where it should, else why it ended early; a read or write
// error sets in->error or s->error instead.
typedef const char *decode_fn(struct input *in, struct sink *s);

// What a decoder returns when the file ends before its data does.
static const char cut_short[] = "cut short";
// ... and when its library neither reads nor writes, nor fails: a loop
// that called it again would never end.
static const char stuck[] = "the decompressor made no progress";

// What one call of a format's library did.
struct step {
	size_t consumed, produced;
	bool complete;	 // the data so far ends where a frame or stream does
	const char *why; // the library's reason to stop, or NULL
};

// One call of a format's library over @state: decompress from @from (@n
// bytes; @last if no more follow) into @to (@room bytes).
typedef void step_fn(void *state, const unsigned char *from, size_t n,
		     bool last, unsigned char *to, size_t room, struct step *r);

// Whether the library is stuck: calls that neither consume nor produce, a
// few in a row (one may end a stream or a frame).
static bool stalled(unsigned *idle, const struct step *r)
{
	*idle = r->consumed || r->produced ? 0 : *idle + 1;
	return *idle > 2;
}

// Feed all of @in to @step, and what it produces to @s (a decode_fn's
// work, for every format).
static const char *run_steps(step_fn *step, void *state, struct input *in,
			     struct sink *s)
{
	bool complete = false, full = false;
	unsigned idle = 0;

	while (input_fill(in)) {
		size_t left = in->size - in->pos, room;
		// All read, and nothing left inside the library: a full
		// output buffer may have left some there.
		if (!left && !full && complete)
			return NULL;
		unsigned char *to = sink_next(s, &room);
		struct step r = { 0 };
		step(state, in->buf + in->pos, left, in->end, to, room, &r);
		in->pos += r.consumed;
		full = r.produced == room;
		if (!sink_commit(s, r.produced))
			return NULL;
		if (r.why)
			return r.why;
		// A call that had nothing to read and wrote nothing only
		// found nothing pending; after a frame's end, zstd and lz4
		// then expect the next frame, which is not a cut.
		if (left || r.produced || r.complete)
			complete = r.complete;
		if (!left && !full)
			return complete ? NULL : cut_short;
		if (stalled(&idle, &r))
			return stuck;
	}
	return NULL;
}

static void zstd_step(void *state, const unsigned char *from, size_t n,
		      bool last, unsigned char *to, size_t room, struct step *r)
{
	ZSTD_inBuffer in = { from, n, 0 };
	ZSTD_outBuffer out = { to, room, 0 };
	size_t left = ZSTD_decompressStream(state, &out, &in);

	r->consumed = in.pos;
	r->produced = out.pos;
	r->complete = left == 0;
	if (ZSTD_isError(left))
		r->why = ZSTD_getErrorName(left);
}

static const char *decode_zstd(struct input *in, struct sink *s)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();

	if (!z) {
		s->error = ENOMEM;
		return NULL;
	}
	const char *why = run_steps(zstd_step, z, in, s);
	ZSTD_freeDCtx(z);
	return why;
}

static const char *lzma_reason(lzma_ret r)
{
	switch (r) {
	case LZMA_DATA_ERROR:
		return "the data is corrupt";
	case LZMA_BUF_ERROR:
		return cut_short;
	case LZMA_FORMAT_ERROR:
		return "not xz data";
	case LZMA_OPTIONS_ERROR:
		return "options this xz library does not support";
	case LZMA_MEM_ERROR:
		return "out of memory";
	default:
		return "the xz library failed";
	}
}

static void xz_step(void *state, const unsigned char *from, size_t n, bool last,
		    unsigned char *to, size_t room, struct step *r)
{
	lzma_stream *x = state;

	x->next_in = from;
	x->avail_in = n;
	x->next_out = to;
	x->avail_out = room;
	// LZMA_FINISH once all the input was handed over.
	lzma_ret ret = lzma_code(x, last ? LZMA_FINISH : LZMA_RUN);
	r->consumed = n - x->avail_in;
	r->produced = room - x->avail_out;
	r->complete = ret == LZMA_STREAM_END;
	if (ret != LZMA_OK && ret != LZMA_STREAM_END)
		r->why = lzma_reason(ret);
}

static const char *decode_xz(struct input *in, struct sink *s)
{
	lzma_stream x = LZMA_STREAM_INIT;

	// One file may hold several streams, as `cat a.xz b.xz` makes.
	if (lzma_stream_decoder(&x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
		s->error = ENOMEM;
		return NULL;
	}
	const char *why = run_steps(xz_step, &x, in, s);
	lzma_end(&x);
	return why;
}

static void lz4_step(void *state, const unsigned char *from, size_t n,
		     bool last, unsigned char *to, size_t room, struct step *r)
{
	size_t consumed = n, produced = room;
	size_t hint =
		LZ4F_decompress(state, to, &produced, from, &consumed, NULL);

	r->consumed = consumed;
	r->produced = produced;
	r->complete = hint == 0;
	if (LZ4F_isError(hint))
		r->why = LZ4F_getErrorName(hint);
}

static const char *decode_lz4(struct input *in, struct sink *s)
{
	LZ4F_dctx *d = NULL;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
		s->error = ENOMEM;
		return NULL;
	}
	const char *why = run_steps(lz4_step, d, in, s);
	LZ4F_freeDecompressionContext(d);
	return why;
}

struct gzip {
	z_stream z;
	bool ended; // the last member read ended
};

static void gzip_step(void *state, const unsigned char *from, size_t n,
		      bool last, unsigned char *to, size_t room, struct step *r)
{
	struct gzip *g = state;

	// One file may hold several members, as `cat a.gz b.gz` makes.
	if (g->ended && n)
		inflateReset(&g->z);
	g->z.next_in = (Bytef *)from;
	g->z.avail_in = (uInt)n;
	g->z.next_out = to;
	g->z.avail_out = (uInt)room;
	int ret = inflate(&g->z, Z_NO_FLUSH);
	r->consumed = n - g->z.avail_in;
	r->produced = room - g->z.avail_out;
	g->ended = r->complete = ret == Z_STREAM_END;
	if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR)
		r->why = "the data is corrupt";
	else if (ret == Z_MEM_ERROR)
		r->why = "out of memory";
}

static const char *decode_gzip(struct input *in, struct sink *s)
{
	struct gzip g = { 0 };

	// 16 + MAX_WBITS: a gzip header and trailer around the deflate data.
	if (inflateInit2(&g.z, 16 + MAX_WBITS) != Z_OK) {
		s->error = ENOMEM;
		return NULL;
	}
	const char *why = run_steps(gzip_step, &g, in, s);
	inflateEnd(&g.z);
	return why;
}

// Piped data that is not compressed is copied as it is.
static void copy_step(void *state, const unsigned char *from, size_t n,
		      bool last, unsigned char *to, size_t room, struct step *r)
{
	(void)state;
	(void)last;
	r->consumed = r->produced = n < room ? n : room;
	memcpy(to, from, r->produced);
	r->complete = true; // plain data may end anywhere
}

static const char *decode_copy(struct input *in, struct sink *s)
{
	return run_steps(copy_step, NULL, in, s);
}

struct format {
	const char *name;
	const char *magic;
	size_t magic_len;
	decode_fn *decode; // NULL: recognized, not read
	const char *by_hand;
};

static const struct format formats[] = {
	{ "zstd", "\x28\xb5\x2f\xfd", 4, decode_zstd, "zstd -d" },
	{ "xz",
	  "\xfd"
	  "7zXZ",
	  6, decode_xz, "xz -d" },
	{ "lz4", "\x04\x22\x4d\x18", 4, decode_lz4, "lz4 -d" },
	{ "gzip", "\x1f\x8b", 2, decode_gzip, "gzip -d" },
	{ "bzip2", "BZh", 3, NULL, "bzip2 -d" },
};

static const struct format plain = { NULL, "", 0, decode_copy, NULL };

static const struct format *format_of(const unsigned char *head, size_t n)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (n >= formats[i].magic_len &&
		    memcmp(head, formats[i].magic, formats[i].magic_len) == 0)
			return &formats[i];
	return NULL;
}

// An unnamed file in $TMPDIR (else /tmp), named there as *@dir.
static int temporary_file(const char **dir)
{
	*dir = getenv("TMPDIR");
	if (!*dir || !**dir)
		*dir = "/tmp";
	int fd = open(*dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	// A file system without O_TMPFILE: a named file, unlinked at once.
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/tm-core.XXXXXX", *dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

// What @f's data is called in messages: "zstd-compressed", or "piped".
static const char *what(const struct format *f, char *buf, size_t size)
{
	if (!f->name)
		return "piped";
	snprintf(buf, size, "%s-compressed", f->name);
	return buf;
}

// What to do by hand with @f's data when tm-core cannot: "decompress it
// yourself (zstd -d)", or "save it to a file first".
static const char *advice(const struct format *f, char *buf, size_t size)
{
	if (!f->name)
		return "save it to a file first";
	snprintf(buf, size, "decompress it yourself (%s)", f->by_hand);
	return buf;
}

// The damage note for data that ended early (@why) after @size bytes.
static char *damage_note(const char *name, const struct format *f,
			 const char *why, uint64_t size)
{
	size_t n = strlen(name) + strlen(why) + 200;
	char *note = malloc(n);

	if (note && why == cut_short)
		snprintf(note, n,
			 "%s: its %s data is cut short; the %llu bytes it "
			 "holds are read as a file cut short there",
			 name, f->name, (unsigned long long)size);
	else if (note)
		snprintf(note, n,
			 "%s: its %s data is damaged (%s); the %llu bytes "
			 "decompressed are read as a file cut short there, and "
			 "those nearest the damage may be wrong",
			 name, f->name, why, (unsigned long long)size);
	return note;
}

// Run @f's decoder over @in into a new temporary file; fill @ret.
static struct tm_error *decompress_into_file(const char *name,
					     const struct format *f,
					     struct input *in,
					     struct tm_decompressed *ret)
{
	const char *dir;
	char text[64]; // what() or advice()
	int out_fd = temporary_file(&dir);

	if (out_fd < 0)
		return tm_error_create(
			TM_ERR_IO,
			"%s is %s, and tm-core cannot make a file in %s to "
			"%s it into: %s; set TMPDIR to a folder it may write",
			name, what(f, text, sizeof(text)), dir,
			f->name ? "decompress" : "copy", strerror(errno));
	struct sink s = { .fd = out_fd, .buf = malloc(CHUNK) };
	const char *why = NULL;
	struct tm_error *err = NULL;
	if (!s.buf)
		s.error = ENOMEM;
	else
		why = f->decode(in, &s);
	bool written = sink_finish(&s);
	if (in->error)
		err = tm_error_errno(TM_ERR_IO, in->error, name, "cannot read");
	else if (!written && s.error == ENOMEM)
		err = &tm_enomem;
	else if (!written)
		err = tm_error_create(
			TM_ERR_IO,
			"cannot %s %s into %s: %s after %llu bytes; %s, or %s",
			f->name ? "decompress" : "copy", name, dir,
			strerror(s.error), (unsigned long long)s.flushed,
			s.error == EFBIG
				? "raise `ulimit -f`"
				: "set TMPDIR to a folder with more room",
			advice(f, text, sizeof(text)));
	else if (why && s.flushed == 0)
		err = tm_error_create(TM_ERR_NO_TABLE,
				      "%s: nothing could be decompressed from "
				      "its %s data (%s)",
				      name, f->name, why);
	else if (!f->name && s.flushed == 0)
		err = tm_error_create(TM_ERR_NO_TABLE,
				      "%s: nothing came through the pipe; give "
				      "tm-core a core, a trace file or a "
				      "snapshot there",
				      name);
	free(s.buf);
	if (err) {
		close(out_fd);
		return err;
	}
	if (why)
		ret->damage = damage_note(name, f, why, s.flushed);
	ret->fd = out_fd;
	ret->format = f->name;
	ret->size = s.flushed;
	return NULL;
}

struct tm_error *tm_decompress(const char *path, const char *name,
			       struct tm_decompressed *ret)
{
	struct input in = { .buf = malloc(CHUNK) };
	struct tm_error *err = NULL;
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	if (!in.buf)
		return &tm_enomem;
	in.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in.fd < 0) {
		free(in.buf);
		return NULL; // opening it to read it will say why not
	}
	ret->piped = fstat(in.fd, &st) == 0 && !S_ISREG(st.st_mode);
	// The first bytes say the format, and stay in the buffer for the
	// decoder: a pipe cannot be read from its start again.
	input_read(&in, 8);
	const struct format *f = format_of(in.buf, in.size);
	if (in.error)
		err = tm_error_errno(TM_ERR_IO, in.error, name, "cannot read");
	else if (f && !f->decode)
		err = tm_error_create(TM_ERR_NO_TABLE,
				      "%s is %s-compressed, which tm-core does "
				      "not read: decompress it first (%s)",
				      name, f->name, f->by_hand);
	else if (f || ret->piped)
		err = decompress_into_file(name, f ? f : &plain, &in, ret);
	close(in.fd);
	free(in.buf);
	return err;
}

void tm_decompressed_release(struct tm_decompressed *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->damage);
	d->damage = NULL;
}
