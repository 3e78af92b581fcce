/* The ordering-key set for keyed ordering: the keys that have a record in a batch
 * that is not final yet. With keyed ordering each key has at most one such record,
 * so a key's next record waits until the previous one is final. Fixed capacity
 * chosen at creation (the uploader's pending-record ceiling); never grows. */
#ifndef TCB_CONSUMER_BATCH_KEYS_H
#define TCB_CONSUMER_BATCH_KEYS_H

#include <stddef.h>
#include <stdint.h>

struct tcb_batch_keys;

/* New set for at most max_keys keys; aborts on OOM. */
struct tcb_batch_keys *tcb_batch_keys_create(size_t max_keys);
/* Frees; accepts NULL. */
void tcb_batch_keys_destroy(struct tcb_batch_keys *keys);

/* 1 when key has an outstanding record, else 0. Key 0 (unordered) is never busy. */
int tcb_batch_keys_busy(const struct tcb_batch_keys *keys, uint64_t key);
/* Marks key busy. Returns 0 (also for key 0), or -1 when the set is full (the
 * caller holds the record back until keys are released). */
int tcb_batch_keys_add(struct tcb_batch_keys *keys, uint64_t key);
/* Marks key free again; a key not in the set is ignored. */
void tcb_batch_keys_release(struct tcb_batch_keys *keys, uint64_t key);
/* Keys busy now. */
size_t tcb_batch_keys_count(const struct tcb_batch_keys *keys);

#endif
