# demo/local.mk: the bundled program that leaks and grows memory.
bin_PROGRAMS += demo/tm-demo
demo_tm_demo_SOURCES = demo/tm-demo.c
demo_tm_demo_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
# Debug info so the demo's own lines can be named; no optimisation so each
# call site stays where the source puts it.
demo_tm_demo_CFLAGS = $(AM_CFLAGS) -g -O0
demo_tm_demo_LDADD = libtracemalloc.la libtm.la
