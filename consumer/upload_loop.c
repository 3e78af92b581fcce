/* The uploader's curl multi loop (model: curl's 10-at-a-time.c): starts due
 * batches within each account's in-flight cap, and for each finished request
 * decides, in this one place, what happens: final outcomes, a retry with back-off,
 * a split, or an account halt. Never commits, dead-letters or logs payloads. */
#include "consumer/upload_state.h"

#include "common/log.h"
#include "common/metrics.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct tcb_upload_xfer *take_xfer(struct tcb_uploader *up)
{
    struct tcb_upload_xfer *xfer = up->free_xfers;
    if (xfer) {
        up->free_xfers = xfer->next_free;
        xfer->next_free = NULL;
        return xfer;
    }
    return tcb_upload_xfer_new(up->resp_max);
}

void tcb_upload_give_back_xfer(struct tcb_uploader *up, struct tcb_upload_xfer *xfer)
{
    xfer->batch = NULL;
    xfer->acct = NULL;
    if (xfer->resp.cap > 64 * 1024) {
        tcb_buf_free(&xfer->resp, 0); /* do not keep a large buffer per idle transfer */
    }
    xfer->next_free = up->free_xfers;
    up->free_xfers = xfer;
}

void tcb_upload_report(struct tcb_uploader *up, const struct tcb_upload_account *acct,
                       const struct tcb_batch_record *rec, enum tcb_upload_result result, int code,
                       const char *text, int http_status)
{
    struct tcb_upload_outcome outcome = {
        .result = result,
        .code = code,
        .text = text ? text : "",
        .http_status = http_status,
        .attempts = rec->attempts,
        .account = acct->account,
        .json = rec->json,
        .json_len = rec->len,
    };
    up->on_outcome(up->ctx, &rec->tag, &outcome);
}

void tcb_upload_finish_record(struct tcb_uploader *up, struct tcb_upload_account *acct,
                              struct tcb_batch_record *rec, enum tcb_upload_result result, int code,
                              const char *text, int http_status)
{
    if (up->policy.keyed_ordering && rec->key != 0) {
        tcb_batch_keys_release(up->keys, rec->key);
        /* The key set is shared: a record of another account may wait for this key. */
        for (size_t i = 0; i < up->acct_count; i++) {
            up->accts[i].form_stalled = 0;
        }
    }
    acct->form_stalled = 0;
    up->pending_records--;
    acct->held_records--;
    up->pending_bytes -= rec->len;
    const char *label = tcb_upload_account_label(acct);
    if (result == TCB_UPLOAD_ACCEPTED) {
        const char *labels[] = {label};
        tcb_counter_add(up->m.records_uploaded, labels, 1);
    } else if (result == TCB_UPLOAD_REJECTED) {
        char code_text[16];
        snprintf(code_text, sizeof(code_text), "%d", code ? code : http_status);
        const char *labels[] = {label, code_text};
        tcb_counter_add(up->m.records_rejected, labels, 1);
    } else if (result == TCB_UPLOAD_EXHAUSTED) {
        const char *labels[] = {label};
        tcb_counter_add(up->m.records_exhausted, labels, 1);
    }
    /* A detached record was already reported ABANDONED; its tag is not ours now. */
    if (!rec->detached) {
        up->delivered += result != TCB_UPLOAD_ABANDONED ? 1 : 0;
        tcb_upload_report(up, acct, rec, result, code, text, http_status);
    }
    tcb_batch_record_free(rec);
}

void tcb_upload_drop_batch(struct tcb_upload_account *acct, struct tcb_batch *batch)
{
    tcb_upload_account_unlink(acct, batch);
    tcb_batch_destroy(batch);
    acct->form_stalled = 0;
}

static void schedule_retry(struct tcb_uploader *up, struct tcb_batch *batch, long retry_after_s,
                           int64_t now_ms)
{
    long delay = tcb_backoff_delay_ms(&up->rng, batch->attempts, up->retry_initial_ms,
                                      up->retry_max_ms, retry_after_s, up->retry_after_max_s);
    batch->not_before_ms = now_ms + delay;
}

static int start_batch(struct tcb_uploader *up, struct tcb_upload_account *acct,
                       struct tcb_batch *batch, int64_t now_ms)
{
    struct tcb_upload_xfer *xfer = take_xfer(up);
    if (!xfer) {
        return -1;
    }
    tcb_batch_body(batch);
    struct tcb_upload_request req = {
        .url = acct->url,
        .headers = acct->headers,
        .body = batch->body,
        .body_len = batch->body_len,
        .timeout_ms = up->timeout_ms,
        .connect_timeout_ms = up->connect_timeout_ms,
        .ca_file = up->ca_file,
    };
    if (tcb_upload_xfer_prepare(xfer, &req) != 0 ||
        curl_multi_add_handle(up->multi, xfer->easy) != CURLM_OK) {
        tcb_upload_give_back_xfer(up, xfer);
        return -1;
    }
    xfer->batch = batch;
    xfer->acct = acct;
    xfer->started_ms = now_ms;
    batch->xfer = xfer;
    batch->sending = 1;
    batch->attempts++;
    for (size_t i = 0; i < batch->count; i++) {
        struct tcb_batch_record *rec = batch->records[i];
        if (rec->attempts++ == 0) {
            rec->first_sent_ms = now_ms;
        }
    }
    acct->sending++;
    up->in_flight_requests++;
    up->in_flight_records += batch->count;
    const char *labels[] = {tcb_upload_account_label(acct)};
    tcb_gauge_set(up->m.in_flight, labels, acct->sending);
    tcb_histogram_observe(up->m.batch_records, labels, (double)batch->count);
    return 0;
}

/* A batch that could not be started waits like a transport failure. */
static void start_or_defer(struct tcb_uploader *up, struct tcb_upload_account *acct,
                           struct tcb_batch *batch, int64_t now_ms)
{
    if (start_batch(up, acct, batch, now_ms) != 0) {
        batch->attempts++;
        schedule_retry(up, batch, -1, now_ms);
        TCB_WARN("upload.start_failed", "account %s: could not start a request; retrying later",
                 tcb_upload_account_label(acct));
    }
}

static void dispatch_account(struct tcb_uploader *up, struct tcb_upload_account *acct,
                             int64_t now_ms)
{
    if (acct->halted) {
        if (acct->sending > 0 || now_ms < acct->probe_at_ms) {
            return;
        }
        /* One probe request with the oldest batch, back-off or not. */
        struct tcb_batch *probe = tcb_upload_account_ready_batch(acct, INT64_MAX);
        if (!probe) {
            probe = tcb_upload_account_form(acct, &up->policy, up->keys, &up->next_seq, now_ms, 1);
        }
        acct->probe_at_ms = now_ms + up->auth_retry_ms;
        if (probe) {
            start_or_defer(up, acct, probe, now_ms);
        }
        return;
    }
    while (acct->sending < acct->aimd.cap) {
        struct tcb_batch *batch = tcb_upload_account_ready_batch(acct, now_ms);
        if (!batch) {
            batch = tcb_upload_account_form(acct, &up->policy, up->keys, &up->next_seq, now_ms,
                                            up->flushing);
        }
        if (!batch) {
            return;
        }
        int before = acct->sending;
        start_or_defer(up, acct, batch, now_ms);
        if (acct->sending == before) {
            return;
        }
    }
}

static void dispatch(struct tcb_uploader *up, int64_t now_ms)
{
    for (size_t i = 0; i < up->acct_count; i++) {
        dispatch_account(up, &up->accts[i], now_ms);
    }
}

/* Splits batch into halves, both in its place in the list, both due at
 * not_before_ms. Only for batches of two or more records. */
static void split_in_place(struct tcb_uploader *up, struct tcb_upload_account *acct,
                           struct tcb_batch *batch, int64_t not_before_ms)
{
    struct tcb_batch *rest = tcb_batch_split_off(batch, batch->count / 2, up->next_seq++);
    rest->attempts = batch->attempts;
    rest->not_before_ms = not_before_ms;
    batch->not_before_ms = not_before_ms;
    tcb_upload_account_insert_after(acct, batch, rest);
}

/* Before a batch goes again: records abandoned by a partition flush while on the
 * wire are dropped (their partition's new owner sends them). Returns the count left. */
static size_t shed_detached(struct tcb_uploader *up, struct tcb_upload_account *acct,
                            struct tcb_batch *batch)
{
    size_t r = 0;
    while (r < batch->count) {
        if (batch->records[r]->detached) {
            tcb_upload_finish_record(up, acct, tcb_batch_take(batch, r), TCB_UPLOAD_ABANDONED, 0,
                                     NULL, 0);
        } else {
            r++;
        }
    }
    return batch->count;
}

/* Whether a 2xx answer accounts for every record sent: "processed" plus the
 * unprocessed entries equals the batch (a "success" may leave processed out),
 * and a "fail" names every record. */
static int answer_complete(const struct tcb_ct_response *resp, const unsigned char *fate, size_t n)
{
    if (resp->processed < 0) {
        return resp->status == TCB_CT_STATUS_SUCCESS && resp->unprocessed_count == 0;
    }
    if ((size_t)resp->processed + resp->unprocessed_count != n) {
        return 0;
    }
    for (size_t i = 0; resp->status == TCB_CT_STATUS_FAIL && i < n; i++) {
        if (fate[i] == TCB_FATE_ACCEPTED) {
            return 0;
        }
    }
    return 1;
}

/* Finishes every record of a one-record-or-more batch as EXHAUSTED. */
static void exhaust_batch(struct tcb_uploader *up, struct tcb_upload_account *acct,
                          struct tcb_batch *batch, int code, const char *text, int http_status)
{
    while (batch->count > 0) {
        tcb_upload_finish_record(up, acct, tcb_batch_take(batch, 0), TCB_UPLOAD_EXHAUSTED, code,
                                 text, http_status);
    }
    tcb_upload_drop_batch(acct, batch);
}

/* A 2xx we cannot map to every record: resend in halves until each answer is
 * unambiguous, without the records a partition flush abandoned meanwhile. A
 * lone record waits and goes again, within its attempt budget. */
static void handle_ambiguous(struct tcb_uploader *up, struct tcb_upload_account *acct,
                             struct tcb_batch *batch, const struct tcb_upload_verdict_info *info,
                             int64_t now_ms)
{
    const char *labels[] = {tcb_upload_account_label(acct)};
    tcb_counter_add(up->m.ambiguous, labels, 1);
    TCB_WARN("upload.ambiguous",
             "account %s: a 2xx answer did not account for each of %zu records; resending "
             "%s",
             labels[0], batch->count, batch->count > 1 ? "in halves" : "after a back-off");
    if (shed_detached(up, acct, batch) == 0) {
        tcb_upload_drop_batch(acct, batch);
    } else if (batch->count > 1) {
        split_in_place(up, acct, batch, 0);
    } else if (++batch->records[0]->own_failures >= up->max_record_attempts) {
        exhaust_batch(up, acct, batch, 0, "ambiguous answers until the attempt budget ran out",
                      info->http_status);
    } else {
        schedule_retry(up, batch, -1, now_ms);
    }
}

/* 2xx understood: per-record fates; 555s go back as a retry batch in place,
 * within each record's attempt budget. */
static void handle_ok(struct tcb_uploader *up, struct tcb_upload_account *acct,
                      struct tcb_batch *batch, const struct tcb_upload_verdict_info *info,
                      int64_t now_ms)
{
    tcb_aimd_success(&acct->aimd);
    tcb_upload_set_halted(up, acct, 0, now_ms);
    size_t n = batch->count;
    unsigned char *fate = tcb_xcalloc(n, sizeof(*fate));
    int *entry = tcb_xcalloc(n, sizeof(*entry));
    int mismatches = 0;
    int mapped = tcb_upload_map_records(&info->resp, batch, fate, entry, &mismatches) == 0;
    if (!mapped || !answer_complete(&info->resp, fate, n)) {
        free(fate);
        free(entry);
        handle_ambiguous(up, acct, batch, info, now_ms);
        return;
    }
    const char *labels[] = {tcb_upload_account_label(acct)};
    tcb_counter_add(up->m.echo_mismatches, labels, mismatches);
    struct tcb_batch *retry = tcb_batch_new(up->next_seq++, batch->max_records);
    for (size_t i = 0; i < n; i++) {
        struct tcb_batch_record *rec = batch->records[i];
        batch->records[i] = NULL;
        const struct tcb_ct_unprocessed *u =
            entry[i] >= 0 ? &info->resp.unprocessed[entry[i]] : NULL;
        if (fate[i] == TCB_FATE_RETRY && rec->detached) {
            tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_ABANDONED, 0, NULL, 0);
        } else if (fate[i] == TCB_FATE_RETRY && ++rec->own_failures >= up->max_record_attempts) {
            tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_EXHAUSTED, u->code, u->text,
                                     info->http_status);
        } else if (fate[i] == TCB_FATE_RETRY) {
            tcb_batch_add(retry, rec);
        } else if (fate[i] == TCB_FATE_REJECTED) {
            tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_REJECTED, u->code, u->text,
                                     info->http_status);
        } else {
            tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_ACCEPTED, 0, NULL,
                                     info->http_status);
        }
    }
    free(fate);
    free(entry);
    batch->count = 0;
    if (retry->count > 0) {
        retry->attempts = batch->attempts;
        schedule_retry(up, retry, -1, now_ms);
        tcb_upload_account_insert_after(acct, batch, retry);
        const char *reason[] = {labels[0], "record_555"};
        tcb_counter_add(up->m.retries, reason, 1);
    } else {
        tcb_batch_destroy(retry);
    }
    tcb_upload_drop_batch(acct, batch);
}

/* With clevertap.max_retry_s set: whether the batch's oldest record has been
 * retried for longer. */
static int retry_deadline_passed(const struct tcb_uploader *up, const struct tcb_batch *batch,
                                 int64_t now_ms)
{
    if (up->max_retry_ms <= 0) {
        return 0;
    }
    for (size_t i = 0; i < batch->count; i++) {
        const struct tcb_batch_record *rec = batch->records[i];
        if (rec->first_sent_ms > 0 && now_ms - rec->first_sent_ms >= up->max_retry_ms) {
            return 1;
        }
    }
    return 0;
}

static void handle_retry(struct tcb_uploader *up, struct tcb_upload_account *acct,
                         struct tcb_batch *batch, const struct tcb_upload_verdict_info *info,
                         const char *retry_after, int64_t now_ms)
{
    const char *label = tcb_upload_account_label(acct);
    if (info->reason == TCB_REASON_AUTH) {
        if (!acct->halted) {
            TCB_WARN(
                "upload.halted",
                "account %s: HTTP %d (credentials, region or endpoint refused); uploads halted, "
                "records kept, probing every %ld ms",
                label, info->http_status, up->auth_retry_ms);
        }
        tcb_upload_set_halted(up, acct, 1, now_ms);
        batch->not_before_ms = 0; /* it is the next probe */
    } else if (retry_deadline_passed(up, batch, now_ms)) {
        TCB_WARN("upload.exhausted",
                 "account %s: %s (HTTP %d) past clevertap.max_retry_s; %zu records exhausted",
                 label, tcb_upload_reason_name(info->reason), info->http_status, batch->count);
        exhaust_batch(up, acct, batch, info->code, info->text, info->http_status);
        return;
    } else {
        if (info->reason == TCB_REASON_THROTTLED) {
            tcb_aimd_throttled(&acct->aimd);
            const char *labels[] = {label};
            tcb_counter_add(up->m.throttled, labels, 1);
        }
        long after = tcb_retry_after_parse(retry_after[0] ? retry_after : NULL, time(NULL));
        schedule_retry(up, batch, after, now_ms);
        if (info->reason == TCB_REASON_BAD_RESPONSE && batch->count > 1) {
            /* An unreadable (or over-long) answer to a smaller request may be readable. */
            split_in_place(up, acct, batch, batch->not_before_ms);
        }
        TCB_DEBUG("upload.retry", "account %s: %s (HTTP %d), attempt %d, retry in %lld ms", label,
                  tcb_upload_reason_name(info->reason), info->http_status, batch->attempts,
                  (long long)(batch->not_before_ms - now_ms));
    }
    const char *labels[] = {label, tcb_upload_reason_name(info->reason)};
    tcb_counter_add(up->m.retries, labels, 1);
}

static void handle_permanent(struct tcb_uploader *up, struct tcb_upload_account *acct,
                             struct tcb_batch *batch, const struct tcb_upload_verdict_info *info,
                             int64_t now_ms)
{
    tcb_upload_set_halted(up, acct, 0, now_ms); /* the credentials passed */
    if (batch->count > 1) {
        split_in_place(up, acct, batch, 0);
        return;
    }
    TCB_INFO("upload.rejected", "account %s: HTTP %d refused a single record (code %d)",
             tcb_upload_account_label(acct), info->http_status, info->code);
    if (batch->count == 1) {
        struct tcb_batch_record *rec = tcb_batch_take(batch, 0);
        tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_REJECTED, info->code, info->text,
                                 info->http_status);
    }
    tcb_upload_drop_batch(acct, batch);
}

#define TRANSPORT_WARN_EVERY_MS 60000

/* A request that ended without an answer (refused or reset connection, DNS,
 * TLS, timeout): a warning at most once a minute per account, so that a
 * certificate we cannot verify or an unreachable endpoint is visible without
 * flooding the log, the rest at debug. curl's text names the host and the
 * cause, never a header or the body. */
static void log_transport(struct tcb_upload_account *acct, CURLcode result, const char *errbuf,
                          int64_t now_ms)
{
    const char *label = tcb_upload_account_label(acct);
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(result);
    if (acct->transport_logged_ms != 0 &&
        now_ms - acct->transport_logged_ms < TRANSPORT_WARN_EVERY_MS) {
        TCB_DEBUG("upload.transport", "account %s: %s", label, why);
        return;
    }
    acct->transport_logged_ms = now_ms;
    int untrusted = result == CURLE_PEER_FAILED_VERIFICATION ||
                    result == CURLE_SSL_CACERT_BADFILE || result == CURLE_SSL_CERTPROBLEM;
    TCB_WARN("upload.transport",
             "account %s: request failed without an answer: %s; retrying, records kept%s", label,
             why,
             untrusted ? " (the server's certificate is not trusted: check the endpoint and "
                         "clevertap.ca_file)"
                       : "");
}

/* Everything that follows one finished request: the single place that decides. */
static void handle_done(struct tcb_uploader *up, struct tcb_upload_xfer *xfer, CURLcode result)
{
    int64_t now_ms = tcb_upload_now_ms();
    struct tcb_batch *batch = xfer->batch;
    struct tcb_upload_account *acct = xfer->acct;
    const char *label = tcb_upload_account_label(acct);
    batch->sending = 0;
    batch->xfer = NULL;
    free(batch->body); /* rebuilt if the batch goes again; memory stays ~ pending bytes */
    batch->body = NULL;
    batch->body_len = 0;
    acct->sending--;
    up->in_flight_requests--;
    up->in_flight_records -= batch->count;
    const char *labels[] = {label};
    tcb_gauge_set(up->m.in_flight, labels, acct->sending);
    tcb_histogram_observe(up->m.latency, labels, (double)(now_ms - xfer->started_ms) / 1000.0);

    struct tcb_upload_verdict_info info;
    tcb_upload_classify(tcb_upload_xfer_transport(result), tcb_upload_xfer_status(xfer),
                        xfer->resp.data, xfer->resp.len, xfer->resp_truncated, batch->count, &info);
    if (result != CURLE_OK) {
        log_transport(acct, result, xfer->errbuf, now_ms);
    }
    char retry_after[sizeof(xfer->retry_after)];
    memcpy(retry_after, xfer->retry_after, sizeof(retry_after));
    tcb_upload_give_back_xfer(up, xfer);

    const char *result_labels[] = {
        label, info.verdict == TCB_VERDICT_OK ? "ok" : tcb_upload_reason_name(info.reason)};
    tcb_counter_add(up->m.uploads, result_labels, 1);
    if (info.verdict != TCB_VERDICT_OK && shed_detached(up, acct, batch) == 0) {
        tcb_upload_drop_batch(acct, batch); /* nothing of ours left to resend */
        tcb_upload_verdict_clear(&info);
        return;
    }
    switch (info.verdict) {
    case TCB_VERDICT_OK:
        handle_ok(up, acct, batch, &info, now_ms);
        break;
    case TCB_VERDICT_RETRY:
        handle_retry(up, acct, batch, &info, retry_after, now_ms);
        break;
    case TCB_VERDICT_PERMANENT:
        handle_permanent(up, acct, batch, &info, now_ms);
        break;
    }
    tcb_upload_verdict_clear(&info);
}

static int perform_and_drain(struct tcb_uploader *up)
{
    int running = 0;
    if (curl_multi_perform(up->multi, &running) != CURLM_OK) {
        return -1;
    }
    for (;;) {
        int left = 0;
        CURLMsg *msg = curl_multi_info_read(up->multi, &left);
        if (!msg) {
            break;
        }
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        struct tcb_upload_xfer *xfer = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&xfer);
        curl_multi_remove_handle(up->multi, easy);
        handle_done(up, xfer, result);
    }
    return 0;
}

static int64_t next_due(const struct tcb_uploader *up, int64_t now_ms)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < up->acct_count; i++) {
        const struct tcb_upload_account *acct = &up->accts[i];
        int64_t t = up->flushing && acct->pending_head && !acct->form_stalled && !acct->halted &&
                            acct->sending < acct->aimd.cap
                        ? now_ms
                        : tcb_upload_account_next_due(acct, &up->policy, now_ms);
        if (t < due) {
            due = t;
        }
    }
    return due;
}

int tcb_uploader_run(struct tcb_uploader *up, int timeout_ms)
{
    up->delivered = 0;
    if (perform_and_drain(up) != 0) {
        return -1;
    }
    int64_t now_ms = tcb_upload_now_ms();
    dispatch(up, now_ms);
    if (perform_and_drain(up) != 0) {
        return -1;
    }
    now_ms = tcb_upload_now_ms();
    int64_t due = next_due(up, now_ms);
    int64_t wait = timeout_ms < 0 ? 0 : timeout_ms;
    if (due != INT64_MAX && due - now_ms < wait) {
        wait = due > now_ms ? due - now_ms : 0;
    }
    struct curl_waitfd watched = {.fd = up->watch_fd, .events = CURL_WAIT_POLLIN};
    unsigned int extra = up->watch_fd >= 0 ? 1 : 0;
    if (wait > 0 &&
        curl_multi_poll(up->multi, extra ? &watched : NULL, extra, (int)wait, NULL) != CURLM_OK) {
        return -1;
    }
    if (perform_and_drain(up) != 0) {
        return -1;
    }
    dispatch(up, tcb_upload_now_ms());
    if (perform_and_drain(up) != 0) {
        return -1;
    }
    return up->delivered;
}
