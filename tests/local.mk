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
	export top_srcdir top_builddir; \
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
tests_unit_test_decode_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) -lm

# The runtime linked into the test program itself: this is also the static
# variant's set-up (hooks defined in the executable).
check_PROGRAMS += tests/unit/test_runtime
tests_unit_test_runtime_SOURCES = tests/unit/test_runtime.c \
	tests/unit/tm_test.h $(RUNTIME_SOURCES) $(READER_ONLY_SOURCES)
tests_unit_test_runtime_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(srcdir)/lib/runtime
tests_unit_test_runtime_CFLAGS = $(RUNTIME_CFLAGS) $(UBSAN_FLAGS)
tests_unit_test_runtime_LDFLAGS = $(UBSAN_FLAGS) -rdynamic
tests_unit_test_runtime_LDADD = $(CMOCKA_LIBS) $(LIBDW_LIBS) -lm -ldl -lpthread

TESTS += tests/unit/test_decode tests/unit/test_runtime
