/* Strict JSON (RFC 8259) over raw request bytes without building a tree:
 * one validating pass, then navigation by byte offsets (object members,
 * array elements, string contents) over the validated text. Memory is O(1)
 * whatever the body (a parsed tree of nested empty objects costs ~80x the
 * body). Nothing here allocates, logs or keeps state between calls. */
#ifndef TCB_PRODUCER_INGEST_JSON_H
#define TCB_PRODUCER_INGEST_JSON_H

#include <stddef.h>

#define TCB_JSON_MAX_DEPTH 2048 /* nesting accepted, as jansson's parser */

enum tcb_json_verdict {
    TCB_JSON_VALID = 0,
    TCB_JSON_INVALID = -1,  /* not one JSON text: syntax, bad UTF-8, lone surrogate */
    TCB_JSON_TOO_DEEP = -2, /* objects/arrays nested deeper than TCB_JSON_MAX_DEPTH */
};

struct tcb_json_span {
    size_t offset; /* first byte of the value in the text */
    size_t length;
};

/* Checks that text[0..len) is exactly one JSON value with optional white
 * space around it. Every grammatical JSON text passes, including numbers of
 * any size and "\u0000" in strings (which some parsers refuse); strings must
 * be valid UTF-8 and escapes must not leave a lone surrogate. text may be
 * NULL when len is 0. Returns a tcb_json_verdict. */
int tcb_json_validate(const char *text, size_t len);

/* Navigation: text must have passed tcb_json_validate; at is the offset of
 * a value's first byte. */

/* The offset of the first non-white-space byte at or after at. */
size_t tcb_json_skip_ws(const char *text, size_t len, size_t at);
/* The offset just past the value starting at at. */
size_t tcb_json_value_end(const char *text, size_t len, size_t at);

/* When the value at at is an object holding a member whose key, escapes
 * decoded, equals name (shorter than 32 bytes): 1 and the offset of its value
 * in *value_at (the last such member, as parsers keep the last of duplicate
 * keys); else 0. */
int tcb_json_member(const char *text, size_t len, size_t at, const char *name, size_t *value_at);

/* When the value at at is an array: writes its elements' spans into
 * spans[0..max) and returns the element count, or -2 when there are more
 * than max; -1 when it is not an array. */
long tcb_json_elements(const char *text, size_t len, size_t at, struct tcb_json_span *spans,
                       size_t max);

/* When the value at at is a string: 1 and its raw contents (between the
 * quotes, escapes not decoded) in *raw; else 0. */
int tcb_json_string_raw(const char *text, size_t len, size_t at, struct tcb_json_span *raw);

/* Decodes the raw contents of a string (escapes resolved, UTF-8 out) into
 * out, which needs room for raw_len bytes (decoding never lengthens).
 * Returns the decoded length. */
size_t tcb_json_string_decode(const char *raw, size_t raw_len, char *out);

/* 1 when the value at at is a number written as an integer (no fraction or
 * exponent), with its text in *number; else 0. */
int tcb_json_integer_text(const char *text, size_t len, size_t at, struct tcb_json_span *number);

#endif
