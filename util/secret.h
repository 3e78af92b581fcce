/* Constant-time comparison for credentials (CleverTap passcodes, the
 * notification secret): the time taken depends only on the expected value's
 * length, never on where the given value differs. */
#ifndef TCB_UTIL_SECRET_H
#define TCB_UTIL_SECRET_H

/* 1 when given equals expected, else 0 (also when either is NULL). Both are
 * borrowed NUL-terminated strings. */
int tcb_secret_equal(const char *expected, const char *given);

#endif
