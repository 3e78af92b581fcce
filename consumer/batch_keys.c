/* Open-addressing hash set (linear probing, backward-shift deletion) of busy
 * ordering keys. Bounded: it is sized once and never grows. */
#include "consumer/batch_keys.h"
#include "util/alloc.h"

#include <stdlib.h>

struct slot {
    uint64_t key; /* 0 = empty */
};

struct tcb_batch_keys {
    struct slot *slots;
    size_t mask;
    size_t used;
    size_t max_keys;
};

static size_t home(const struct tcb_batch_keys *keys, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 29)) & keys->mask;
}

struct tcb_batch_keys *tcb_batch_keys_create(size_t max_keys)
{
    struct tcb_batch_keys *keys = tcb_xcalloc(1, sizeof(*keys));
    size_t cap = 16;
    while (cap < max_keys * 2 + 2) {
        cap *= 2;
    }
    keys->slots = tcb_xcalloc(cap, sizeof(*keys->slots));
    keys->mask = cap - 1;
    keys->max_keys = max_keys ? max_keys : 1;
    return keys;
}

void tcb_batch_keys_destroy(struct tcb_batch_keys *keys)
{
    if (!keys) {
        return;
    }
    free(keys->slots);
    free(keys);
}

static struct slot *find(const struct tcb_batch_keys *keys, uint64_t key)
{
    for (size_t i = home(keys, key);; i = (i + 1) & keys->mask) {
        struct slot *slot = &keys->slots[i];
        if (slot->key == key || slot->key == 0) {
            return slot;
        }
    }
}

int tcb_batch_keys_busy(const struct tcb_batch_keys *keys, uint64_t key)
{
    return key != 0 && find(keys, key)->key == key;
}

int tcb_batch_keys_add(struct tcb_batch_keys *keys, uint64_t key)
{
    if (key == 0) {
        return 0;
    }
    struct slot *slot = find(keys, key);
    if (slot->key == 0) {
        if (keys->used >= keys->max_keys) {
            return -1;
        }
        slot->key = key;
        keys->used++;
    }
    return 0;
}

void tcb_batch_keys_release(struct tcb_batch_keys *keys, uint64_t key)
{
    if (key == 0) {
        return;
    }
    struct slot *slot = find(keys, key);
    if (slot->key != key) {
        return;
    }
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t hole = (size_t)(slot - keys->slots);
    slot->key = 0;
    keys->used--;
    for (size_t i = (hole + 1) & keys->mask; keys->slots[i].key != 0; i = (i + 1) & keys->mask) {
        size_t want = home(keys, keys->slots[i].key);
        /* Move slot i into the hole when its home is not in (hole, i]. */
        int between = hole < i ? (want > hole && want <= i) : (want > hole || want <= i);
        if (!between) {
            keys->slots[hole] = keys->slots[i];
            keys->slots[i].key = 0;
            hole = i;
        }
    }
}

size_t tcb_batch_keys_count(const struct tcb_batch_keys *keys)
{
    return keys->used;
}
