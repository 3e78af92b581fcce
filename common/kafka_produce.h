/* One call to produce a Kafka message with headers, for every producer of the
 * project (talon-ingest, the DLQ writer, the DLQ replay, tests): librdkafka's
 * produceva with the fields spelled out, because its producev macros are GNU
 * statement expressions that clang rejects under -Wpedantic. */
#ifndef TCB_COMMON_KAFKA_PRODUCE_H
#define TCB_COMMON_KAFKA_PRODUCE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

struct tcb_kafka_message {
    rd_kafka_topic_t *rkt; /* the topic handle (saves a look-up per message), or NULL: */
    const char *topic;     /* then the topic by name */
    int32_t partition;     /* RD_KAFKA_PARTITION_UA = by key (the partitioner) */
    const void *value;     /* borrowed (or kept alive until delivery without RD_KAFKA_MSG_F_COPY) */
    size_t value_len;
    const void *key; /* NULL = no key */
    size_t key_len;
    rd_kafka_headers_t *headers; /* taken on success only; NULL = none */
    int flags;                   /* RD_KAFKA_MSG_F_* */
    void *opaque;                /* handed to the delivery report */
};

/* Produces m on rk. Returns RD_KAFKA_RESP_ERR_NO_ERROR (the delivery report
 * will come; the headers now belong to librdkafka) or the error librdkafka
 * refused it with (nothing queued; the caller still owns the headers). */
rd_kafka_resp_err_t tcb_kafka_produce(rd_kafka_t *rk, const struct tcb_kafka_message *m);

#endif
