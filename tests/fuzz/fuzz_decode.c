// fuzz_decode.c: feed arbitrary bytes to the reader the way tools use it:
// as a trace file (table at offset 0) and as process memory to scan for a
// table.  Asserts only that every run ends cleanly (under ASan and UBSan).
//
// With libFuzzer (-DTM_LIBFUZZER -fsanitize=fuzzer) this is a fuzz target.
// Otherwise it builds with a main that, for each seed (files given on the
// command line, plus tables built in memory), decodes the seed and then
// N deterministic random mutations of it:
//   fuzz_decode [--mutations N] [--seed S] [FILE...]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_at(struct tm_source *src, uint64_t base)
{
	struct tm_table *table = NULL;
	struct tm_error *err = tm_table_decode(src, base, &table);

	if (!err) {
		size_t n, nmod;
		const struct tm_trace *t = tm_table_traces(table, &n);
		const struct tm_module *m = tm_table_modules(table, &nmod);
		uint64_t sum = 0;
		// Touch everything a front end would.
		for (size_t i = 0; i < n; i++) {
			sum += t[i].size + t[i].traceback->total_nframe;
			for (uint32_t k = 0; k < t[i].traceback->nframe; k++)
				sum += t[i].traceback->frames[k];
		}
		for (size_t i = 0; i < nmod; i++)
			sum += strlen(m[i].path) + m[i].build_id_len;
		sum += strlen(tm_table_info(table)->writer);
		if (sum == 42)
			fputc(' ', stderr); // keep the reads
	}
	tm_error_destroy(err);
	tm_table_destroy(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_source *src;
	uint64_t base;

	if (tm_source_buffer_create(data, size, 0, &src))
		return 0;
	decode_at(src, 0);
	tm_source_destroy(src);
	// As memory at an address where the table may claim to live.
	if (tm_source_buffer_create(data, size, 0x7f0000000000, &src))
		return 0;
	struct tm_error *err = tm_locate_scan(src, &base, NULL);
	if (!err)
		decode_at(src, base);
	tm_error_destroy(err);
	tm_source_destroy(src);
	return 0;
}

#ifndef TM_LIBFUZZER
#include "table_builder.h"

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

// Values that hit boundaries: zero, all ones, sizes and offsets near the
// input's end, tiny and huge counts.
static uint64_t interesting(size_t size)
{
	static const uint64_t values[] = {
		0,    1,      2,	  7,	      8,
		255,  0xffff, 0xffffffff, UINT64_MAX, UINT64_MAX / 2,
		4096, 65536,  1ull << 40,
	};
	switch (next() % 4) {
	case 0:
		return size - next() % (size ? size : 1);
	case 1:
		return next() % (size + 64);
	default:
		return values[next() % (sizeof(values) / sizeof(values[0]))];
	}
}

static void mutate(uint8_t *buf, size_t *size, size_t cap)
{
	unsigned edits = 1 + next() % 4;

	for (unsigned e = 0; e < edits && *size; e++) {
		size_t at = next() % *size;
		switch (next() % 5) {
		case 0: // flip bits
			buf[at] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: // a random byte
			buf[at] = (uint8_t)next();
			break;
		case 2: { // an interesting 1/2/4/8-byte value
			unsigned w = 1u << (next() % 4);
			uint64_t v = interesting(*size);
			at &= ~(size_t)(w - 1);
			for (unsigned i = 0; i < w && at + i < *size; i++)
				buf[at + i] = (uint8_t)(v >> (8 * i));
			break;
		}
		case 3: // truncate
			*size = at;
			break;
		default: // copy a chunk over another
		{
			size_t from = next() % *size, n = next() % 64;
			if (from + n > *size)
				n = *size - from;
			if (at + n > cap)
				n = cap - at;
			memmove(buf + at, buf + from, n);
			break;
		}
		}
	}
}

static void run(const char *name, const uint8_t *seed, size_t size,
		unsigned mutations)
{
	uint8_t *buf = malloc(size ? size : 1);

	LLVMFuzzerTestOneInput(seed, size);
	for (unsigned i = 0; i < mutations; i++) {
		size_t n = size;
		memcpy(buf, seed, size);
		mutate(buf, &n, size);
		LLVMFuzzerTestOneInput(buf, n);
	}
	free(buf);
	printf("fuzz_decode: %s: %zu bytes, %u mutations, no faults\n", name,
	       size, mutations);
}

static void built_seed(const char *name, bool big_endian, unsigned mutations)
{
	struct tb_record records[TM_RECORD_TYPE_COUNT];
	struct builder b;
	static const uint64_t frames[] = { 0x401000, 0x402000, 0x403000 };
	static const uint8_t id[] = { 1, 2, 3, 4 };

	builder_default_records(records);
	builder_init(&b, records, big_endian, 4);
	uint32_t tb = builder_traceback(&b, frames, 3, 5);
	uint32_t tb2 = builder_traceback(&b, frames + 1, 2, 2);
	for (unsigned i = 0; i < 12; i++)
		builder_trace(&b, i % 4, i % 3, 0x10000 + i * 64, 10 + i,
			      i % 2 ? tb : tb2);
	builder_module(&b, "/usr/lib/a.so", 0x400000, 0x500000, id, 4);
	builder_module(&b, "/usr/bin/b", 0x600000, 0x700000, NULL, 0);
	builder_finish(&b);
	run(name, b.buf, b.used, mutations);
	builder_deinit(&b);
}

int main(int argc, char **argv)
{
	unsigned mutations = 2000;
	int i = 1;

	rng = 0x9e3779b97f4a7c15ULL;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--mutations") == 0 && i + 1 < argc)
			mutations = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0) | 1;
		else {
			fprintf(stderr, "usage: fuzz_decode [--mutations N] "
					"[--seed S] [FILE...]\n");
			return 1;
		}
	}
	built_seed("little-endian table", false, mutations);
	built_seed("big-endian table", true, mutations);
	for (; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		rewind(f);
		uint8_t *seed = malloc(n > 0 ? (size_t)n : 1);
		size_t got = fread(seed, 1, (size_t)n, f);
		fclose(f);
		run(argv[i], seed, got, mutations);
		free(seed);
	}
	return 0;
}
#endif
