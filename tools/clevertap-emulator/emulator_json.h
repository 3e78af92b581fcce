/* Serialises JSON the way CleverTap's Upload API writes it: a space around
 * every token (`{ "status" : "fail" , "code" : 401}`), so that clients are
 * tested against real spacing. It writes only; it never parses. */
#ifndef TCB_EMULATOR_JSON_H
#define TCB_EMULATOR_JSON_H

#include <jansson.h>

#include "util/buf.h"

/* Appends value (borrowed) in CleverTap's spacing. Returns 0, or -1 when the
 * buffer's ceiling was reached (the buffer then holds a truncated prefix). */
int tcb_emu_json_spaced(struct tcb_buf *buf, const json_t *value);

#endif
