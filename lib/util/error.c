// error.c: struct tm_error, the one way the reader reports failure.
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tm_error {
	enum tm_error_code code;
	bool is_static;
	char *message;
};

struct tm_error tm_enomem = {
	.code = TM_ERR_NOMEM,
	.is_static = true,
	.message = (char *)"out of memory",
};

static struct tm_error *create(enum tm_error_code code, char *message)
{
	struct tm_error *err;

	if (!message)
		return &tm_enomem;
	err = malloc(sizeof(*err));
	if (!err) {
		free(message);
		return &tm_enomem;
	}
	err->code = code;
	err->is_static = false;
	err->message = message;
	return err;
}

struct tm_error *tm_error_create(enum tm_error_code code, const char *fmt, ...)
{
	char *message;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	return create(code, message);
}

struct tm_error *tm_error_errno(enum tm_error_code code, int errnum,
				const char *path, const char *fmt, ...)
{
	char *what, *message;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0)
		return &tm_enomem;
	if (path)
		n = asprintf(&message, "%s: %s: %s", path, what,
			     strerror(errnum));
	else
		n = asprintf(&message, "%s: %s", what, strerror(errnum));
	free(what);
	return create(code, n < 0 ? NULL : message);
}

enum tm_error_code tm_error_code(const struct tm_error *err)
{
	return err->code;
}

const char *tm_error_message(const struct tm_error *err)
{
	return err->message;
}

int tm_error_exit_status(const struct tm_error *err)
{
	switch (err->code) {
	case TM_ERR_USAGE:
		return 1;
	case TM_ERR_BAD_TABLE:
	case TM_ERR_VERSION:
		return 3;
	default:
		return 2;
	}
}

void tm_error_destroy(struct tm_error *err)
{
	if (!err || err->is_static)
		return;
	free(err->message);
	free(err);
}

struct tm_error *tm_error_fault_create(uint64_t address, size_t n,
				       const char *why)
{
	return tm_error_create(
		TM_ERR_FAULT, "cannot read %zu bytes at 0x%llx%s%s", n,
		(unsigned long long)address, why ? ": " : "", why ? why : "");
}
