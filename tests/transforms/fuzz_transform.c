/* libFuzzer target for the transform stage: any bytes as a Kafka message
 * value, under two configurations (routes with every mapping, routing and
 * policy option; no routes, items without a user dead-lettered, a header
 * account and a received-at). Never a crash or leak, and
 * every verdict keeps the contract: a verdict for every message (never -1),
 * at most sink.max_records_per_message outputs, indices 0..n-1 shared by
 * records, dead letters and skips, every record valid for CleverTap and free
 * of unrendered templates, every reason valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "transforms/checks.h"
#include "transforms/transform.h"
#include "transforms/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rich_yaml[] =
    "clevertap:\n"
    "  default_account: \"shop-eu\"\n"
    "  accounts:\n"
    "    - { name: \"shop-eu\", account_id: \"W9R-ABC-123Z\", passcode: \"x\", region: \"eu1\" }\n"
    "    - { name: \"shop-us\", account_id: \"US-1\", passcode: \"y\", region: \"us1\",\n"
    "        max_properties: 3 }\n"
    "sink:\n"
    "  stale_events: { after_s: 7200, policy: \"dead_letter\" }\n"
    "  max_records_per_message: 1500\n"
    "  long_value_policy: \"drop\"\n"
    "routes:\n"
    "  - name: \"welcome\"\n"
    "    match: { notification_type: \"CouponCreated\", fields: { \"/campaignId\": \"211\" } }\n"
    "    transform: \"welcome\"\n"
    "    required_properties: [ \"CouponCode\" ]\n"
    "  - name: \"coupons\"\n"
    "    match: { notification_type: \"CouponCreated\" }\n"
    "    account: \"shop-us\"\n"
    "    transform: \"flat\"\n"
    "    stale_policy: \"restamp\"\n"
    "  - name: \"manual\"\n"
    "    match: { notification_type: \"LoyaltyPointsAdded\", fields: { TypeOfChange: \"x\" } }\n"
    "    action: \"skip\"\n"
    "  - name: \"tiers\"\n"
    "    match: { notification_type: \"TierUpgrade\" }\n"
    "    transform: \"tier\"\n"
    "  - name: \"balances\"\n"
    "    match: { notification_type: \"LoyaltyCardAddedDeductedPointsBalances\" }\n"
    "    transform: \"balance\"\n"
    "  - name: \"generated\"\n"
    "    match: { event_name: \"Coupon Generated\" }\n"
    "    transform: \"pick\"\n"
    "  - name: \"other\"\n"
    "    match: { notification_type: \"Custom\" }\n"
    "    transform: \"flat\"\n"
    "  - name: \"campaigns\"\n"
    "    match: { notification_type: \"CampaignNotification\", fields: { \"/campaign/id\": \"4\" } "
    "}\n"
    "    transform: \"flat\"\n"
    "transforms:\n"
    "  - name: \"welcome\"\n"
    "    event_name: \"Welcome Coupon\"\n"
    "    rename: { CouponCode: \"Code\", expiryDate: \"ValidUntil\" }\n"
    "    include: [ \"created\", \"/attributes/tier\" ]\n"
    "    exclude: [ \"BatchID\" ]\n"
    "    date_fields: [ \"created\" ]\n"
    "    ts_field: \"created\"\n"
    "  - name: \"flat\"\n"
    "    builtin: \"replace\"\n"
    "    identity_field: \"recipientIntegrationId\"\n"
    "    exclude: [ \"limits\" ]\n"
    "    nested: \"flatten\"\n"
    "    date_fields: [ \"startDate\", \"expiryDate\", \"created\" ]\n"
    "  - name: \"tier\"\n"
    "    profile: \"also\"\n"
    "    ts_field: \"TimestampOfTierChange\"\n"
    "  - name: \"balance\"\n"
    "    event_per: \"notification\"\n"
    "    profile: \"only\"\n"
    "    profile_fields: { CurrentPoints: \"Points\", \"Actions.0.Amount\": \"Last\" }\n"
    "  - name: \"pick\"\n"
    "    event_name: \"Coupon Issued\"\n"
    "    identity_field: \"evtData.customer.id\"\n"
    "    rename: { CouponGenerated: \"CouponCode\" }\n"
    "    include: [ \"CouponGenerated\", \"when\", \"meta\" ]\n"
    "    constants: { \"$source\": \"Talon.One\", \"Channel\": \"email\" }\n"
    "    date_fields: [ \"when\" ]\n"
    "    ts_field: \"/evtData/when\"\n";

static const char plain_yaml[] =
    "sink: { no_user_policy: \"dead_letter\" }\n"
    "clevertap:\n"
    "  accounts:\n"
    "    - { name: \"shop-us\", account_id: \"US-1\", passcode: \"y\", region: \"us1\",\n"
    "        max_properties: 3 }\n";

static struct tcb_config *load(const char *yaml)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("fuzz.yaml", yaml, strlen(yaml), &diag);
    tcb_config_diag_free(&diag);
    if (cfg == NULL) {
        abort();
    }
    return cfg;
}

/* Marks index as seen; aborts when it is out of range or seen twice. */
static void see(char *seen, size_t total, size_t index)
{
    if (index >= total || seen[index]++) {
        abort();
    }
}

static void check_result(const struct tcb_config *cfg, const struct tcb_transform_result *res)
{
    size_t total = res->record_count + res->dead_letter_count + res->skip_count;
    struct tcb_validation_limits limits = {0};
    char reason[256];
    char *seen;
    if (total > (size_t)cfg->sink.max_records_per_message) {
        abort();
    }
    seen = calloc(total + 1, 1);
    if (seen == NULL) {
        abort();
    }
    for (size_t i = 0; i < res->record_count; i++) {
        const struct tcb_transform_record *rec = &res->records[i];
        json_t *parsed = json_loadb(rec->json, rec->json_len, 0, NULL);
        limits.max_properties = rec->account->max_properties;
        see(seen, total, rec->index);
        if (parsed == NULL || tcb_validate_record(parsed, &limits, reason, sizeof(reason)) != 0 ||
            tcb_check_templates(parsed, reason, sizeof(reason)) != 0 ||
            strcmp(json_string_value(json_object_get(parsed, "type")), rec->type) != 0) {
            abort();
        }
        json_decref(parsed);
    }
    for (size_t i = 0; i < res->dead_letter_count; i++) {
        const struct tcb_transform_dead_letter *dl = &res->dead_letters[i];
        json_t *reason_json = json_string(dl->reason);
        see(seen, total, dl->index);
        if (reason_json == NULL) {
            abort();
        }
        json_decref(reason_json);
    }
    for (size_t i = 0; i < res->skip_count; i++) {
        see(seen, total, res->skips[i].index);
    }
    free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tcb_config *rich, *plain;
    struct tcb_transform_input in = {data, size, NULL, NULL, -1, -1, -1, 1700000000};
    struct tcb_transform_result res;
    if (rich == NULL) {
        rich = load(rich_yaml);
        plain = load(plain_yaml);
    }
    /* -1 means out of memory, which a fuzzing run never is: a -1 here is a
     * verdict lost to a bug. */
    if (tcb_transform_message(rich, &in, &res) != 0) {
        abort();
    }
    check_result(rich, &res);
    tcb_transform_result_free(&res);
    in.account_header = "US-1";
    in.received_at_ms = 1699990000000;
    if (tcb_transform_message(plain, &in, &res) != 0) {
        abort();
    }
    check_result(plain, &res);
    tcb_transform_result_free(&res);
    return 0;
}
