/* The librdkafka producer behind talon-ingest: configuration (idempotent,
 * acks=all, bounded queue, message timeout = the HTTP produce timeout), the
 * poller and probe threads, readiness and fatal-error tracking. It never
 * decides HTTP statuses; it reports each delivery through a callback. */
#include "producer/ingest_producer.h"

#include "common/kafka_conf.h"
#include "common/kafka_produce.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "producer/ingest_metrics.h"
#include "util/alloc.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBE_INTERVAL_MS 1000
#define PROBE_TIMEOUT_MS  2000
#define POLL_INTERVAL_MS  100

struct tcb_ingest_producer {
    const struct tcb_config *cfg;
    const struct tcb_ingest_metrics *metrics;
    tcb_ingest_delivery_fn on_delivery;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    pthread_t poller;
    pthread_t prober;
    int poller_started;
    int prober_started;
    atomic_int stop_poller;
    atomic_int stop_prober;
    atomic_int ready;
    atomic_int seen; /* a metadata probe has worked: later auth errors are retried */
    atomic_int fatal;
    atomic_int draining; /* set by drain: sends are refused from then on */
    atomic_int sending;  /* sends between their draining check and the enqueue */
};

static const struct tcb_ingest_metrics *metrics_of(const struct tcb_ingest_producer *producer)
{
    static const struct tcb_ingest_metrics none;
    return producer->metrics ? producer->metrics : &none;
}

static void count_failure(const struct tcb_ingest_producer *producer, const char *reason)
{
    const char *labels[] = {reason};
    tcb_counter_add(metrics_of(producer)->produce_failures, labels, 1);
}

static void on_dr_msg(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct tcb_ingest_producer *producer = opaque;
    int ok = rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ok) {
        tcb_counter_add(metrics_of(producer)->records_produced, NULL, 1);
    } else {
        count_failure(producer, rkm->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? "timeout"
                                : rkm->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                                        rkm->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT
                                    ? "shutdown"
                                    : "broker");
        TCB_DEBUG("kafka.delivery_failed", "delivery failed: %s", rd_kafka_err2str(rkm->err));
    }
    producer->on_delivery(rkm->_private, ok);
}

/* Kafka refused our credentials. Before any broker connection worked this is a
 * configuration that cannot work: fatal (the daemon exits 1, saying why) rather
 * than a quiet retry loop. After one worked (a password rotated under us), the
 * producer is not ready and librdkafka keeps retrying. */
static void auth_refused(struct tcb_ingest_producer *producer, const char *reason)
{
    atomic_store(&producer->ready, 0);
    if (atomic_load(&producer->seen)) {
        TCB_ERROR("kafka.auth", "Kafka refused our credentials: %s (retrying)", reason);
        return;
    }
    char detail[1024];
    tcb_kafka_auth_failure(producer->cfg, reason, detail, sizeof(detail));
    TCB_ERROR("kafka.auth", "%s", detail);
    atomic_store(&producer->fatal, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tcb_ingest_producer *producer = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char detail[512];
        rd_kafka_fatal_error(rk, detail, sizeof(detail));
        TCB_ERROR("kafka.fatal", "fatal producer error: %s", detail);
        atomic_store(&producer->fatal, 1);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        atomic_store(&producer->ready, 0);
        TCB_WARN("kafka.not_ready", "all brokers down: %s", reason);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        auth_refused(producer, reason);
        return;
    }
    /* librdkafka's log callback already reported it at its own level. */
    TCB_DEBUG("kafka.error", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *poller_main(void *arg)
{
    struct tcb_ingest_producer *producer = arg;
    while (!atomic_load(&producer->stop_poller)) {
        rd_kafka_poll(producer->rk, POLL_INTERVAL_MS);
        tcb_gauge_set(metrics_of(producer)->queue_depth, NULL,
                      (double)rd_kafka_outq_len(producer->rk));
    }
    return NULL;
}

/* Asks a broker for the topic's metadata: reachable and the topic has a
 * leader for every partition. */
static int probe_once(struct tcb_ingest_producer *producer)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(producer->rk, 0, producer->rkt, &md, PROBE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    int ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
             md->topics[0].partition_cnt > 0;
    for (int i = 0; ok && i < md->topics[0].partition_cnt; i++) {
        ok = md->topics[0].partitions[i].leader >= 0;
    }
    rd_kafka_metadata_destroy(md);
    return ok;
}

static void *prober_main(void *arg)
{
    struct tcb_ingest_producer *producer = arg;
    while (!atomic_load(&producer->stop_prober)) {
        int ok = probe_once(producer) && !atomic_load(&producer->fatal);
        if (ok) {
            atomic_store(&producer->seen, 1);
        }
        if (ok != atomic_exchange(&producer->ready, ok)) {
            if (ok) {
                TCB_INFO("kafka.ready", "Kafka reachable, topic has leaders");
            } else {
                TCB_WARN("kafka.not_ready", "Kafka metadata probe failed");
            }
        }
        tcb_gauge_set(metrics_of(producer)->kafka_ready, NULL, ok);
        for (int waited = 0; waited < PROBE_INTERVAL_MS && !atomic_load(&producer->stop_prober);
             waited += 50) {
            sleep_ms(50);
        }
    }
    return NULL;
}

/* Our defaults yield to kafka.properties; the delivery guarantees do not. */
static int configure(rd_kafka_conf_t *conf, const struct tcb_config *cfg, char *err, size_t err_len)
{
    char queue[32];
    char timeout[32];
    snprintf(queue, sizeof(queue), "%d", cfg->ingest.max_queue_messages);
    snprintf(timeout, sizeof(timeout), "%d", cfg->ingest.produce_timeout_ms);
    const struct tcb_kv defaults[] = {
        {"linger.ms", "0.25"}, /* see producer/README.md */
        {"queue.buffering.max.messages", queue},
        {"queue.buffering.max.kbytes", "131072"}, /* 128 MiB, not 1 GiB */
        {"message.timeout.ms", timeout},
        {"partitioner", "murmur2_random"}, /* the Java client's key -> partition mapping */
        {"reconnect.backoff.max.ms", "1000"},
        {"socket.nagle.disable", "true"}, /* request/response latency, as the Java client */
    };
    const struct tcb_kv forced[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
    return tcb_kafka_conf_apply(conf, cfg, defaults, sizeof(defaults) / sizeof(defaults[0]), forced,
                                sizeof(forced) / sizeof(forced[0]), err, err_len);
}

struct tcb_ingest_producer *tcb_ingest_producer_create(const struct tcb_config *cfg,
                                                       const struct tcb_ingest_metrics *metrics,
                                                       tcb_ingest_delivery_fn on_delivery,
                                                       char *err, size_t err_len)
{
    struct tcb_ingest_producer *producer = tcb_xcalloc(1, sizeof(*producer));
    producer->cfg = cfg;
    producer->metrics = metrics;
    producer->on_delivery = on_delivery;
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(cfg, NULL, err, err_len); /* kafka.client_id */
    if (conf == NULL || configure(conf, cfg, err, err_len) != 0) {
        if (conf) {
            rd_kafka_conf_destroy(conf);
        }
        tcb_ingest_producer_destroy(producer);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, producer);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr_msg);
    rd_kafka_conf_set_error_cb(conf, on_error);
    producer->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, err_len);
    if (producer->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        tcb_ingest_producer_destroy(producer);
        return NULL;
    }
    producer->rkt = rd_kafka_topic_new(producer->rk, cfg->kafka.topic, NULL);
    if (producer->rkt == NULL) {
        snprintf(err, err_len, "kafka.topic: %s", rd_kafka_err2str(rd_kafka_last_error()));
        tcb_ingest_producer_destroy(producer);
        return NULL;
    }
    if (pthread_create(&producer->poller, NULL, poller_main, producer) != 0) {
        snprintf(err, err_len, "cannot start the Kafka poller thread");
        tcb_ingest_producer_destroy(producer);
        return NULL;
    }
    producer->poller_started = 1;
    if (pthread_create(&producer->prober, NULL, prober_main, producer) != 0) {
        snprintf(err, err_len, "cannot start the Kafka probe thread");
        tcb_ingest_producer_destroy(producer);
        return NULL;
    }
    producer->prober_started = 1;
    return producer;
}

static int enqueue(struct tcb_ingest_producer *producer, const struct tcb_ingest_message *message,
                   void *opaque)
{
    char index[24];
    char received[24];
    snprintf(index, sizeof(index), "%ld", message->record_index);
    snprintf(received, sizeof(received), "%lld", message->received_at_ms);
    rd_kafka_headers_t *headers = rd_kafka_headers_new(4);
    if (message->account) {
        rd_kafka_header_add(headers, "clevertap-account", -1, message->account, -1);
    }
    rd_kafka_header_add(headers, "request-id", -1, message->request_id, -1);
    rd_kafka_header_add(headers, "record-index", -1, index, -1);
    rd_kafka_header_add(headers, "received-at", -1, received, -1);
    struct tcb_kafka_message m = {.rkt = producer->rkt,
                                  .partition = RD_KAFKA_PARTITION_UA,
                                  .value = message->value,
                                  .value_len = message->value_len,
                                  .key = message->key,
                                  .key_len = message->key_len,
                                  .headers = headers,
                                  .flags = RD_KAFKA_MSG_F_COPY,
                                  .opaque = opaque};
    rd_kafka_resp_err_t err = tcb_kafka_produce(producer->rk, &m);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(headers);
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            count_failure(producer, "too_large");
            return TCB_INGEST_SEND_TOO_LARGE;
        }
        count_failure(producer, err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "queue_full" : "enqueue");
        return -1;
    }
    return 0;
}

/* A send either sees draining set and is refused, or is counted in sending
 * before drain looks: drain then waits for it, so no message is enqueued
 * after drain's final flush, where it would never be called back. */
int tcb_ingest_producer_send(struct tcb_ingest_producer *producer,
                             const struct tcb_ingest_message *message, void *opaque)
{
    atomic_fetch_add(&producer->sending, 1);
    int rc = -1;
    if (!atomic_load(&producer->draining)) {
        rc = enqueue(producer, message, opaque);
    } else {
        count_failure(producer, "shutdown");
    }
    atomic_fetch_sub(&producer->sending, 1);
    return rc;
}

int tcb_ingest_producer_ready(struct tcb_ingest_producer *producer, char *why, size_t why_len)
{
    if (atomic_load(&producer->fatal)) {
        snprintf(why, why_len, "fatal Kafka producer error");
        return 0;
    }
    if (!atomic_load(&producer->ready)) {
        snprintf(why, why_len, "Kafka not reachable or topic without leader");
        return 0;
    }
    return 1;
}

int tcb_ingest_producer_failed(struct tcb_ingest_producer *producer)
{
    return atomic_load(&producer->fatal);
}

static void stop_poller(struct tcb_ingest_producer *producer)
{
    if (producer->poller_started) {
        atomic_store(&producer->stop_poller, 1);
        pthread_join(producer->poller, NULL);
        producer->poller_started = 0;
    }
}

void tcb_ingest_producer_drain(struct tcb_ingest_producer *producer, int timeout_ms)
{
    atomic_store(&producer->draining, 1);
    while (atomic_load(&producer->sending) > 0) {
        sleep_ms(1);
    }
    stop_poller(producer);
    if (rd_kafka_flush(producer->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    TCB_WARN("kafka.drain", "%d messages unacknowledged at shutdown; purging",
             rd_kafka_outq_len(producer->rk));
    rd_kafka_purge(producer->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer->rk, 1000);
}

void tcb_ingest_producer_destroy(struct tcb_ingest_producer *producer)
{
    if (producer == NULL) {
        return;
    }
    stop_poller(producer);
    if (producer->prober_started) {
        atomic_store(&producer->stop_prober, 1);
        pthread_join(producer->prober, NULL);
    }
    if (producer->rkt) {
        rd_kafka_topic_destroy(producer->rkt);
    }
    if (producer->rk) {
        rd_kafka_destroy(producer->rk);
    }
    free(producer);
}
