/* clevertap-sink as a Kafka consumer-group member: polls kafka.topic,
 * transforms each message (transforms/), uploads the records (the uploader),
 * dead-letters what can never be sent (dlq_writer), and commits a partition's
 * offset only past messages whose every record is final. One thread does the
 * polling and the uploading; the operations listener (/healthz /readyz
 * /metrics) runs on its own threads. Contract: design.md "clevertap-sink". */
#ifndef TCB_CONSUMER_SINK_H
#define TCB_CONSUMER_SINK_H

#include <stddef.h>

struct tcb_config;
struct tcb_sink;

/* New sink for cfg (borrowed for the sink's life): the consumer subscribed,
 * the dead-letter producer, the uploader and the operations listener started.
 * Returns NULL with a message in err (never a secret). */
struct tcb_sink *tcb_sink_create(const struct tcb_config *cfg, char *err, size_t err_len);

/* Runs until tcb_signals_stop_requested() or a fatal error; then stops taking
 * messages, settles what is in flight within sink.shutdown_timeout_ms, commits
 * what is final and leaves the group. Returns 0 after a clean stop, 1 after a
 * fatal error (Kafka or the uploader). */
int tcb_sink_run(struct tcb_sink *sink);

/* Frees everything; accepts NULL and half-built sinks. */
void tcb_sink_destroy(struct tcb_sink *sink);

#endif
