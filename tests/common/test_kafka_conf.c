/* librdkafka configuration from the config file: brokers and every verbatim
 * property applied, a refused property named without its value (it may be a
 * SASL password), librdkafka's log lines routed through common/log, and the
 * start-up error when Kafka refuses our credentials; the sink's consumer
 * configuration on top: the defaults that bound its memory (read-ahead and,
 * since lz4 multiplies it, one fetch's size), a property winning over a
 * default, the loop's own settings winning over a property. */
#include "common/kafka_conf.h"
#include "common/log.h"
#include "config/config.h"
#include "consumer/sink_state.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct tcb_config *load(const char *yaml)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("t.yaml", yaml, strlen(yaml), &diag);
    assert_non_null(cfg);
    return cfg;
}

static void expect_property(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char buf[256];
    size_t len = sizeof(buf);
    assert_int_equal(rd_kafka_conf_get(conf, key, buf, &len), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, value);
}

static void test_properties_applied(void **state)
{
    (void)state;
    struct tcb_config *cfg = load("kafka:\n  brokers: \"127.0.0.1:1,127.0.0.1:2\"\n"
                                  "  properties:\n    linger.ms: \"7\"\n"
                                  "    client.id: \"overridden\"\n");
    char err[256];
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(cfg, "talon-ingest", err, sizeof(err));
    assert_non_null(conf);
    expect_property(conf, "bootstrap.servers", "127.0.0.1:1,127.0.0.1:2");
    expect_property(conf, "linger.ms", "7");
    expect_property(conf, "client.id", "overridden"); /* user properties win */
    rd_kafka_conf_destroy(conf);
    tcb_config_destroy(cfg);
}

/* Names authentication and what to check, never the password; the SCRAM note
 * only for SCRAM on a librdkafka older than 2.6.1. */
static void test_auth_failure_text(void **state)
{
    (void)state;
    const char *reason = "sasl_ssl://b:9094/bootstrap: SASL authentication error: failed";
    struct tcb_config *scram = load("kafka:\n  properties:\n"
                                    "    sasl.mechanisms: \"SCRAM-SHA-512\"\n"
                                    "    sasl.password: \"hunter2-kafka-secret\"\n");
    struct tcb_config *plain = load("kafka:\n  properties:\n"
                                    "    sasl.mechanism: \"PLAIN\"\n"
                                    "    sasl.password: \"hunter2-kafka-secret\"\n");
    char text[1024];
    tcb_kafka_auth_failure(scram, reason, text, sizeof(text));
    assert_non_null(strstr(text, "Kafka authentication failed"));
    assert_non_null(strstr(text, reason));
    assert_non_null(strstr(text, "sasl.password"));
    assert_null(strstr(text, "hunter2"));
    int old = rd_kafka_version() < 0x020601ff;
    assert_int_equal(strstr(text, "librdkafka #4895") != NULL, old);
    tcb_kafka_auth_failure(plain, reason, text, sizeof(text));
    assert_non_null(strstr(text, "Kafka authentication failed"));
    assert_null(strstr(text, "#4895"));
    assert_null(strstr(text, "hunter2"));
    tcb_kafka_auth_failure(plain, NULL, text, 40); /* truncated, still terminated */
    assert_true(strlen(text) < 40);
    tcb_config_destroy(scram);
    tcb_config_destroy(plain);
}

static void test_refused_property_hides_value(void **state)
{
    (void)state;
    struct tcb_config *cfg = load("kafka:\n  properties:\n"
                                  "    sasl.pasword: \"hunter2-kafka-secret\"\n");
    char err[256];
    rd_kafka_conf_t *conf = tcb_kafka_conf_new(cfg, NULL, err, sizeof(err));
    assert_null(conf);
    assert_non_null(strstr(err, "sasl.pasword"));
    assert_null(strstr(err, "hunter2"));
    tcb_config_destroy(cfg);
}

static void test_librdkafka_logs_through_our_logger(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *stream = open_memstream(&buf, &len);
    tcb_log_setup("t", TCB_LOG_DEBUG, TCB_LOG_FORMAT_LOGFMT);
    tcb_log_set_stream(stream);
    tcb_kafka_log_cb(NULL, 3, "FAIL", "broker down");
    tcb_kafka_log_cb(NULL, 7, "PROTO", "details");
    tcb_log_set_stream(NULL);
    fclose(stream);
    assert_non_null(
        strstr(buf, "level=error program=t event=kafka.librdkafka msg=\"FAIL: broker down\""));
    assert_non_null(
        strstr(buf, "level=debug program=t event=kafka.librdkafka msg=\"PROTO: details\""));
    free(buf);
}

static const char sink_yaml[] =
    "kafka:\n  brokers: \"127.0.0.1:1\"\n  properties: { %s }\n"
    "clevertap:\n  accounts:\n    - { name: \"a\", account_id: \"W9R-ABC-123Z\", "
    "passcode: \"x\", region: \"eu1\" }\n";

/* The sink's librdkafka configuration for sink_yaml with properties (YAML
 * flow-map entries, may be ""); *cfg is the loaded config, for the caller
 * to destroy. */
static rd_kafka_conf_t *sink_conf_with(const char *properties, struct tcb_config **cfg)
{
    char yaml[512];
    snprintf(yaml, sizeof(yaml), sink_yaml, properties);
    *cfg = load(yaml);
    char err[256] = "";
    rd_kafka_conf_t *conf = tcb_sink_kafka_conf(*cfg, err, sizeof(err));
    if (!conf) {
        fail_msg("tcb_sink_kafka_conf: %s", err);
    }
    return conf;
}

static void test_sink_defaults_bound_memory(void **state)
{
    (void)state;
    struct tcb_config *cfg;
    rd_kafka_conf_t *conf = sink_conf_with("", &cfg);
    expect_property(conf, "queued.max.messages.kbytes", "8192");
    expect_property(conf, "fetch.max.bytes", "1048576");
    expect_property(conf, "enable.auto.commit", "false");
    rd_kafka_conf_destroy(conf);
    tcb_config_destroy(cfg);
}

static void test_sink_properties_override_defaults_not_forced(void **state)
{
    (void)state;
    struct tcb_config *cfg;
    rd_kafka_conf_t *conf =
        sink_conf_with("fetch.max.bytes: \"4194304\", enable.auto.commit: \"true\"", &cfg);
    expect_property(conf, "fetch.max.bytes", "4194304");
    expect_property(conf, "enable.auto.commit", "false");
    rd_kafka_conf_destroy(conf);
    tcb_config_destroy(cfg);
}

/* kafka.properties is shared with the DLQ producer: a message.max.bytes above
 * the fetch default must not stop the consumer from starting. */
static void test_sink_fetch_follows_message_max_bytes(void **state)
{
    (void)state;
    struct tcb_config *cfg;
    rd_kafka_conf_t *conf = sink_conf_with("message.max.bytes: \"2000000\"", &cfg);
    expect_property(conf, "fetch.max.bytes", "2000000");
    char detail[512] = "";
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, detail, sizeof(detail));
    if (!rk) {
        fail_msg("the consumer does not start: %s", detail);
    }
    rd_kafka_destroy(rk);
    tcb_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties_applied),
        cmocka_unit_test(test_refused_property_hides_value),
        cmocka_unit_test(test_librdkafka_logs_through_our_logger),
        cmocka_unit_test(test_auth_failure_text),
        cmocka_unit_test(test_sink_defaults_bound_memory),
        cmocka_unit_test(test_sink_properties_override_defaults_not_forced),
        cmocka_unit_test(test_sink_fetch_follows_message_max_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
