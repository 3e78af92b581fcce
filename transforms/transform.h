/* The transform stage's entry point: one Kafka message value (+ headers) in,
 * zero or more CleverTap upload records (compact JSON, validated, account
 * resolved) and dead-letter verdicts out. Pure: no I/O, no globals, no logs.
 *
 * Input shapes: a CleverTap record, a {"d":[record,...]} envelope, or a
 * Talon.One notification (an object with "NotificationType"); see
 * transforms/MAPPINGS.md for every built-in mapping and config option. */
#ifndef TCB_TRANSFORMS_TRANSFORM_H
#define TCB_TRANSFORMS_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "config/config_model.h"

#define TCB_TRANSFORM_MAX_RECORDS     1000    /* outputs per message; beyond: dead letter */
#define TCB_TRANSFORM_MAX_INPUT_BYTES 1048576 /* larger values are dead-lettered unread */
#define TCB_TRANSFORM_REASON_MAX      256
/* Serialised records + DLQ values per message; beyond: one dead letter for the
 * message (a field copied into every event of a fan-out must not multiply a
 * 1 MiB message into a gigabyte). */
#define TCB_TRANSFORM_MAX_OUTPUT_BYTES (8u * 1048576u)

/* One Kafka message. Every pointer is borrowed for the duration of the call. */
struct tcb_transform_input {
    const void *value; /* message value, not NUL-terminated; may be NULL when len is 0 */
    size_t len;
    const char *account_header; /* clevertap-account header, NULL when absent */
    const char *request_id;     /* request-id header, NULL when absent (not used yet) */
    long record_index;          /* record-index header, -1 when absent */
    int64_t received_at_ms;     /* received-at header (epoch ms), -1 when absent */
    int64_t kafka_timestamp_ms; /* the message's Kafka timestamp, -1 when unknown */
    int64_t now_s;              /* the current time (epoch seconds); callers pass it */
};

/* A record ready for a batch. index = its position among this message's
 * outputs (records and dead letters share one sequence: the position in an
 * envelope, the item in a notification, 0 for a single record), so
 * (partition, offset, index) names it uniquely. */
struct tcb_transform_record {
    size_t index;
    const struct tcb_account *account; /* borrowed from cfg */
    char *json;                        /* compact JSON, NUL-terminated, owned by the result */
    size_t json_len;
    int stale; /* 1 when older than sink.stale_events.after_s (kept or restamped) */
};

/* A verdict for the dead-letter topic. */
struct tcb_transform_dead_letter {
    size_t index;
    const char *stage; /* "transform" or "validation" (static strings) */
    int code;          /* CleverTap's per-record code where one exists, else 0 */
    char reason[TCB_TRANSFORM_REASON_MAX];
    char *json; /* the record after transform when one exists (DLQ value), else NULL:
                   the DLQ then carries the original message value. Owned. */
    size_t json_len;
};

struct tcb_transform_result {
    struct tcb_transform_record *records;
    size_t record_count;
    struct tcb_transform_dead_letter *dead_letters;
    size_t dead_letter_count;
};

/* Transforms one message. cfg and in are borrowed. On return out holds the
 * verdict for every output in index order (records and dead letters merged by
 * index); free it with tcb_transform_result_free. Returns 0, or -1 on
 * allocation failure (out is then empty and the caller retries or aborts;
 * nothing is half-filled). */
int tcb_transform_message(const struct tcb_config *cfg, const struct tcb_transform_input *in,
                          struct tcb_transform_result *out);

/* Frees what tcb_transform_message put in out and zeroes it; accepts NULL and
 * zeroed results. */
void tcb_transform_result_free(struct tcb_transform_result *out);

#endif
