/* Upload batches: the records one request carries and the {"d":[...]} body built
 * from them, bounded by a record count and a byte size. A batch owns its records
 * until the caller takes them back; it never decides when to send or retry. */
#ifndef TCB_CONSUMER_BATCH_H
#define TCB_CONSUMER_BATCH_H

#include "consumer/upload_client.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of "{\"d\":[" + "]}" around the records. */
#define TCB_BATCH_ENVELOPE_BYTES 8

/* One record waiting for a final outcome. */
struct tcb_batch_record {
    struct tcb_batch_record *next; /* link in a pending queue */
    char *json;                    /* compact JSON, owned */
    size_t len;
    uint64_t key; /* ordering key hash; 0 = unordered */
    struct tcb_upload_tag tag;
    int attempts;          /* requests that carried this record */
    int64_t first_sent_ms; /* monotonic time of its first request; 0 before */
    int detached;          /* already reported ABANDONED while on the wire: report nothing more */
    int64_t enqueued_ms;   /* monotonic time of submission */
};

/* New record holding a copy of json[0..len); aborts on OOM. */
struct tcb_batch_record *tcb_batch_record_new(const char *json, size_t len, uint64_t key,
                                              const struct tcb_upload_tag *tag, int64_t now_ms);
/* Frees one record; accepts NULL. */
void tcb_batch_record_free(struct tcb_batch_record *rec);

struct tcb_batch {
    uint64_t seq; /* unique per uploader, never 0 */
    struct tcb_batch_record **records;
    size_t count;
    size_t max_records;
    size_t bytes;                  /* body size: envelope + records + commas */
    int attempts;                  /* requests made for this batch (as a unit) */
    int sending;                   /* a request carrying it is on the wire */
    void *xfer;                    /* the transfer carrying it while sending (upload_transfer) */
    int64_t not_before_ms;         /* back-off: not sent before this monotonic time */
    struct tcb_batch *prev, *next; /* links in the account's batch list */
    char *body;                    /* built by tcb_batch_body, owned */
    size_t body_len;
};

/* New empty batch for up to max_records records; aborts on OOM. */
struct tcb_batch *tcb_batch_new(uint64_t seq, size_t max_records);
/* Frees the batch and every record still in it; accepts NULL. */
void tcb_batch_destroy(struct tcb_batch *batch);

/* Body size the batch would have with one more record of len bytes. */
size_t tcb_batch_bytes_with(const struct tcb_batch *batch, size_t len);
/* 1 when a record of len bytes fits both bounds, else 0. */
int tcb_batch_fits(const struct tcb_batch *batch, size_t len, size_t max_bytes);
/* Appends rec (taken); the caller checked tcb_batch_fits. */
void tcb_batch_add(struct tcb_batch *batch, struct tcb_batch_record *rec);

/* Builds (or rebuilds) batch->body from the records; aborts on OOM. */
void tcb_batch_body(struct tcb_batch *batch);

/* Moves the records [from, count) into a new batch (seq given) and shrinks batch
 * to [0, from). Returns the new batch (new; the caller owns it). */
struct tcb_batch *tcb_batch_split_off(struct tcb_batch *batch, size_t from, uint64_t seq);

/* Removes and returns record i (taken by the caller); later records move up. */
struct tcb_batch_record *tcb_batch_take(struct tcb_batch *batch, size_t i);

#endif
