/* clevertap-sink's Kafka consumer: configuration (no auto-commit, no automatic
 * offset store, an eager assignor safe on librdkafka 2.0.2), the rebalance
 * callback for both protocols (settle and commit before letting partitions go,
 * nothing committed for a lost assignment), commits of the watermarks, the
 * uploader's share of each account's concurrency budget, readiness signals
 * and the lag gauges. Never transforms or uploads. */
#include "consumer/sink_state.h"

#include "common/kafka_conf.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "consumer/upload_client.h"
#include "util/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_TIMEOUT_MS 5000

/* The partition count of kafka.topic, or 0 when metadata cannot say. */

#define SINK_FETCH_MAX_BYTES "1048576" /* one fetch response; see tcb_sink_kafka_conf */
static int topic_partitions(struct tcb_sink *sink)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(sink->rk, sink->cfg->kafka.topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = 0;
    if (rkt && rd_kafka_metadata(sink->rk, 0, rkt, &md, METADATA_TIMEOUT_MS) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            count = md->topics[0].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
    }
    if (rkt) {
        rd_kafka_topic_destroy(rkt);
    }
    return count;
}

/* CleverTap's concurrency limit is per account across the group: this member
 * takes a share in proportion to its partitions (no group look-up needed, so it
 * works on kafka-dev-broker too); the 429 back-off absorbs the rest. */
static void update_share(struct tcb_sink *sink)
{
    if (sink->assigned > 0) {
        int total = topic_partitions(sink);
        if (total > 0) {
            sink->topic_partitions = total;
        }
    }
    int total = sink->topic_partitions;
    int mine = sink->assigned;
    if (total <= 0 || mine <= 0 || mine >= total) {
        tcb_uploader_set_share(sink->up, 0, 0);
    } else {
        tcb_uploader_set_share(sink->up, mine, total);
    }
    if (mine > 0) {
        TCB_INFO("sink.share",
                 "%d of %d partitions: this member takes %d/%d of each account's max_in_flight",
                 mine, total, mine < total ? mine : 1, mine < total ? total : 1);
    }
}

/* The heartbeat interval (unless kafka.properties sets one): a sixth of the
 * session, at most librdkafka's 3 s, so a rebalance is learnt of soon (work
 * taken meanwhile cannot be committed). */
static int heartbeat_ms(const struct tcb_config *cfg)
{
    int beat = cfg->kafka.session_timeout_ms / 6;
    return beat < 3000 ? beat : 3000;
}

/* How long a revoke may settle in-flight work: sink.shutdown_timeout_ms, but
 * at most half the session timeout (the group waits for this member). */
static int revoke_deadline_ms(const struct tcb_config *cfg)
{
    int half_session = cfg->kafka.session_timeout_ms / 2;
    return cfg->sink.shutdown_timeout_ms < half_session ? cfg->sink.shutdown_timeout_ms
                                                        : half_session;
}

static void assign_partitions(struct tcb_sink *sink, rd_kafka_t *rk,
                              rd_kafka_topic_partition_list_t *partitions, int cooperative)
{
    for (int i = 0; i < partitions->cnt; i++) {
        tcb_sink_partition_add(sink, partitions->elems[i].partition);
    }
    sink->rebalancing_until_ms = 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cooperative) {
        error = rd_kafka_incremental_assign(rk, partitions);
    } else {
        err = rd_kafka_assign(rk, partitions);
    }
    /* librdkafka keeps a partition's pause across a revoke and a new
     * assignment: start every newly assigned one unpaused, as its state is. */
    rd_kafka_resume_partitions(rk, partitions);
    if (error || err) {
        TCB_ERROR("sink.assign", "assign failed: %s",
                  error ? rd_kafka_error_string(error) : rd_kafka_err2str(err));
        if (error) {
            rd_kafka_error_destroy(error);
        }
        sink->fatal = 1;
    }
    atomic_store(&sink->kafka_up, 1);
    sink->kafka_seen = 1;
    tcb_counter_add(sink->m.rebalances, (const char *[]){"assign"}, 1);
    TCB_INFO("sink.assigned", "%d partitions assigned (%d now)", partitions->cnt, sink->assigned);
}

static void revoke_partitions(struct tcb_sink *sink, rd_kafka_t *rk,
                              rd_kafka_topic_partition_list_t *partitions, int cooperative)
{
    int lost = rd_kafka_assignment_lost(rk);
    int32_t *ids = tcb_xcalloc((size_t)partitions->cnt, sizeof(*ids));
    for (int i = 0; i < partitions->cnt; i++) {
        ids[i] = partitions->elems[i].partition;
    }
    if (lost) {
        /* Someone else owns them now: stop at once, commit nothing. */
        tcb_uploader_flush_partitions(sink->up, 0, ids, (size_t)partitions->cnt);
    } else {
        for (int i = 0; i < partitions->cnt; i++) {
            struct tcb_sink_partition *part = tcb_sink_partition(sink, ids[i]);
            if (part) {
                tcb_sink_partition_pause(sink, part, 1);
            }
        }
        /* What is final now is committed first: should settling outlast the
         * group's patience, that progress is kept. Then settle, shorter than
         * the time the group waits for us, and commit again. */
        tcb_sink_commit(sink, 1);
        tcb_sink_settle(sink, ids, (size_t)partitions->cnt, revoke_deadline_ms(sink->cfg));
        tcb_sink_commit(sink, 1);
    }
    for (int i = 0; i < partitions->cnt; i++) {
        tcb_sink_partition_remove(sink, ids[i]);
    }
    free(ids);
    rd_kafka_error_t *error = NULL;
    if (cooperative) {
        error = rd_kafka_incremental_unassign(rk, partitions);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    if (error) {
        TCB_WARN("sink.unassign", "unassign: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    tcb_counter_add(sink->m.rebalances, (const char *[]){lost ? "lost" : "revoke"}, 1);
    TCB_INFO("sink.revoked", "%d partitions %s (%d left)", partitions->cnt,
             lost ? "lost (nothing committed for them)" : "revoked", sink->assigned);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct tcb_sink *sink = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assign_partitions(sink, rk, partitions, cooperative);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        revoke_partitions(sink, rk, partitions, cooperative);
    } else {
        TCB_ERROR("sink.rebalance", "rebalance failed: %s", rd_kafka_err2str(err));
        revoke_partitions(sink, rk, partitions, cooperative);
    }
    atomic_store(&sink->ready_assigned, sink->assigned > 0);
    tcb_gauge_set(sink->m.assigned, NULL, sink->assigned);
    update_share(sink);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    struct tcb_sink *sink = opaque;
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        struct tcb_sink_partition *part = tcb_sink_partition(sink, tp->partition);
        if (!part) {
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (tp->offset > part->committed) {
                part->committed = tp->offset;
            }
        } else if (part->commit_sent > part->committed) {
            part->commit_sent = part->committed; /* send it again next time */
        }
    }
    int ok = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET;
    if (ok) {
        atomic_store(&sink->kafka_up, 1);
        sink->kafka_seen = 1;
    } else if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
               err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
               err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
        /* The group is moving partitions: what we take now could not be
         * committed, and its next owner would send it again. */
        sink->rebalancing_until_ms = tcb_sink_now_ms() + 2 * heartbeat_ms(sink->cfg);
        TCB_INFO("sink.commit",
                 "offset commit refused during a rebalance (%s); taking no new messages for a "
                 "while",
                 rd_kafka_err2str(err));
    } else {
        TCB_WARN("sink.commit", "offset commit failed: %s (it is sent again)",
                 rd_kafka_err2str(err));
    }
    tcb_counter_add(sink->m.commits, (const char *[]){ok ? "ok" : "failed"}, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tcb_sink *sink = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char detail[512];
        rd_kafka_fatal_error(rk, detail, sizeof(detail));
        TCB_ERROR("kafka.fatal", "fatal consumer error: %s", detail);
        sink->fatal = 1;
    } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        atomic_store(&sink->kafka_up, 0);
        TCB_WARN("kafka.not_ready", "all brokers down: %s", reason);
    } else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !sink->kafka_seen) {
        /* Never connected: a configuration that cannot work, not an outage.
         * Say so and exit 1 rather than retry quietly for ever. */
        char detail[1024];
        tcb_kafka_auth_failure(sink->cfg, reason, detail, sizeof(detail));
        TCB_ERROR("kafka.auth", "%s", detail);
        atomic_store(&sink->kafka_up, 0);
        sink->fatal = 1;
    } else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        TCB_ERROR("kafka.auth", "Kafka refused our credentials: %s (retrying)", reason);
        atomic_store(&sink->kafka_up, 0);
    } else {
        TCB_DEBUG("kafka.error", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    }
}

/* Statistics every few seconds tell whether any broker connection is up. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    struct tcb_sink *sink = opaque;
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *name = NULL;
    json_t *broker = NULL;
    int up = 0;
    json_object_foreach (json_object_get(root, "brokers"), name, broker) {
        const char *state = json_string_value(json_object_get(broker, "state"));
        json_int_t node = json_integer_value(json_object_get(broker, "nodeid"));
        up |= node >= 0 && state && strcmp(state, "UP") == 0;
    }
    json_decref(root);
    atomic_store(&sink->kafka_up, up);
    sink->kafka_seen |= up;
    tcb_gauge_set(sink->m.kafka_ready, NULL, up);
    return 0; /* librdkafka frees json */
}

rd_kafka_conf_t *tcb_sink_kafka_conf(const struct tcb_config *cfg, char *err, size_t err_len)
{
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(cfg, NULL, err, err_len);
    char session[16];
    char heartbeat[16];
    snprintf(session, sizeof(session), "%d", cfg->kafka.session_timeout_ms);
    snprintf(heartbeat, sizeof(heartbeat), "%d", heartbeat_ms(cfg));
    const struct tcb_kv defaults[] = {
        /* Eager assignors: cooperative-sticky crashes librdkafka 2.0.2 when a
         * member closes before its first assignment (librdkafka #4312). */
        {"partition.assignment.strategy", "range,roundrobin"},
        {"auto.offset.reset", "earliest"},      /* a new group loses nothing already on the topic */
        {"queued.max.messages.kbytes", "8192"}, /* read-ahead: memory stays bounded */
        /* One fetch response is bounded by fetch.max.bytes of *compressed* batches
         * (librdkafka sizes it to queued.max.messages.kbytes, 8 MiB); lz4 makes
         * that 5-6 times as many bytes of messages, each with a few hundred bytes
         * of librdkafka bookkeeping: 140-180 MiB of peak RSS on a backlog of small
         * records against Kafka 4.0. 1 MiB keeps the drain as fast and the RSS
         * near 70 MiB (bench/results/README.md); a batch larger than this still
         * comes whole (KIP-74). Raised to message.max.bytes below when that is
         * larger (librdkafka refuses fetch.max.bytes < message.max.bytes). */
        {"fetch.max.bytes", SINK_FETCH_MAX_BYTES},
        {"socket.nagle.disable", "true"},
        {"statistics.interval.ms", "5000"},
        {"heartbeat.interval.ms", heartbeat},
        {"reconnect.backoff.max.ms", "1000"},
    };
    const struct tcb_kv forced[] = {
        {"group.id", cfg->kafka.group_id}, {"session.timeout.ms", session},
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
    };
    if (!conf ||
        tcb_kafka_conf_apply(conf, cfg, defaults, sizeof(defaults) / sizeof(defaults[0]), forced,
                             sizeof(forced) / sizeof(forced[0]), err, err_len) != 0) {
        if (conf) {
            rd_kafka_conf_destroy(conf);
        }
        return NULL;
    }
    /* kafka.properties is shared with the dead-letter producer, which may need a
     * larger message.max.bytes: our fetch default then follows it. */
    char fetch[32];
    char message[32];
    size_t fetch_len = sizeof(fetch);
    size_t message_len = sizeof(message);
    if (rd_kafka_conf_get(conf, "fetch.max.bytes", fetch, &fetch_len) == RD_KAFKA_CONF_OK &&
        rd_kafka_conf_get(conf, "message.max.bytes", message, &message_len) == RD_KAFKA_CONF_OK &&
        strcmp(fetch, SINK_FETCH_MAX_BYTES) == 0 &&
        strtoll(message, NULL, 10) > strtoll(fetch, NULL, 10) &&
        tcb_kafka_conf_set(conf, "fetch.max.bytes", message, err, err_len) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

int tcb_sink_kafka_start(struct tcb_sink *sink, char *err, size_t err_len)
{
    rd_kafka_conf_t *conf = tcb_sink_kafka_conf(sink->cfg, err, err_len);
    if (!conf) {
        return -1;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_opaque(conf, sink);
    char detail[512];
    sink->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, detail, sizeof(detail));
    if (!sink->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_len, "Kafka consumer: %s", detail);
        return -1;
    }
    rd_kafka_poll_set_consumer(sink->rk);
    sink->queue = rd_kafka_queue_get_consumer(sink->rk);
    rd_kafka_queue_io_event_enable(sink->queue, sink->wake[1], "1", 1);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, sink->cfg->kafka.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(sink->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "subscribe to %s: %s", sink->cfg->kafka.topic, rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

void tcb_sink_commit(struct tcb_sink *sink, int sync)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(sink->assigned + 1);
    for (int32_t id = 0; id < sink->part_cap; id++) {
        struct tcb_sink_partition *part = sink->parts[id];
        int64_t point = part ? tcb_offset_tracker_commit_point(&part->tracker) : -1;
        if (point < 0 || point <= part->commit_sent) {
            continue;
        }
        rd_kafka_topic_partition_list_add(list, sink->cfg->kafka.topic, id)->offset = point;
        part->commit_sent = point;
    }
    if (list->cnt > 0) {
        /* An asynchronous result comes through on_commit; a synchronous one is
         * in err and the list (on_commit may see it again: it is idempotent). */
        rd_kafka_resp_err_t err = rd_kafka_commit(sink->rk, list, sync ? 0 : 1);
        if (sync || err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            on_commit(sink->rk, err, list, sink);
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void tcb_sink_update_lag(struct tcb_sink *sink)
{
    for (int32_t id = 0; id < sink->part_cap; id++) {
        struct tcb_sink_partition *part = sink->parts[id];
        int64_t low = -1, high = -1;
        if (!part ||
            rd_kafka_get_watermark_offsets(sink->rk, sink->cfg->kafka.topic, id, &low, &high) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0) {
            continue;
        }
        int64_t base = part->committed >= 0 ? part->committed : low;
        const char *labels[] = {part->label};
        tcb_gauge_set(sink->m.lag, labels, (double)(high > base ? high - base : 0));
        if (part->committed >= 0) {
            tcb_gauge_set(sink->m.committed_offset, labels, (double)part->committed);
        }
    }
    tcb_gauge_set(sink->m.pending_records, NULL, (double)sink->pending_records);
    tcb_gauge_set(sink->m.dlq_pending, NULL, (double)tcb_dlq_writer_pending(sink->dlq));
    tcb_gauge_set(sink->m.dlq_backlogged, NULL, (double)tcb_dlq_writer_backlogged_total(sink->dlq));
}
