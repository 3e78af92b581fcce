/* Authentication of ingest requests: CleverTap account credentials for
 * /1/upload and the shared notification secret for /talon/notifications,
 * compared in constant time. It never stores, logs or echoes a secret. */
#ifndef TCB_PRODUCER_INGEST_AUTH_H
#define TCB_PRODUCER_INGEST_AUTH_H

#include <stddef.h>

struct tcb_config;
struct tcb_account;

/* The configured account whose account_id is account_id and whose passcode
 * equals passcode, or NULL (unknown account, wrong passcode, NULL input).
 * Borrowed from cfg. */
const struct tcb_account *tcb_ingest_auth_account(const struct tcb_config *cfg,
                                                  const char *account_id, const char *passcode);

/* The password of an "Authorization: Basic <base64 user:password>" header
 * value (scheme case-insensitive, as RFC 9110 says) decoded into
 * out[0..out_len), NUL-terminated. Returns 0, or -1 when authorization is
 * NULL, another scheme, not base64, without a colon, holds a NUL or does not
 * fit. The caller wipes out after use. */
int tcb_ingest_basic_password(const char *authorization, char *out, size_t out_len);

/* 1 when the notification secret is configured and either header_value or
 * basic_password (either may be NULL) equals it; 0 otherwise. */
int tcb_ingest_auth_notification(const struct tcb_config *cfg, const char *header_value,
                                 const char *basic_password);

#endif
