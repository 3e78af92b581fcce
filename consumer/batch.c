/* The batch container: records in submission order and the request body made from
 * them. Pure memory work; never sends, retries or logs. */
#include "consumer/batch.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

struct tcb_batch_record *tcb_batch_record_new(const char *json, size_t len, uint64_t key,
                                              const struct tcb_upload_tag *tag, int64_t now_ms)
{
    struct tcb_batch_record *rec = tcb_xcalloc(1, sizeof(*rec));
    rec->json = tcb_xmalloc(len + 1);
    memcpy(rec->json, json, len);
    rec->json[len] = '\0';
    rec->len = len;
    rec->key = key;
    rec->tag = *tag;
    rec->enqueued_ms = now_ms;
    return rec;
}

void tcb_batch_record_free(struct tcb_batch_record *rec)
{
    if (!rec) {
        return;
    }
    free(rec->json);
    free(rec);
}

struct tcb_batch *tcb_batch_new(uint64_t seq, size_t max_records)
{
    struct tcb_batch *batch = tcb_xcalloc(1, sizeof(*batch));
    batch->seq = seq;
    batch->max_records = max_records ? max_records : 1;
    batch->records = tcb_xcalloc(batch->max_records, sizeof(struct tcb_batch_record *));
    batch->bytes = TCB_BATCH_ENVELOPE_BYTES;
    return batch;
}

void tcb_batch_destroy(struct tcb_batch *batch)
{
    if (!batch) {
        return;
    }
    for (size_t i = 0; batch->records && i < batch->count; i++) {
        tcb_batch_record_free(batch->records[i]);
    }
    free(batch->records);
    free(batch->body);
    free(batch);
}

size_t tcb_batch_bytes_with(const struct tcb_batch *batch, size_t len)
{
    return batch->bytes + len + (batch->count > 0 ? 1 : 0);
}

int tcb_batch_fits(const struct tcb_batch *batch, size_t len, size_t max_bytes)
{
    return batch->count < batch->max_records && tcb_batch_bytes_with(batch, len) <= max_bytes;
}

void tcb_batch_add(struct tcb_batch *batch, struct tcb_batch_record *rec)
{
    batch->bytes = tcb_batch_bytes_with(batch, rec->len);
    rec->next = NULL;
    batch->records[batch->count++] = rec;
}

void tcb_batch_body(struct tcb_batch *batch)
{
    free(batch->body);
    batch->body = tcb_xmalloc(batch->bytes + 1);
    char *p = batch->body;
    memcpy(p, "{\"d\":[", 6);
    p += 6;
    for (size_t i = 0; i < batch->count; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        memcpy(p, batch->records[i]->json, batch->records[i]->len);
        p += batch->records[i]->len;
    }
    memcpy(p, "]}", 2);
    p += 2;
    *p = '\0';
    batch->body_len = (size_t)(p - batch->body);
}

static void recount(struct tcb_batch *batch)
{
    batch->bytes = TCB_BATCH_ENVELOPE_BYTES;
    for (size_t i = 0; i < batch->count; i++) {
        batch->bytes += batch->records[i]->len + (i > 0 ? 1 : 0);
    }
}

struct tcb_batch *tcb_batch_split_off(struct tcb_batch *batch, size_t from, uint64_t seq)
{
    struct tcb_batch *rest = tcb_batch_new(seq, batch->max_records);
    for (size_t i = from; i < batch->count; i++) {
        rest->records[rest->count++] = batch->records[i];
        batch->records[i] = NULL;
    }
    batch->count = from < batch->count ? from : batch->count;
    recount(batch);
    recount(rest);
    return rest;
}

struct tcb_batch_record *tcb_batch_take(struct tcb_batch *batch, size_t i)
{
    struct tcb_batch_record *rec = batch->records[i];
    memmove(&batch->records[i], &batch->records[i + 1],
            (batch->count - i - 1) * sizeof(struct tcb_batch_record *));
    batch->count--;
    batch->records[batch->count] = NULL;
    recount(batch);
    return rec;
}
