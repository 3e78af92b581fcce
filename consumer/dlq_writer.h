/* The dead-letter topic's writer: an idempotent producer (acks=all) that puts a
 * failed record on kafka.dlq_topic with headers saying where it came from and
 * why, and reports each acknowledgement through a callback so the source
 * offset moves only after it. It never gives up on a dead letter: librdkafka
 * retries transient errors without end, a full local queue keeps the letter in
 * a backlog, and a permanent refusal is written again after a pause (with the
 * value cut to fit when it was too large). It never commits offsets. Used from
 * one thread. */
#ifndef TCB_CONSUMER_DLQ_WRITER_H
#define TCB_CONSUMER_DLQ_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct tcb_config;
struct tcb_dlq_writer;

/* Header names on dead letters (besides the source message's own headers,
 * which are kept so that a replay restores them). */
#define TCB_DLQ_H_TOPIC       "dlq-source-topic"
#define TCB_DLQ_H_PARTITION   "dlq-source-partition"
#define TCB_DLQ_H_OFFSET      "dlq-source-offset"
#define TCB_DLQ_H_INDEX       "dlq-output-index"
#define TCB_DLQ_H_STAGE       "dlq-stage"
#define TCB_DLQ_H_CODE        "dlq-code"
#define TCB_DLQ_H_REASON      "dlq-reason"
#define TCB_DLQ_H_HTTP        "dlq-http-status"
#define TCB_DLQ_H_ATTEMPTS    "dlq-attempts"
#define TCB_DLQ_H_TIME        "dlq-time"
#define TCB_DLQ_H_ACCOUNT     "dlq-account"
#define TCB_DLQ_H_TRUNCATED   "dlq-value-truncated"
#define TCB_DLQ_HEADER_PREFIX "dlq-"

/* A header of the source message kept on the dead letter. */
struct tcb_dlq_header {
    const char *name;
    const void *value;
    size_t len;
};

/* One dead letter. Every pointer is borrowed for the call (copied). */
struct tcb_dead_letter {
    const char *source_topic;
    int32_t source_partition;
    int64_t source_offset;
    size_t output_index; /* the record's position among the message's outputs */
    const char *stage;   /* transform | validation | rejected | exhausted */
    int code;            /* CleverTap's code, 0 when none */
    const char *reason;  /* never holds a secret */
    int http_status;     /* 0 when no request carried it */
    int attempts;        /* requests that carried it */
    const char *account; /* account name, NULL when none was resolved */
    const void *value;   /* the record after transform, else the original value */
    size_t value_len;
    const void *key; /* the source message's key (NULL = none) */
    size_t key_len;
    const struct tcb_dlq_header *headers; /* the source message's headers to keep */
    size_t header_count;
    uint64_t cookie; /* the caller's, handed back with the acknowledgement */
};

/* Called once per written dead letter, after Kafka acknowledged it, with the
 * source partition, offset and cookie it was given; from tcb_dlq_writer_serve
 * or tcb_dlq_writer_flush only. */
typedef void (*tcb_dlq_acked_fn)(void *ctx, int32_t source_partition, int64_t source_offset,
                                 uint64_t cookie);

/* New writer for cfg->kafka.dlq_topic (cfg borrowed for the writer's life), or
 * NULL with a message in err (never a property value). */
struct tcb_dlq_writer *tcb_dlq_writer_create(const struct tcb_config *cfg,
                                             tcb_dlq_acked_fn on_acked, void *ctx, char *err,
                                             size_t err_len);

/* Purges what is left unacknowledged (no callbacks) and frees; accepts NULL. */
void tcb_dlq_writer_destroy(struct tcb_dlq_writer *w);

/* Queues a dead letter; its acknowledgement comes through the callback. Never
 * fails: what librdkafka cannot take now waits in the backlog. */
void tcb_dlq_writer_write(struct tcb_dlq_writer *w, const struct tcb_dead_letter *dl);

/* Delivers acknowledgements that arrived and re-queues due backlog entries.
 * Non-blocking. Returns the number of acknowledgements delivered. */
int tcb_dlq_writer_serve(struct tcb_dlq_writer *w);

/* Serves until every queued dead letter is acknowledged or timeout_ms passed.
 * Returns the number still unacknowledged. */
size_t tcb_dlq_writer_flush(struct tcb_dlq_writer *w, int timeout_ms);

/* Dead letters written and not acknowledged yet (queued, in flight or in the
 * backlog). */
size_t tcb_dlq_writer_pending(const struct tcb_dlq_writer *w);
/* Dead letters waiting in the backlog (librdkafka's queue was full or Kafka
 * refused them): the caller takes no new messages while there are any. */
size_t tcb_dlq_writer_backlog(const struct tcb_dlq_writer *w);

/* Dead letters that ever had to wait in the backlog (a running total). */
size_t tcb_dlq_writer_backlogged_total(const struct tcb_dlq_writer *w);

/* Makes librdkafka write a byte to fd when acknowledgements arrive (for the
 * caller's poll); the caller drains fd. */
void tcb_dlq_writer_watch_fd(struct tcb_dlq_writer *w, int fd);

/* 1 after a fatal producer error (the daemon stops with exit 1). */
int tcb_dlq_writer_failed(const struct tcb_dlq_writer *w);

#endif
