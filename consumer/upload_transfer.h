/* One upload request on a reusable curl easy handle: URL, headers, body, timeouts,
 * and the capped capture of the response body and Retry-After header. It never
 * classifies the answer (upload_outcome) and never retries (upload_client). */
#ifndef TCB_CONSUMER_UPLOAD_TRANSFER_H
#define TCB_CONSUMER_UPLOAD_TRANSFER_H

#include "consumer/upload_outcome.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

struct tcb_upload_account;

struct tcb_upload_xfer {
    CURL *easy;
    struct tcb_batch *batch;           /* borrowed while the request runs */
    struct tcb_upload_account *acct;   /* borrowed while the request runs */
    struct tcb_upload_xfer *next_free; /* link in the uploader's pool */
    struct tcb_buf resp;               /* response body, owned; its limit is the capture cap */
    int resp_truncated;                /* the peer sent more than the cap */
    char retry_after[32];              /* Retry-After header value, "" when absent */
    char errbuf[CURL_ERROR_SIZE];
    int64_t started_ms;
};

/* New transfer with its easy handle, capturing at most resp_max body bytes.
 * Returns NULL when curl cannot make a handle. */
struct tcb_upload_xfer *tcb_upload_xfer_new(size_t resp_max);
/* Frees the handle and buffers; accepts NULL. Remove it from the multi first. */
void tcb_upload_xfer_free(struct tcb_upload_xfer *xfer);

struct tcb_upload_request {
    const char *url;                  /* borrowed until the transfer finishes */
    const struct curl_slist *headers; /* borrowed likewise (holds the passcode) */
    const char *body;                 /* borrowed likewise */
    size_t body_len;
    long timeout_ms;
    long connect_timeout_ms;
    const char *ca_file; /* PEM CA bundle to verify the server with; NULL = the system's */
};

/* Resets the captured state and sets the request's options on xfer->easy.
 * Returns 0, or -1 when curl refused an option. */
int tcb_upload_xfer_prepare(struct tcb_upload_xfer *xfer, const struct tcb_upload_request *req);

/* The transport result of a finished transfer given curl's result code. */
enum tcb_transport tcb_upload_xfer_transport(CURLcode result);

/* The HTTP status of the finished transfer, 0 when none was received. */
int tcb_upload_xfer_status(struct tcb_upload_xfer *xfer);

#endif
