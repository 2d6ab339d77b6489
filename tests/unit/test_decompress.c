// test_decompress.c: compressed sources (lib/reader/decompress.c).  Each
// format the reader takes is made here with its own library, then read
// back: whole, concatenated, cut short and damaged; the copy keeps zero
// pages as holes; a pipe is copied, compressed or not; formats and folders
// it cannot use are refused clearly.
#include "tm_test.h"

#include "decompress.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define MIB (1024 * 1024)

enum format { ZSTD, XZ, LZ4, GZIP, FORMATS };
static const char *const names[] = { "zstd", "xz", "lz4", "gzip" };

// What is compressed: 1 MiB of a pattern, 2 MiB of zeros, 1 MiB of the
// pattern, and 100 zero bytes at the end (the file's length must keep
// them though no write does).
#define PAYLOAD_SIZE (4 * MIB + 100)
static unsigned char *payload;

static int setup(void **state)
{
	payload = calloc(1, PAYLOAD_SIZE);
	if (!payload)
		return -1;
	uint32_t x = 12345;
	for (size_t i = 0; i < MIB; i++) {
		x = x * 1103515245 + 12345;
		// Some repetition, so that every format really compresses.
		payload[i] = payload[3 * MIB + i] = (unsigned char)(x >> 28);
	}
	return 0;
}

static int teardown(void **state)
{
	free(payload);
	return 0;
}

// @data (@n bytes) compressed in @f's file format into a new buffer.
static unsigned char *compress_as(enum format f, const void *data, size_t n,
				  size_t *ret_n)
{
	size_t cap = n + n / 2 + MIB;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	switch (f) {
	case ZSTD: {
		// With a checksum, as the zstd tool and systemd-coredump write.
		ZSTD_CCtx *z = ZSTD_createCCtx();
		assert_non_null(z);
		ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
		*ret_n = ZSTD_compress2(z, out, cap, data, n);
		assert_false(ZSTD_isError(*ret_n));
		ZSTD_freeCCtx(z);
		break;
	}
	case XZ:
		*ret_n = 0;
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64,
							 NULL, data, n, out,
							 ret_n, cap),
				 LZMA_OK);
		break;
	case LZ4: {
		// Content checksum on, as the lz4 tool writes it.
		LZ4F_preferences_t prefs = { 0 };
		prefs.frameInfo.contentChecksumFlag =
			LZ4F_contentChecksumEnabled;
		*ret_n = LZ4F_compressFrame(out, cap, data, n, &prefs);
		assert_false(LZ4F_isError(*ret_n));
		break;
	}
	case GZIP: {
		z_stream z = { 0 };
		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS,
					      8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		z.next_in = (unsigned char *)data;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		*ret_n = z.total_out;
		deflateEnd(&z);
		break;
	}
	default:
		fail();
	}
	return out;
}

static char dir[] = "/tmp/tm-decompress.XXXXXX";
static bool have_dir;

// A file in a fresh folder holding @n bytes of @data; its path.
static const char *file_with(const void *data, size_t n)
{
	static char path[sizeof(dir) + 16];

	if (!have_dir && !mkdtemp(dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	have_dir = true;
	snprintf(path, sizeof(path), "%s/source", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

// The decompressed copy holds @n bytes equal to @expected.
static void assert_copy_is(const struct tm_decompressed *d,
			   const unsigned char *expected, size_t n)
{
	struct stat st;
	unsigned char *got = malloc(n + 1);

	assert_non_null(got);
	assert_int_equal(fstat(d->fd, &st), 0);
	assert_int_equal(st.st_size, n);
	assert_int_equal(d->size, n);
	assert_int_equal(pread(d->fd, got, n + 1, 0), n);
	assert_memory_equal(got, expected, n);
	free(got);
}

static void test_each_format_whole(void **state)
{
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed =
			compress_as(f, payload, PAYLOAD_SIZE, &n);
		struct tm_decompressed d;

		assert_tm_ok(tm_decompress(file_with(packed, n), "f", &d));
		assert_string_equal(d.format, names[f]);
		assert_null(d.damage);
		assert_copy_is(&d, payload, PAYLOAD_SIZE);
		// The 2 MiB of zeros and the zero tail are holes.
		struct stat st;
		assert_int_equal(fstat(d.fd, &st), 0);
		assert_true((uint64_t)st.st_blocks * 512 <=
			    2 * MIB + 64 * 1024);
		tm_decompressed_release(&d);
		assert_int_equal(d.fd, -1);
		free(packed);
	}
}

// Data that ends just as the staging buffer fills (a whole number of MiB,
// as trace files are) ends where it should: after a frame's end, zstd and
// lz4 wait for the next frame, which is not a cut.
static void test_each_format_whole_mebibytes(void **state)
{
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed = compress_as(f, payload, 3 * MIB, &n);
		struct tm_decompressed d;

		assert_tm_ok(tm_decompress(file_with(packed, n), "f", &d));
		assert_null(d.damage);
		assert_copy_is(&d, payload, 3 * MIB);
		tm_decompressed_release(&d);
		free(packed);
	}
}

// `cat a.zst b.zst`, and the same for the other formats, is one file.
static void test_each_format_concatenated(void **state)
{
	unsigned char *twice = malloc(2 * PAYLOAD_SIZE);

	assert_non_null(twice);
	memcpy(twice, payload, PAYLOAD_SIZE);
	memcpy(twice + PAYLOAD_SIZE, payload, PAYLOAD_SIZE);
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed =
			compress_as(f, payload, PAYLOAD_SIZE, &n);
		unsigned char *both = malloc(2 * n);
		struct tm_decompressed d;

		assert_non_null(both);
		memcpy(both, packed, n);
		memcpy(both + n, packed, n);
		assert_tm_ok(tm_decompress(file_with(both, 2 * n), "f", &d));
		assert_null(d.damage);
		assert_copy_is(&d, twice, 2 * PAYLOAD_SIZE);
		tm_decompressed_release(&d);
		free(both);
		free(packed);
	}
	free(twice);
}

static void test_each_format_cut_short(void **state)
{
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		// Several frames or blocks, so that a cut leaves some whole.
		unsigned char *a = compress_as(f, payload, 2 * MIB, &n);
		size_t n2;
		unsigned char *b = compress_as(f, payload + 2 * MIB,
					       PAYLOAD_SIZE - 2 * MIB, &n2);
		unsigned char *both = malloc(n + n2);
		struct tm_decompressed d;

		assert_non_null(both);
		memcpy(both, a, n);
		memcpy(both + n, b, n2);
		// Into the second frame: the first is all there.
		assert_tm_ok(
			tm_decompress(file_with(both, n + n2 / 2), "f", &d));
		assert_non_null(d.damage);
		assert_non_null(strstr(d.damage, "is cut short"));
		assert_true(d.size >= 2 * MIB && d.size < PAYLOAD_SIZE);
		assert_copy_is(&d, payload, d.size);
		tm_decompressed_release(&d);
		free(both);
		free(a);
		free(b);
	}
}

static void test_each_format_damaged(void **state)
{
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed =
			compress_as(f, payload, PAYLOAD_SIZE, &n);
		struct tm_decompressed d;

		// Bytes in the middle of the first megabyte's data.
		for (size_t i = n / 8; i < n / 8 + 16; i++)
			packed[i] ^= 0x5a;
		assert_tm_ok(tm_decompress(file_with(packed, n), "f", &d));
		assert_non_null(d.damage);
		assert_non_null(strstr(d.damage, "is damaged ("));
		assert_non_null(strstr(d.damage, names[f]));
		tm_decompressed_release(&d);
		free(packed);
	}
}

static void test_nothing_decompressed(void **state)
{
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed =
			compress_as(f, payload, PAYLOAD_SIZE, &n);
		struct tm_decompressed d;

		// Less than any of the formats' headers.
		assert_tm_err(tm_decompress(file_with(packed, 7), "f", &d),
			      TM_ERR_NO_TABLE, "nothing could be decompressed");
		assert_int_equal(d.fd, -1);
		free(packed);
	}
}

static void test_plain_file_untouched(void **state)
{
	struct tm_decompressed d;

	assert_tm_ok(tm_decompress(file_with(payload, MIB), "f", &d));
	assert_int_equal(d.fd, -1);
	assert_null(d.format);
	// A missing file is left for the reader to name.
	assert_tm_ok(tm_decompress("/nonexistent/core", "f", &d));
	assert_int_equal(d.fd, -1);
}

// A FIFO in the test's folder, written by a child with @n bytes of @data,
// the first 3 bytes alone (a pipe may give less than the head tm_decompress
// looks at); its path.  reap() waits for the child.
static pid_t writer;

static const char *fifo_with(const void *data, size_t n)
{
	static char path[sizeof(dir) + 16];

	file_with("", 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) {
		int fd = open(path, O_WRONLY);
		size_t first = n < 3 ? n : 3;
		bool ok = fd >= 0 && write(fd, data, first) == (ssize_t)first;
		if (ok)
			usleep(10000);
		for (size_t done = first; ok && done < n;) {
			ssize_t w =
				write(fd, (const char *)data + done, n - done);
			ok = w > 0;
			done += ok ? (size_t)w : 0;
		}
		_exit(ok ? 0 : 1);
	}
	return path;
}

static void reap(void)
{
	int status;

	assert_int_equal(waitpid(writer, &status, 0), writer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_piped(void **state)
{
	struct tm_decompressed d;

	// Not compressed: copied as it is, holes and trailing zeros kept.
	assert_tm_ok(tm_decompress(fifo_with(payload, PAYLOAD_SIZE), "f", &d));
	reap();
	assert_true(d.piped);
	assert_null(d.format);
	assert_copy_is(&d, payload, PAYLOAD_SIZE);
	tm_decompressed_release(&d);
	// Shorter than a compressed format's magic.
	assert_tm_ok(tm_decompress(fifo_with("\x28\xb5", 2), "f", &d));
	reap();
	assert_copy_is(&d, (const unsigned char *)"\x28\xb5", 2);
	tm_decompressed_release(&d);
	for (enum format f = 0; f < FORMATS; f++) {
		size_t n;
		unsigned char *packed =
			compress_as(f, payload, PAYLOAD_SIZE, &n);

		assert_tm_ok(tm_decompress(fifo_with(packed, n), "f", &d));
		reap();
		assert_true(d.piped);
		assert_string_equal(d.format, names[f]);
		assert_null(d.damage);
		assert_copy_is(&d, payload, PAYLOAD_SIZE);
		tm_decompressed_release(&d);
		free(packed);
	}
	// Nothing at all.
	assert_tm_err(tm_decompress(fifo_with("", 0), "standard input", &d),
		      TM_ERR_NO_TABLE,
		      "standard input: nothing came through the pipe");
	reap();
	assert_int_equal(d.fd, -1);
}

static void test_refused(void **state)
{
	struct tm_decompressed d;
	size_t n;
	unsigned char *packed = compress_as(ZSTD, payload, MIB, &n);

	assert_tm_err(tm_decompress(file_with("BZh91AY&SY", 10), "f", &d),
		      TM_ERR_NO_TABLE,
		      "bzip2-compressed, which tm-core does "
		      "not read: decompress it first "
		      "(bzip2 -d)");
	setenv("TMPDIR", "/nonexistent", 1);
	assert_tm_err(tm_decompress(file_with(packed, n), "f", &d), TM_ERR_IO,
		      "cannot make a file in /nonexistent to decompress it "
		      "into: No such file or directory; set TMPDIR");
	unsetenv("TMPDIR");
	assert_int_equal(d.fd, -1);
	free(packed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_format_whole),
		cmocka_unit_test(test_each_format_whole_mebibytes),
		cmocka_unit_test(test_each_format_concatenated),
		cmocka_unit_test(test_each_format_cut_short),
		cmocka_unit_test(test_each_format_damaged),
		cmocka_unit_test(test_nothing_decompressed),
		cmocka_unit_test(test_plain_file_untouched),
		cmocka_unit_test(test_piped),
		cmocka_unit_test(test_refused),
	};
	int failed = cmocka_run_group_tests_name("decompress", tests, setup,
						 teardown);

	char path[sizeof(dir) + 16];
	snprintf(path, sizeof(path), "%s/source", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	unlink(path);
	rmdir(dir);
	return failed;
}
