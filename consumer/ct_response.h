/* Parses the body CleverTap's Upload API answers with (shared/clevertap-api.md):
 * {"status":"success"|"partial"|"fail","processed":N,"unprocessed":[...]} and the
 * whole-request error shape {"status":"fail","error":"...","code":N}. Pure: no I/O,
 * no logging, no decisions about retries (upload_outcome does that). */
#ifndef TCB_CONSUMER_CT_RESPONSE_H
#define TCB_CONSUMER_CT_RESPONSE_H

#include <jansson.h>
#include <stddef.h>

#define TCB_CT_TEXT_MAX 256 /* error texts are truncated to this many bytes */

enum tcb_ct_status {
    TCB_CT_STATUS_UNKNOWN = 0, /* absent or not one of the three below */
    TCB_CT_STATUS_SUCCESS,
    TCB_CT_STATUS_PARTIAL,
    TCB_CT_STATUS_FAIL,
};

/* One entry of "unprocessed". */
struct tcb_ct_unprocessed {
    int code;                   /* CleverTap's code, 0 when absent */
    int record_number;          /* 1-based from "Skipped record number : N", 0 when absent */
    char text[TCB_CT_TEXT_MAX]; /* the error text, truncated, NUL-terminated */
    json_t *record;             /* the echoed record (new reference) or NULL */
};

struct tcb_ct_response {
    enum tcb_ct_status status;
    long processed;              /* -1 when absent */
    int code;                    /* whole-request "code", 0 when absent */
    char error[TCB_CT_TEXT_MAX]; /* whole-request "error", "" when absent */
    struct tcb_ct_unprocessed *unprocessed;
    size_t unprocessed_count;
};

/* Parses body[0..len) (not NUL-terminated). At most max_entries unprocessed entries
 * are kept (callers pass their batch size; more would not fit any record).
 * Returns 0 with *out filled (free with tcb_ct_response_clear), or -1 when the
 * body is not a JSON object (then *out is empty and needs no clearing). */
int tcb_ct_response_parse(const char *body, size_t len, size_t max_entries,
                          struct tcb_ct_response *out);

/* Frees what parse allocated and empties *resp; accepts an empty or zeroed one. */
void tcb_ct_response_clear(struct tcb_ct_response *resp);

/* The N of "Skipped record number : N" in text (spaces around ':' optional), or 0
 * when text carries none or N is not a positive number below 1,000,000. */
int tcb_ct_skipped_record_number(const char *text);

/* Whether an echoed record (borrowed) plausibly is the record we sent (json text
 * sent[0..len)): same type, same user key (identity, objectId, FBID or GPID,
 * compared as text since CleverTap echoes numbers and strings interchangeably)
 * and same evtName. Returns 1 yes, 0 no (also when either side is unreadable). */
int tcb_ct_echo_matches(const json_t *echo, const char *sent, size_t len);

#endif
