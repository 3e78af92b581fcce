/* tcb_transform_message as the consumer sees it (what the --transform line
 * does not show): output indices shared by records, dead letters and skips,
 * the resolved account, the record type, the stale flag, the dead letter's
 * DLQ value, the size and count ceilings (configuration), fan-out above 1000
 * records, skips under both no_user policies, and the long-value counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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
                           "  long_value_policy: \"dead_letter\"\n"
                           "routes:\n"
                           "  - name: \"tiers\"\n"
                           "    match: { notification_type: \"TierUpgrade\" }\n"
                           "    account: \"shop-us\"\n";

static struct tcb_config *cfg;

static struct tcb_config *load(const char *text)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *loaded = tcb_config_load_buffer("test.yaml", text, strlen(text), &diag);
    for (size_t i = 0; i < diag.count; i++) {
        print_error("%s\n", diag.lines[i]);
    }
    tcb_config_diag_free(&diag);
    return loaded;
}

static int setup(void **state)
{
    (void)state;
    cfg = load(yaml);
    return cfg != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tcb_config_destroy(cfg);
    return 0;
}

static void run_with(const struct tcb_config *with, const char *value, size_t len,
                     const char *account_header, struct tcb_transform_result *res)
{
    struct tcb_transform_input in = {value, len, account_header, NULL, -1, -1, -1, 1700000000};
    assert_int_equal(tcb_transform_message(with, &in, res), 0);
}

static void run(const char *value, size_t len, const char *account_header,
                struct tcb_transform_result *res)
{
    run_with(cfg, value, len, account_header, res);
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

/* An envelope above CleverTap's 1000 records per request is the uploader's
 * to split, not a dead letter. */
static void test_envelope_of_1001_records_passes(void **state)
{
    const char *one = "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{}}";
    size_t cap = 8 + 1002 * (strlen(one) + 1);
    char *value = malloc(cap);
    struct tcb_transform_result res;
    size_t len;
    (void)state;
    assert_non_null(value);
    len = (size_t)snprintf(value, cap, "{\"d\":[%s", one);
    for (int i = 1; i < 1001; i++) {
        len += (size_t)snprintf(value + len, cap - len, ",%s", one);
    }
    len += (size_t)snprintf(value + len, cap - len, "]}");
    run(value, len, NULL, &res);
    assert_int_equal(res.record_count, 1001);
    assert_int_equal(res.records[1000].index, 1000);
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

/* A CouponCreated notification with count coupons; every skip_every-th
 * one (0 = none) has no recipient. Returns a new malloc'd string. */
static char *coupons(size_t count, size_t skip_every)
{
    size_t cap = 64 + count * 64, len;
    char *value = malloc(cap);
    assert_non_null(value);
    len = (size_t)snprintf(value, cap, "{\"NotificationType\":\"CouponCreated\",\"data\":[");
    for (size_t i = 0; i < count; i++) {
        if (skip_every > 0 && i % skip_every == 0) {
            len += (size_t)snprintf(value + len, cap - len, "%s{\"value\":\"C%zu\"}",
                                    i > 0 ? "," : "", i);
        } else {
            len += (size_t)snprintf(value + len, cap - len,
                                    "%s{\"value\":\"C%zu\",\"recipientIntegrationId\":\"u%zu\"}",
                                    i > 0 ? "," : "", i, i);
        }
    }
    snprintf(value + len, cap - len, "]}");
    return value;
}

/* Above 1000 records a message is no longer dead-lettered whole: every
 * record comes back (the uploader batches them by 1000), up to
 * sink.max_records_per_message; one more output is one dead letter for the
 * message naming the key. */
static void test_fan_out_beyond_1000_up_to_the_ceiling(void **state)
{
    struct tcb_config *small = load("clevertap:\n"
                                    "  default_account: \"a\"\n"
                                    "  accounts: [ { name: \"a\", account_id: \"A\", passcode: "
                                    "\"x\", region: \"eu1\" } ]\n"
                                    "sink: { max_records_per_message: 2500 }\n");
    struct tcb_transform_result res;
    char *value = coupons(2500, 0);
    (void)state;
    assert_non_null(small);
    run_with(small, value, strlen(value), NULL, &res);
    assert_int_equal(res.record_count, 2500);
    assert_int_equal(res.dead_letter_count, 0);
    for (size_t i = 0; i < res.record_count; i++) {
        assert_int_equal(res.records[i].index, i);
        assert_string_equal(res.records[i].type, "event");
    }
    tcb_transform_result_free(&res);
    free(value);
    value = coupons(2501, 0);
    run_with(small, value, strlen(value), NULL, &res);
    assert_int_equal(res.record_count, 0);
    assert_int_equal(res.dead_letter_count, 1);
    assert_string_equal(res.dead_letters[0].reason,
                        "message yields more than 2500 records (sink.max_records_per_message)");
    tcb_transform_result_free(&res);
    free(value);
    tcb_config_destroy(small);
}

/* Items without a user are counted skips by default, sharing the index
 * sequence; under no_user_policy dead_letter each is a 523 dead letter that
 * shows the event that was built. */
static void test_items_without_user(void **state)
{
    static const char accounts[] = "clevertap:\n"
                                   "  default_account: \"a\"\n"
                                   "  accounts: [ { name: \"a\", account_id: \"A\", "
                                   "passcode: \"x\", region: \"eu1\" } ]\n";
    char dead_yaml[512];
    struct tcb_config *skip = load(accounts), *dead;
    struct tcb_transform_result res;
    char *value = coupons(1200, 3); /* items 0, 3, 6, ... have no recipient */
    (void)state;
    snprintf(dead_yaml, sizeof(dead_yaml), "%ssink: { no_user_policy: \"dead_letter\" }\n",
             accounts);
    dead = load(dead_yaml);
    assert_non_null(skip);
    assert_non_null(dead);
    run_with(skip, value, strlen(value), NULL, &res);
    assert_int_equal(res.skip_count, 400);
    assert_int_equal(res.record_count, 800);
    assert_int_equal(res.dead_letter_count, 0);
    assert_int_equal(res.skips[0].index, 0);
    assert_int_equal(res.skips[1].index, 3);
    assert_string_equal(res.skips[1].reason, TCB_SKIP_NO_USER);
    assert_int_equal(res.records[0].index, 1);
    tcb_transform_result_free(&res);
    run_with(dead, value, strlen(value), NULL, &res);
    assert_int_equal(res.skip_count, 0);
    assert_int_equal(res.dead_letter_count, 400);
    assert_int_equal(res.dead_letters[1].index, 3);
    assert_int_equal(res.dead_letters[1].code, 523);
    assert_non_null(strstr(res.dead_letters[1].json, "\"CouponCode\":\"C3\""));
    tcb_transform_result_free(&res);
    free(value);
    /* A CouponCreated with only its BatchID (above 1000 coupons). */
    value = strdup("{\"NotificationType\":\"CouponCreated\",\"BatchID\":\"b-1\"}");
    run_with(skip, value, strlen(value), NULL, &res);
    assert_int_equal(res.skip_count, 1);
    assert_string_equal(res.skips[0].reason, TCB_SKIP_BATCH_ONLY);
    tcb_transform_result_free(&res);
    run_with(dead, value, strlen(value), NULL, &res);
    assert_int_equal(res.dead_letter_count, 1);
    assert_non_null(strstr(res.dead_letters[0].reason, "only a BatchID"));
    tcb_transform_result_free(&res);
    free(value);
    tcb_config_destroy(skip);
    tcb_config_destroy(dead);
}

/* Profile records are ordinary records with type "profile", after their
 * event, in the same index sequence; profiles are never stale. */
static void test_profile_records(void **state)
{
    struct tcb_config *with = load("clevertap:\n"
                                   "  default_account: \"a\"\n"
                                   "  accounts: [ { name: \"a\", account_id: \"A\", passcode: "
                                   "\"x\", region: \"eu1\" } ]\n"
                                   "routes:\n"
                                   "  - { name: \"t\", match: { notification_type: \"TierUpgrade\" "
                                   "}, transform: \"p\" }\n"
                                   "transforms:\n"
                                   "  - { name: \"p\", profile: \"also\", ts_field: "
                                   "\"TimestampOfTierChange\" }\n");
    const char *value = "{\"NotificationType\":\"TierUpgrade\",\"Data\":[{\"CustomerProfileID\":"
                        "\"a\",\"CurrentTier\":\"Gold\",\"TimestampOfTierChange\":"
                        "\"2023-10-26T12:23:00+02:00\"}]}";
    struct tcb_transform_result res;
    (void)state;
    assert_non_null(with);
    run_with(with, value, strlen(value), NULL, &res);
    assert_int_equal(res.record_count, 2);
    assert_string_equal(res.records[0].type, "event");
    assert_int_equal(res.records[0].stale, 1); /* ts from 2023: old, kept */
    assert_string_equal(res.records[1].type, "profile");
    assert_int_equal(res.records[1].index, 1);
    assert_int_equal(res.records[1].stale, 0);
    assert_string_equal(res.records[1].json,
                        "{\"type\":\"profile\",\"identity\":\"a\",\"profileData\":{"
                        "\"Loyalty Tier\":\"Gold\"},\"ts\":1698315780}");
    tcb_transform_result_free(&res);
    tcb_config_destroy(with);
}

/* The long-value policy counts what it did; truncation never cuts a UTF-8
 * sequence. */
static void test_long_value_counts(void **state)
{
    static const char base[] = "clevertap:\n"
                               "  default_account: \"a\"\n"
                               "  accounts: [ { name: \"a\", account_id: \"A\", passcode: "
                               "\"x\", region: \"eu1\" } ]\n"
                               "sink: { long_value_policy: \"%s\" }\n";
    char text[512], value[2048];
    struct tcb_config *truncate, *drop;
    struct tcb_transform_result res;
    size_t len;
    json_t *parsed;
    (void)state;
    snprintf(text, sizeof(text), base, "truncate");
    truncate = load(text);
    snprintf(text, sizeof(text), base, "drop");
    drop = load(text);
    assert_non_null(truncate);
    assert_non_null(drop);
    /* "a" + 256 x "é" = 513 bytes: 512 would cut the last "é" in half. */
    len = (size_t)snprintf(value, sizeof(value),
                           "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\","
                           "\"evtData\":{\"keep\":1,\"long\":\"a");
    for (int i = 0; i < 256; i++) {
        len += (size_t)snprintf(value + len, sizeof(value) - len, "\xc3\xa9");
    }
    len += (size_t)snprintf(value + len, sizeof(value) - len, "\"}}");
    run_with(truncate, value, len, NULL, &res);
    assert_int_equal(res.record_count, 1);
    assert_int_equal(res.values_truncated, 1);
    assert_int_equal(res.values_dropped, 0);
    parsed = json_loads(res.records[0].json, 0, NULL);
    assert_non_null(parsed);
    assert_int_equal(
        json_string_length(json_object_get(json_object_get(parsed, "evtData"), "long")), 511);
    json_decref(parsed);
    tcb_transform_result_free(&res);
    run_with(drop, value, len, NULL, &res);
    assert_int_equal(res.values_dropped, 1);
    assert_non_null(strstr(res.records[0].json, "\"evtData\":{\"keep\":1}"));
    tcb_transform_result_free(&res);
    tcb_config_destroy(truncate);
    tcb_config_destroy(drop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indices_accounts_and_dead_letter_values),
        cmocka_unit_test(test_route_account_for_notifications),
        cmocka_unit_test(test_unparseable_value_has_no_dlq_json),
        cmocka_unit_test(test_input_ceiling),
        cmocka_unit_test(test_envelope_of_1001_records_passes),
        cmocka_unit_test(test_output_ceiling),
        cmocka_unit_test(test_fan_out_beyond_1000_up_to_the_ceiling),
        cmocka_unit_test(test_items_without_user),
        cmocka_unit_test(test_profile_records),
        cmocka_unit_test(test_long_value_counts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
