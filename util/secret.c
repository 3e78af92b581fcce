/* Constant-time credential comparison; no other state, never logs. */
#include "util/secret.h"

#include <string.h>

int tcb_secret_equal(const char *expected, const char *given)
{
    if (expected == NULL || given == NULL) {
        return 0;
    }
    size_t expected_len = strlen(expected);
    size_t given_len = strnlen(given, expected_len + 1);
    volatile unsigned char diff = (unsigned char)(given_len != expected_len);
    for (size_t i = 0; i < expected_len; i++) {
        /* Past the end of a shorter given string, compare against its NUL. */
        unsigned char g = (unsigned char)given[i < given_len ? i : given_len];
        diff |= (unsigned char)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}
