// commands.h: tm-core's verbs and what they share.
#ifndef TM_CORE_COMMANDS_H
#define TM_CORE_COMMANDS_H

#include "json.h"
#include "source.h"

int cmd_status(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_traceback(int argc, char **argv);
int cmd_dump(int argc, char **argv);

// A statistic's key traceback as the member "traceback".
void json_key_traceback(struct json *j, const struct tm_frames *tb);

// The "source", "table" and "damage" members every --json document has.
void json_source(struct json *j, const struct opened *o);

// Open the --json document of @command on standard output: "version",
// "command" and, if @o is not NULL, json_source().  The caller adds its
// members, then json_end_document().
void json_begin_document(struct json *j, const char *command,
			 const struct opened *o);
void json_end_document(struct json *j);

#endif // TM_CORE_COMMANDS_H
