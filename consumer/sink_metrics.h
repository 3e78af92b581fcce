/* clevertap-sink's own metrics in the shared registry (the uploader registers
 * its own, consumer/upload_metrics.h): messages and records in, dead letters
 * by stage and code, duplicates, skips, stale events, commits, per-partition
 * committed offset and lag, assignment, pauses, Kafka readiness. Every handle
 * may be NULL (no registry). */
#ifndef TCB_CONSUMER_SINK_METRICS_H
#define TCB_CONSUMER_SINK_METRICS_H

struct tcb_metrics;
struct tcb_metric;

struct tcb_sink_metrics {
    struct tcb_metric *messages;         /* counter: Kafka messages consumed */
    struct tcb_metric *records;          /* counter: records handed to the uploader */
    struct tcb_metric *dead_letters;     /* counter {stage, code}: acknowledged by the DLQ */
    struct tcb_metric *duplicates;       /* counter: records dropped by the window */
    struct tcb_metric *skipped;          /* counter {reason}: outputs the transform skipped */
    struct tcb_metric *stale;            /* counter: stale events (kept or restamped) */
    struct tcb_metric *long_values;      /* counter {action}: values over 512 bytes */
    struct tcb_metric *commits;          /* counter {result}: offset commits */
    struct tcb_metric *rebalances;       /* counter {type}: assign | revoke | lost */
    struct tcb_metric *committed_offset; /* gauge {partition} */
    struct tcb_metric *lag;              /* gauge {partition}: high watermark - committed */
    struct tcb_metric *assigned;         /* gauge: partitions assigned */
    struct tcb_metric *paused;           /* gauge: partitions paused for back-pressure */
    struct tcb_metric *pending_records;  /* gauge: records not final */
    struct tcb_metric *dlq_pending;      /* gauge: dead letters not acknowledged yet */
    struct tcb_metric *dlq_backlogged;   /* gauge: dead letters that ever waited in the backlog */
    struct tcb_metric *kafka_ready;      /* gauge: 1 while Kafka is reachable */
};

/* Registers every metric in metrics (borrowed; NULL leaves every handle NULL). */
void tcb_sink_metrics_register(struct tcb_sink_metrics *m, struct tcb_metrics *metrics);

#endif
