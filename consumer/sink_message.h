/* What the sink keeps of a Kafka message beyond its poll iteration: the key
 * and the headers (a dead letter carries them, and a replay puts them back),
 * with the well-known headers parsed for the transform. Bounded: at most
 * TCB_SINK_MAX_HEADERS headers and TCB_SINK_MAX_HEADER_BYTES of them are kept.
 * Never looks at the value. */
#ifndef TCB_CONSUMER_SINK_MESSAGE_H
#define TCB_CONSUMER_SINK_MESSAGE_H

#include "consumer/dlq_writer.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define TCB_SINK_MAX_HEADERS      32
#define TCB_SINK_MAX_HEADER_BYTES 16384

/* Header names of the record contract (design.md) and of replays. */
#define TCB_H_ACCOUNT       "clevertap-account"
#define TCB_H_REQUEST_ID    "request-id"
#define TCB_H_RECORD_INDEX  "record-index"
#define TCB_H_RECEIVED_AT   "received-at"
#define TCB_H_REPLAYED_FROM "replayed-from"

struct tcb_sink_meta {
    char *key; /* NULL when the message had none */
    size_t key_len;
    struct tcb_dlq_header *headers; /* names and values point into blob (NUL-terminated) */
    size_t header_count;
    char *blob;
    const char *account;    /* clevertap-account value, NULL when absent */
    const char *request_id; /* request-id value, NULL when absent */
    long record_index;      /* record-index, -1 when absent or not a number */
    int64_t received_at_ms; /* received-at, -1 when absent or not a number */
    int replayed;           /* carries replayed-from: a replay, never a duplicate */
};

/* New copy of rkm's key and headers (rkm borrowed for the call). */
struct tcb_sink_meta *tcb_sink_meta_new(const rd_kafka_message_t *rkm);
/* Frees; accepts NULL. Typed void * to serve as a tracker payload destructor. */
void tcb_sink_meta_free(void *meta);

#endif
