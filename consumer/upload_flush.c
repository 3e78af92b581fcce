/* Deadlines: flush sends what is pending without linger and runs the loop until
 * the selected records are final or time is up, then abandons the rest (reported
 * ABANDONED: not final, so the caller does not commit them). Never decides retries. */
#include "consumer/upload_state.h"

#include "common/log.h"
#include "common/metrics.h"

#define FLUSH_STEP_MS 50

struct selection {
    const int32_t *partitions; /* NULL = every record */
    size_t count;
};

static int selected(const struct selection *sel, const struct tcb_batch_record *rec)
{
    if (rec->detached) {
        return 0;
    }
    if (!sel->partitions) {
        return 1;
    }
    for (size_t i = 0; i < sel->count; i++) {
        if (rec->tag.partition == sel->partitions[i]) {
            return 1;
        }
    }
    return 0;
}

/* Selected records not yet final (nor already abandoned). */
static size_t unfinished(const struct tcb_uploader *up, const struct selection *sel)
{
    if (!sel->partitions) {
        return up->pending_records;
    }
    size_t n = 0;
    for (size_t i = 0; i < up->acct_count; i++) {
        const struct tcb_upload_account *acct = &up->accts[i];
        for (const struct tcb_batch_record *rec = acct->pending_head; rec; rec = rec->next) {
            n += (size_t)selected(sel, rec);
        }
        for (const struct tcb_batch *batch = acct->first; batch; batch = batch->next) {
            for (size_t r = 0; r < batch->count; r++) {
                n += (size_t)selected(sel, batch->records[r]);
            }
        }
    }
    return n;
}

/* Stops batch's request; its records stay in the batch, not sending. */
static void abort_transfer(struct tcb_uploader *up, struct tcb_upload_account *acct,
                           struct tcb_batch *batch)
{
    struct tcb_upload_xfer *xfer = batch->xfer;
    curl_multi_remove_handle(up->multi, xfer->easy);
    tcb_upload_give_back_xfer(up, xfer);
    batch->xfer = NULL;
    batch->sending = 0;
    acct->sending--;
    up->in_flight_requests--;
    up->in_flight_records -= batch->count;
    const char *labels[] = {tcb_upload_account_label(acct)};
    tcb_gauge_set(up->m.in_flight, labels, acct->sending);
}

static size_t abandon_pending(struct tcb_uploader *up, struct tcb_upload_account *acct,
                              const struct selection *sel)
{
    size_t n = 0;
    struct tcb_batch_record *prev = NULL;
    struct tcb_batch_record *rec = acct->pending_head;
    while (rec) {
        struct tcb_batch_record *next = rec->next;
        if (!selected(sel, rec)) {
            prev = rec;
            rec = next;
            continue;
        }
        if (prev) {
            prev->next = next;
        } else {
            acct->pending_head = next;
        }
        if (acct->pending_tail == rec) {
            acct->pending_tail = prev;
        }
        acct->pending_count--;
        acct->pending_bytes -= rec->len;
        /* A queued record holds no ordering key; releasing its key would free the
         * key of the earlier record still outstanding and let later ones overtake. */
        rec->key = 0;
        tcb_upload_finish_record(up, acct, rec, TCB_UPLOAD_ABANDONED, 0, NULL, 0);
        n++;
        rec = next;
    }
    return n;
}

/* Abandons batch's selected records. A request carrying other records keeps
 * going: its selected records are detached (reported now, silent later). */
static size_t abandon_batch(struct tcb_uploader *up, struct tcb_upload_account *acct,
                            struct tcb_batch *batch, const struct selection *sel)
{
    size_t n = 0;
    if (batch->sending && !sel->partitions) {
        abort_transfer(up, acct, batch);
    }
    size_t r = 0;
    while (r < batch->count) {
        struct tcb_batch_record *rec = batch->records[r];
        if (rec->detached && !batch->sending) {
            /* Reported ABANDONED by an earlier partition flush and its request is
             * stopped now: drop it silently, or it would be sent again. */
            tcb_upload_finish_record(up, acct, tcb_batch_take(batch, r), TCB_UPLOAD_ABANDONED, 0,
                                     NULL, 0);
            continue;
        }
        if (!selected(sel, rec)) {
            r++;
            continue;
        }
        n++;
        if (batch->sending) {
            tcb_upload_report(up, acct, rec, TCB_UPLOAD_ABANDONED, 0, NULL, 0);
            rec->detached = 1;
            r++;
        } else {
            tcb_upload_finish_record(up, acct, tcb_batch_take(batch, r), TCB_UPLOAD_ABANDONED, 0,
                                     NULL, 0);
        }
    }
    if (batch->count == 0 && !batch->sending) {
        tcb_upload_drop_batch(acct, batch);
    }
    return n;
}

static size_t abandon(struct tcb_uploader *up, const struct selection *sel)
{
    size_t n = 0;
    for (size_t i = 0; i < up->acct_count; i++) {
        struct tcb_upload_account *acct = &up->accts[i];
        struct tcb_batch *batch = acct->first;
        while (batch) {
            struct tcb_batch *next = batch->next;
            n += abandon_batch(up, acct, batch, sel);
            batch = next;
        }
        n += abandon_pending(up, acct, sel);
    }
    return n;
}

size_t tcb_uploader_flush_partitions(struct tcb_uploader *up, int deadline_ms,
                                     const int32_t *partitions, size_t count)
{
    struct selection sel = {.partitions = partitions, .count = count};
    int64_t end = tcb_upload_now_ms() + (deadline_ms > 0 ? deadline_ms : 0);
    up->flushing = 1;
    for (;;) {
        int64_t now_ms = tcb_upload_now_ms();
        if (now_ms >= end || unfinished(up, &sel) == 0) {
            break;
        }
        int64_t step = end - now_ms < FLUSH_STEP_MS ? end - now_ms : FLUSH_STEP_MS;
        if (tcb_uploader_run(up, (int)step) < 0) {
            break;
        }
    }
    up->flushing = 0;
    size_t abandoned = abandon(up, &sel);
    if (abandoned > 0) {
        TCB_WARN("upload.abandoned", "flush deadline: %zu records left unfinished (not final)",
                 abandoned);
    }
    return abandoned;
}

size_t tcb_uploader_flush(struct tcb_uploader *up, int deadline_ms)
{
    return tcb_uploader_flush_partitions(up, deadline_ms, NULL, 0);
}
