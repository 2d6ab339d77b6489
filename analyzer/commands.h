// commands.h: tm-core's verbs and what they share.
#ifndef TM_CORE_COMMANDS_H
#define TM_CORE_COMMANDS_H

#include "json.h"
#include "source.h"

int cmd_status(int argc, char **argv);
int cmd_analyze(int argc, char **argv);

// The "source", "table" and "damage" members every --json document has.
void json_source(struct json *j, const struct opened *o);

#endif // TM_CORE_COMMANDS_H
