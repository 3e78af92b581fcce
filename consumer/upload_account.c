/* Per-account queues and the rules for what may be sent next: linger and size
 * bounds, keyed ordering (a key's next record waits in the pending queue while
 * its previous one is not final), back-off. Never performs I/O. */
#include "consumer/upload_account.h"

#include "config/config.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_header(struct curl_slist **list, const char *name, const char *value)
{
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = tcb_xmalloc(len);
    snprintf(line, len, "%s: %s", name, value);
    struct curl_slist *grown = curl_slist_append(*list, line);
    memset(line, 0, len); /* may hold the passcode */
    free(line);
    if (!grown) {
        tcb_out_of_memory(); /* curl_slist_append fails only for memory */
    }
    *list = grown;
}

int tcb_upload_account_init(struct tcb_upload_account *acct, const struct tcb_account *account,
                            const char *base_url, char *err, size_t err_len)
{
    memset(acct, 0, sizeof(*acct));
    acct->account = account;
    if (!base_url || !account->account_id || !account->passcode) {
        snprintf(err, err_len, "account %s: no base URL, account_id or passcode",
                 account->name ? account->name : "(unnamed)");
        return -1;
    }
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/') {
        len--;
    }
    acct->url = tcb_xmalloc(len + sizeof("/1/upload"));
    memcpy(acct->url, base_url, len);
    memcpy(acct->url + len, "/1/upload", sizeof("/1/upload"));
    add_header(&acct->headers, "X-CleverTap-Account-Id", account->account_id);
    add_header(&acct->headers, "X-CleverTap-Passcode", account->passcode);
    add_header(&acct->headers, "Content-Type", "application/json; charset=utf-8");
    add_header(&acct->headers, "Expect", "");
    int max = account->max_in_flight;
    if (max < 1 || max > TCB_CLEVERTAP_MAX_IN_FLIGHT) {
        max = max < 1 ? 1 : TCB_CLEVERTAP_MAX_IN_FLIGHT;
    }
    tcb_aimd_init(&acct->aimd, max);
    return 0;
}

void tcb_upload_account_cleanup(struct tcb_upload_account *acct)
{
    if (!acct) {
        return;
    }
    for (struct curl_slist *h = acct->headers; h; h = h->next) {
        memset(h->data, 0, strlen(h->data));
    }
    curl_slist_free_all(acct->headers);
    free(acct->url);
    while (acct->pending_head) {
        struct tcb_batch_record *rec = acct->pending_head;
        acct->pending_head = rec->next;
        tcb_batch_record_free(rec);
    }
    while (acct->first) {
        struct tcb_batch *batch = acct->first;
        acct->first = batch->next;
        tcb_batch_destroy(batch);
    }
    memset(acct, 0, sizeof(*acct));
}

void tcb_upload_account_enqueue(struct tcb_upload_account *acct, struct tcb_batch_record *rec)
{
    rec->next = NULL;
    if (acct->pending_tail) {
        acct->pending_tail->next = rec;
    } else {
        acct->pending_head = rec;
    }
    acct->pending_tail = rec;
    acct->pending_count++;
    acct->pending_bytes += rec->len;
    acct->form_stalled = 0;
}

struct tcb_batch *tcb_upload_account_ready_batch(struct tcb_upload_account *acct, int64_t now_ms)
{
    for (struct tcb_batch *batch = acct->first; batch; batch = batch->next) {
        if (batch->sending || batch->not_before_ms > now_ms) {
            continue;
        }
        return batch;
    }
    return NULL;
}

static int formation_due(const struct tcb_upload_account *acct,
                         const struct tcb_batch_policy *policy, int64_t now_ms)
{
    if (!acct->pending_head || acct->form_stalled) {
        return 0;
    }
    return acct->pending_count >= policy->max_records ||
           acct->pending_bytes + acct->pending_count + TCB_BATCH_ENVELOPE_BYTES >=
               policy->max_bytes ||
           now_ms - acct->pending_head->enqueued_ms >= policy->linger_ms;
}

/* Whether rec must wait: an earlier record of its key is not final yet (in this
 * batch or another one). */
static int held(const struct tcb_batch_record *rec, const struct tcb_batch_policy *policy,
                const struct tcb_batch_keys *keys)
{
    return policy->keyed_ordering && tcb_batch_keys_busy(keys, rec->key);
}

static void unlink_pending(struct tcb_upload_account *acct, struct tcb_batch_record *prev,
                           struct tcb_batch_record *rec)
{
    if (prev) {
        prev->next = rec->next;
    } else {
        acct->pending_head = rec->next;
    }
    if (acct->pending_tail == rec) {
        acct->pending_tail = prev;
    }
    acct->pending_count--;
    acct->pending_bytes -= rec->len;
    rec->next = NULL;
}

struct tcb_batch *tcb_upload_account_form(struct tcb_upload_account *acct,
                                          const struct tcb_batch_policy *policy,
                                          struct tcb_batch_keys *keys, uint64_t *next_seq,
                                          int64_t now_ms, int force)
{
    if (!acct->pending_head || (!force && !formation_due(acct, policy, now_ms))) {
        return NULL;
    }
    struct tcb_batch *batch = tcb_batch_new((*next_seq)++, policy->max_records);
    struct tcb_batch_record *prev = NULL;
    struct tcb_batch_record *rec = acct->pending_head;
    while (rec && batch->count < batch->max_records) {
        struct tcb_batch_record *next = rec->next;
        if (held(rec, policy, keys)) {
            prev = rec;
            rec = next;
            continue;
        }
        if (!tcb_batch_fits(batch, rec->len, policy->max_bytes)) {
            break;
        }
        if (policy->keyed_ordering && tcb_batch_keys_add(keys, rec->key) != 0) {
            prev = rec; /* key table full: hold until keys are released */
            rec = next;
            continue;
        }
        unlink_pending(acct, prev, rec);
        tcb_batch_add(batch, rec);
        rec = next;
    }
    if (batch->count == 0) {
        tcb_batch_destroy(batch);
        acct->form_stalled = 1;
        return NULL;
    }
    tcb_upload_account_insert_after(acct, acct->last, batch);
    return batch;
}

void tcb_upload_account_insert_after(struct tcb_upload_account *acct, struct tcb_batch *pos,
                                     struct tcb_batch *batch)
{
    batch->prev = pos;
    batch->next = pos ? pos->next : acct->first;
    if (batch->next) {
        batch->next->prev = batch;
    } else {
        acct->last = batch;
    }
    if (pos) {
        pos->next = batch;
    } else {
        acct->first = batch;
    }
}

void tcb_upload_account_unlink(struct tcb_upload_account *acct, struct tcb_batch *batch)
{
    if (batch->prev) {
        batch->prev->next = batch->next;
    } else {
        acct->first = batch->next;
    }
    if (batch->next) {
        batch->next->prev = batch->prev;
    } else {
        acct->last = batch->prev;
    }
    batch->prev = batch->next = NULL;
}

int64_t tcb_upload_account_next_due(const struct tcb_upload_account *acct,
                                    const struct tcb_batch_policy *policy, int64_t now_ms)
{
    int64_t due = INT64_MAX;
    if (acct->halted) {
        return acct->sending == 0 ? acct->probe_at_ms : INT64_MAX;
    }
    if (acct->sending >= acct->aimd.cap) {
        return INT64_MAX; /* a finishing request wakes the loop */
    }
    if (acct->pending_head && !acct->form_stalled) {
        due = formation_due(acct, policy, now_ms)
                  ? now_ms
                  : acct->pending_head->enqueued_ms + policy->linger_ms;
    }
    for (const struct tcb_batch *batch = acct->first; batch; batch = batch->next) {
        if (!batch->sending && batch->not_before_ms < due) {
            due = batch->not_before_ms;
        }
    }
    return due;
}
