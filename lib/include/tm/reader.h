/* reader.h: read a trace table from outside the process that wrote it.
 *
 * A source hands out bytes at addresses (live memory, a core, a file, a
 * buffer); tm_locate() finds the table in it and tm_table_decode() turns it
 * into traces, tracebacks and modules, through the descriptors the table
 * carries (docs/layout.md).  Functions return NULL on success or an error the
 * caller destroys.  Objects are not thread-safe; distinct objects may be used
 * from distinct threads.
 */
#ifndef TM_READER_H
#define TM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TM_PUBLIC
#define TM_PUBLIC __attribute__((visibility("default")))
#endif

/** What went wrong; each maps to one tm-core exit status. */
enum tm_error_code {
	TM_ERR_NOMEM = 1, /**< out of memory (exit 2) */
	TM_ERR_USAGE,	  /**< bad arguments (exit 1) */
	TM_ERR_IO,	  /**< the source cannot be read (exit 2) */
	TM_ERR_NO_TABLE,  /**< the source holds no trace table (exit 2) */
	TM_ERR_BAD_TABLE, /**< the table is there but damaged (exit 3) */
	TM_ERR_VERSION,	  /**< the table's layout is not readable (exit 3) */
	TM_ERR_FAULT,	  /**< an address cannot be read */
};

struct tm_error;

/** The static out-of-memory error; destroying it is a no-op. */
TM_PUBLIC extern struct tm_error tm_enomem;

TM_PUBLIC enum tm_error_code tm_error_code(const struct tm_error *err);
/** The message: one line, saying what is wrong and what to do.  Borrowed:
 * valid until tm_error_destroy(). */
TM_PUBLIC const char *tm_error_message(const struct tm_error *err);
/** The tm-core exit status for this error (1, 2 or 3). */
TM_PUBLIC int tm_error_exit_status(const struct tm_error *err);
/** NULL is allowed. */
TM_PUBLIC void tm_error_destroy(struct tm_error *err);

/** An error of code TM_ERR_FAULT for a read callback to return: @n bytes
 * at @address cannot be read, because @why (may be NULL).  Caller
 * destroys, or returns it from the callback. */
TM_PUBLIC struct tm_error *tm_error_fault_create(uint64_t address, size_t n,
						 const char *why);

/**
 * Read @n bytes at @address into @buf, all of them or fail; a failure is an
 * error of code TM_ERR_FAULT (or TM_ERR_IO).
 */
typedef struct tm_error *(*tm_read_fn)(void *buf, uint64_t address, size_t n,
				       void *arg);

struct tm_source;

/** A source over a read callback.  @arg is borrowed. */
TM_PUBLIC struct tm_error *tm_source_create(tm_read_fn read, void *arg,
					    struct tm_source **ret);
/** A source over @size bytes at @data, seen at addresses @base...  The
 * bytes are borrowed and must outlive the source. */
TM_PUBLIC struct tm_error *tm_source_buffer_create(const void *data,
						   size_t size, uint64_t base,
						   struct tm_source **ret);
/** A source over a whole file, seen at addresses 0..size. */
TM_PUBLIC struct tm_error *tm_source_file_create(const char *path,
						 struct tm_source **ret);
/** A source over an ELF core dump's memory (its PT_LOAD contents). */
TM_PUBLIC struct tm_error *tm_source_core_create(const char *path,
						 struct tm_source **ret);
/** A source over live process @pid's memory; its segments are the readable
 * mappings of /proc/PID/maps.  Reads do not stop the process. */
TM_PUBLIC struct tm_error *tm_source_pid_create(int pid,
						struct tm_source **ret);
/** Tell the source that [@start, @start + @size) is readable memory; the
 * magic scan looks only there. */
TM_PUBLIC struct tm_error *tm_source_add_segment(struct tm_source *src,
						 uint64_t start, uint64_t size);
/** NULL is allowed. */
TM_PUBLIC void tm_source_destroy(struct tm_source *src);

/** The file some bytes were read from instead of the source itself, or
 * NULL.  A core has no contents for the shared file mappings it does not
 * dump (a TRACEMALLOC_FILE table among them); those are read from the
 * file the core says was mapped there, as that file is now.  Borrowed. */
TM_PUBLIC const char *tm_source_substitute(const struct tm_source *src);

/** Read bytes through a source (bounded by nothing but the source). */
TM_PUBLIC struct tm_error *tm_source_read(struct tm_source *src, void *buf,
					  uint64_t address, size_t n);

/** Find the table through the well-known descriptor at @descriptor (the
 * address of __tracemalloc_descriptor).  Stores the region's address. */
TM_PUBLIC struct tm_error *
tm_locate_descriptor(struct tm_source *src, uint64_t descriptor, uint64_t *ret);
/** The address of __tracemalloc_descriptor in process @pid, or in the core
 * at @path, looked up in the symbol tables of their modules (which must be
 * at hand: for a core, under @sysroot first if not NULL, with the build-id
 * the core names).  Pass it to tm_locate_descriptor(). */
TM_PUBLIC struct tm_error *tm_find_descriptor_pid(int pid, uint64_t *ret);
TM_PUBLIC struct tm_error *
tm_find_descriptor_core(const char *path, const char *sysroot, uint64_t *ret);
/** Find the table by its magic at page starts of the source's segments; a
 * table counts only where its header says it was mapped.  Stores the lowest
 * such address, and through @ret_count (may be NULL) how many were found. */
TM_PUBLIC struct tm_error *tm_locate_scan(struct tm_source *src, uint64_t *ret,
					  unsigned *ret_count);

/** Counts of what a decode had to skip; all zero for a clean table. */
struct tm_damage {
	uint64_t shards_in_flight;  /**< shards mid-operation: traces read,
				         up to one operation each missing */
	uint64_t shards_unreadable; /**< shards whose slots could not be read */
	uint64_t shards_inconsistent; /**< idle shards whose counts disagree */
	uint64_t traces_bad;	      /**< slots naming an invalid traceback */
	uint64_t bytes_unreadable;    /**< region bytes the source lacked */
	uint64_t modules_bad;	      /**< module records skipped */
};

struct tm_traceback {
	uint32_t nframe;
	uint32_t total_nframe;
	const uint64_t *frames; /**< return addresses, most recent first */
};

struct tm_trace {
	uint64_t address;
	uint64_t size;
	uint32_t domain;
	const struct tm_traceback *traceback;
};

struct tm_module {
	uint64_t load_bias;
	uint64_t start;
	uint64_t end;
	const char *path;
	const uint8_t *build_id;
	size_t build_id_len;
};

struct tm_table_info {
	unsigned version_major, version_minor;
	unsigned pointer_size;
	bool swapped;	       /**< written in the other byte order */
	const char *writer;    /**< e.g. "libtracemalloc 0.1.0" */
	uint64_t base_address; /**< where the writer mapped the region */
	uint64_t region_size;
	uint32_t pid;
	bool tracing;
	bool file_backed;
	unsigned traceback_limit;
	unsigned unwind_limit;
	uint64_t epoch;
	uint64_t peak_size;   /**< at least traced_size */
	uint64_t untraced;    /**< allocations the table had no room for */
	uint64_t traced_size; /**< sum of the decoded traces' sizes */
	uint64_t memory_size; /**< bytes the writer used for the table */
};

struct tm_table;

/** Decode the table whose region starts at @base.  Partial damage is not an
 * error: it is counted in tm_table_damage().  Caller destroys the table. */
TM_PUBLIC struct tm_error *tm_table_decode(struct tm_source *src, uint64_t base,
					   struct tm_table **ret);
/** NULL is allowed. */
TM_PUBLIC void tm_table_destroy(struct tm_table *table);

/**
 * Copy the bytes of the table at @base out of @src, as a trace file holds
 * them (the table at offset 0): what the source lacks is zero.  Caller
 * frees *@ret with free().
 */
TM_PUBLIC struct tm_error *tm_table_extract(struct tm_source *src,
					    uint64_t base, void **ret,
					    size_t *ret_size);

/** Borrowed: valid until tm_table_destroy(). */
TM_PUBLIC const struct tm_table_info *tm_table_info(const struct tm_table *t);
TM_PUBLIC const struct tm_damage *tm_table_damage(const struct tm_table *t);
TM_PUBLIC const struct tm_trace *tm_table_traces(const struct tm_table *t,
						 size_t *count);
TM_PUBLIC const struct tm_module *tm_table_modules(const struct tm_table *t,
						   size_t *count);
/** The number of distinct tracebacks among the traces. */
TM_PUBLIC size_t tm_table_traceback_count(const struct tm_table *t);

#ifdef __cplusplus
}
#endif

#endif /* TM_READER_H */
