/* librdkafka configuration from the config file's kafka section, with
 * librdkafka's own log lines routed through common/log. Never echoes a
 * property value in an error (values may be SASL passwords). */
#include "common/kafka_conf.h"

#include "common/log.h"
#include "config/config.h"

#include <stdio.h>
#include <string.h>

int tcb_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                       size_t err_len)
{
    char detail[512];
    if (rd_kafka_conf_set(conf, key, value, detail, sizeof(detail)) != RD_KAFKA_CONF_OK) {
        /* librdkafka's text may quote the value: name the key only. */
        snprintf(err, err_len, "kafka property '%s' was refused by librdkafka", key);
        return -1;
    }
    return 0;
}

static const char *property(const struct tcb_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->kafka.properties.count; i++) {
        if (strcmp(cfg->kafka.properties.items[i].key, key) == 0) {
            return cfg->kafka.properties.items[i].value;
        }
    }
    return NULL;
}

static int has_property(const struct tcb_config *cfg, const char *key)
{
    return property(cfg, key) != NULL;
}

/* librdkafka before 2.6.1 sends the client nonce twice in SCRAM's final
 * message; Kafka 3.8.1+ tolerates it, Kafka 4.x (CVE-2024-56128) does not. */
#define TCB_RDKAFKA_SCRAM_FIXED 0x020601ff

void tcb_kafka_auth_failure(const struct tcb_config *cfg, const char *reason, char *out,
                            size_t out_len)
{
    const char *mechanism = property(cfg, "sasl.mechanisms");
    if (!mechanism) {
        mechanism = property(cfg, "sasl.mechanism");
    }
    char note[256] = "";
    if (mechanism && strncmp(mechanism, "SCRAM-", 6) == 0 &&
        rd_kafka_version() < TCB_RDKAFKA_SCRAM_FIXED) {
        snprintf(note, sizeof(note),
                 ". Note: librdkafka %s cannot SCRAM-authenticate to Kafka 4.x brokers, whatever "
                 "the password (fixed in librdkafka 2.6.1, librdkafka #4895); Kafka 3.x accepts it",
                 rd_kafka_version_str());
    }
    snprintf(out, out_len,
             "Kafka authentication failed before any broker connection succeeded: %s; check "
             "kafka.properties (sasl.username, sasl.password, sasl.mechanisms, "
             "security.protocol)%s",
             reason ? reason : "no reason given", note);
}

int tcb_kafka_conf_apply(rd_kafka_conf_t *conf, const struct tcb_config *cfg,
                         const struct tcb_kv *defaults, size_t default_count,
                         const struct tcb_kv *forced, size_t forced_count, char *err,
                         size_t err_len)
{
    for (size_t i = 0; i < default_count; i++) {
        if (!has_property(cfg, defaults[i].key) &&
            tcb_kafka_conf_set(conf, defaults[i].key, defaults[i].value, err, err_len) != 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < forced_count; i++) {
        if (tcb_kafka_conf_set(conf, forced[i].key, forced[i].value, err, err_len) != 0) {
            return -1;
        }
    }
    return 0;
}

void tcb_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    enum tcb_log_level mapped = level <= 3   ? TCB_LOG_ERROR
                                : level <= 5 ? TCB_LOG_WARN
                                : level == 6 ? TCB_LOG_INFO
                                             : TCB_LOG_DEBUG;
    tcb_log(mapped, "kafka.librdkafka", "%s: %s", fac, buf);
}

rd_kafka_conf_t *tcb_kafka_conf_new(const struct tcb_config *cfg, const char *client_id, char *err,
                                    size_t err_len)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new(); /* never NULL: librdkafka aborts on OOM */
    rd_kafka_conf_set_log_cb(conf, tcb_kafka_log_cb);
    const char *id = client_id ? client_id : cfg->kafka.client_id;
    if (tcb_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka.brokers, err, err_len) != 0 ||
        (id && tcb_kafka_conf_set(conf, "client.id", id, err, err_len) != 0)) {
        goto fail;
    }
    for (size_t i = 0; i < cfg->kafka.properties.count; i++) {
        const struct tcb_kv *kv = &cfg->kafka.properties.items[i];
        if (tcb_kafka_conf_set(conf, kv->key, kv->value, err, err_len) != 0) {
            goto fail;
        }
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
