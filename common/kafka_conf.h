/* Builds librdkafka configurations from the config's kafka section: brokers,
 * the verbatim `properties` map, and logging routed through common/log. */
#ifndef TCB_COMMON_KAFKA_CONF_H
#define TCB_COMMON_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

struct tcb_config;

/* New rd_kafka_conf_t with bootstrap.servers, client.id, the log callback and
 * every kafka.properties entry applied (properties last, so users can override
 * our defaults), or NULL with a message in err (the offending key is named; its
 * value is never echoed since it may be a secret). */
rd_kafka_conf_t *tcb_kafka_conf_new(const struct tcb_config *cfg, const char *client_id, char *err,
                                    size_t err_len);

/* Sets one property; returns 0 or -1 with a message naming the key in err. */
int tcb_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                       size_t err_len);

struct tcb_kv;

/* Applies our settings around the user's kafka.properties: each of
 * defaults[0..default_count) unless kafka.properties names the key (users may
 * override those), then every forced[0..forced_count) whatever the properties
 * say (the delivery guarantees). Returns 0 or -1 with the key named in err. */
int tcb_kafka_conf_apply(rd_kafka_conf_t *conf, const struct tcb_config *cfg,
                         const struct tcb_kv *defaults, size_t default_count,
                         const struct tcb_kv *forced, size_t forced_count, char *err,
                         size_t err_len);

/* Writes into out the start-up error for Kafka refusing our credentials before
 * any broker connection succeeded (the daemons then exit 1 rather than retry a
 * configuration that cannot work): librdkafka's reason (it names the mechanism,
 * never the password), what to check, and, when kafka.properties asks for SCRAM
 * and the librdkafka we run on is older than 2.6.1, that such a librdkafka
 * cannot SCRAM-authenticate to Kafka 4.x brokers (librdkafka #4895). */
void tcb_kafka_auth_failure(const struct tcb_config *cfg, const char *reason, char *out,
                            size_t out_len);

/* librdkafka log callback that writes through tcb_log (syslog levels mapped). */
void tcb_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
