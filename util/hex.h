/* Hexadecimal digits, for parsers of hostile text (JSON \u escapes, HTTP
 * chunk sizes). Header-only and pure: no state, no allocation. */
#ifndef TCB_UTIL_HEX_H
#define TCB_UTIL_HEX_H

/* The value 0..15 of the hex digit c (either case), or -1 for any other byte. */
static inline int tcb_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

#endif
