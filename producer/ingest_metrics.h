/* The metrics talon-ingest exports on /metrics: requests by route and status,
 * records produced, produce failures, produce latency, Kafka queue depth and
 * readiness, open connections, connections shed by reason, bytes in flight. Registration only; the
 * other producer files update them. */
#ifndef TCB_PRODUCER_INGEST_METRICS_H
#define TCB_PRODUCER_INGEST_METRICS_H

struct tcb_metrics;
struct tcb_metric;

struct tcb_ingest_metrics {
    struct tcb_metric *requests;         /* labels: route, status */
    struct tcb_metric *records_produced; /* records Kafka acknowledged */
    struct tcb_metric *produce_failures; /* labels: reason */
    struct tcb_metric *produce_latency;  /* seconds from first enqueue to last ack */
    struct tcb_metric *queue_depth;      /* messages waiting in librdkafka */
    struct tcb_metric *kafka_ready;      /* 1 when the last metadata probe succeeded */
    struct tcb_metric *connections;      /* open HTTP connections */
    struct tcb_metric *connections_shed; /* labels: reason (head_timeout, evicted, ...) */
    struct tcb_metric *inflight_bytes;   /* request body bytes held (ingest.max_inflight_bytes) */
};

/* Registers every metric in registry (borrowed; handles live as long as it).
 * Returns 0, or -1 when a registration failed (out fields may be NULL, which
 * the update functions ignore). */
int tcb_ingest_metrics_register(struct tcb_metrics *registry, struct tcb_ingest_metrics *out);

#endif
