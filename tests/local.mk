# tests/local.mk: unit tests (cmocka, TAP) and end-to-end scripts.
#
# The reader's code is compiled into its tests under ASan and UBSan.  The
# runtime's tests use UBSan only: ASan replaces malloc itself.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env CMOCKA_MESSAGE_OUTPUT=TAP AM_TAP_AWK='$(AWK)' \
	$(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(SHELL) $(top_srcdir)/build-aux/test-driver
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	PYTHON='$(PYTHON)'; export top_srcdir top_builddir PYTHON; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0; export ASAN_OPTIONS; \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; export UBSAN_OPTIONS;

if SANITIZERS
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UBSAN_FLAGS = -fsanitize=undefined -fno-sanitize-recover=all
endif

UNIT_CPPFLAGS = $(READER_CPPFLAGS) -I$(srcdir)/tests/unit $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test_decode
tests_unit_test_decode_SOURCES = tests/unit/test_decode.c \
	tests/unit/tm_test.h tests/unit/table_builder.h \
	tests/unit/table_builder.c $(READER_SOURCES)
tests_unit_test_decode_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_decode_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_decode_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_decode_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

check_PROGRAMS += tests/unit/test_snapshot
tests_unit_test_snapshot_SOURCES = tests/unit/test_snapshot.c \
	tests/unit/tm_test.h $(READER_SOURCES)
tests_unit_test_snapshot_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_snapshot_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_snapshot_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_snapshot_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

# The reader's fuzz target, with a replay-and-mutate main (see the file).
check_PROGRAMS += tests/fuzz/fuzz_decode
tests_fuzz_fuzz_decode_SOURCES = tests/fuzz/fuzz_decode.c \
	tests/unit/table_builder.h tests/unit/table_builder.c $(READER_SOURCES)
tests_fuzz_fuzz_decode_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_fuzz_fuzz_decode_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_fuzz_fuzz_decode_LDFLAGS = $(ASAN_FLAGS)
tests_fuzz_fuzz_decode_LDADD = $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

check_PROGRAMS += tests/fuzz/fuzz_core
tests_fuzz_fuzz_core_SOURCES = tests/fuzz/fuzz_core.c $(READER_SOURCES)
tests_fuzz_fuzz_core_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_fuzz_fuzz_core_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS) $(LIBDW_CFLAGS)
tests_fuzz_fuzz_core_LDFLAGS = $(ASAN_FLAGS)
tests_fuzz_fuzz_core_LDADD = $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

# The runtime linked into the test program itself: this is also the static
# variant's set-up (hooks defined in the executable).
check_PROGRAMS += tests/unit/test_runtime
tests_unit_test_runtime_SOURCES = tests/unit/test_runtime.c \
	tests/unit/tm_test.h $(RUNTIME_SOURCES) $(READER_ONLY_SOURCES)
tests_unit_test_runtime_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(srcdir)/lib/runtime \
	-DTM_PLUGIN_DIR='"$(pkgdatadir)/python"'
tests_unit_test_runtime_CFLAGS = $(RUNTIME_CFLAGS) $(UBSAN_FLAGS)
tests_unit_test_runtime_LDFLAGS = $(UBSAN_FLAGS) -rdynamic
tests_unit_test_runtime_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++ -ldl \
	-lpthread

check_PROGRAMS += tests/unit/test_symbolize tests/unit/test_session
tests_unit_test_symbolize_SOURCES = tests/unit/test_symbolize.c \
	tests/unit/tm_test.h $(READER_SOURCES)
tests_unit_test_symbolize_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_symbolize_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_symbolize_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_symbolize_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++
tests_unit_test_session_SOURCES = tests/unit/test_session.c \
	tests/unit/tm_test.h tests/unit/table_builder.h \
	tests/unit/table_builder.c $(READER_SOURCES)
tests_unit_test_session_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_session_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_session_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_session_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

check_PROGRAMS += tests/unit/test_decompress
tests_unit_test_decompress_SOURCES = tests/unit/test_decompress.c \
	tests/unit/tm_test.h $(READER_SOURCES)
tests_unit_test_decompress_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_decompress_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_decompress_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_decompress_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(COMPRESS_LIBS) $(DEBUGINFOD_LIBS) -lm -lstdc++

check_PROGRAMS += tests/unit/test_module_index
tests_unit_test_module_index_SOURCES = tests/unit/test_module_index.c \
	tests/unit/tm_test.h lib/symbolize/module_index.h \
	lib/symbolize/module_index.c
tests_unit_test_module_index_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_module_index_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_module_index_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_module_index_LDADD = $(CMOCKA_LIBS)

# tm-core's JSON writer.
check_PROGRAMS += tests/unit/test_json
tests_unit_test_json_SOURCES = tests/unit/test_json.c tests/unit/tm_test.h \
	analyzer/json.h analyzer/json.c
tests_unit_test_json_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(srcdir)/analyzer
tests_unit_test_json_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_json_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_json_LDADD = $(CMOCKA_LIBS)

# The symbol index, against libdwfl's own search.
check_PROGRAMS += tests/unit/test_symbol_index
tests_unit_test_symbol_index_SOURCES = tests/unit/test_symbol_index.c \
	tests/unit/symbols.S tests/unit/tm_test.h \
	lib/symbolize/symbol_index.h lib/symbolize/symbol_index.c
tests_unit_test_symbol_index_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_symbol_index_CFLAGS = $(AM_CFLAGS) $(ASAN_FLAGS)
tests_unit_test_symbol_index_LDFLAGS = $(ASAN_FLAGS)
tests_unit_test_symbol_index_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS)

TESTS += tests/unit/test_decode tests/unit/test_runtime tests/unit/test_snapshot \
	tests/unit/test_symbolize tests/unit/test_session tests/unit/test_decompress \
	tests/unit/test_module_index tests/unit/test_json \
	tests/unit/test_symbol_index

# --- end to end ------------------------------------------------------------
# Programs run under LD_PRELOAD; they link nothing of ours unless they call
# the control API.  -no-install: no libtool wrapper scripts in the way.
# No sibling calls: a helper that ends in "return malloc(n)" must keep its
# frame for the tests to name it.
E2E_PROGRAM_FLAGS = -g -O1 -fno-omit-frame-pointer -fno-optimize-sibling-calls
E2E_LINK_FLAGS = -no-install -rdynamic

check_PROGRAMS += tests/tools/tm-probe
tests_tools_tm_probe_SOURCES = tests/tools/tm-probe.c
tests_tools_tm_probe_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_tools_tm_probe_LDADD = libtm.la
tests_tools_tm_probe_LDFLAGS = -no-install

check_PROGRAMS += tests/tools/tm-stats
tests_tools_tm_stats_SOURCES = tests/tools/tm-stats.c
tests_tools_tm_stats_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_tools_tm_stats_LDADD = libtm.la
tests_tools_tm_stats_LDFLAGS = -no-install

check_PROGRAMS += tests/programs/frames tests/programs/cxx \
	tests/programs/threads tests/programs/forkexec tests/programs/leaf \
	tests/programs/lifecycle tests/programs/sleeper tests/programs/churn \
	tests/programs/samestack tests/programs/getattr tests/programs/otherstacks \
	tests/programs/varframes tests/programs/forkunwind tests/programs/sighandler \
	tests/programs/fdreuse tests/programs/altstack tests/programs/cancel \
	tests/programs/ownmalloc tests/programs/ownmemory
tests_programs_frames_SOURCES = tests/programs/frames.c \
	tests/programs/through_libc.h
tests_programs_frames_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_frames_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_cxx_SOURCES = tests/programs/cxx.cc
tests_programs_cxx_CXXFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_cxx_LDFLAGS = $(E2E_LINK_FLAGS)
# The same program linked with the runtime's static library, which leaves
# the C++ operators to libstdc++ (run-cxx.sh).  The program calls no tm_
# function: -u malloc makes the linker take the hooks.
check_PROGRAMS += tests/programs/cxx-static
tests_programs_cxx_static_SOURCES = tests/programs/cxx.cc
tests_programs_cxx_static_CXXFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_cxx_static_LDFLAGS = -no-install -static-libtool-libs \
	-Wl,-u,malloc
tests_programs_cxx_static_LDADD = libtracemalloc.la -ldl -lpthread
# The same program with libstdc++ linked into it (-static-libstdc++, as
# GCC's cc1 is), preloaded: its operator new is the program's own code,
# known by name only (run-cxx.sh).  No -rdynamic: the operators are in
# the symbol table, not the dynamic one.
check_PROGRAMS += tests/programs/cxx-libstdcxx-static
tests_programs_cxx_libstdcxx_static_SOURCES = tests/programs/cxx.cc
tests_programs_cxx_libstdcxx_static_CXXFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_cxx_libstdcxx_static_LDFLAGS = -no-install \
	-XCClinker -static-libstdc++
tests_programs_threads_SOURCES = tests/programs/threads.c \
	tests/programs/seccomp.h
tests_programs_threads_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_threads_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_threads_LDADD = -lpthread
tests_programs_ownmalloc_CFLAGS = $(E2E_PROGRAM_FLAGS) -DOWNMALLOC_PROGRAM
tests_programs_ownmalloc_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_cancel_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_cancel_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_cancel_LDADD = -lpthread
tests_programs_getattr_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_getattr_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_getattr_LDADD = -lpthread
tests_programs_forkexec_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_forkexec_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_forkexec_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_forkexec_LDADD = libtracemalloc.la -lpthread
tests_programs_forkunwind_SOURCES = tests/programs/forkunwind.c \
	tests/programs/child.h
tests_programs_forkunwind_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_forkunwind_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_forkunwind_LDADD = -lpthread
tests_programs_sighandler_SOURCES = tests/programs/sighandler.c \
	tests/programs/child.h
tests_programs_sighandler_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_sighandler_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_sighandler_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_sighandler_LDADD = libtracemalloc.la
tests_programs_fdreuse_SOURCES = tests/programs/fdreuse.c \
	tests/programs/child.h tests/programs/seccomp.h
tests_programs_fdreuse_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_fdreuse_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_fdreuse_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_fdreuse_LDADD = libtracemalloc.la -lpthread
tests_programs_ownmemory_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_ownmemory_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_ownmemory_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_ownmemory_LDADD = libtracemalloc.la
tests_programs_altstack_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_altstack_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_altstack_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_altstack_LDADD = libtracemalloc.la
tests_programs_leaf_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_leaf_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_lifecycle_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_lifecycle_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_lifecycle_LDADD = -ldl
tests_programs_sleeper_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_sleeper_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_churn_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_churn_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_churn_LDADD = -lpthread
tests_programs_samestack_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_samestack_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_otherstacks_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_otherstacks_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_otherstacks_LDADD = -lpthread
tests_programs_varframes_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_varframes_LDFLAGS = $(E2E_LINK_FLAGS)

# The static variant: frames linked with libtracemalloc.a, no preload.
check_PROGRAMS += tests/programs/frames-static
tests_programs_frames_static_SOURCES = tests/programs/frames.c \
	tests/programs/through_libc.h
tests_programs_frames_static_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_frames_static_LDFLAGS = -no-install -static-libtool-libs
tests_programs_frames_static_LDADD = libtracemalloc.la -ldl -lpthread

# A fully static program (-static): no dynamic loader, no dlsym, the hooks
# and libc's malloc in one executable.  -z muldefs: libc.a defines malloc
# too; the linker takes the first definition, the runtime's.  No sanitizer
# flags: the sanitizers' runtimes cannot be linked statically.
check_PROGRAMS += tests/programs/allstatic
tests_programs_allstatic_SOURCES = tests/programs/allstatic.c \
	tests/programs/through_libc.h
tests_programs_allstatic_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/lib/include
tests_programs_allstatic_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_allstatic_LDFLAGS = -no-install -all-static -Wl,-z,muldefs
tests_programs_allstatic_LDADD = libtracemalloc.la -ldl -lpthread
# The C++ program fully static: -u malloc, since the program's own objects
# call operator new, not malloc, and libstdc++ comes after the runtime.
check_PROGRAMS += tests/programs/cxx-allstatic
tests_programs_cxx_allstatic_SOURCES = tests/programs/cxx.cc
tests_programs_cxx_allstatic_CXXFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_cxx_allstatic_LDFLAGS = -no-install -all-static \
	-Wl,-u,malloc -Wl,-z,muldefs
tests_programs_cxx_allstatic_LDADD = libtracemalloc.la -ldl -lpthread

# The debugger tests' program, preloaded and with the runtime linked in.
check_PROGRAMS += tests/programs/debuggee tests/programs/debuggee-static
tests_programs_debuggee_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_debuggee_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_debuggee_static_SOURCES = tests/programs/debuggee.c
tests_programs_debuggee_static_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_debuggee_static_LDFLAGS = -no-install -static-libtool-libs
tests_programs_debuggee_static_LDADD = libtracemalloc.la -ldl -lpthread

check_LTLIBRARIES += tests/programs/libpipewrap.la
tests_programs_libpipewrap_la_SOURCES = tests/programs/pipewrap.c
tests_programs_libpipewrap_la_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_libpipewrap_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_programs_libpipewrap_la_LIBADD = -ldl
check_LTLIBRARIES += tests/programs/libownmalloc.la
tests_programs_libownmalloc_la_SOURCES = tests/programs/ownmalloc.c
tests_programs_libownmalloc_la_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_libownmalloc_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
check_LTLIBRARIES += tests/programs/libplugin.la
tests_programs_libplugin_la_SOURCES = tests/programs/plugin.c
tests_programs_libplugin_la_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_libplugin_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
check_LTLIBRARIES += tests/programs/libplugin-other.la
tests_programs_libplugin_other_la_SOURCES = tests/programs/plugin.c
tests_programs_libplugin_other_la_CPPFLAGS = $(AM_CPPFLAGS) -DPLUGIN_OTHER
tests_programs_libplugin_other_la_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_libplugin_other_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
# C++ code loaded by a C program, which has no libstdc++ before
# (run-cxx-plugin.sh): preloaded, and linked with the runtime's static
# library, which leaves operator new to libstdc++.
check_LTLIBRARIES += tests/programs/libcxxplugin.la
tests_programs_libcxxplugin_la_SOURCES = tests/programs/cxxplugin.cc
tests_programs_libcxxplugin_la_CXXFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_libcxxplugin_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
# The same with libstdc++ linked into the library, its symbols hidden (as
# libraries shipped on their own are often built): the library's calls to
# operator new reach its own copy.
# Built without libtool, which links every C++ library with libstdc++.so.
check_DATA = tests/programs/libcxxplugin-static.so
CLEANFILES += tests/programs/libcxxplugin-static.so
tests/programs/libcxxplugin-static.so: tests/programs/cxxplugin.cc
	$(AM_V_CXX)$(MKDIR_P) tests/programs && \
	$(CXX) $(E2E_PROGRAM_FLAGS) -fPIC -shared -static-libstdc++ \
		-Wl,--exclude-libs,ALL -o $@ $(srcdir)/tests/programs/cxxplugin.cc
check_PROGRAMS += tests/programs/dlhost tests/programs/dlhost-static
tests_programs_dlhost_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_dlhost_LDFLAGS = $(E2E_LINK_FLAGS)
tests_programs_dlhost_LDADD = -ldl
tests_programs_dlhost_static_SOURCES = tests/programs/dlhost.c
tests_programs_dlhost_static_CFLAGS = $(E2E_PROGRAM_FLAGS)
tests_programs_dlhost_static_LDFLAGS = -no-install -static-libtool-libs \
	-Wl,-u,malloc
tests_programs_dlhost_static_LDADD = libtracemalloc.la -ldl -lpthread

# Link-time optimization writes inlined calls whose definitions are in
# another unit of the debug information (run-debuginfo.sh).
check_PROGRAMS += tests/programs/lto
tests_programs_lto_SOURCES = tests/programs/lto-main.c \
	tests/programs/lto-calls.c
tests_programs_lto_CFLAGS = -g -O2 -flto -fno-optimize-sibling-calls
tests_programs_lto_LDFLAGS = -no-install -flto

E2E_TESTS = \
	tests/e2e/run-frames.sh \
	tests/e2e/run-cxx.sh \
	tests/e2e/run-cxx-plugin.sh \
	tests/e2e/run-damaged-sections.sh \
	tests/e2e/run-threads.sh \
	tests/e2e/run-forkexec.sh \
	tests/e2e/run-fork-unwind.sh \
	tests/e2e/run-signal-handlers.sh \
	tests/e2e/run-lifecycle.sh \
	tests/e2e/run-environment.sh \
	tests/e2e/run-sigkill.sh \
	tests/e2e/run-file-descriptors.sh \
	tests/e2e/run-own-memory.sh \
	tests/e2e/run-full-disk.sh \
	tests/e2e/run-live-pid.sh \
	tests/e2e/run-python.sh \
	tests/e2e/run-debian-programs.sh \
	tests/e2e/run-crash-consistency.sh \
	tests/e2e/run-stack-cache.sh \
	tests/e2e/run-other-stacks.sh \
	tests/e2e/run-variable-frames.sh \
	tests/e2e/run-fuzz.sh \
	tests/e2e/run-fuzz-core.sh \
	tests/e2e/run-libfuzzer.sh \
	tests/e2e/run-static.sh \
	tests/e2e/run-allstatic.sh \
	tests/e2e/run-tracemalloc-crosscheck.sh \
	tests/e2e/run-tm-core.sh \
	tests/e2e/run-debuginfo.sh tests/e2e/run-debuginfod.sh \
	tests/e2e/run-sysroot.sh \
	tests/e2e/run-cores.sh tests/e2e/run-compressed.sh \
	tests/e2e/run-core-handler.sh \
	tests/e2e/run-gdb.sh \
	tests/e2e/run-lldb.sh
TESTS += $(E2E_TESTS) tests/style/run-format.sh
EXTRA_DIST += tests/e2e/lib.sh $(E2E_TESTS) tests/style/run-format.sh \
	tests/snapshot/crosscheck.py tests/fuzz/fuzz_session.c tests/fuzz/small_core.py \
	.clang-format .editorconfig
