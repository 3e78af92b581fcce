/* Outcome classes of design.md, as code: HTTP status, transport result and body
 * -> OK / RETRY / PERMANENT, and unprocessed entries -> per-record fates. Never
 * schedules, logs or touches a record's memory. */
#include "consumer/upload_outcome.h"

#include <stdio.h>
#include <string.h>

#define CT_CODE_RETRY 555 /* CleverTap's per-record "server-side error, retry it" */

static void excerpt(char *dst, size_t cap, const char *body, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    dst[n] = '\0';
}

static void set(struct tcb_upload_verdict_info *out, enum tcb_upload_verdict verdict,
                enum tcb_upload_reason reason)
{
    out->verdict = verdict;
    out->reason = reason;
}

/* 2xx whose body says the whole request failed (no per-record entries). */
static void classify_whole_fail(struct tcb_upload_verdict_info *out)
{
    int code = out->resp.code;
    out->code = code;
    snprintf(out->text, sizeof(out->text), "%s", out->resp.error);
    tcb_ct_response_clear(&out->resp);
    if (code == 401 || code == 403) {
        set(out, TCB_VERDICT_RETRY, TCB_REASON_AUTH);
    } else if (code == 429) {
        set(out, TCB_VERDICT_RETRY, TCB_REASON_THROTTLED);
    } else if (code == 0 || code == 408 || (code >= 500 && code < 600)) {
        set(out, TCB_VERDICT_RETRY, TCB_REASON_SERVER);
    } else {
        set(out, TCB_VERDICT_PERMANENT, TCB_REASON_CLIENT);
    }
}

static void classify_2xx(const char *body, size_t len, int body_truncated, size_t max_entries,
                         struct tcb_upload_verdict_info *out)
{
    if (body_truncated || tcb_ct_response_parse(body, len, max_entries, &out->resp) != 0 ||
        out->resp.status == TCB_CT_STATUS_UNKNOWN) {
        tcb_ct_response_clear(&out->resp);
        excerpt(out->text, sizeof(out->text), body, len);
        set(out, TCB_VERDICT_RETRY, TCB_REASON_BAD_RESPONSE);
        return;
    }
    if (out->resp.status == TCB_CT_STATUS_FAIL && out->resp.unprocessed_count == 0) {
        classify_whole_fail(out);
        return;
    }
    set(out, TCB_VERDICT_OK, TCB_REASON_NONE);
}

/* A refused request's CleverTap code and text, from a JSON error body when there
 * is one, else a printable excerpt of the body. */
static void error_body(const char *body, size_t len, struct tcb_upload_verdict_info *out)
{
    struct tcb_ct_response resp;
    if (tcb_ct_response_parse(body, len, 0, &resp) == 0 && resp.error[0] != '\0') {
        out->code = resp.code;
        snprintf(out->text, sizeof(out->text), "%s", resp.error);
        tcb_ct_response_clear(&resp);
        return;
    }
    tcb_ct_response_clear(&resp);
    excerpt(out->text, sizeof(out->text), body, len);
}

void tcb_upload_classify(enum tcb_transport transport, int http_status, const char *body,
                         size_t len, int body_truncated, size_t max_entries,
                         struct tcb_upload_verdict_info *out)
{
    memset(out, 0, sizeof(*out));
    out->resp.processed = -1;
    out->http_status = http_status;
    if (!body) {
        len = 0;
        body = "";
    }
    if (transport == TCB_TRANSPORT_TIMEOUT) {
        set(out, TCB_VERDICT_RETRY, TCB_REASON_TIMEOUT);
    } else if (transport != TCB_TRANSPORT_OK || http_status <= 0) {
        set(out, TCB_VERDICT_RETRY, TCB_REASON_TRANSPORT);
    } else if (http_status >= 200 && http_status < 300) {
        classify_2xx(body, len, body_truncated, max_entries, out);
    } else {
        error_body(body, len, out);
        /* Refused credentials, an endpoint with no Upload API behind it (a
         * wrong `endpoint` or proxy path), or a redirect (we follow none: the
         * passcode must not travel elsewhere): the account is misconfigured.
         * Dead-lettering every record one by one would empty the topic into
         * the DLQ; halting keeps them, visibly, until the config is fixed. */
        int misconfigured = http_status == 401 || http_status == 403 || http_status == 404 ||
                            http_status == 405 || (http_status >= 300 && http_status < 400);
        if (misconfigured) {
            set(out, TCB_VERDICT_RETRY, TCB_REASON_AUTH);
        } else if (http_status == 429) {
            set(out, TCB_VERDICT_RETRY, TCB_REASON_THROTTLED);
        } else if (http_status == 408 || http_status >= 500) {
            set(out, TCB_VERDICT_RETRY, TCB_REASON_SERVER);
        } else if (http_status >= 400) {
            set(out, TCB_VERDICT_PERMANENT, TCB_REASON_CLIENT);
        } else {
            /* 1xx as a final answer: not CleverTap; retry without losing data. */
            set(out, TCB_VERDICT_RETRY, TCB_REASON_BAD_RESPONSE);
        }
    }
}

void tcb_upload_verdict_clear(struct tcb_upload_verdict_info *info)
{
    if (info) {
        tcb_ct_response_clear(&info->resp);
    }
}

const char *tcb_upload_reason_name(enum tcb_upload_reason reason)
{
    static const char *const names[] = {"ok",      "throttled", "auth",         "server",
                                        "timeout", "transport", "bad_response", "client"};
    return (size_t)reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "unknown";
}

/* The first record not yet claimed whose content matches the echo, or -1. */
static int find_by_echo(const json_t *echo, const struct tcb_batch *batch, const int *entry)
{
    for (size_t i = 0; echo && i < batch->count; i++) {
        if (entry[i] < 0 &&
            tcb_ct_echo_matches(echo, batch->records[i]->json, batch->records[i]->len)) {
            return (int)i;
        }
    }
    return -1;
}

/* Which record entry e names: its number when that record is unclaimed and
 * consistent with the echo, else an unclaimed echo match, else its number. */
static int locate(const struct tcb_ct_unprocessed *u, const struct tcb_batch *batch,
                  const int *entry, int *mismatches)
{
    int by_number = u->record_number - 1;
    if (batch->count == 1) {
        by_number = 0; /* one record: nothing else it can name, whatever the number says */
    }
    int valid = by_number >= 0 && (size_t)by_number < batch->count && entry[by_number] < 0;
    if (valid && (!u->record || tcb_ct_echo_matches(u->record, batch->records[by_number]->json,
                                                    batch->records[by_number]->len))) {
        return by_number;
    }
    int by_echo = find_by_echo(u->record, batch, entry);
    if (valid || by_echo >= 0) {
        (*mismatches)++;
    }
    if (by_echo >= 0) {
        return by_echo;
    }
    return valid ? by_number : -1;
}

int tcb_upload_map_records(const struct tcb_ct_response *resp, const struct tcb_batch *batch,
                           unsigned char *fate, int *entry, int *mismatches)
{
    int rc = 0;
    *mismatches = 0;
    for (size_t i = 0; i < batch->count; i++) {
        fate[i] = TCB_FATE_ACCEPTED;
        entry[i] = -1;
    }
    for (size_t e = 0; e < resp->unprocessed_count; e++) {
        const struct tcb_ct_unprocessed *u = &resp->unprocessed[e];
        int i = locate(u, batch, entry, mismatches);
        if (i < 0) {
            rc = -1;
            continue;
        }
        entry[i] = (int)e;
        fate[i] = u->code == CT_CODE_RETRY ? TCB_FATE_RETRY : TCB_FATE_REJECTED;
    }
    return rc;
}
