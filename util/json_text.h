/* Writing JSON string literals into a bounded buffer: the one escaper the logs,
 * the emulator's answers and its record lines share. */
#ifndef TCB_UTIL_JSON_TEXT_H
#define TCB_UTIL_JSON_TEXT_H

#include <stddef.h>

struct tcb_buf;

/* Appends text[0..len) as a quoted JSON string: " and \ escaped, \n \r \t by
 * name, other control bytes as \u00XX, everything else (UTF-8 included) as it
 * is. Returns 0, or -1 when the buffer refused (over its limit). */
int tcb_buf_append_json_string(struct tcb_buf *buf, const char *text, size_t len);

#endif
