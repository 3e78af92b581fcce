/* The DLQ replay: reads kafka.dlq_topic from the replay group's committed
 * offsets to the end seen at start, filters by stage and code, produces the
 * matching dead letters back onto kafka.topic (idempotent, acks=all) and
 * commits the replay group's progress only once every one was acknowledged.
 * Never uploads anything itself: the sink picks the replayed messages up. */
#include "consumer/dlq_replay.h"

#include "common/kafka_conf.h"
#include "common/kafka_produce.h"
#include "common/log.h"
#include "config/config.h"
#include "consumer/dlq_writer.h"
#include "consumer/sink_message.h"
#include "util/alloc.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#define WATERMARK_TIMEOUT_MS 10000
#define IDLE_LIMIT_MS        15000 /* no message for this long before the end: give up */
#define FLUSH_TIMEOUT_MS     30000
#define MAX_PARTITIONS       4096

struct replay {
    const struct tcb_config *cfg;
    const struct tcb_replay_options *opts;
    FILE *out;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    int partitions;
    int64_t *end;  /* per partition: the high watermark at start */
    int64_t *next; /* per partition: the next offset to examine (start: committed, else low) */
    long examined, matched, replayed, unreplayable;
    int failed; /* a produce was refused or not acknowledged */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    struct replay *r = opaque;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_ERROR("replay.produce", "a replayed message was not acknowledged: %s",
                  rd_kafka_err2str(rkm->err));
        r->failed = 1;
    }
}

/* "<group_id>.replay[.stage=S][.code=N]": each filter keeps its own progress. */
static void group_name(const struct replay *r, char *out, size_t len)
{
    int n = snprintf(out, len, "%s.replay", r->cfg->kafka.group_id);
    if (r->opts->stage && n > 0 && (size_t)n < len) {
        n += snprintf(out + n, len - (size_t)n, ".stage=%s", r->opts->stage);
    }
    if (r->opts->has_code && n > 0 && (size_t)n < len) {
        snprintf(out + n, len - (size_t)n, ".code=%d", r->opts->code);
    }
}

static rd_kafka_t *make_client(const struct replay *r, rd_kafka_type_t type, char *err,
                               size_t err_len)
{
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(r->cfg, NULL, err, err_len);
    char group[512];
    group_name(r, group, sizeof(group));
    const struct tcb_kv consumer_forced[] = {{"group.id", group},
                                             {"enable.auto.commit", "false"},
                                             {"enable.auto.offset.store", "false"},
                                             {"auto.offset.reset", "earliest"}};
    const struct tcb_kv producer_forced[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
    int consumer = type == RD_KAFKA_CONSUMER;
    if (!conf ||
        tcb_kafka_conf_apply(conf, r->cfg, NULL, 0, consumer ? consumer_forced : producer_forced,
                             consumer ? 4 : 2, err, err_len) != 0) {
        if (conf) {
            rd_kafka_conf_destroy(conf);
        }
        return NULL;
    }
    if (!consumer) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, (void *)r);
    }
    char detail[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, detail, sizeof(detail));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_len, "%s", detail);
    }
    return rk;
}

/* Learns the DLQ's partitions and their ends, and assigns them from the
 * replay group's committed offsets. Returns 0 or -1. */
static int start_reading(struct replay *r)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->consumer, r->cfg->kafka.dlq_topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(r->consumer, 0, rkt, &md, WATERMARK_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        TCB_ERROR("replay.metadata", "cannot read the metadata of %s: %s", r->cfg->kafka.dlq_topic,
                  rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md) {
            rd_kafka_metadata_destroy(md);
        }
        return -1;
    }
    r->partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (r->partitions <= 0 || r->partitions > MAX_PARTITIONS) {
        TCB_ERROR("replay.metadata", "%s has %d partitions", r->cfg->kafka.dlq_topic,
                  r->partitions);
        return -1;
    }
    r->end = tcb_xcalloc((size_t)r->partitions, sizeof(*r->end));
    r->next = tcb_xcalloc((size_t)r->partitions, sizeof(*r->next));
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->partitions);
    for (int p = 0; p < r->partitions; p++) {
        int64_t low = 0;
        err = rd_kafka_query_watermark_offsets(r->consumer, r->cfg->kafka.dlq_topic, p, &low,
                                               &r->end[p], WATERMARK_TIMEOUT_MS);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            TCB_ERROR("replay.watermark", "partition %d: %s", p, rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(list);
            return -1;
        }
        r->next[p] = low; /* replaced by the committed offset when there is one */
        rd_kafka_topic_partition_list_add(list, r->cfg->kafka.dlq_topic, p)->offset =
            RD_KAFKA_OFFSET_STORED;
    }
    err = rd_kafka_assign(r->consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_ERROR("replay.assign", "%s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static int header(rd_kafka_headers_t *hdrs, const char *name, char *out, size_t len)
{
    const void *value = NULL;
    size_t size = 0;
    out[0] = '\0';
    if (!hdrs ||
        rd_kafka_header_get_last(hdrs, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    size_t n = value ? (size < len - 1 ? size : len - 1) : 0;
    if (n) {
        memcpy(out, value, n);
    }
    out[n] = '\0';
    return 1;
}

static int matches(const struct replay *r, rd_kafka_headers_t *hdrs)
{
    char text[64];
    if (r->opts->stage &&
        (!header(hdrs, TCB_DLQ_H_STAGE, text, sizeof(text)) || strcmp(text, r->opts->stage) != 0)) {
        return 0;
    }
    if (r->opts->has_code) {
        if (!header(hdrs, TCB_DLQ_H_CODE, text, sizeof(text))) {
            return 0;
        }
        char *end = NULL;
        long code = strtol(text, &end, 10);
        if (end == text || *end != '\0' || code != r->opts->code) {
            return 0;
        }
    }
    return 1;
}

/* The source message's headers (the dlq-* ones dropped) plus replayed-from. */
static rd_kafka_headers_t *replay_headers(rd_kafka_headers_t *hdrs, const char *from)
{
    rd_kafka_headers_t *out = rd_kafka_headers_new(8);
    const char *name = NULL;
    const void *value = NULL;
    size_t size = 0;
    for (size_t i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        if (strncmp(name, TCB_DLQ_HEADER_PREFIX, strlen(TCB_DLQ_HEADER_PREFIX)) != 0 &&
            strcmp(name, TCB_H_REPLAYED_FROM) != 0) {
            rd_kafka_header_add(out, name, -1, value, (ssize_t)size);
        }
    }
    rd_kafka_header_add(out, TCB_H_REPLAYED_FROM, -1, from, -1);
    return out;
}

static void replay_one(struct replay *r, const rd_kafka_message_t *rkm, rd_kafka_headers_t *hdrs)
{
    char stage[32], code[16], reason[160], from[300];
    header(hdrs, TCB_DLQ_H_STAGE, stage, sizeof(stage));
    header(hdrs, TCB_DLQ_H_CODE, code, sizeof(code));
    header(hdrs, TCB_DLQ_H_REASON, reason, sizeof(reason));
    snprintf(from, sizeof(from), "%s:%d:%lld", r->cfg->kafka.dlq_topic, (int)rkm->partition,
             (long long)rkm->offset);
    char truncated[8];
    if (header(hdrs, TCB_DLQ_H_TRUNCATED, truncated, sizeof(truncated))) {
        r->unreplayable++;
        fprintf(r->out, "skip %s: its value was cut to fit the DLQ; replay it by hand\n", from);
        return;
    }
    fprintf(r->out, "%s %s stage=%s code=%s reason=\"%s\"\n",
            r->opts->dry_run ? "would replay" : "replay", from, stage, code, reason);
    if (r->opts->dry_run) {
        r->replayed++;
        return;
    }
    struct tcb_kafka_message m = {.topic = r->cfg->kafka.topic,
                                  .partition = RD_KAFKA_PARTITION_UA,
                                  .value = rkm->payload,
                                  .value_len = rkm->len,
                                  .key = rkm->key,
                                  .key_len = rkm->key_len,
                                  .headers = replay_headers(hdrs, from),
                                  .flags = RD_KAFKA_MSG_F_COPY};
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
    for (int tries = 0; tries < 100 && err == RD_KAFKA_RESP_ERR__QUEUE_FULL; tries++) {
        err = tcb_kafka_produce(r->producer, &m);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(r->producer, 100);
        }
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_ERROR("replay.produce", "%s: %s", from, rd_kafka_err2str(err));
        rd_kafka_headers_destroy(m.headers);
        r->failed = 1;
        return;
    }
    r->replayed++;
    rd_kafka_poll(r->producer, 0);
}

static int reached_end(const struct replay *r)
{
    for (int p = 0; p < r->partitions; p++) {
        if (r->next[p] < r->end[p]) {
            return 0;
        }
    }
    return 1;
}

/* Partitions whose committed start is already at their end need no message. */
static void skip_finished(struct replay *r)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    if (rd_kafka_assignment(r->consumer, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    if (rd_kafka_committed(r->consumer, list, WATERMARK_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < list->cnt; i++) {
            int p = list->elems[i].partition;
            if (p >= 0 && p < r->partitions && list->elems[i].offset >= 0) {
                r->next[p] = list->elems[i].offset;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
}

static void read_all(struct replay *r)
{
    int idle_ms = 0;
    int limit_hit = 0;
    skip_finished(r);
    while (!reached_end(r) && !limit_hit && !r->failed && idle_ms < IDLE_LIMIT_MS) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(r->consumer, 100);
        if (!rkm) {
            idle_ms += 100;
            continue;
        }
        idle_ms = 0;
        if (rkm->err) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                TCB_WARN("replay.consume", "%s", rd_kafka_message_errstr(rkm));
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        int p = rkm->partition;
        if (p >= 0 && p < r->partitions && rkm->offset < r->end[p]) {
            rd_kafka_headers_t *hdrs = NULL;
            rd_kafka_message_headers(rkm, &hdrs);
            r->examined++;
            if (matches(r, hdrs)) {
                r->matched++;
                replay_one(r, rkm, hdrs);
                limit_hit = r->opts->limit > 0 && r->replayed >= r->opts->limit;
            }
            r->next[p] = rkm->offset + 1;
        }
        rd_kafka_message_destroy(rkm);
    }
    if (idle_ms >= IDLE_LIMIT_MS && !reached_end(r)) {
        TCB_WARN("replay.idle", "no dead letter arrived for %d s before the end; stopping here",
                 IDLE_LIMIT_MS / 1000);
    }
}

/* Commits the examined offsets once every replayed message is acknowledged. */
static int finish(struct replay *r)
{
    if (r->opts->dry_run) {
        return 0;
    }
    if (rd_kafka_flush(r->producer, FLUSH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_ERROR("replay.flush", "replayed messages not acknowledged within %d s",
                  FLUSH_TIMEOUT_MS / 1000);
        r->failed = 1;
    }
    if (r->failed) {
        return -1; /* commit nothing: a second run replays this batch again */
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->partitions);
    for (int p = 0; p < r->partitions; p++) {
        if (r->next[p] >= 0) {
            rd_kafka_topic_partition_list_add(list, r->cfg->kafka.dlq_topic, p)->offset =
                r->next[p];
        }
    }
    rd_kafka_resp_err_t err =
        list->cnt > 0 ? rd_kafka_commit(r->consumer, list, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_ERROR("replay.commit",
                  "the replayed messages are on %s but the progress commit "
                  "failed (%s): a second run would replay them again",
                  r->cfg->kafka.topic, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int tcb_dlq_replay(const struct tcb_config *cfg, const struct tcb_replay_options *opts, FILE *out)
{
    struct replay r = {.cfg = cfg, .opts = opts, .out = out};
    char err[512];
    int rc = 1;
    r.consumer = make_client(&r, RD_KAFKA_CONSUMER, err, sizeof(err));
    r.producer = opts->dry_run ? NULL : make_client(&r, RD_KAFKA_PRODUCER, err, sizeof(err));
    if (!r.consumer || (!opts->dry_run && !r.producer)) {
        TCB_ERROR("replay.start", "%s", err);
        goto out;
    }
    if (start_reading(&r) != 0) {
        goto out;
    }
    read_all(&r);
    rc = finish(&r) == 0 ? 0 : 1;
    fprintf(out,
            "%s %ld of %ld dead letters examined on %s (%ld matched the filter, %ld not "
            "replayable) %s %s\n",
            opts->dry_run ? "would replay" : "replayed", r.replayed, r.examined,
            cfg->kafka.dlq_topic, r.matched, r.unreplayable, opts->dry_run ? "onto" : "to",
            cfg->kafka.topic);
out:
    if (r.consumer) {
        rd_kafka_consumer_close(r.consumer);
        rd_kafka_destroy(r.consumer);
    }
    if (r.producer) {
        rd_kafka_flush(r.producer, 1000);
        rd_kafka_destroy(r.producer);
    }
    free(r.end);
    free(r.next);
    return rc;
}
