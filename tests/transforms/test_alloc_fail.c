/* Allocation failures in the transform stage: with jansson's allocator
 * failing the Nth allocation (for every N until a run needs no failure),
 * tcb_transform_message either succeeds or returns -1 with an empty result;
 * it never crashes, never dead-letters a good message because memory ran out,
 * and leaves no jansson allocation behind. */
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

static long fail_at;  /* the allocation number that fails; 0 = none */
static long count;    /* allocations so far in this run */
static long live;     /* jansson blocks not yet freed */
static int triggered; /* the failure happened in this run */

static void *failing_malloc(size_t size)
{
    void *p;
    if (++count == fail_at) {
        triggered = 1;
        return NULL;
    }
    p = malloc(size);
    live += p != NULL;
    return p;
}

static void counting_free(void *p)
{
    live -= p != NULL;
    free(p);
}

static const char yaml[] =
    "clevertap:\n"
    "  default_account: \"shop-eu\"\n"
    "  accounts:\n"
    "    - { name: \"shop-eu\", account_id: \"A-1\", passcode: \"x\",\n"
    "        region: \"eu1\" }\n"
    "routes:\n"
    "  - name: \"flat\"\n"
    "    match: { event_name: \"Flat\" }\n"
    "    transform: \"flat\"\n"
    "  - name: \"welcome\"\n"
    "    match: { notification_type: \"CouponCreated\", fields: { \"/campaignId\": \"7\" } }\n"
    "    transform: \"welcome\"\n"
    "    required_properties: [ \"CouponCode\" ]\n"
    "  - name: \"manual\"\n"
    "    match: { notification_type: \"LoyaltyPointsAdded\", fields: { TypeOfChange: \"m\" } }\n"
    "    action: \"skip\"\n"
    "  - name: \"tiers\"\n"
    "    match: { notification_type: \"TierUpgrade\" }\n"
    "    transform: \"tier\"\n"
    "  - name: \"balances\"\n"
    "    match: { notification_type: \"LoyaltyAddedDeductedPointsBalances\" }\n"
    "    transform: \"balance\"\n"
    "transforms:\n"
    "  - name: \"flat\"\n"
    "    nested: \"flatten\"\n"
    "    date_fields: [ \"when\" ]\n"
    "    constants: { \"$source\": \"Talon.One\", \"Channel\": \"email\" }\n"
    "    ts_field: \"evtData.when\"\n"
    "  - name: \"welcome\"\n"
    "    event_name: \"Welcome Coupon\"\n"
    "    rename: { CouponCode: \"Code\" }\n"
    "    include: [ \"created\" ]\n"
    "    date_fields: [ \"created\" ]\n"
    "  - name: \"tier\"\n"
    "    profile: \"also\"\n"
    "    ts_field: \"TimestampOfTierChange\"\n"
    "  - name: \"balance\"\n"
    "    event_per: \"notification\"\n"
    "    profile: \"only\"\n";

static const char *const inputs[] = {
    "{\"d\":[{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":\"u1\","
    "\"evtData\":{\"CouponGenerated\":\"X\"}},{\"type\":\"event\",\"identity\":\"u2\"}]}",
    "{\"NotificationType\":\"CouponCreated\",\"data\":[{\"value\":\"C1\","
    "\"recipientIntegrationId\":"
    "\"u1\",\"startDate\":\"2020-01-24T14:15:22Z\",\"attributes\":{\"a\":[1,2]}},{\"value\":\"C2\"}"
    "]}",
    "{\"NotificationType\":\"LoyaltyCardPointsAdded\",\"ProfileIntegrationIDs\":[\"a\",\"b\"],"
    "\"Amount\":3}",
    "{\"type\":\"event\",\"evtName\":\"Flat\",\"identity\":\"u\",\"evtData\":{\"when\":"
    "\"2023-01-01\",\"deep\":{\"x\":{\"y\":[1,{\"z\":2}]}}}}",
    "{\"NotificationType\":\"Unknown\"}",
    "not json at all",
    "{\"NotificationType\":\"CouponCreated\",\"data\":[{\"value\":\"W1\",\"campaignId\":7,"
    "\"recipientIntegrationId\":\"u1\",\"created\":\"2020-06-10T09:05:27Z\"},{\"value\":\"W2\","
    "\"campaignId\":7},{\"value\":\"${$CouponCode}\",\"recipientIntegrationId\":\"u3\"}]}",
    "{\"NotificationType\":\"TierUpgrade\",\"Data\":[{\"CustomerProfileID\":\"a\",\"CurrentTier\":"
    "\"Gold\",\"TierExpirationDate\":\"2023-12-01T12:23:00+02:00\",\"TimestampOfTierChange\":"
    "\"2023-10-26T12:23:00+02:00\"},{\"CustomerProfileID\":\"b\",\"TimestampOfTierChange\":\"x\"}]"
    "}",
    "{\"NotificationType\":\"LoyaltyAddedDeductedPointsBalances\",\"ProfileIntegrationID\":\"p\","
    "\"CurrentPoints\":4,\"Actions\":[{\"Amount\":1},{\"Amount\":2}]}",
    "{\"NotificationType\":\"LoyaltyPointsAdded\",\"TypeOfChange\":\"m\",\"ProfileIntegrationID\":"
    "\"p\"}",
    "{\"NotificationType\":\"CouponCreated\",\"BatchID\":\"b\"}",
    "{\"type\":\"event\",\"evtName\":\"e\",\"identity\":\"u\",\"evtData\":{\"long\":\""
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxx\"}}",
};

/* Every verdict of a result as one text (new malloc'd string). */
static char *describe(const struct tcb_transform_result *res)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    for (size_t i = 0; i < res->record_count; i++) {
        fprintf(f, "R%zu %s\n", res->records[i].index, res->records[i].json);
    }
    for (size_t i = 0; i < res->dead_letter_count; i++) {
        fprintf(f, "D%zu %s %d %s %s\n", res->dead_letters[i].index, res->dead_letters[i].stage,
                res->dead_letters[i].code, res->dead_letters[i].reason,
                res->dead_letters[i].json != NULL ? res->dead_letters[i].json : "-");
    }
    for (size_t i = 0; i < res->skip_count; i++) {
        fprintf(f, "S%zu %s\n", res->skips[i].index, res->skips[i].reason);
    }
    fprintf(f, "T%zu D%zu\n", res->values_truncated, res->values_dropped);
    fclose(f);
    return text;
}

/* Runs one input with the Nth allocation failing; returns 1 when the failure
 * was reached (so a larger N is worth trying). A run that succeeds must give
 * exactly the verdicts of a run without failures (expected). */
static int run_once(const struct tcb_config *cfg, const char *input, long n, const char *expected)
{
    struct tcb_transform_input in = {input, strlen(input), NULL, NULL, -1, -1, -1, 1700000000};
    struct tcb_transform_result res;
    int rc;
    fail_at = n;
    count = 0;
    triggered = 0;
    json_set_alloc_funcs(failing_malloc, counting_free);
    rc = tcb_transform_message(cfg, &in, &res);
    json_set_alloc_funcs(malloc, free);
    if (rc != 0) {
        assert_int_equal(rc, -1);
        assert_true(triggered);
        assert_null(res.records);
        assert_null(res.dead_letters);
        assert_null(res.skips);
        assert_int_equal(res.record_count + res.dead_letter_count + res.skip_count, 0);
    } else if (expected != NULL) {
        char *actual = describe(&res);
        assert_string_equal(actual, expected);
        free(actual);
    }
    tcb_transform_result_free(&res);
    assert_int_equal(live, 0);
    return triggered;
}

static void test_every_allocation_fails_once(void **state)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("alloc.yaml", yaml, strlen(yaml), &diag);
    long total = 0;
    (void)state;
    assert_non_null(cfg);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct tcb_transform_input in = {inputs[i], strlen(inputs[i]), NULL, NULL, -1, -1,
                                         -1,        1700000000};
        struct tcb_transform_result res;
        char *expected;
        long n = 1;
        long parse_allocs;
        json_t *parsed;
        assert_int_equal(tcb_transform_message(cfg, &in, &res), 0);
        expected = describe(&res);
        tcb_transform_result_free(&res);
        /* jansson 2.14's lexer ignores some of its own allocation failures
         * (a string may lose a character, a key may read as a syntax error),
         * so inside json_loadb only "no crash, no leak" can be asked; after
         * it, a successful run must give exactly the expected verdicts. */
        fail_at = 0;
        count = 0;
        json_set_alloc_funcs(failing_malloc, counting_free);
        parsed = json_loadb(inputs[i], strlen(inputs[i]), 0, NULL);
        parse_allocs = count;
        json_decref(parsed);
        json_set_alloc_funcs(malloc, free);
        while (run_once(cfg, inputs[i], n, n > parse_allocs ? expected : NULL)) {
            n++;
        }
        assert_true(n > 1); /* every input allocates through jansson */
        free(expected);
        total += n - 1;
    }
    print_message("%ld failing allocations injected\n", total);
    tcb_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
