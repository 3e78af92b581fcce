/* The ordering-key table for keyed ordering: which keys have records in a batch
 * that is not final yet, how many, and which batch took the latest of them.
 * Fixed capacity chosen at creation (the uploader's pending-record ceiling). */
#ifndef TCB_CONSUMER_BATCH_KEYS_H
#define TCB_CONSUMER_BATCH_KEYS_H

#include <stddef.h>
#include <stdint.h>

struct tcb_batch_keys;

/* New table for at most max_keys distinct keys; aborts on OOM. */
struct tcb_batch_keys *tcb_batch_keys_create(size_t max_keys);
/* Frees; accepts NULL. */
void tcb_batch_keys_destroy(struct tcb_batch_keys *keys);

/* The seq of the batch that last took a record of key, or 0 when no record of
 * key is outstanding. key 0 is never stored (always returns 0). */
uint64_t tcb_batch_keys_owner(const struct tcb_batch_keys *keys, uint64_t key);
/* Counts one more outstanding record of key, now owned by batch seq. Returns 0,
 * or -1 when the table is full (the caller treats the key as blocked). */
int tcb_batch_keys_add(struct tcb_batch_keys *keys, uint64_t key, uint64_t seq);
/* Counts one record of key as final; removes the key at zero. */
void tcb_batch_keys_release(struct tcb_batch_keys *keys, uint64_t key);
/* Distinct keys outstanding. */
size_t tcb_batch_keys_count(const struct tcb_batch_keys *keys);

#endif
