// json.h: a small streaming JSON writer for tm-core's --json output
// (docs/json.md).
#ifndef TM_CORE_JSON_H
#define TM_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *out;
	int depth;
	bool need_comma[32];
};

void json_init(struct json *j, FILE *out);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
// A NULL @value is written as null.
void json_string(struct json *j, const char *key, const char *value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_int(struct json *j, const char *key, int64_t value);
void json_bool(struct json *j, const char *key, bool value);
// Ends the document with a newline.
void json_finish(struct json *j);

#endif // TM_CORE_JSON_H
