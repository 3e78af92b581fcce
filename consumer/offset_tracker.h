/* The contiguous watermark of one Kafka partition: which offsets are final.
 * A message's offset is final once every record it carries is final (accepted
 * by CleverTap or acknowledged by the dead-letter topic); the commit point is
 * the lowest offset that is not final, so a commit never passes a record that
 * could still be lost. Pure bookkeeping: no Kafka, no clock, no logging. Each
 * message not yet final carries a small caller-owned payload (its key and
 * headers, for dead letters), freed through a callback when it becomes final. */
#ifndef TCB_CONSUMER_OFFSET_TRACKER_H
#define TCB_CONSUMER_OFFSET_TRACKER_H

#include <stddef.h>
#include <stdint.h>

struct tcb_offset_entry {
    int64_t offset;
    uint32_t outstanding; /* records of this message not final yet */
    void *payload;        /* owned by the tracker while outstanding > 0 */
};

struct tcb_offset_tracker {
    struct tcb_offset_entry *ring; /* messages not final yet, in offset order */
    size_t cap, head, count;
    size_t max_entries; /* the caller pauses the partition at this many */
    int64_t next;       /* last added offset + 1; -1 before the first add */
    void (*free_payload)(void *payload);
};

/* Starts an empty tracker that holds up to max_entries unfinished messages
 * before tcb_offset_tracker_full says so (it still accepts more: the caller
 * pauses). free_payload (may be NULL) frees a payload once its message is
 * final or the tracker is cleared. Allocates nothing yet. */
void tcb_offset_tracker_init(struct tcb_offset_tracker *t, size_t max_entries,
                             void (*free_payload)(void *payload));
/* Frees the ring and every payload still held; the tracker is empty after. */
void tcb_offset_tracker_clear(struct tcb_offset_tracker *t);

/* Records the message at offset with outstanding records (0 = final at once;
 * payload is then freed right away). Offsets must increase from call to call.
 * payload is taken. Returns 0, or -1 when offset does not increase (nothing
 * recorded, payload freed). */
int tcb_offset_tracker_add(struct tcb_offset_tracker *t, int64_t offset, uint32_t outstanding,
                           void *payload);

/* The payload of the unfinished message at offset (borrowed until it becomes
 * final), or NULL when no such message is unfinished. */
void *tcb_offset_tracker_payload(const struct tcb_offset_tracker *t, int64_t offset);

/* n more records of the message at offset are final. Returns 0, or -1 when no
 * unfinished message has that offset or n exceeds its outstanding count (a
 * double report: nothing changes). */
int tcb_offset_tracker_done(struct tcb_offset_tracker *t, int64_t offset, uint32_t n);

/* The offset to commit: the lowest offset not final, else the last added + 1;
 * -1 before the first add. */
int64_t tcb_offset_tracker_commit_point(const struct tcb_offset_tracker *t);

/* Unfinished messages held (including final ones still behind an unfinished one). */
size_t tcb_offset_tracker_held(const struct tcb_offset_tracker *t);

/* 1 when held >= max_entries: the caller stops taking this partition's messages. */
int tcb_offset_tracker_full(const struct tcb_offset_tracker *t);

#endif
