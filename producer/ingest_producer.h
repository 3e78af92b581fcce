/* talon-ingest's Kafka side: an idempotent producer (acks=all) with a bounded
 * queue, a poller thread that delivers acknowledgements through a callback,
 * and a metadata probe behind /readyz. It never answers HTTP and never logs
 * payloads or keys above debug. */
#ifndef TCB_PRODUCER_INGEST_PRODUCER_H
#define TCB_PRODUCER_INGEST_PRODUCER_H

#include <stddef.h>

struct tcb_config;
struct tcb_ingest_metrics;
struct tcb_ingest_producer;

/* One record to write. Every pointer is borrowed for the duration of
 * tcb_ingest_producer_send only (librdkafka copies what it keeps). */
struct tcb_ingest_message {
    const void *value;
    size_t value_len;
    const void *key; /* NULL = no key */
    size_t key_len;
    const char *account;    /* clevertap-account header; NULL = no header */
    const char *request_id; /* request-id header */
    long record_index;      /* record-index header */
    long long received_at_ms;
};

/* Called once per queued message from the poller thread (or from
 * tcb_ingest_producer_drain): ok is 1 when Kafka acknowledged it, 0 when it
 * failed (timeout, purge, broker error). opaque is what send was given. */
typedef void (*tcb_ingest_delivery_fn)(void *opaque, int ok);

/* Creates the producer for cfg->kafka.topic (cfg borrowed for the
 * producer's life; metrics borrowed too and may be NULL) and starts its
 * threads. Returns a new producer, or NULL with a message in err. */
struct tcb_ingest_producer *tcb_ingest_producer_create(const struct tcb_config *cfg,
                                                       const struct tcb_ingest_metrics *metrics,
                                                       tcb_ingest_delivery_fn on_delivery,
                                                       char *err, size_t err_len);

#define TCB_INGEST_SEND_TOO_LARGE (-2)

/* Queues one message. Returns 0 when queued (on_delivery will be called
 * exactly once for it), TCB_INGEST_SEND_TOO_LARGE when it can never be
 * queued (larger than the producer's message.max.bytes), or -1 when it was
 * not queued now (queue full, fatal producer error). On failure on_delivery is
 * never called for it. Thread-safe. */
int tcb_ingest_producer_send(struct tcb_ingest_producer *producer,
                             const struct tcb_ingest_message *message, void *opaque);

/* 1 when the last Kafka metadata probe succeeded and no fatal error
 * happened, else 0 with a short reason in why. Thread-safe. */
int tcb_ingest_producer_ready(struct tcb_ingest_producer *producer, char *why, size_t why_len);

/* 1 after a fatal (non-recoverable) producer error: the daemon should stop
 * and exit 1 so that it is restarted. */
int tcb_ingest_producer_failed(struct tcb_ingest_producer *producer);

/* Refuses new sends (they return -1), waits up to timeout_ms for queued
 * messages to be acknowledged, then purges the rest; on return every queued
 * message, including one from a send racing with this call, has had its
 * on_delivery call (unless librdkafka keeps one in flight past another
 * second). Call once. */
void tcb_ingest_producer_drain(struct tcb_ingest_producer *producer, int timeout_ms);

/* Stops the threads and frees the producer; accepts NULL and half-built. */
void tcb_ingest_producer_destroy(struct tcb_ingest_producer *producer);

#endif
