/* The sink's librdkafka configuration: the defaults that bound its memory
 * (read-ahead and, since lz4 multiplies it, the size of one fetch), a
 * kafka.properties value winning over a default, and the settings the loop
 * relies on winning over kafka.properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "config/config.h"
#include "consumer/sink_state.h"

#include <string.h>

static struct tcb_config *load(const char *properties)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml),
             "kafka:\n  brokers: \"127.0.0.1:1\"\n  properties: { %s }\n"
             "clevertap:\n  accounts:\n    - { name: \"a\", account_id: \"W9R-ABC-123Z\", "
             "passcode: \"x\", region: \"eu1\" }\n",
             properties);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("test.yaml", yaml, strlen(yaml), &diag);
    tcb_config_diag_free(&diag);
    assert_non_null(cfg);
    return cfg;
}

static void expect(rd_kafka_conf_t *conf, const char *name, const char *want)
{
    char value[256];
    size_t len = sizeof(value);
    assert_int_equal(rd_kafka_conf_get(conf, name, value, &len), RD_KAFKA_CONF_OK);
    assert_string_equal(value, want);
}

static void test_defaults_bound_memory(void **state)
{
    (void)state;
    struct tcb_config *cfg = load("");
    char err[256] = "";
    rd_kafka_conf_t *conf = tcb_sink_kafka_conf(cfg, err, sizeof(err));
    assert_non_null(conf);
    expect(conf, "queued.max.messages.kbytes", "8192");
    expect(conf, "fetch.max.bytes", "1048576");
    expect(conf, "enable.auto.commit", "false");
    rd_kafka_conf_destroy(conf);
    tcb_config_destroy(cfg);
}

static void test_properties_override_defaults_not_forced(void **state)
{
    (void)state;
    struct tcb_config *cfg = load("fetch.max.bytes: \"4194304\", enable.auto.commit: \"true\"");
    char err[256] = "";
    rd_kafka_conf_t *conf = tcb_sink_kafka_conf(cfg, err, sizeof(err));
    if (conf) {
        expect(conf, "fetch.max.bytes", "4194304");
        expect(conf, "enable.auto.commit", "false");
        rd_kafka_conf_destroy(conf);
    } else {
        /* refusing a forced key is as good as overriding it */
        assert_non_null(strstr(err, "enable.auto.commit"));
    }
    tcb_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_bound_memory),
        cmocka_unit_test(test_properties_override_defaults_not_forced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
