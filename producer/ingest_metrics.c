/* Registers talon-ingest's metrics with common/metrics; owns no state of its
 * own and never updates a value. */
#include "producer/ingest_metrics.h"

#include "common/metrics.h"

#include <string.h>

static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};

int tcb_ingest_metrics_register(struct tcb_metrics *registry, struct tcb_ingest_metrics *out)
{
    static const char *const route_status[] = {"route", "status", NULL};
    static const char *const reason[] = {"reason", NULL};
    memset(out, 0, sizeof(*out));
    out->requests =
        tcb_metrics_counter(registry, "tcb_ingest_requests_total",
                            "HTTP requests answered, by route and status", route_status);
    out->records_produced = tcb_metrics_counter(registry, "tcb_ingest_records_produced_total",
                                                "Records acknowledged by Kafka", NULL);
    out->produce_failures =
        tcb_metrics_counter(registry, "tcb_ingest_produce_failures_total",
                            "Records Kafka did not take or acknowledge, by reason", reason);
    out->produce_latency = tcb_metrics_histogram(
        registry, "tcb_ingest_produce_latency_seconds",
        "Time from a request's first enqueue to Kafka's last acknowledgement", NULL, latency_bounds,
        sizeof(latency_bounds) / sizeof(latency_bounds[0]));
    out->queue_depth = tcb_metrics_gauge(registry, "tcb_ingest_queue_depth",
                                         "Messages waiting in the producer queue", NULL);
    out->kafka_ready = tcb_metrics_gauge(registry, "tcb_ingest_kafka_ready",
                                         "1 when the last Kafka metadata probe succeeded", NULL);
    out->connections = tcb_metrics_gauge(registry, "tcb_ingest_connections",
                                         "Open connections to the webhook listener", NULL);
    out->connections_shed = tcb_metrics_counter(
        registry, "tcb_ingest_connections_shed_total",
        "Connections closed by the server: head_timeout, body_timeout, idle, write_timeout, "
        "evicted (full, waiting longest for a request head), refused (full, none to evict)",
        reason);
    out->inflight_bytes = tcb_metrics_gauge(
        registry, "tcb_ingest_inflight_bytes",
        "Request body bytes held now (bounded by ingest.max_inflight_bytes)", NULL);
    if (!out->requests || !out->records_produced || !out->produce_failures ||
        !out->produce_latency || !out->queue_depth || !out->kafka_ready || !out->connections ||
        !out->connections_shed || !out->inflight_bytes) {
        return -1;
    }
    return 0;
}
