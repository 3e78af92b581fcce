/* Classifies one finished upload request into exactly one of OK / RETRY /
 * PERMANENT (fluent-bit out_http model) with the reason, and maps a 2xx body's
 * unprocessed entries back to the batch's records. Pure: it decides nothing about
 * timing and performs no I/O; upload_client owns what happens next. */
#ifndef TCB_CONSUMER_UPLOAD_OUTCOME_H
#define TCB_CONSUMER_UPLOAD_OUTCOME_H

#include "consumer/batch.h"
#include "consumer/ct_response.h"

#include <stddef.h>

enum tcb_upload_verdict {
    TCB_VERDICT_OK = 0,    /* 2xx understood: per-record fates apply */
    TCB_VERDICT_RETRY,     /* transient: resend the whole batch later */
    TCB_VERDICT_PERMANENT, /* the request itself was refused: split, or reject one record */
};

enum tcb_upload_reason {
    TCB_REASON_NONE = 0,
    TCB_REASON_THROTTLED,    /* 429 */
    TCB_REASON_AUTH,         /* 401/403, 404/405, 3xx (wrong endpoint): halt the account */
    TCB_REASON_SERVER,       /* 5xx, 408 */
    TCB_REASON_TIMEOUT,      /* no complete answer in time */
    TCB_REASON_TRANSPORT,    /* connection refused, reset, dropped */
    TCB_REASON_BAD_RESPONSE, /* 2xx whose body we cannot interpret */
    TCB_REASON_CLIENT,       /* other 4xx */
};

enum tcb_transport { TCB_TRANSPORT_OK = 0, TCB_TRANSPORT_TIMEOUT, TCB_TRANSPORT_ERROR };

struct tcb_upload_verdict_info {
    enum tcb_upload_verdict verdict;
    enum tcb_upload_reason reason;
    int http_status;
    int code;                   /* CleverTap's whole-request code, 0 when none */
    char text[TCB_CT_TEXT_MAX]; /* error text or printable body excerpt */
    struct tcb_ct_response
        resp; /* parsed 2xx body (OK only); clear with tcb_upload_verdict_clear */
};

/* Classifies a finished request. body[0..len) is the response body (may be
 * truncated by the caller's cap: then pass body_truncated 1). max_entries bounds
 * the unprocessed entries kept (the batch size). Always fills *out. */
void tcb_upload_classify(enum tcb_transport transport, int http_status, const char *body,
                         size_t len, int body_truncated, size_t max_entries,
                         struct tcb_upload_verdict_info *out);
void tcb_upload_verdict_clear(struct tcb_upload_verdict_info *info);

/* A short name for metrics and logs: "ok", "throttled", "auth", ... */
const char *tcb_upload_reason_name(enum tcb_upload_reason reason);

enum tcb_record_fate { TCB_FATE_ACCEPTED = 0, TCB_FATE_RETRY, TCB_FATE_REJECTED };

/* For an OK verdict: fills fate[i] and entry[i] (index into resp->unprocessed, -1
 * when none) for each of the batch's records. Code 555 -> RETRY, other codes ->
 * REJECTED, records named by no entry -> ACCEPTED. An entry is matched by its
 * "Skipped record number", cross-checked against the echoed record (on a mismatch
 * an unclaimed record matching the echo wins). *mismatches counts entries whose
 * number and echo disagreed. Returns 0, or -1 when some entry names no record at
 * all (the caller cannot tell which record failed). fate/entry hold batch->count. */
int tcb_upload_map_records(const struct tcb_ct_response *resp, const struct tcb_batch *batch,
                           unsigned char *fate, int *entry, int *mismatches);

#endif
