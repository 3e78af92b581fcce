/* Benchmark of the transform stage: for the partner-guide coupon envelope and
 * a CouponCreated notification, ns per record and records/s of
 * tcb_transform_message, side by side with the floor (json_loadb + json_dumpb
 * of the same bytes). Prints figures and the command; never fails on timing.
 * Usage: bench_transforms [seconds per payload, default 2] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "transforms/transform.h"

static const char yaml[] =
    "clevertap:\n"
    "  default_account: \"shop-eu\"\n"
    "  accounts:\n"
    "    - { name: \"shop-eu\", account_id: \"W9R-ABC-123Z\", passcode: \"x\",\n"
    "        region: \"eu1\" }\n";

static const char partner_guide[] =
    "{\"d\":[{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":\"Talon.One\","
    "\"identity\":\"URNGV8294NV\",\"evtData\":{\"CouponGenerated\":\"XMAS-20-2021\"}}]}";

static const char coupon_created[] =
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per iteration of the transform (records per message in *records). */
static double time_transform(const struct tcb_config *cfg, const char *value, double seconds,
                             size_t *records)
{
    struct tcb_transform_input in = {value, strlen(value), NULL, NULL, -1, -1, -1, 1700000000};
    struct tcb_transform_result res;
    long n = 0;
    double start = now_s(), elapsed;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            if (tcb_transform_message(cfg, &in, &res) != 0) {
                abort();
            }
            *records = res.record_count;
            tcb_transform_result_free(&res);
        }
    } while ((elapsed = now_s() - start) < seconds);
    return elapsed / (double)n;
}

/* Seconds per iteration of the floor: parse + compact dump of the same bytes. */
static double time_floor(const char *value, double seconds)
{
    char out[4096];
    long n = 0;
    double start = now_s(), elapsed;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            json_t *root = json_loadb(value, strlen(value), 0, NULL);
            if (root == NULL || json_dumpb(root, out, sizeof(out), JSON_COMPACT) == 0) {
                abort();
            }
            json_decref(root);
        }
    } while ((elapsed = now_s() - start) < seconds);
    return elapsed / (double)n;
}

/* Interleaves ROUNDS short measurements of each and keeps the fastest: on a
 * shared machine the minimum is the figure least disturbed by neighbours. */
#define ROUNDS 7

static void report(const char *name, const struct tcb_config *cfg, const char *value,
                   double seconds)
{
    size_t records = 0;
    double floor_s = 1e9, transform_s = 1e9, per_record;
    for (int round = 0; round < ROUNDS; round++) {
        double f = time_floor(value, seconds / ROUNDS);
        double t = time_transform(cfg, value, seconds / ROUNDS, &records);
        floor_s = f < floor_s ? f : floor_s;
        transform_s = t < transform_s ? t : transform_s;
    }
    per_record = transform_s / (double)(records > 0 ? records : 1);
    printf("%-28s %4zu B  transform %7.0f ns/record %9.0f records/s | floor %7.0f ns/message "
           "| transform/floor %.2fx\n",
           name, strlen(value), per_record * 1e9, 1.0 / per_record, floor_s * 1e9,
           transform_s / floor_s);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("bench.yaml", yaml, strlen(yaml), &diag);
    tcb_config_diag_free(&diag);
    if (cfg == NULL || seconds <= 0) {
        fprintf(stderr, "bench_transforms: setup failed\n");
        return 1;
    }
    printf("command: %s %g   (floor = json_loadb + json_dumpb of the same bytes; best of %d "
           "rounds)\n",
           argv[0], seconds, ROUNDS);
    report("partner-guide envelope", cfg, partner_guide, seconds);
    report("CouponCreated notification", cfg, coupon_created, seconds);
    tcb_config_destroy(cfg);
    return 0;
}
