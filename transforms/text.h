/* Small UTF-8 helpers for texts the transform stage builds (property keys,
 * dead-letter reasons): never leave a cut multi-byte sequence behind. */
#ifndef TCB_TRANSFORMS_TEXT_H
#define TCB_TRANSFORMS_TEXT_H

#include <stddef.h>

/* Cuts an incomplete UTF-8 sequence off the end of s (after a truncation). */
void tcb_utf8_clip(char *s);

/* Copies at most buf_len - 1 bytes of s into buf without cutting a UTF-8
 * sequence; returns buf (borrowed from the caller). */
const char *tcb_utf8_prefix(const char *s, char *buf, size_t buf_len);

/* Replaces, in place, every byte that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF included) and
 * every control character other than tab with '?', so that s can go into JSON. */
void tcb_utf8_sanitize(char *s);

#endif
