/* Registration of clevertap-sink's metrics; updates happen where the events
 * happen (sink_*.c). Names are a contract for dashboards and deploy/ alerts. */
#include "consumer/sink_metrics.h"

#include "common/metrics.h"

#include <string.h>

void tcb_sink_metrics_register(struct tcb_sink_metrics *m, struct tcb_metrics *metrics)
{
    static const char *const by_stage_code[] = {"stage", "code", NULL};
    static const char *const by_reason[] = {"reason", NULL};
    static const char *const by_result[] = {"result", NULL};
    static const char *const by_type[] = {"type", NULL};
    static const char *const by_partition[] = {"partition", NULL};
    memset(m, 0, sizeof(*m));
    if (!metrics) {
        return;
    }
    m->messages = tcb_metrics_counter(metrics, "tcb_sink_messages_total",
                                      "Kafka messages consumed from the source topic", NULL);
    m->records = tcb_metrics_counter(metrics, "tcb_sink_records_total",
                                     "Records handed to the uploader", NULL);
    m->dead_letters = tcb_metrics_counter(
        metrics, "tcb_sink_dead_letters_total",
        "Dead letters acknowledged by the DLQ topic, by stage and CleverTap code", by_stage_code);
    m->duplicates = tcb_metrics_counter(
        metrics, "tcb_sink_duplicates_dropped_total",
        "Records dropped because their request-id and record-index were already delivered", NULL);
    m->skipped =
        tcb_metrics_counter(metrics, "tcb_sink_records_skipped_total",
                            "Outputs the transform skipped by policy, by reason", by_reason);
    m->stale = tcb_metrics_counter(
        metrics, "tcb_sink_stale_events_total",
        "Events older than sink.stale_events.after_s (kept or restamped)", NULL);
    m->long_values = tcb_metrics_counter(
        metrics, "tcb_sink_long_values_total",
        "String values over CleverTap's 512 bytes, by action (sink.long_value_policy)",
        (const char *const[]){"action", NULL});
    m->commits = tcb_metrics_counter(metrics, "tcb_sink_commits_total", "Offset commits, by result",
                                     by_result);
    m->rebalances = tcb_metrics_counter(metrics, "tcb_sink_rebalances_total",
                                        "Partition assignment changes, by type", by_type);
    m->committed_offset = tcb_metrics_gauge(metrics, "tcb_sink_committed_offset",
                                            "Last committed offset per partition", by_partition);
    m->lag =
        tcb_metrics_gauge(metrics, "tcb_sink_consumer_lag",
                          "High watermark minus committed offset, per partition", by_partition);
    m->assigned = tcb_metrics_gauge(metrics, "tcb_sink_assigned_partitions",
                                    "Partitions assigned to this member", NULL);
    m->paused = tcb_metrics_gauge(metrics, "tcb_sink_paused_partitions",
                                  "Partitions paused for back-pressure", NULL);
    m->pending_records = tcb_metrics_gauge(metrics, "tcb_sink_pending_records",
                                           "Records taken from Kafka and not final yet", NULL);
    m->dlq_pending =
        tcb_metrics_gauge(metrics, "tcb_sink_dead_letters_pending",
                          "Dead letters written and not acknowledged by Kafka yet", NULL);
    m->dlq_backlogged = tcb_metrics_gauge(
        metrics, "tcb_sink_dead_letters_backlogged",
        "Dead letters that waited in the writer's backlog (librdkafka's queue full or a refusal), "
        "since start",
        NULL);
    m->kafka_ready =
        tcb_metrics_gauge(metrics, "tcb_sink_kafka_ready", "1 while Kafka is reachable", NULL);
}
