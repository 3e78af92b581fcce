/* The uploader's internal state, shared by upload_client.c (the public entry
 * points: create, submit, queries), upload_loop.c (the curl multi loop, the one
 * place that decides retries, and final outcomes) and upload_flush.c (deadlines
 * and abandoning). Not for other modules. */
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
    const char *ca_file; /* clevertap.ca_file (borrowed from the config); NULL = system store */
    long retry_initial_ms, retry_max_ms, retry_after_max_s, auth_retry_ms;
    int max_record_attempts; /* requests per record before EXHAUSTED (555 path) */
    int64_t max_retry_ms;    /* whole-request retries end in EXHAUSTED after this; 0 = never */
    int watch_fd;            /* extra fd the wait also ends on; -1 = none */
    int flushing;            /* send without linger */
    int delivered;           /* final outcomes in the current run call */
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

/* Calls the outcome callback for rec (borrowed) without changing any state. */
void tcb_upload_report(struct tcb_uploader *up, const struct tcb_upload_account *acct,
                       const struct tcb_batch_record *rec, enum tcb_upload_result result, int code,
                       const char *text, int http_status);
/* rec (taken) is done: releases its key, uncounts it, reports the outcome (unless
 * it was detached and already reported ABANDONED) and frees it. */
void tcb_upload_finish_record(struct tcb_uploader *up, struct tcb_upload_account *acct,
                              struct tcb_batch_record *rec, enum tcb_upload_result result, int code,
                              const char *text, int http_status);
/* Unlinks and frees a batch whose records were all finished or moved. */
void tcb_upload_drop_batch(struct tcb_upload_account *acct, struct tcb_batch *batch);
/* Returns an idle transfer to the pool (removed from the multi handle first). */
void tcb_upload_give_back_xfer(struct tcb_uploader *up, struct tcb_upload_xfer *xfer);

#endif
