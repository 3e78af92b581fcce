/* The dead-letter producer: one owned copy per dead letter until Kafka
 * acknowledges it (librdkafka borrows the bytes, so nothing is copied twice),
 * a backlog for what librdkafka cannot take now or refused, and the delivery
 * callback that reports acknowledgements. Never commits offsets, never logs a
 * record's contents. */
#include "consumer/dlq_writer.h"

#include "common/kafka_conf.h"
#include "common/kafka_produce.h"
#include "common/log.h"
#include "config/config.h"
#include "util/alloc.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRUNCATED_VALUE_BYTES (64 * 1024) /* a value Kafka refused as too large is cut to this */
#define RETRY_MIN_MS          500
#define RETRY_MAX_MS          30000
#define FLUSH_STEP_MS         50

struct dlq_item {
    struct dlq_item *next; /* backlog link */
    int32_t partition;
    int64_t offset;
    uint64_t cookie;
    char *value;
    size_t value_len;
    char *key;
    size_t key_len;
    rd_kafka_headers_t *headers; /* the template: each attempt sends a copy */
    int failures;                /* refusals so far (back-off) */
    int64_t retry_at_ms;
};

struct tcb_dlq_writer {
    const struct tcb_config *cfg;
    tcb_dlq_acked_fn on_acked;
    void *ctx;
    rd_kafka_t *rk;
    size_t pending;
    struct dlq_item *backlog_head, *backlog_tail;
    size_t backlog;
    size_t backlogged_total;
    int failed;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void item_free(struct dlq_item *item)
{
    if (!item) {
        return;
    }
    free(item->value);
    free(item->key);
    if (item->headers) {
        rd_kafka_headers_destroy(item->headers);
    }
    free(item);
}

static void backlog_push(struct tcb_dlq_writer *w, struct dlq_item *item, int64_t retry_at_ms)
{
    item->retry_at_ms = retry_at_ms;
    item->next = NULL;
    if (w->backlog_tail) {
        w->backlog_tail->next = item;
    } else {
        w->backlog_head = item;
    }
    w->backlog_tail = item;
    w->backlog++;
    w->backlogged_total++;
}

static struct dlq_item *backlog_pop(struct tcb_dlq_writer *w)
{
    struct dlq_item *item = w->backlog_head;
    w->backlog_head = item->next;
    if (!w->backlog_head) {
        w->backlog_tail = NULL;
    }
    w->backlog--;
    item->next = NULL;
    return item;
}

/* Cuts the value to TRUNCATED_VALUE_BYTES and says so in a header. */
static void truncate_value(struct dlq_item *item)
{
    if (item->value_len <= TRUNCATED_VALUE_BYTES) {
        return;
    }
    char original[32];
    snprintf(original, sizeof(original), "%zu", item->value_len);
    rd_kafka_header_add(item->headers, TCB_DLQ_H_TRUNCATED, -1, original, -1);
    item->value_len = TRUNCATED_VALUE_BYTES;
}

/* Hands item to librdkafka. Returns 0 (the delivery callback owns it now) or
 * the error librdkafka refused it with (the caller still owns it). */
static rd_kafka_resp_err_t produce(struct tcb_dlq_writer *w, struct dlq_item *item)
{
    struct tcb_kafka_message m = {.topic = w->cfg->kafka.dlq_topic,
                                  .partition = RD_KAFKA_PARTITION_UA,
                                  .value = item->value,
                                  .value_len = item->value_len,
                                  .key = item->key,
                                  .key_len = item->key_len,
                                  .headers = rd_kafka_headers_copy(item->headers),
                                  .flags = 0, /* no copy: item keeps the bytes until the ack */
                                  .opaque = item};
    rd_kafka_resp_err_t err = tcb_kafka_produce(w->rk, &m);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(m.headers);
    }
    return err;
}

static int64_t backoff_ms(int failures)
{
    int64_t delay = RETRY_MIN_MS;
    for (int i = 1; i < failures && delay < RETRY_MAX_MS; i++) {
        delay *= 2;
    }
    return delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS;
}

/* A refusal (at produce time or in the delivery report): cut a too-large value
 * and try again at once, else wait and try again. */
static void refused(struct tcb_dlq_writer *w, struct dlq_item *item, rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        backlog_push(w, item, 0);
        return;
    }
    item->failures++;
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && item->value_len > TRUNCATED_VALUE_BYTES) {
        truncate_value(item);
        backlog_push(w, item, 0);
        TCB_WARN("dlq.truncated",
                 "dead letter for partition %d offset %lld too large for Kafka; "
                 "writing it cut to %d bytes",
                 (int)item->partition, (long long)item->offset, TRUNCATED_VALUE_BYTES);
        return;
    }
    TCB_WARN("dlq.refused",
             "dead letter for partition %d offset %lld refused (%s); retrying (the source offset "
             "waits)",
             (int)item->partition, (long long)item->offset, rd_kafka_err2str(err));
    backlog_push(w, item, now_ms() + backoff_ms(item->failures));
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    struct tcb_dlq_writer *w = opaque;
    struct dlq_item *item = rkm->_private;
    if (rkm->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        rkm->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        item_free(item); /* destroy: not acknowledged, so the source offset never moved */
        return;
    }
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        refused(w, item, rkm->err);
        return;
    }
    w->pending--;
    w->on_acked(w->ctx, item->partition, item->offset, item->cookie);
    item_free(item);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tcb_dlq_writer *w = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char detail[512];
        rd_kafka_fatal_error(rk, detail, sizeof(detail));
        TCB_ERROR("dlq.fatal", "fatal dead-letter producer error: %s", detail);
        w->failed = 1;
        return;
    }
    TCB_DEBUG("dlq.error", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

struct tcb_dlq_writer *tcb_dlq_writer_create(const struct tcb_config *cfg,
                                             tcb_dlq_acked_fn on_acked, void *ctx, char *err,
                                             size_t err_len)
{
    struct tcb_dlq_writer *w = tcb_xcalloc(1, sizeof(*w));
    w->cfg = cfg;
    w->on_acked = on_acked;
    w->ctx = ctx;
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(cfg, NULL, err, err_len);
    static const struct tcb_kv defaults[] = {
        {"linger.ms", "5"},
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "16384"},
        {"message.timeout.ms", "0"}, /* never give a dead letter up: Kafka's outage waits */
        {"socket.nagle.disable", "true"},
    };
    static const struct tcb_kv forced[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
    if (!conf ||
        tcb_kafka_conf_apply(conf, cfg, defaults, sizeof(defaults) / sizeof(defaults[0]), forced,
                             sizeof(forced) / sizeof(forced[0]), err, err_len) != 0) {
        if (conf) {
            rd_kafka_conf_destroy(conf);
        }
        tcb_dlq_writer_destroy(w);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, w);
    char detail[512];
    w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, detail, sizeof(detail));
    if (!w->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_len, "dead-letter producer: %s", detail);
        tcb_dlq_writer_destroy(w);
        return NULL;
    }
    return w;
}

void tcb_dlq_writer_destroy(struct tcb_dlq_writer *w)
{
    if (!w) {
        return;
    }
    if (w->rk) {
        rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(w->rk, 2000); /* purged messages' callbacks free their items */
        rd_kafka_destroy(w->rk);
    }
    while (w->backlog_head) {
        item_free(backlog_pop(w));
    }
    free(w);
}

static void add_number(rd_kafka_headers_t *headers, const char *name, long long value)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld", value);
    rd_kafka_header_add(headers, name, -1, text, -1);
}

static rd_kafka_headers_t *build_headers(const struct tcb_dead_letter *dl)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(dl->header_count + 12);
    for (size_t i = 0; i < dl->header_count; i++) {
        rd_kafka_header_add(h, dl->headers[i].name, -1, dl->headers[i].value,
                            (ssize_t)dl->headers[i].len);
    }
    rd_kafka_header_add(h, TCB_DLQ_H_TOPIC, -1, dl->source_topic, -1);
    add_number(h, TCB_DLQ_H_PARTITION, dl->source_partition);
    add_number(h, TCB_DLQ_H_OFFSET, dl->source_offset);
    add_number(h, TCB_DLQ_H_INDEX, (long long)dl->output_index);
    rd_kafka_header_add(h, TCB_DLQ_H_STAGE, -1, dl->stage, -1);
    add_number(h, TCB_DLQ_H_CODE, dl->code);
    rd_kafka_header_add(h, TCB_DLQ_H_REASON, -1, dl->reason ? dl->reason : "", -1);
    add_number(h, TCB_DLQ_H_HTTP, dl->http_status);
    add_number(h, TCB_DLQ_H_ATTEMPTS, dl->attempts);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    add_number(h, TCB_DLQ_H_TIME, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    if (dl->account) {
        rd_kafka_header_add(h, TCB_DLQ_H_ACCOUNT, -1, dl->account, -1);
    }
    return h;
}

void tcb_dlq_writer_write(struct tcb_dlq_writer *w, const struct tcb_dead_letter *dl)
{
    struct dlq_item *item = tcb_xcalloc(1, sizeof(*item));
    item->partition = dl->source_partition;
    item->offset = dl->source_offset;
    item->cookie = dl->cookie;
    item->value = tcb_xstrndup(dl->value ? dl->value : "", dl->value ? dl->value_len : 0);
    item->value_len = dl->value ? dl->value_len : 0;
    if (dl->key) {
        item->key = tcb_xstrndup(dl->key, dl->key_len);
        item->key_len = dl->key_len;
    }
    item->headers = build_headers(dl);
    w->pending++;
    if (w->backlog > 0) {
        backlog_push(w, item, 0); /* keep the order of what waits */
        return;
    }
    rd_kafka_resp_err_t err = produce(w, item);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        refused(w, item, err);
    }
}

int tcb_dlq_writer_serve(struct tcb_dlq_writer *w)
{
    size_t before = w->pending;
    rd_kafka_poll(w->rk, 0);
    int64_t now = now_ms();
    size_t tries = w->backlog;
    while (w->backlog_head && tries-- > 0) {
        struct dlq_item *item = backlog_pop(w);
        if (item->retry_at_ms > now) {
            backlog_push(w, item, item->retry_at_ms); /* not due: to the back */
            continue;
        }
        rd_kafka_resp_err_t err = produce(w, item);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Still full: back at the front, in order, for the next serve. */
            item->next = w->backlog_head;
            w->backlog_head = item;
            if (!w->backlog_tail) {
                w->backlog_tail = item;
            }
            w->backlog++;
            break;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            refused(w, item, err);
        }
    }
    return (int)(before - w->pending);
}

size_t tcb_dlq_writer_flush(struct tcb_dlq_writer *w, int timeout_ms)
{
    int64_t end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (w->pending > 0 && !w->failed) {
        tcb_dlq_writer_serve(w);
        int64_t left = end - now_ms();
        if (w->pending == 0 || left <= 0) {
            break;
        }
        rd_kafka_poll(w->rk, (int)(left < FLUSH_STEP_MS ? left : FLUSH_STEP_MS));
    }
    return w->pending;
}

size_t tcb_dlq_writer_pending(const struct tcb_dlq_writer *w)
{
    return w->pending;
}

size_t tcb_dlq_writer_backlog(const struct tcb_dlq_writer *w)
{
    return w->backlog;
}

size_t tcb_dlq_writer_backlogged_total(const struct tcb_dlq_writer *w)
{
    return w->backlogged_total;
}

void tcb_dlq_writer_watch_fd(struct tcb_dlq_writer *w, int fd)
{
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(w->rk);
    rd_kafka_queue_io_event_enable(q, fd, "1", 1);
    rd_kafka_queue_destroy(q);
}

int tcb_dlq_writer_failed(const struct tcb_dlq_writer *w)
{
    return w->failed;
}
