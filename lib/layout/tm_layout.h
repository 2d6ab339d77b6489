// tm_layout.h: the one definition of the trace table layout.
//
// Writer (lib/runtime) and reader (lib/reader) both include this file; the
// specification in docs/layout.md describes the same bytes.  Nothing here
// depends on anything but <stdint.h>.
//
// A trace table is one contiguous region.  Every reference inside it is a
// uint64_t offset from the region base (docs/layout.md, "Offsets"), so the
// bytes decode the same from live memory, a core or a file.  The region starts
// with a fixed preamble that never changes; everything after it is described
// by record descriptors, and readers locate fields by name through them.
#ifndef TM_LAYOUT_H
#define TM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

// The first 8 bytes of every table, at a page start in memory and at offset 0
// of a trace file.  The 0x89 and CR LF SUB LF bytes catch text-mode mangling
// the way PNG's signature does.
#define TM_LAYOUT_MAGIC "\x89TMT\r\n\x1a\n"
#define TM_LAYOUT_MAGIC_SIZE 8

// Written in the writer's native order; a reader that sees the swapped value
// swaps every field it reads.
#define TM_LAYOUT_BYTE_ORDER 0x01020304u

// The major version changes only when an existing field changes meaning or
// the preamble changes; readers refuse any other major.  The minor version
// grows when fields or record types are added; older readers ignore them.
#define TM_LAYOUT_VERSION_MAJOR 1
#define TM_LAYOUT_VERSION_MINOR 1

// Regions start page aligned; the magic scan looks at these boundaries.
#define TM_LAYOUT_PAGE_SIZE 4096

// Traceback references in trace records are stored in units of this many
// bytes, so a 32-bit field reaches 32 GiB of region.
#define TM_LAYOUT_TRACEBACK_ALIGN 8

// Reserved traceback reference values in a trace slot.
#define TM_TRACE_SLOT_EMPTY 0u
#define TM_TRACE_SLOT_TOMBSTONE 1u

// Header flag bits.
#define TM_HEADER_FLAG_TRACING 0x1u
#define TM_HEADER_FLAG_FILE_BACKED 0x2u

// Field descriptor flag: the field is an array of `size`-byte elements that
// runs to the end of the record; its length is given by another field
// (docs/layout.md names which).
#define TM_FIELD_FLAG_TRAILING_ARRAY 0x1u

// The limits a writer never exceeds; readers enforce them too.
#define TM_LAYOUT_MAX_NFRAME 128
#define TM_LAYOUT_MAX_RECORD_TYPES 64
#define TM_LAYOUT_MAX_FIELDS 64
#define TM_LAYOUT_MAX_SHARDS 65536
#define TM_LAYOUT_MAX_MODULES 65536
#define TM_LAYOUT_MAX_PATH 4096
#define TM_LAYOUT_MAX_BUILD_ID 64

// The fixed preamble at offset 0.  Its layout never changes.
struct tm_preamble {
	uint8_t magic[TM_LAYOUT_MAGIC_SIZE];
	uint32_t byte_order;
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t pointer_size;
	uint32_t record_type_count;
	uint64_t record_types; // offset of tm_record_desc[record_type_count]
	uint64_t header;       // offset of the "header" record
};

// A record descriptor and its field descriptors.  Also fixed forever.
#define TM_DESC_NAME_SIZE 24
struct tm_record_desc {
	char name[TM_DESC_NAME_SIZE];
	uint32_t size; // bytes of the fixed part of one record
	uint32_t field_count;
	uint64_t fields; // offset of tm_field_desc[field_count]
};

struct tm_field_desc {
	char name[TM_DESC_NAME_SIZE];
	uint32_t offset;
	uint16_t size;
	uint16_t flags;
};

// Record field lists.  Each expands into a C struct for the writer and into
// a descriptor table (layout_desc.c) for the region; docs/layout.md lists the
// same fields.  Append new fields at the end and bump the minor version.

// "header": one record right after the preamble.
#define TM_HEADER_FIELDS(X)                                                    \
	X(uint64_t, base_address) /* where the writer mapped the region */     \
	X(uint64_t, region_size)  /* readable bytes from the base */           \
	X(uint64_t, used)   /* bytes handed out by the region allocator */     \
	X(uint64_t, writer) /* offset of a NUL-terminated writer name */       \
	X(uint32_t, pid)                                                       \
	X(uint32_t, flags) /* TM_HEADER_FLAG_* */                              \
	X(uint32_t, traceback_limit)                                           \
	X(uint32_t, unwind_limit) /* total_nframe saturates here */            \
	X(uint64_t, epoch)	  /* bumped by start, stop and clear */        \
	X(uint64_t, peak_size)                                                 \
	X(uint64_t, untraced) /* not recorded: table full, or no stack */      \
	X(uint32_t, shard_count)                                               \
	X(uint32_t, module_count)                                              \
	X(uint64_t, shards)   /* offset of shard records */                    \
	X(uint64_t, modules)  /* offset of the newest module record */         \
	X(uint64_t, released) /* of `used`, bytes given back (1.1) */

// "shard": traces live in shard_count open-addressing tables.  A writer holds
// `lock` while it changes the shard and keeps `seq` odd meanwhile, so a frozen
// image shows which shards had an operation in flight.
#define TM_SHARD_FIELDS(X)                                                     \
	X(uint32_t, lock)                                                      \
	X(uint32_t, seq)                                                       \
	X(uint64_t, count)    /* live traces */                                \
	X(uint64_t, size)     /* sum of their sizes */                         \
	X(uint64_t, capacity) /* slots, a power of two */                      \
	X(uint64_t, tombstones)                                                \
	X(uint64_t, slots) /* offset of trace[capacity] */                     \
	X(uint64_t, pad0)                                                      \
	X(uint64_t, pad1)

// "trace": one slot of a shard.  `traceback` is the traceback record's offset
// divided by TM_LAYOUT_TRACEBACK_ALIGN, or TM_TRACE_SLOT_EMPTY/TOMBSTONE.  It
// is written last, so a slot that names a traceback is complete.
#define TM_TRACE_FIELDS(X)                                                     \
	X(uint64_t, address)                                                   \
	X(uint64_t, size)                                                      \
	X(uint32_t, domain)                                                    \
	X(uint32_t, traceback)

// "traceback": immutable once published; frames are return addresses, most
// recent first, and follow the fixed part as a trailing array of nframe.
#define TM_TRACEBACK_FIELDS(X)                                                 \
	X(uint32_t, hash)                                                      \
	X(uint16_t, nframe)                                                    \
	X(uint16_t, total_nframe)

// "module": a loaded object, newest first through `next` (0 ends the list).
#define TM_MODULE_FIELDS(X)                                                    \
	X(uint64_t, next)                                                      \
	X(uint64_t, load_bias) /* l_addr: runtime address - ELF vaddr */       \
	X(uint64_t, start)     /* lowest mapped address of its PT_LOADs */     \
	X(uint64_t, end)                                                       \
	X(uint64_t, path)     /* offset of path_len bytes (plus a NUL) */      \
	X(uint64_t, build_id) /* offset of build_id_len bytes */               \
	X(uint32_t, path_len)                                                  \
	X(uint32_t, build_id_len)

// Writer-side structs, expanded from the lists above.
#define TM_LAYOUT_STRUCT_FIELD(type, name) type name;

struct tm_header_rec {
	TM_HEADER_FIELDS(TM_LAYOUT_STRUCT_FIELD)
};
struct tm_shard_rec {
	TM_SHARD_FIELDS(TM_LAYOUT_STRUCT_FIELD)
};
struct tm_trace_rec {
	TM_TRACE_FIELDS(TM_LAYOUT_STRUCT_FIELD)
};
struct tm_traceback_rec {
	TM_TRACEBACK_FIELDS(TM_LAYOUT_STRUCT_FIELD)
	uint64_t frames[];
};
struct tm_module_rec {
	TM_MODULE_FIELDS(TM_LAYOUT_STRUCT_FIELD)
};

// Where this writer puts the header.  Readers do not rely on it: they follow
// preamble.header.
#define TM_LAYOUT_HEADER_OFFSET 64

// The record types a version-1 writer emits, in descriptor-table order.
enum tm_record_type {
	TM_RECORD_HEADER,
	TM_RECORD_SHARD,
	TM_RECORD_TRACE,
	TM_RECORD_TRACEBACK,
	TM_RECORD_MODULE,
	TM_RECORD_TYPE_COUNT,
};

// One descriptor as the writer knows it, before it is copied into a region.
struct tm_layout_field {
	const char *name;
	uint32_t offset;
	uint16_t size;
	uint16_t flags;
};
struct tm_layout_record {
	const char *name;
	uint32_t size;
	uint32_t field_count;
	const struct tm_layout_field *fields;
};

// The descriptor tables of this layout version (layout_desc.c).
extern const struct tm_layout_record tm_layout_records[TM_RECORD_TYPE_COUNT];

// The well-known symbol through which debuggers find the table, modelled on
// GDB's __jit_debug_descriptor.  Its layout is fixed forever.
#define TM_DESCRIPTOR_SYMBOL "__tracemalloc_descriptor"
#define TM_DESCRIPTOR_VERSION 1
struct tm_descriptor {
	uint32_t version;
	uint32_t flags;	 // 1 while a region is mapped
	uint64_t region; // address of the region, 0 if none
	uint64_t region_size;
};

#endif // TM_LAYOUT_H
