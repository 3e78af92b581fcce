/* Per-account upload state: the pending queue, the formed batches (oldest first),
 * the AIMD in-flight cap and the 401/403 halt. Decides which batch may go next
 * (linger, bounds, keyed ordering, back-off); never talks to curl or reports. */
#ifndef TCB_CONSUMER_UPLOAD_ACCOUNT_H
#define TCB_CONSUMER_UPLOAD_ACCOUNT_H

#include "consumer/backoff.h"
#include "consumer/batch.h"
#include "consumer/batch_keys.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

struct tcb_account;

/* Limits batch formation follows; the same for every account. */
struct tcb_batch_policy {
    size_t max_records;
    size_t max_bytes;
    int64_t linger_ms;
    int keyed_ordering;
};

struct tcb_upload_account {
    const struct tcb_account *account; /* borrowed from the config */
    char *url;                         /* base URL + "/1/upload", owned */
    struct curl_slist *headers;        /* owned; holds the passcode: never logged */
    struct tcb_batch_record *pending_head, *pending_tail;
    size_t pending_count; /* records in the pending queue */
    size_t pending_bytes;
    size_t held_records;            /* submitted, not final: queued, batched or on the wire */
    struct tcb_batch *first, *last; /* formed batches, oldest first */
    int sending;                    /* requests on the wire */
    struct tcb_aimd aimd;
    int halted;                  /* 401/403 seen; only a probe request goes out */
    int64_t probe_at_ms;         /* when halted: next probe time */
    int form_stalled;            /* formation found nothing sendable; retry on change */
    int64_t transport_logged_ms; /* last warning about a failed transfer; 0 = none yet */
};

/* Fills acct for account: the URL (from base_url) and headers. Returns 0 or -1
 * with a message in err (never containing the passcode). */
int tcb_upload_account_init(struct tcb_upload_account *acct, const struct tcb_account *account,
                            const char *base_url, char *err, size_t err_len);
/* Frees the URL, wipes and frees the headers, frees pending records and batches;
 * accepts a zeroed or half-initialised acct. */
void tcb_upload_account_cleanup(struct tcb_upload_account *acct);

/* Appends rec (taken) to the pending queue. */
void tcb_upload_account_enqueue(struct tcb_upload_account *acct, struct tcb_batch_record *rec);

/* The oldest formed batch that may be sent now (not sending, back-off over), or
 * NULL. */
struct tcb_batch *tcb_upload_account_ready_batch(struct tcb_upload_account *acct, int64_t now_ms);

/* Forms a new batch from pending records when one is due (full by count or bytes,
 * the oldest record lingered long enough, or force). With keyed ordering a record
 * whose key is busy (an earlier record of the key is not final) stays pending, so
 * a batch carries at most one record per key and batches never share a key: they
 * may go in any order and 555 retries cannot reorder a key. The batch is appended
 * to the list and its keys marked busy.
 * *next_seq gives the batch's seq and is advanced. Returns the batch (owned by
 * acct) or NULL when nothing is due or everything due is held. */
struct tcb_batch *tcb_upload_account_form(struct tcb_upload_account *acct,
                                          const struct tcb_batch_policy *policy,
                                          struct tcb_batch_keys *keys, uint64_t *next_seq,
                                          int64_t now_ms, int force);

/* Inserts batch right after pos in the list (pos NULL: at the front). */
void tcb_upload_account_insert_after(struct tcb_upload_account *acct, struct tcb_batch *pos,
                                     struct tcb_batch *batch);
/* Unlinks batch from the list (the caller owns it afterwards). */
void tcb_upload_account_unlink(struct tcb_upload_account *acct, struct tcb_batch *batch);

/* The earliest monotonic time at which something of this account becomes due
 * (linger expiry, back-off end, probe time), or INT64_MAX (also while every
 * in-flight slot is taken: a finishing request is what frees one). */
int64_t tcb_upload_account_next_due(const struct tcb_upload_account *acct,
                                    const struct tcb_batch_policy *policy, int64_t now_ms);

#endif
