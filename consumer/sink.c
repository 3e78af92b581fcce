/* clevertap-sink's lifecycle and its one loop: Kafka's queue and the uploads
 * are served by the same thread, which sleeps in the uploader's wait until a
 * socket, a timer or librdkafka's wake-up pipe has something (so it is never
 * blocked on either side); commits go out on an interval. On stop it settles
 * in-flight work, commits what is final and leaves the group. */
#include "consumer/sink_state.h"

#include "common/http_listener.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/signals.h"
#include "config/config.h"
#include "consumer/upload_client.h"
#include "util/alloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_BUDGET  1000 /* messages taken per loop turn before the uploads get a turn */
#define LAG_EVERY_MS 1000
#define MAX_WAIT_MS  1000

int64_t tcb_sink_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* /readyz: partitions assigned, Kafka reachable, no account halted, not stopping. */
static int is_ready(void *ctx, char *why, size_t why_len)
{
    struct tcb_sink *sink = ctx;
    if (atomic_load(&sink->shutting_down)) {
        snprintf(why, why_len, "shutting down");
        return 0;
    }
    if (!atomic_load(&sink->kafka_up)) {
        snprintf(why, why_len, "Kafka unreachable");
        return 0;
    }
    if (!atomic_load(&sink->ready_assigned)) {
        snprintf(why, why_len, "no partition assigned");
        return 0;
    }
    return tcb_uploader_ready(sink->up, why, why_len);
}

struct tcb_sink *tcb_sink_create(const struct tcb_config *cfg, char *err, size_t err_len)
{
    struct tcb_sink *sink = tcb_xcalloc(1, sizeof(*sink));
    sink->cfg = cfg;
    sink->wake[0] = sink->wake[1] = -1;
    if (pipe2(sink->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, err_len, "cannot make a pipe");
        goto fail;
    }
    sink->registry = tcb_metrics_create();
    tcb_sink_metrics_register(&sink->m, sink->registry);
    struct tcb_uploader_options opts = {
        .cfg = cfg, .metrics = sink->registry, .on_outcome = tcb_sink_on_outcome, .ctx = sink};
    sink->up = tcb_uploader_create(&opts, err, err_len);
    if (!sink->up) {
        goto fail;
    }
    tcb_uploader_watch_fd(sink->up, sink->wake[0]);
    sink->dlq = tcb_dlq_writer_create(cfg, tcb_sink_on_dlq_acked, sink, err, err_len);
    if (!sink->dlq) {
        goto fail;
    }
    tcb_dlq_writer_watch_fd(sink->dlq, sink->wake[1]);
    if (tcb_sink_kafka_start(sink, err, err_len) != 0) {
        goto fail;
    }
    char detail[256];
    sink->ops = tcb_http_listener_start(cfg->sink.metrics_listen, sink->registry, is_ready, sink,
                                        detail, sizeof(detail));
    if (!sink->ops) {
        snprintf(err, err_len, "operations listener: %s", detail);
        goto fail;
    }
    TCB_INFO("sink.started", "consuming %s as group %s; operations on %s (port %d)",
             cfg->kafka.topic, cfg->kafka.group_id, cfg->sink.metrics_listen,
             tcb_http_listener_port(sink->ops));
    return sink;
fail:
    tcb_sink_destroy(sink);
    return NULL;
}

static void drain_wake_pipe(struct tcb_sink *sink)
{
    char buf[256];
    while (read(sink->wake[0], buf, sizeof(buf)) > 0) {
    }
}

static void handle_message(struct tcb_sink *sink, rd_kafka_message_t *rkm)
{
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_store(&sink->kafka_up, 1);
        tcb_sink_take_message(sink, rkm);
    } else if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
        sink->fatal = 1; /* reported by the error callback */
    } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        TCB_WARN("kafka.consume", "%s", rd_kafka_message_errstr(rkm));
    }
}

/* Takes what Kafka has, up to the budget. Returns 1 when the budget ran out
 * (more may be waiting: no sleeping), else 0. */
static int serve_kafka(struct tcb_sink *sink)
{
    for (int taken = 0; taken < POLL_BUDGET; taken++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(sink->rk, 0);
        if (!rkm) {
            return 0;
        }
        handle_message(sink, rkm);
        rd_kafka_message_destroy(rkm);
    }
    return 1;
}

static int turn(struct tcb_sink *sink, int64_t *next_commit, int64_t *next_lag)
{
    drain_wake_pipe(sink);
    int busy = serve_kafka(sink);
    tcb_dlq_writer_serve(sink->dlq);
    tcb_sink_drain_parked(sink);
    int64_t now = tcb_sink_now_ms();
    int64_t wait = busy ? 0 : *next_commit - now;
    if (wait > MAX_WAIT_MS) {
        wait = MAX_WAIT_MS;
    }
    if (tcb_uploader_run(sink->up, wait > 0 ? (int)wait : 0) < 0) {
        TCB_ERROR("sink.upload", "the uploader's curl multi handle failed");
        return -1;
    }
    now = tcb_sink_now_ms();
    if (now >= *next_commit) {
        tcb_sink_commit(sink, 0);
        *next_commit = now + sink->cfg->sink.commit_interval_ms;
    }
    if (now >= *next_lag) {
        tcb_sink_update_lag(sink);
        *next_lag = now + LAG_EVERY_MS;
    }
    return tcb_dlq_writer_failed(sink->dlq) ? -1 : 0;
}

/* Stop taking messages, settle what is in flight, commit, leave the group. */
static void stop(struct tcb_sink *sink)
{
    atomic_store(&sink->shutting_down, 1);
    sink->stopping = 1;
    for (int32_t id = 0; id < sink->part_cap; id++) {
        struct tcb_sink_partition *part = sink->parts[id];
        if (part) {
            tcb_sink_partition_pause(sink, part, 1);
        }
    }
    TCB_INFO("sink.stopping", "settling %zu pending records (at most %d ms)", sink->pending_records,
             sink->cfg->sink.shutdown_timeout_ms);
    if (!sink->fatal) {
        tcb_sink_settle(sink, NULL, 0, sink->cfg->sink.shutdown_timeout_ms);
        tcb_sink_commit(sink, 1);
    }
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(sink->rk);
    sink->closed = 1;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_WARN("sink.close", "leaving the group: %s", rd_kafka_err2str(err));
    }
}

int tcb_sink_run(struct tcb_sink *sink)
{
    int64_t next_commit = tcb_sink_now_ms() + sink->cfg->sink.commit_interval_ms;
    int64_t next_lag = tcb_sink_now_ms() + LAG_EVERY_MS;
    while (!tcb_signals_stop_requested() && !sink->fatal) {
        if (turn(sink, &next_commit, &next_lag) != 0) {
            sink->fatal = 1;
        }
    }
    stop(sink);
    return sink->fatal ? 1 : 0;
}

void tcb_sink_destroy(struct tcb_sink *sink)
{
    if (!sink) {
        return;
    }
    tcb_http_listener_stop(sink->ops);
    if (sink->rk && !sink->closed) {
        sink->stopping = 1;
        rd_kafka_consumer_close(sink->rk);
    }
    if (sink->queue) {
        rd_kafka_queue_destroy(sink->queue);
    }
    if (sink->rk) {
        rd_kafka_destroy(sink->rk);
    }
    tcb_uploader_destroy(sink->up);
    tcb_dlq_writer_destroy(sink->dlq);
    for (int32_t id = 0; id < sink->part_cap; id++) {
        tcb_sink_partition_remove(sink, id);
    }
    free(sink->parts);
    tcb_metrics_destroy(sink->registry);
    for (int i = 0; i < 2; i++) {
        if (sink->wake[i] >= 0) {
            close(sink->wake[i]);
        }
    }
    free(sink);
}
