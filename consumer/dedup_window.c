/* The de-duplication window: a FIFO ring of identities plus a linear-probing
 * set rebuilt as it grows; eviction deletes with backward shifting, so no
 * tombstones pile up. */
#include "consumer/dedup_window.h"

#include "util/alloc.h"
#include "util/hash.h"

#include <stdlib.h>

void tcb_dedup_window_init(struct tcb_dedup_window *w, size_t size)
{
    w->fifo = NULL;
    w->slots = NULL;
    w->size = size;
    w->fifo_cap = w->head = w->count = 0;
    w->slot_cap = 0;
}

void tcb_dedup_window_clear(struct tcb_dedup_window *w)
{
    free(w->fifo);
    free(w->slots);
    tcb_dedup_window_init(w, w->size);
}

uint64_t tcb_dedup_identity(const char *request_id, size_t len, long record_index,
                            size_t output_index)
{
    uint64_t numbers[2] = {(uint64_t)record_index, (uint64_t)output_index};
    uint64_t h = tcb_hash64_add(TCB_HASH64_INIT, request_id, len);
    h = tcb_hash64_add(h, numbers, sizeof(numbers));
    h ^= h >> 33; /* finalise so nearby ids spread over the set */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static size_t slot_of(const struct tcb_dedup_window *w, uint64_t id)
{
    return (size_t)id & (w->slot_cap - 1);
}

static void set_insert(struct tcb_dedup_window *w, uint64_t id)
{
    size_t i = slot_of(w, id);
    while (w->slots[i] != 0 && w->slots[i] != id) {
        i = (i + 1) & (w->slot_cap - 1);
    }
    w->slots[i] = id;
}

static void set_remove(struct tcb_dedup_window *w, uint64_t id)
{
    size_t mask = w->slot_cap - 1;
    size_t i = slot_of(w, id);
    while (w->slots[i] != id) {
        if (w->slots[i] == 0) {
            return;
        }
        i = (i + 1) & mask;
    }
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (w->slots[j] == 0) {
            break;
        }
        size_t home = slot_of(w, w->slots[j]);
        int movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            w->slots[i] = w->slots[j];
            i = j;
        }
    }
    w->slots[i] = 0;
}

int tcb_dedup_window_seen(const struct tcb_dedup_window *w, uint64_t id)
{
    if (w->count == 0) {
        return 0;
    }
    size_t i = slot_of(w, id);
    while (w->slots[i] != 0) {
        if (w->slots[i] == id) {
            return 1;
        }
        i = (i + 1) & (w->slot_cap - 1);
    }
    return 0;
}

/* Grows the ring (up to size) and the set (to at least twice the ring). */
static void grow(struct tcb_dedup_window *w)
{
    size_t cap = w->fifo_cap ? w->fifo_cap * 2 : 256;
    if (cap > w->size) {
        cap = w->size;
    }
    uint64_t *fifo = tcb_xcalloc(cap, sizeof(*fifo));
    for (size_t i = 0; i < w->count; i++) {
        fifo[i] = w->fifo[(w->head + i) % w->fifo_cap];
    }
    free(w->fifo);
    w->fifo = fifo;
    w->fifo_cap = cap;
    w->head = 0;
    size_t slots = 16;
    while (slots < cap * 2) {
        slots *= 2;
    }
    free(w->slots);
    w->slots = tcb_xcalloc(slots, sizeof(*w->slots));
    w->slot_cap = slots;
    for (size_t i = 0; i < w->count; i++) {
        set_insert(w, w->fifo[i]);
    }
}

void tcb_dedup_window_add(struct tcb_dedup_window *w, uint64_t id)
{
    if (w->size == 0 || tcb_dedup_window_seen(w, id)) {
        return;
    }
    if (w->count == w->fifo_cap && w->fifo_cap < w->size) {
        grow(w);
    }
    if (w->count == w->fifo_cap) { /* full: the oldest identity leaves */
        set_remove(w, w->fifo[w->head]);
        w->head = (w->head + 1) % w->fifo_cap;
        w->count--;
    }
    w->fifo[(w->head + w->count) % w->fifo_cap] = id;
    w->count++;
    set_insert(w, id);
}
