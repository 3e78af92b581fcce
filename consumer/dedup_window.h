/* A bounded window of delivered record identities for one partition, to drop
 * Talon.One's retries: each identity is a 64-bit hash of (request-id,
 * record-index, output index). The oldest identity leaves when the window is
 * full. Pure memory work: no I/O, no clock; memory grows with use up to the
 * window and never beyond. */
#ifndef TCB_CONSUMER_DEDUP_WINDOW_H
#define TCB_CONSUMER_DEDUP_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct tcb_dedup_window {
    uint64_t *fifo;  /* identities in arrival order (a ring of `size`) */
    uint64_t *slots; /* open-addressing set over the same identities; 0 = empty */
    size_t size;     /* the window: most identities remembered; 0 = disabled */
    size_t fifo_cap, head, count;
    size_t slot_cap; /* a power of two, at least 2 x the identities held */
};

/* Starts an empty window remembering up to size identities (0 disables it).
 * Allocates nothing yet. */
void tcb_dedup_window_init(struct tcb_dedup_window *w, size_t size);
/* Frees everything; the window is empty (and still usable) after. */
void tcb_dedup_window_clear(struct tcb_dedup_window *w);

/* The identity of an output: request_id[0..len) with the record-index header
 * value and the output's index. Never 0. */
uint64_t tcb_dedup_identity(const char *request_id, size_t len, long record_index,
                            size_t output_index);

/* 1 when id is in the window, else 0 (always 0 when disabled). */
int tcb_dedup_window_seen(const struct tcb_dedup_window *w, uint64_t id);
/* Remembers id (a no-op when already there or disabled), forgetting the
 * oldest identity when the window is full. */
void tcb_dedup_window_add(struct tcb_dedup_window *w, uint64_t id);

#endif
