// error.h: creating the errors the reader, snapshot and symbolizer return.
#ifndef TM_UTIL_ERROR_H
#define TM_UTIL_ERROR_H

#include "tm/reader.h"

struct tm_error *tm_error_create(enum tm_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
// Append strerror(@errnum) and, if @path is not NULL, name the path.
struct tm_error *tm_error_errno(enum tm_error_code code, int errnum,
				const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif // TM_UTIL_ERROR_H
