/* The per-partition watermark: a ring of the messages that are not final, in
 * offset order. A message that is final when added needs no entry (the commit
 * point only ever waits for unfinished ones); a message that becomes final in
 * the middle stays until the ones before it are final too. */
#include "consumer/offset_tracker.h"

#include "util/alloc.h"

#include <stdlib.h>

void tcb_offset_tracker_init(struct tcb_offset_tracker *t, size_t max_entries,
                             void (*free_payload)(void *payload))
{
    t->ring = NULL;
    t->cap = t->head = t->count = 0;
    t->max_entries = max_entries ? max_entries : 1;
    t->next = -1;
    t->free_payload = free_payload;
}

static struct tcb_offset_entry *at(const struct tcb_offset_tracker *t, size_t i)
{
    return &t->ring[(t->head + i) % t->cap];
}

static void release(struct tcb_offset_tracker *t, struct tcb_offset_entry *e)
{
    if (e->payload && t->free_payload) {
        t->free_payload(e->payload);
    }
    e->payload = NULL;
}

void tcb_offset_tracker_clear(struct tcb_offset_tracker *t)
{
    for (size_t i = 0; i < t->count; i++) {
        release(t, at(t, i));
    }
    free(t->ring);
    t->ring = NULL;
    t->cap = t->head = t->count = 0;
}

static void grow(struct tcb_offset_tracker *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct tcb_offset_entry *ring = tcb_xcalloc(cap, sizeof(*ring));
    for (size_t i = 0; i < t->count; i++) {
        ring[i] = *at(t, i);
    }
    free(t->ring);
    t->ring = ring;
    t->cap = cap;
    t->head = 0;
}

int tcb_offset_tracker_add(struct tcb_offset_tracker *t, int64_t offset, uint32_t outstanding,
                           void *payload)
{
    if (offset < 0 || (t->next >= 0 && offset < t->next)) {
        if (payload && t->free_payload) {
            t->free_payload(payload);
        }
        return -1;
    }
    t->next = offset + 1;
    if (outstanding == 0) {
        if (payload && t->free_payload) {
            t->free_payload(payload);
        }
        return 0;
    }
    if (t->count == t->cap) {
        grow(t);
    }
    struct tcb_offset_entry *e = at(t, t->count++);
    e->offset = offset;
    e->outstanding = outstanding;
    e->payload = payload;
    return 0;
}

/* Position (0 = oldest) of the entry holding offset, or -1. */
static long find(const struct tcb_offset_tracker *t, int64_t offset)
{
    size_t lo = 0;
    size_t hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t o = at(t, mid)->offset;
        if (o == offset) {
            return (long)mid;
        }
        if (o < offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

void *tcb_offset_tracker_payload(const struct tcb_offset_tracker *t, int64_t offset)
{
    long i = find(t, offset);
    return i >= 0 ? at(t, (size_t)i)->payload : NULL;
}

int tcb_offset_tracker_done(struct tcb_offset_tracker *t, int64_t offset, uint32_t n)
{
    long i = find(t, offset);
    if (i < 0) {
        return -1;
    }
    struct tcb_offset_entry *e = at(t, (size_t)i);
    if (n > e->outstanding) {
        return -1;
    }
    e->outstanding -= n;
    if (e->outstanding > 0) {
        return 0;
    }
    release(t, e);
    while (t->count > 0 && at(t, 0)->outstanding == 0) {
        t->head = (t->head + 1) % t->cap;
        t->count--;
    }
    return 0;
}

int64_t tcb_offset_tracker_commit_point(const struct tcb_offset_tracker *t)
{
    return t->count > 0 ? at(t, 0)->offset : t->next;
}

size_t tcb_offset_tracker_held(const struct tcb_offset_tracker *t)
{
    return t->count;
}

int tcb_offset_tracker_full(const struct tcb_offset_tracker *t)
{
    return t->count >= t->max_entries;
}
