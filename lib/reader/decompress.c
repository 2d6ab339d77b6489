// decompress.c: whole-file decompression of sources (decompress.h).  One
// decoder per format, each reading the file a chunk at a time and handing
// what it produces to a sink that writes it, pages of zeros left as holes.
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

// Refill @in once all of it was consumed.  False on a read error.
static bool input_fill(struct input *in)
{
	while (in->pos == in->size && !in->end) {
		ssize_t n = read(in->fd, in->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			in->error = errno;
			return false;
		}
		in->end = n == 0;
		in->size = (size_t)n;
		in->pos = 0;
	}
	return true;
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

// Whether the decoder's library is stuck: calls that neither consume nor
// produce, a few in a row (one may be the end of a stream or a frame).
static bool stalled(unsigned *idle, size_t consumed, size_t produced)
{
	*idle = consumed || produced ? 0 : *idle + 1;
	return *idle > 2;
}

static decode_fn decode_zstd, decode_xz, decode_lz4, decode_gzip;

static const char *decode_zstd(struct input *in, struct sink *s)
{
	ZSTD_DCtx *z = ZSTD_createDCtx();
	const char *why = NULL;
	size_t left = 1; // 0 once the last frame was complete
	bool full = false;
	unsigned idle = 0;

	if (!z) {
		s->error = ENOMEM;
		return NULL;
	}
	// A full output buffer may leave output inside zstd: call again
	// until it does not fill.
	while (input_fill(in) && (in->pos < in->size || full)) {
		size_t room;
		ZSTD_outBuffer out = { sink_next(s, &room), room, 0 };
		ZSTD_inBuffer from = { in->buf, in->size, in->pos };
		size_t before = in->pos;
		left = ZSTD_decompressStream(z, &out, &from);
		in->pos = from.pos;
		full = out.pos == room;
		if (!sink_commit(s, out.pos))
			break;
		if (ZSTD_isError(left)) {
			why = ZSTD_getErrorName(left);
			break;
		}
		if (stalled(&idle, in->pos - before, out.pos)) {
			why = stuck;
			break;
		}
	}
	ZSTD_freeDCtx(z);
	if (!why && left != 0)
		why = cut_short;
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

static const char *decode_xz(struct input *in, struct sink *s)
{
	lzma_stream x = LZMA_STREAM_INIT;
	// One file may hold several streams, as `cat a.xz b.xz` makes.
	lzma_ret r = lzma_stream_decoder(&x, UINT64_MAX, LZMA_CONCATENATED);
	const char *why = NULL;

	if (r != LZMA_OK) {
		s->error = ENOMEM;
		return NULL;
	}
	while (input_fill(in)) {
		size_t room;
		x.next_in = in->buf + in->pos;
		x.avail_in = in->size - in->pos;
		x.next_out = sink_next(s, &room);
		x.avail_out = room;
		// LZMA_FINISH once all the input was handed over.
		r = lzma_code(&x, in->end ? LZMA_FINISH : LZMA_RUN);
		in->pos = in->size - x.avail_in;
		if (!sink_commit(s, room - x.avail_out) || r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			why = lzma_reason(r);
			break;
		}
	}
	lzma_end(&x);
	return why;
}

static const char *decode_lz4(struct input *in, struct sink *s)
{
	LZ4F_dctx *d = NULL;
	const char *why = NULL;
	size_t hint = 1; // 0 once the last frame was complete
	bool full = false;
	unsigned idle = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
		s->error = ENOMEM;
		return NULL;
	}
	while (input_fill(in) && (in->pos < in->size || full)) {
		size_t room, consumed = in->size - in->pos;
		unsigned char *to = sink_next(s, &room);
		size_t produced = room;
		hint = LZ4F_decompress(d, to, &produced, in->buf + in->pos,
				       &consumed, NULL);
		in->pos += consumed;
		full = produced == room;
		if (!sink_commit(s, produced))
			break;
		if (LZ4F_isError(hint)) {
			why = LZ4F_getErrorName(hint);
			break;
		}
		if (stalled(&idle, consumed, produced)) {
			why = stuck;
			break;
		}
	}
	LZ4F_freeDecompressionContext(d);
	if (!why && hint != 0)
		why = cut_short;
	return why;
}

static const char *decode_gzip(struct input *in, struct sink *s)
{
	z_stream z = { 0 };
	const char *why = NULL;
	int r = Z_OK;
	bool full = false;
	unsigned idle = 0;

	// 16 + MAX_WBITS: a gzip header and trailer around the deflate data.
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		s->error = ENOMEM;
		return NULL;
	}
	while (input_fill(in) && (in->pos < in->size || full)) {
		size_t room;
		// One file may hold several members, as `cat a.gz b.gz` makes.
		if (r == Z_STREAM_END && !full)
			inflateReset(&z);
		z.next_in = in->buf + in->pos;
		z.avail_in = (uInt)(in->size - in->pos);
		z.next_out = sink_next(s, &room);
		z.avail_out = (uInt)room;
		size_t before = in->pos;
		r = inflate(&z, Z_NO_FLUSH);
		in->pos = in->size - z.avail_in;
		full = z.avail_out == 0;
		if (!sink_commit(s, room - z.avail_out))
			break;
		if (stalled(&idle, in->pos - before, room - z.avail_out)) {
			why = stuck;
			break;
		}
		if (r == Z_DATA_ERROR || r == Z_NEED_DICT) {
			why = "the data is corrupt";
			break;
		}
		if (r == Z_MEM_ERROR) {
			s->error = ENOMEM;
			break;
		}
	}
	inflateEnd(&z);
	if (!why && r != Z_STREAM_END)
		why = cut_short;
	return why;
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

static const struct format *format_of(const unsigned char *head, size_t n)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (n >= formats[i].magic_len &&
		    memcmp(head, formats[i].magic, formats[i].magic_len) == 0)
			return &formats[i];
	return NULL;
}

const char *tm_compression_of(const unsigned char *head, size_t n,
			      bool *supported)
{
	const struct format *f = format_of(head, n);

	*supported = f && f->decode;
	return f ? f->name : NULL;
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

// Run @f's decoder from @in_fd into a new temporary file; fill @ret.
static struct tm_error *decompress_into_file(const char *path,
					     const struct format *f, int in_fd,
					     struct tm_decompressed *ret)
{
	const char *dir;
	int out_fd = temporary_file(&dir);

	if (out_fd < 0)
		return tm_error_create(
			TM_ERR_IO,
			"%s is %s-compressed, and tm-core cannot "
			"make a file in %s to decompress it "
			"into: %s; set TMPDIR to a folder it may "
			"write",
			path, f->name, dir, strerror(errno));
	struct input in = { .fd = in_fd, .buf = malloc(CHUNK) };
	struct sink s = { .fd = out_fd, .buf = malloc(CHUNK) };
	const char *why = NULL;
	struct tm_error *err = NULL;
	if (!in.buf || !s.buf)
		s.error = ENOMEM;
	else
		why = f->decode(&in, &s);
	bool written = sink_finish(&s);
	if (in.error)
		err = tm_error_errno(TM_ERR_IO, in.error, path, "cannot read");
	else if (!written && s.error == ENOMEM)
		err = &tm_enomem;
	else if (!written)
		err = tm_error_create(
			TM_ERR_IO,
			"cannot decompress %s into %s: %s after "
			"%llu bytes; set TMPDIR to a folder with "
			"more room, or decompress it yourself (%s)",
			path, dir, strerror(s.error),
			(unsigned long long)s.flushed, f->by_hand);
	else if (why && s.flushed == 0)
		err = tm_error_create(TM_ERR_NO_TABLE,
				      "%s: nothing could be decompressed from "
				      "its %s data (%s)",
				      path, f->name, why);
	free(in.buf);
	free(s.buf);
	if (err) {
		close(out_fd);
		return err;
	}
	if (why) {
		size_t n = strlen(path) + strlen(why) + 200;
		ret->damage = malloc(n);
		if (ret->damage && why == cut_short)
			snprintf(ret->damage, n,
				 "%s: its %s data is cut short; the %llu "
				 "bytes it holds are read as a file cut short "
				 "there",
				 path, f->name, (unsigned long long)s.flushed);
		else if (ret->damage)
			snprintf(ret->damage, n,
				 "%s: its %s data is damaged (%s); the %llu "
				 "bytes decompressed are read as a file cut "
				 "short there, and those nearest the damage "
				 "may be wrong",
				 path, f->name, why,
				 (unsigned long long)s.flushed);
	}
	ret->fd = out_fd;
	ret->format = f->name;
	ret->size = s.flushed;
	return NULL;
}

struct tm_error *tm_decompress(const char *path, struct tm_decompressed *ret)
{
	unsigned char head[8];
	struct tm_error *err = NULL;

	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	int in_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in_fd < 0)
		return NULL; // opening it to read it will say why not
	ssize_t n = pread(in_fd, head, sizeof(head), 0);
	const struct format *f = format_of(head, n > 0 ? (size_t)n : 0);
	if (f && !f->decode)
		err = tm_error_create(TM_ERR_NO_TABLE,
				      "%s is %s-compressed, which tm-core does "
				      "not read: decompress it first (%s)",
				      path, f->name, f->by_hand);
	else if (f)
		err = decompress_into_file(path, f, in_fd, ret);
	close(in_fd);
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
