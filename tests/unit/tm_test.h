// tm_test.h: helpers shared by the cmocka unit tests.
#ifndef TM_TEST_H
#define TM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tm/reader.h"

// The call succeeded; otherwise print the error's message.
#define assert_tm_ok(expr)                                                     \
	do {                                                                   \
		struct tm_error *err_ = (expr);                                \
		if (err_) {                                                    \
			print_error("%s\n", tm_error_message(err_));           \
			tm_error_destroy(err_);                                \
			fail_msg("%s failed", #expr);                          \
		}                                                              \
	} while (0)

// The call failed with @code and a message containing @substr.
#define assert_tm_err(expr, code, substr)                                      \
	do {                                                                   \
		struct tm_error *err_ = (expr);                                \
		if (!err_)                                                     \
			fail_msg("%s succeeded; expected an error", #expr);    \
		if (tm_error_code(err_) != (code) ||                           \
		    !strstr(tm_error_message(err_), (substr))) {               \
			print_error("got code %d: %s\n", tm_error_code(err_),  \
				    tm_error_message(err_));                   \
			tm_error_destroy(err_);                                \
			fail_msg("%s: expected code %d and \"%s\"", #expr,     \
				 (int)(code), (substr));                       \
		}                                                              \
		tm_error_destroy(err_);                                        \
	} while (0)

#endif // TM_TEST_H
