/* The uploader's internal state, shared by upload_client.c (the public entry
 * points: create, submit, queries) and upload_loop.c (the curl multi loop, the
 * one place that decides retries, and final outcomes). Not for other modules. */
#ifndef TCB_CONSUMER_UPLOAD_STATE_H
#define TCB_CONSUMER_UPLOAD_STATE_H

#include "consumer/backoff.h"
#include "consumer/batch_keys.h"
#include "consumer/upload_account.h"
#include "consumer/upload_client.h"
#include "consumer/upload_metrics.h"
#include "consumer/upload_transfer.h"

#include <curl/curl.h>
#include <pthread.h>

struct tcb_uploader {
    const struct tcb_config *cfg; /* borrowed */
    tcb_upload_outcome_fn on_outcome;
    void *ctx;
    struct tcb_upload_metrics m;
    CURLM *multi;
    struct tcb_upload_account *accts;
    size_t acct_count;
    struct tcb_batch_keys *keys;
    struct tcb_batch_policy policy;
    struct tcb_rng rng;
    uint64_t next_seq;
    size_t max_pending_records, max_pending_bytes;
    size_t pending_records, pending_bytes;
    size_t in_flight_records, in_flight_requests;
    struct tcb_upload_xfer *free_xfers; /* pool of idle transfers */
    size_t resp_max;                    /* response body cap per request */
    long timeout_ms, connect_timeout_ms;
    long retry_initial_ms, retry_max_ms, retry_after_max_s, auth_retry_ms;
    int flushing;  /* send without linger */
    int delivered; /* final outcomes in the current run call */
    /* Readiness, read by listener threads. */
    pthread_mutex_t *ready_lock; /* a pointer so const queries may lock it */
    size_t halted_count;
    char halted_name[128];
};

/* Monotonic milliseconds. */
int64_t tcb_upload_now_ms(void);

/* An account's label value for metrics: its name (never an id or secret). */
const char *tcb_upload_account_label(const struct tcb_upload_account *acct);

/* Sets or clears an account's halt, keeping the readiness fields and the halted
 * gauge in step. */
void tcb_upload_set_halted(struct tcb_uploader *up, struct tcb_upload_account *acct, int halted,
                           int64_t now_ms);

#endif
