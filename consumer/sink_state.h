/* clevertap-sink's internal state, shared by sink.c (lifecycle and the loop),
 * sink_kafka.c (the consumer: configuration, rebalances, commits, lag),
 * sink_partitions.c (per-partition state, pauses) and sink_process.c (a
 * message from transform to submit, outcomes and acknowledgements). Not for
 * other modules: consumer/sink.h is the interface. */
#ifndef TCB_CONSUMER_SINK_STATE_H
#define TCB_CONSUMER_SINK_STATE_H

#include "consumer/dedup_window.h"
#include "consumer/dlq_writer.h"
#include "consumer/offset_tracker.h"
#include "consumer/sink.h"
#include "consumer/sink_message.h"
#include "consumer/sink_metrics.h"
#include "consumer/upload_client.h"
#include "transforms/transform.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdint.h>

struct tcb_config;
struct tcb_metrics;
struct tcb_uploader;
struct tcb_http_listener;

/* A message taken from Kafka that must wait for room (the uploader is full,
 * the dead-letter backlog is not empty, or the partition's tracker is full).
 * Owns copies of everything; its partition stays paused while it waits. */
struct tcb_sink_parked {
    struct tcb_sink_parked *next;
    int64_t offset;
    char *value; /* the original value (for dead letters without a record) */
    size_t value_len;
    struct tcb_transform_result res;
    struct tcb_sink_meta *meta;
};

struct tcb_sink_partition {
    int32_t id;
    uint64_t generation; /* tells this assignment from an earlier one of the same partition */
    int paused;
    struct tcb_offset_tracker tracker; /* payloads: struct tcb_sink_meta */
    struct tcb_dedup_window dedup;
    struct tcb_sink_parked *parked_head, *parked_tail;
    size_t pending;      /* records taken and not final (uploads and dead letters) */
    int64_t next_offset; /* after the last message taken or parked; -1 before the first */
    int64_t committed;   /* last offset Kafka acknowledged as committed; -1 none */
    int64_t commit_sent; /* last offset we asked Kafka to commit; -1 none */
    char label[16];      /* the id as text, for metric labels */
};

struct tcb_sink {
    const struct tcb_config *cfg;
    struct tcb_metrics *registry;
    struct tcb_sink_metrics m;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue (io events enabled) */
    struct tcb_uploader *up;
    struct tcb_dlq_writer *dlq;
    struct tcb_http_listener *ops;
    int wake[2];                       /* pipe: librdkafka writes when a queue becomes non-empty */
    struct tcb_sink_partition **parts; /* indexed by partition id; NULL = not assigned */
    int32_t part_cap;
    int assigned;
    int paused;
    uint64_t generations;
    int topic_partitions; /* of kafka.topic, from metadata; 0 = unknown */
    size_t pending_records;
    int64_t next_commit_ms;
    int64_t next_lag_ms;
    int stopping; /* stop requested: take no new messages */
    int closed;   /* the consumer left the group */
    /* Kafka refused a commit for a rebalance: take nothing new until then or the
     * next assignment (work taken meanwhile could not be committed); 0 = none. */
    int64_t rebalancing_until_ms;
    int fatal;                 /* a fatal Kafka error: stop with exit 1 */
    int kafka_seen;            /* a broker connection has worked: later auth errors are retried */
    atomic_int ready_assigned; /* for /readyz (listener threads) */
    atomic_int kafka_up;
    atomic_int shutting_down;
};

/* Monotonic milliseconds. */
int64_t tcb_sink_now_ms(void);

/* --- sink_kafka.c --- */
/* The consumer's librdkafka configuration (new; the caller owns it): the sink's
 * defaults, then kafka.properties, then the settings the loop relies on. NULL
 * with a message in err. */
rd_kafka_conf_t *tcb_sink_kafka_conf(const struct tcb_config *cfg, char *err, size_t err_len);
/* Creates sink->rk (subscribed to kafka.topic) and sink->queue. Returns 0 or
 * -1 with a message in err. */
int tcb_sink_kafka_start(struct tcb_sink *sink, char *err, size_t err_len);
/* Sends a commit of every assigned partition whose commit point moved;
 * synchronous when sync is set (revoke, stop), else asynchronous. */
void tcb_sink_commit(struct tcb_sink *sink, int sync);
/* Refreshes the committed-offset and lag gauges from cached watermarks. */
void tcb_sink_update_lag(struct tcb_sink *sink);

/* --- sink_partitions.c --- */
/* The state of an assigned partition, or NULL. */
struct tcb_sink_partition *tcb_sink_partition(struct tcb_sink *sink, int32_t id);
/* Adds state for a newly assigned partition (replacing any left over). */
struct tcb_sink_partition *tcb_sink_partition_add(struct tcb_sink *sink, int32_t id);
/* Drops a partition's state: parked messages, tracker, window (not committed). */
void tcb_sink_partition_remove(struct tcb_sink *sink, int32_t id);
/* Pauses or resumes fetching for one partition (no-op when already so). */
void tcb_sink_partition_pause(struct tcb_sink *sink, struct tcb_sink_partition *part, int pause);
/* Appends a parked message (taken) and pauses the partition. */
void tcb_sink_partition_park(struct tcb_sink *sink, struct tcb_sink_partition *part,
                             struct tcb_sink_parked *parked);
void tcb_sink_parked_free(struct tcb_sink_parked *parked);

/* --- sink_process.c --- */
/* Takes one message from the consumer (borrowed for the call). */
void tcb_sink_take_message(struct tcb_sink *sink, const rd_kafka_message_t *rkm);
/* Retries parked messages where there is room now; resumes their partitions. */
void tcb_sink_drain_parked(struct tcb_sink *sink);
/* The uploader's outcome callback (ctx = sink). */
void tcb_sink_on_outcome(void *ctx, const struct tcb_upload_tag *tag,
                         const struct tcb_upload_outcome *outcome);
/* The dead-letter writer's acknowledgement callback (ctx = sink). */
void tcb_sink_on_dlq_acked(void *ctx, int32_t partition, int64_t offset, uint64_t cookie);
/* Finishes or abandons the work of the given partitions (all when count is 0)
 * within deadline_ms: uploads, then dead letters. */
void tcb_sink_settle(struct tcb_sink *sink, const int32_t *partitions, size_t count,
                     int deadline_ms);

#endif
