# lib/local.mk: the layout, the runtime and the reader.

LAYOUT_SOURCES = lib/layout/tm_layout.h lib/layout/layout_desc.c

# --- the runtime: layout and libc only -------------------------------------
RUNTIME_SOURCES = $(LAYOUT_SOURCES) \
	lib/runtime/guard.h lib/runtime/prim.h lib/runtime/prim.c \
	lib/runtime/region.h lib/runtime/region.c lib/runtime/runtime.h \
	lib/runtime/table.h lib/runtime/table.c \
	lib/runtime/intern.c lib/runtime/unwind.c \
	lib/runtime/program_wrappers.c lib/runtime/library_wrappers.c \
	lib/runtime/stackcache.h lib/runtime/stackcache.c \
	lib/runtime/peak.h lib/runtime/peak.c \
	lib/runtime/record.h lib/runtime/record.c \
	lib/runtime/modules.c lib/runtime/control.c \
	lib/runtime/hooks.c lib/runtime/cxx_hooks.c \
	lib/runtime/env.c lib/runtime/gdb_autoload.c \
	lib/runtime/dlclose.c \
	lib/runtime/switch_stack.S
RUNTIME_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/layout \
	-I$(srcdir)/lib/include -DTM_PLUGIN_DIR='"$(pkgdatadir)/python"'
# The hooks must not be turned into calls to themselves (calloc into
# malloc+memset) and must keep their stack frames for the unwinder.
RUNTIME_CFLAGS = $(AM_CFLAGS) -fno-builtin -fno-omit-frame-pointer \
	-fno-strict-aliasing -ftls-model=initial-exec

lib_LTLIBRARIES += libtracemalloc.la
libtracemalloc_la_SOURCES = $(RUNTIME_SOURCES)
libtracemalloc_la_CPPFLAGS = $(RUNTIME_CPPFLAGS)
libtracemalloc_la_CFLAGS = $(RUNTIME_CFLAGS)
libtracemalloc_la_LIBADD = -ldl -lpthread
libtracemalloc_la_LDFLAGS = -version-info 0:0:0 \
	-Wl,--version-script=$(srcdir)/lib/runtime/libtracemalloc.map \
	-Wl,-z,nodelete -Wl,-z,now
EXTRA_DIST += lib/runtime/libtracemalloc.map
EXTRA_libtracemalloc_la_DEPENDENCIES = lib/runtime/libtracemalloc.map
tmincludedir = $(includedir)/tm
tminclude_HEADERS = lib/include/tm/tracemalloc.h lib/include/tm/reader.h \
	lib/include/tm/symbolize.h lib/include/tm/snapshot.h \
	lib/include/tm/session.h

# --- the reader: memory sources and the descriptor-driven decoder ----------
READER_ONLY_SOURCES = \
	lib/util/error.c lib/util/cleanup.h \
	lib/util/error.h lib/util/hashmap.h lib/util/hashmap.c \
	lib/util/sorted.h \
	lib/reader/source.h lib/reader/source.c lib/reader/source_buffer.c \
	lib/reader/source_file.c lib/reader/source_pid.c \
	lib/reader/source_core.c \
	lib/reader/decompress.h lib/reader/decompress.c \
	lib/reader/cursor.h lib/reader/cursor.c \
	lib/reader/reader_internal.h lib/reader/schema.c \
	lib/reader/locate.c lib/reader/locate_symbol.c lib/reader/decode.c
READER_ONLY_SOURCES += \
	lib/symbolize/symbolizer.h lib/symbolize/symbolizer.c \
	lib/symbolize/symbolize_dwfl.c lib/symbolize/symbolize_callback.c \
	lib/symbolize/unit_index.h lib/symbolize/unit_index.c \
	lib/symbolize/symbol_index.h lib/symbolize/symbol_index.c \
	lib/symbolize/module_file.h lib/symbolize/module_file.c \
	lib/symbolize/module_index.h lib/symbolize/module_index.c \
	lib/snapshot/snapshot_internal.h lib/snapshot/snapshot.c \
	lib/snapshot/format.c lib/snapshot/statistics.c lib/snapshot/filter.c \
	lib/session/session.c lib/session/report.c
READER_SOURCES = $(LAYOUT_SOURCES) $(READER_ONLY_SOURCES)
READER_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/layout \
	-I$(srcdir)/lib/include -I$(srcdir)/lib/util -I$(srcdir)/lib/reader \
	-I$(srcdir)/lib/symbolize

lib_LTLIBRARIES += libtm.la
libtm_la_SOURCES = $(READER_SOURCES)
libtm_la_CPPFLAGS = $(READER_CPPFLAGS)
libtm_la_CFLAGS = $(AM_CFLAGS) $(LIBDW_CFLAGS) $(LIBELF_CFLAGS)
libtm_la_LIBADD = $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++
libtm_la_LDFLAGS = -version-info 0:0:0
