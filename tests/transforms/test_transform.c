/* tcb_transform_message as the consumer sees it (what the --transform line
 * does not show): output indices, the resolved account, the stale flag, the
 * dead letter's DLQ value, and the size and count ceilings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "transforms/transform.h"

static const char yaml[] = "clevertap:\n"
                           "  default_account: \"shop-eu\"\n"
                           "  accounts:\n"
                           "    - { name: \"shop-eu\", account_id: \"EU-1\", passcode: \"x\",\n"
                           "        region: \"eu1\" }\n"
                           "    - { name: \"shop-us\", account_id: \"US-1\", passcode: \"y\",\n"
                           "        region: \"us1\" }\n"
                           "sink:\n"
                           "  stale_events: { after_s: 7200, policy: \"restamp\" }\n"
                           "routes:\n"
                           "  - name: \"tiers\"\n"
                           "    match: { notification_type: \"TierUpgrade\" }\n"
                           "    account: \"shop-us\"\n";

static struct tcb_config *cfg;

static int setup(void **state)
{
    struct tcb_config_diag diag = {0};
    (void)state;
    cfg = tcb_config_load_buffer("test.yaml", yaml, strlen(yaml), &diag);
    tcb_config_diag_free(&diag);
    return cfg != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tcb_config_destroy(cfg);
    return 0;
}

static void run(const char *value, size_t len, const char *account_header,
                struct tcb_transform_result *res)
{
    struct tcb_transform_input in = {value, len, account_header, NULL, -1, -1, -1, 1700000000};
    assert_int_equal(tcb_transform_message(cfg, &in, res), 0);
}

static void test_indices_accounts_and_dead_letter_values(void **state)
{
    const char *value = "{\"d\":[{\"type\":\"event\",\"evtName\":\"a\",\"identity\":\"u1\","
                        "\"evtData\":{}},{\"type\":\"event\",\"evtName\":\"a\",\"evtData\":{}},"
                        "{\"type\":\"event\",\"evtName\":\"b\",\"identity\":\"u3\",\"ts\":1,"
                        "\"evtData\":{}}]}";
    struct tcb_transform_result res;
    (void)state;
    run(value, strlen(value), "US-1", &res);
    assert_int_equal(res.record_count, 2);
    assert_int_equal(res.dead_letter_count, 1);
    assert_int_equal(res.records[0].index, 0);
    assert_int_equal(res.records[1].index, 2);
    assert_string_equal(res.records[0].account->name, "shop-us");
    assert_int_equal(res.records[0].stale, 0);
    /* ts 1 is ancient: restamped to now and flagged for the metrics. */
    assert_int_equal(res.records[1].stale, 1);
    assert_non_null(strstr(res.records[1].json, "\"ts\":1700000000"));
    assert_int_equal(res.records[1].json_len, strlen(res.records[1].json));
    assert_int_equal(res.dead_letters[0].index, 1);
    assert_string_equal(res.dead_letters[0].stage, "validation");
    assert_int_equal(res.dead_letters[0].code, 523);
    /* The DLQ value is the record as transformed (ts added). */
    assert_string_equal(res.dead_letters[0].json,
                        "{\"type\":\"event\",\"evtName\":\"a\",\"evtData\":{},\"ts\":1700000000}");
    tcb_transform_result_free(&res);
    tcb_transform_result_free(&res); /* zeroed: a second free is harmless */
    tcb_transform_result_free(NULL);
}

static void test_route_account_for_notifications(void **state)
{
    const char *value = "{\"NotificationType\":\"TierUpgrade\",\"Data\":[{\"CustomerProfileID\":"
                        "\"a\",\"CurrentTier\":\"Gold\"},{\"CustomerProfileID\":\"b\"}]}";
    struct tcb_transform_result res;
    (void)state;
    run(value, strlen(value), NULL, &res);
    assert_int_equal(res.record_count, 2);
    assert_string_equal(res.records[0].account->name, "shop-us");
    assert_int_equal(res.records[1].index, 1);
    tcb_transform_result_free(&res);
    /* The header wins over the route. */
    run(value, strlen(value), "shop-eu", &res);
    assert_string_equal(res.records[0].account->name, "shop-eu");
    tcb_transform_result_free(&res);
}

static void test_unparseable_value_has_no_dlq_json(void **state)
{
    struct tcb_transform_result res;
    (void)state;
    run("{\"d\":", 5, NULL, &res);
    assert_int_equal(res.record_count, 0);
    assert_int_equal(res.dead_letter_count, 1);
    assert_null(res.dead_letters[0].json); /* the DLQ carries the original bytes */
    assert_string_equal(res.dead_letters[0].stage, "transform");
    tcb_transform_result_free(&res);
}

static void test_input_ceiling(void **state)
{
    size_t len = TCB_TRANSFORM_MAX_INPUT_BYTES + 1;
    char *value = malloc(len);
    struct tcb_transform_result res;
    (void)state;
    assert_non_null(value);
    memset(value, ' ', len);
    value[0] = '{';
    value[len - 1] = '}';
    run(value, len, NULL, &res);
    assert_int_equal(res.dead_letter_count, 1);
    assert_non_null(strstr(res.dead_letters[0].reason, "the limit is 1048576"));
    tcb_transform_result_free(&res);
    /* One byte less is read and judged on its content. */
    value[len - 2] = '}';
    run(value, len - 1, NULL, &res);
    assert_int_equal(res.dead_letter_count, 1);
    assert_non_null(strstr(res.dead_letters[0].reason, "Record type is neither"));
    tcb_transform_result_free(&res);
    free(value);
}

static void test_exactly_1000_records_pass(void **state)
{
    const char *one = "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{}}";
    size_t cap = 8 + 1001 * (strlen(one) + 1);
    char *value = malloc(cap);
    struct tcb_transform_result res;
    size_t len;
    (void)state;
    assert_non_null(value);
    len = (size_t)snprintf(value, cap, "{\"d\":[%s", one);
    for (int i = 1; i < 1000; i++) {
        len += (size_t)snprintf(value + len, cap - len, ",%s", one);
    }
    len += (size_t)snprintf(value + len, cap - len, "]}");
    run(value, len, NULL, &res);
    assert_int_equal(res.record_count, 1000);
    assert_int_equal(res.records[999].index, 999);
    tcb_transform_result_free(&res);
    free(value);
}

/* A LoyaltyCardPointsAdded notification for ids card holders whose Reason
 * is reason_len bytes of 'r', into value (cap bytes). Returns its length. */
static size_t card_notification(char *value, size_t cap, size_t ids, size_t reason_len)
{
    size_t len = (size_t)snprintf(value, cap,
                                  "{\"NotificationType\":\"LoyaltyCardPointsAdded\",\"Amount\":5,"
                                  "\"ProfileIntegrationIDs\":[\"u0\"");
    for (size_t i = 1; i < ids; i++) {
        len += (size_t)snprintf(value + len, cap - len, ",\"u%zu\"", i);
    }
    len += (size_t)snprintf(value + len, cap - len, "],\"Reason\":\"");
    memset(value + len, 'r', reason_len);
    len += reason_len;
    len += (size_t)snprintf(value + len, cap - len, "\"}");
    assert_true(len < cap);
    return len;
}

/* A message may not multiply into far more output than it carries: one
 * long Reason copied into an event per card holder (or per Actions[] item)
 * would hold ~1000x the message in memory. Beyond the output ceiling the
 * message is one dead letter whose DLQ value is the original message. */
static void test_output_ceiling(void **state)
{
    size_t reason_len = 200000, ids = 999;
    size_t cap = reason_len + ids * 16 + 256;
    char *value = malloc(cap);
    struct tcb_transform_result res;
    size_t len;
    (void)state;
    assert_non_null(value);
    len = card_notification(value, cap, ids, reason_len);
    assert_true(len < TCB_TRANSFORM_MAX_INPUT_BYTES);
    run(value, len, NULL, &res);
    assert_int_equal(res.record_count, 0);
    assert_int_equal(res.dead_letter_count, 1);
    assert_string_equal(res.dead_letters[0].stage, "transform");
    assert_non_null(strstr(res.dead_letters[0].reason, "message yields more than"));
    assert_null(res.dead_letters[0].json);
    tcb_transform_result_free(&res);
    /* The same fan-out with a short Reason is one event per card holder. */
    run(value, card_notification(value, cap, ids, 5), NULL, &res);
    assert_int_equal(res.record_count, ids);
    assert_int_equal(res.dead_letter_count, 0);
    tcb_transform_result_free(&res);
    free(value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indices_accounts_and_dead_letter_values),
        cmocka_unit_test(test_route_account_for_notifications),
        cmocka_unit_test(test_unparseable_value_has_no_dlq_json),
        cmocka_unit_test(test_input_ceiling),
        cmocka_unit_test(test_exactly_1000_records_pass),
        cmocka_unit_test(test_output_ceiling),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
