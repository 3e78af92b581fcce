/* Benchmark of the transform stage: for the partner-guide coupon envelope, a
 * CouponCreated notification and a fan-out (a CouponCreated notification of
 * FAN_OUT coupons), messages/s and records/s of tcb_transform_message side by
 * side with the floor (json_loadb + json_dumpb of the same bytes), with plain
 * malloc and as clevertap-sink runs it (each call in a jansson arena scope,
 * common/json_arena.h). Every
 * timed call is checked: it must give the expected records and no dead
 * letter or skip (a benchmark of dead letters would measure the wrong path).
 * Prints figures and the command; never fails on timing.
 * Usage: bench_transforms [seconds per payload, default 2] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json_arena.h"
#include "config/config.h"
#include "transforms/transform.h"

#define FAN_OUT 1000 /* coupons in the fan-out message: one upload request's worth */

static const char yaml[] =
    "clevertap:\n"
    "  default_account: \"shop-eu\"\n"
    "  accounts:\n"
    "    - { name: \"shop-eu\", account_id: \"W9R-ABC-123Z\", passcode: \"x\",\n"
    "        region: \"eu1\" }\n";

static const char partner_guide[] =
    "{\"d\":[{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":\"Talon.One\","
    "\"identity\":\"URNGV8294NV\",\"evtData\":{\"CouponGenerated\":\"XMAS-20-2021\"}}]}";

static const char coupon_created_example[] =
    "{\"data\":[{\"id\":6,\"created\":\"2020-06-10T09:05:27.993483Z\",\"campaignId\":211,"
    "\"value\":\"XMAS-20-2021\",\"usageLimit\":100,\"discountLimit\":30,\"reservationLimit\":45,"
    "\"startDate\":\"2020-01-24T14:15:22Z\",\"expiryDate\":\"2023-08-24T14:15:22Z\",\"limits\":"
    "[{\"action\":\"createCoupon\",\"limit\":1000,\"period\":\"yearly\",\"entities\":"
    "[\"Coupon\"]}],\"usageCounter\":10,\"discountCounter\":10,\"discountRemainder\":5,"
    "\"reservationCounter\":1,\"attributes\":{},\"referralId\":326632952,"
    "\"recipientIntegrationId\":\"URNGV8294NV\",\"importId\":4,\"reservation\":false,"
    "\"batchId\":\"32535-43255\",\"isReservationMandatory\":false,\"implicitlyReserved\":false,"
    "\"ApplicationId\":0}],\"totalResultSize\":1,\"BatchID\":\"haanlypn\",\"TypeOfChange\":"
    "\"campaign_manager\",\"Operation\":\"AsyncCouponsCreated\",\"EmployeeName\":"
    "\"Franziska Schneider\",\"NotificationType\":\"CouponCreated\"}";

/* One coupon of that example for the fan-out; %zu: its number. */
#define COUPON                                                                                     \
    "{\"id\":6,\"created\":\"2020-06-10T09:05:27.993483Z\",\"campaignId\":211,"                    \
    "\"value\":\"XMAS-20-%zu\",\"usageLimit\":100,\"discountLimit\":30,\"reservationLimit\":45,"   \
    "\"startDate\":\"2020-01-24T14:15:22Z\",\"expiryDate\":\"2023-08-24T14:15:22Z\",\"limits\":"   \
    "[{\"action\":\"createCoupon\",\"limit\":1000,\"period\":\"yearly\",\"entities\":"             \
    "[\"Coupon\"]}],\"usageCounter\":10,\"discountCounter\":10,\"discountRemainder\":5,"           \
    "\"reservationCounter\":1,\"attributes\":{},\"referralId\":326632952,"                         \
    "\"recipientIntegrationId\":\"URNGV%zu\",\"importId\":4,\"reservation\":false,"                \
    "\"batchId\":\"32535-43255\",\"isReservationMandatory\":false,\"implicitlyReserved\":false,"   \
    "\"ApplicationId\":0}"
#define COUPON_TAIL                                                                                \
    "],\"totalResultSize\":%zu,\"BatchID\":\"haanlypn\",\"TypeOfChange\":"                         \
    "\"campaign_manager\",\"Operation\":\"AsyncCouponsCreated\",\"EmployeeName\":"                 \
    "\"Franziska Schneider\",\"NotificationType\":\"CouponCreated\"}"

/* A CouponCreated notification of count coupons, each to another customer
 * (new malloc'd string). */
static char *coupon_created(size_t count)
{
    size_t cap = 256 + count * (sizeof(COUPON) + 48), len;
    char *value = malloc(cap);
    if (value == NULL) {
        abort();
    }
    len = (size_t)snprintf(value, cap, "{\"data\":[");
    for (size_t i = 0; i < count; i++) {
        len += (size_t)snprintf(value + len, cap - len, "%s" COUPON, i > 0 ? "," : "", i, i);
    }
    snprintf(value + len, cap - len, COUPON_TAIL, count);
    return value;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per message of the transform (each call in an arena scope when
 * arena is 1); every call must give exactly records records and nothing
 * else, else the benchmark aborts. */
static double time_transform(const struct tcb_config *cfg, const char *value, double seconds,
                             size_t records, int arena)
{
    struct tcb_transform_input in = {value, strlen(value), NULL, NULL, -1, -1, -1, 1700000000};
    struct tcb_transform_result res;
    long n = 0, batch = records > 1 ? 1 : 100; /* a fan-out message takes milliseconds */
    double start = now_s(), elapsed;
    do {
        for (long i = 0; i < batch; i++, n++) {
            if (arena) {
                tcb_json_arena_begin();
            }
            int rc = tcb_transform_message(cfg, &in, &res);
            if (arena) {
                tcb_json_arena_end();
            }
            if (rc != 0 || res.record_count != records || res.dead_letter_count != 0 ||
                res.skip_count != 0) {
                fprintf(stderr,
                        "bench_transforms: the timed run gave %zu records, %zu dead "
                        "letters, %zu skips (expected %zu records only)\n",
                        res.record_count, res.dead_letter_count, res.skip_count, records);
                abort();
            }
            tcb_transform_result_free(&res);
        }
    } while ((elapsed = now_s() - start) < seconds);
    return elapsed / (double)n;
}

/* Seconds per message of the floor: parse + compact dump of the same bytes
 * (into a buffer twice their size: compact output is never larger). */
static double time_floor(const char *value, double seconds)
{
    size_t cap = strlen(value) * 2 + 64;
    char *out = malloc(cap);
    long n = 0, batch = strlen(value) > 65536 ? 1 : 100;
    double start = now_s(), elapsed;
    if (out == NULL) {
        abort();
    }
    do {
        for (long i = 0; i < batch; i++, n++) {
            json_t *root = json_loadb(value, strlen(value), 0, NULL);
            if (root == NULL || json_dumpb(root, out, cap, JSON_COMPACT) == 0) {
                abort();
            }
            json_decref(root);
        }
    } while ((elapsed = now_s() - start) < seconds);
    free(out);
    return elapsed / (double)n;
}

/* Interleaves ROUNDS short measurements of each and keeps the fastest: on a
 * shared machine the minimum is the figure least disturbed by neighbours. */
#define ROUNDS 7

static void report(const char *name, const struct tcb_config *cfg, const char *value,
                   size_t records, double seconds)
{
    double floor_s = 1e9, transform_s = 1e9, arena_s = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        double f = time_floor(value, seconds / ROUNDS);
        double t = time_transform(cfg, value, seconds / ROUNDS, records, 0);
        double a = time_transform(cfg, value, seconds / ROUNDS, records, 1);
        floor_s = f < floor_s ? f : floor_s;
        transform_s = t < transform_s ? t : transform_s;
        arena_s = a < arena_s ? a : arena_s;
    }
    printf("%-34s %7zu B %5zu rec | %9.0f msg/s %9.0f rec/s %7.0f ns/rec | floor %9.0f msg/s "
           "| transform/floor %.2fx | in the arena %7.0f ns/rec, %.2fx\n",
           name, strlen(value), records, 1.0 / transform_s, (double)records / transform_s,
           transform_s / (double)records * 1e9, 1.0 / floor_s, transform_s / floor_s,
           arena_s / (double)records * 1e9, arena_s / floor_s);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    tcb_json_arena_install(); /* outside a scope: plain malloc (aborting) */
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("bench.yaml", yaml, strlen(yaml), &diag);
    char *fan_out = coupon_created(FAN_OUT);
    tcb_config_diag_free(&diag);
    if (cfg == NULL || seconds <= 0) {
        fprintf(stderr, "bench_transforms: setup failed\n");
        return 1;
    }
    printf("command: %s %g   (floor = json_loadb + json_dumpb of the same bytes; best of %d "
           "interleaved rounds; every timed call checked: records only)\n",
           argv[0], seconds, ROUNDS);
    report("partner-guide envelope", cfg, partner_guide, 1, seconds);
    report("CouponCreated notification", cfg, coupon_created_example, 1, seconds);
    report("CouponCreated fan-out", cfg, fan_out, FAN_OUT, seconds);
    free(fan_out);
    tcb_config_destroy(cfg);
    return 0;
}
