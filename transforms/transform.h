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

#define TCB_TRANSFORM_MAX_INPUT_BYTES 1048576 /* larger values are dead-lettered unread */
#define TCB_TRANSFORM_REASON_MAX      256
/* The ceilings per message are configuration: sink.max_records_per_message
 * (outputs: records, dead letters and skips together) and
 * sink.max_output_bytes_per_message (serialised records + DLQ values: a field
 * copied into every event of a fan-out must not multiply a 1 MiB message into
 * a gigabyte). Beyond either, the whole message is one dead letter. */

/* Skip reasons (tcb_transform_skip.reason): short, static, fit for a metric
 * label (tcb_sink_records_skipped_total{reason}). */
#define TCB_SKIP_NO_USER    "no_user"         /* a notification item without a user */
#define TCB_SKIP_BATCH_ONLY "batch_only"      /* CouponCreated carrying only a BatchID */
#define TCB_SKIP_ROUTE      "route"           /* a route with action: skip matched */
#define TCB_SKIP_NO_PROFILE "no_profile_data" /* profile: only, and no profile field present */

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
 * outputs (records, dead letters and skips share one sequence: the position
 * in an envelope, the item (and identity) in a notification, 0 for a single
 * record), so (partition, offset, index) names it uniquely. */
struct tcb_transform_record {
    size_t index;
    const struct tcb_account *account; /* borrowed from cfg */
    char *json;                        /* compact JSON, NUL-terminated, owned by the result */
    size_t json_len;
    int stale;         /* 1 when older than sink.stale_events.after_s (kept or restamped) */
    const char *type;  /* "event" or "profile" (static strings) */
    uint64_t user_key; /* tcb_hash64 of the user key's text (identity, objectId, FBID or GPID):
                          the uploader keeps one profile's records in order by it */
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

/* An output deliberately not sent: final like an upload, never a dead
 * letter. The consumer counts it and moves on. */
struct tcb_transform_skip {
    size_t index;
    const char *reason; /* one of TCB_SKIP_* (static) */
};

struct tcb_transform_result {
    struct tcb_transform_record *records;
    size_t record_count;
    struct tcb_transform_dead_letter *dead_letters;
    size_t dead_letter_count;
    struct tcb_transform_skip *skips;
    size_t skip_count;
    /* String property values above 512 bytes, under sink.long_value_policy:
     * cut to 512 bytes (truncate) or left out (drop), over every record. */
    size_t values_truncated;
    size_t values_dropped;
};

/* Transforms one message. cfg and in are borrowed. On return out holds the
 * verdict for every output (records, dead letters and skips, each array in
 * index order, the indices together 0..n-1); free it with
 * tcb_transform_result_free. Returns 0, or -1 on allocation failure inside
 * jansson (out is then empty and the caller retries or aborts; nothing is
 * half-filled). */
int tcb_transform_message(const struct tcb_config *cfg, const struct tcb_transform_input *in,
                          struct tcb_transform_result *out);

/* Frees what tcb_transform_message put in out and zeroes it; accepts NULL and
 * zeroed results. */
void tcb_transform_result_free(struct tcb_transform_result *out);

#endif
