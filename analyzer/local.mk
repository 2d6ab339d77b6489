# analyzer/local.mk: tm-core, the command line analyzer.
bin_PROGRAMS += analyzer/tm-core
analyzer_tm_core_SOURCES = analyzer/tm-core.c analyzer/commands.h \
	analyzer/exit.h analyzer/json.h analyzer/json.c analyzer/source.h \
	analyzer/source.c analyzer/options.h analyzer/options.c \
	analyzer/cmd_status.c analyzer/cmd_analyze.c analyzer/cmd_diff.c \
	analyzer/cmd_traceback.c analyzer/cmd_dump.c
analyzer_tm_core_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
analyzer_tm_core_CFLAGS = $(AM_CFLAGS) $(LIBDW_CFLAGS)
analyzer_tm_core_LDADD = libtm.la $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS)
