/* Property test: thousands of records through the uploader and the emulator
 * under seeded random fault mixes (5xx, 429, 555, hangs, drops, a concurrency
 * limit, latency jitter) and random uploader settings. For every round: every tag
 * gets exactly one final outcome; valid records are accepted and recorded by the
 * emulator, invalid ones rejected and never recorded; no record is recorded twice
 * unless a request hung or a connection dropped; with keyed ordering, each key's
 * records reach the emulator in submission order. Seeds are fixed: reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/uploader/up_harness.h"

#include "common/log.h"
#include "config/config.h"
#include "consumer/backoff.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORDS           3000
#define KEYS              60
#define ROUND_DEADLINE_MS 40000

struct round_setup {
    uint64_t seed;
    int keyed;
};

static struct tcb_test_emu the_emu; /* static so a failed round's emulator is still stopped */

static double uniform(struct tcb_rng *rng, double max)
{
    return (double)(tcb_rng_next(rng) % 10001) / 10000.0 * max;
}

static long range(struct tcb_rng *rng, long lo, long hi)
{
    return lo + (long)(tcb_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

/* What kind of record id i is: 0 valid, 1 reserved event (513), 2 not JSON (400). */
static int kind_of(long i)
{
    if (i == 1234) {
        return 2;
    }
    return i % 53 == 7 ? 1 : 0;
}

static size_t make_record(char *buf, size_t cap, long i)
{
    int key = (int)(i % KEYS);
    switch (kind_of(i)) {
    case 1:
        return (size_t)snprintf(buf, cap,
                                "{\"type\":\"event\",\"identity\":\"user-%d\",\"evtName\":"
                                "\"Notification Sent\",\"evtData\":{\"seq\":%ld}}",
                                key, i);
    case 2:
        return (size_t)snprintf(buf, cap, "{\"type\":\"event\",\"evtData\":{\"seq\":%ld", i);
    default:
        return up_event(buf, cap, i, key);
    }
}

static void check_order(const long *order, size_t lines)
{
    long last[KEYS];
    char *seen = calloc(RECORDS, 1);
    assert_non_null(seen);
    for (int k = 0; k < KEYS; k++) {
        last[k] = -1;
    }
    for (size_t j = 0; j < lines; j++) {
        long id = order[j];
        if (seen[id]) {
            continue; /* a duplicate's first arrival is what counts */
        }
        seen[id] = 1;
        int key = (int)(id % KEYS);
        if (id <= last[key]) {
            fail_msg("key %d: record %ld arrived after record %ld", key, id, last[key]);
        }
        last[key] = id;
    }
    free(seen);
}

static void run_round(const struct round_setup *setup)
{
    struct tcb_rng rng;
    tcb_rng_seed(&rng, setup->seed);
    char p5xx[16], p429[16], p555[16], phang[16], pdrop[16], seed[32], conc[16], jitter[16];
    snprintf(p5xx, sizeof(p5xx), "%.3f", uniform(&rng, 0.2));
    snprintf(p429, sizeof(p429), "%.3f", uniform(&rng, 0.2));
    snprintf(p555, sizeof(p555), "%.3f", uniform(&rng, 0.1));
    double hang = setup->seed % 3 == 0 ? 0 : uniform(&rng, 0.04);
    double drop = setup->seed % 3 == 0 ? 0 : uniform(&rng, 0.04);
    snprintf(phang, sizeof(phang), "%.3f", hang);
    snprintf(pdrop, sizeof(pdrop), "%.3f", drop);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)setup->seed);
    snprintf(conc, sizeof(conc), "%ld", range(&rng, 3, 15));
    snprintf(jitter, sizeof(jitter), "%ld", range(&rng, 0, 5));
    const char *const args[] = {"--fail-5xx",
                                p5xx,
                                "--fail-429",
                                p429,
                                "--fail-555",
                                p555,
                                "--hang",
                                phang,
                                "--hang-ms",
                                "1500",
                                "--drop",
                                pdrop,
                                "--seed",
                                seed,
                                "--max-concurrent",
                                conc,
                                "--latency-jitter-ms",
                                jitter,
                                NULL};
    fprintf(stderr, "round seed %llu\n", (unsigned long long)setup->seed);
    memset(&the_emu, 0, sizeof(the_emu));
    assert_int_equal(up_emu_start(&the_emu, 0, NULL, args), 0);

    char sink[256];
    snprintf(sink, sizeof(sink),
             "  keyed_ordering: %s\n  batch:\n    max_records: %ld\n    linger_ms: %ld\n",
             setup->keyed ? "true" : "false", range(&rng, 1, 200), range(&rng, 0, 20));
    int in_flight = (int)range(&rng, 1, 15);
    /* Time out hung requests well before the emulator lets go of them (1.5 s), but
     * never a healthy request on a loaded machine when nothing hangs. */
    char clevertap[128];
    snprintf(clevertap, sizeof(clevertap),
             "  retry_initial_ms: 5\n  retry_max_ms: 100\n  request_timeout_ms: %d\n",
             hang > 0 ? 1000 : 10000);
    struct tcb_config *cfg = up_config(the_emu.port, in_flight, sink, clevertap);
    struct up_outcomes out;
    up_outcomes_init(&out, RECORDS);
    struct tcb_uploader_options opts = {.cfg = cfg,
                                        .on_outcome = up_outcomes_cb,
                                        .ctx = &out,
                                        .max_pending_records = (size_t)range(&rng, 1000, 2000),
                                        .seed = setup->seed};
    char err[256] = "";
    struct tcb_uploader *up = tcb_uploader_create(&opts, err, sizeof(err));
    assert_non_null(up);

    /* Submit everything, running the uploader whenever it pushes back. */
    char buf[512];
    long next = 0;
    while (next < RECORDS) {
        size_t len = make_record(buf, sizeof(buf), next);
        char key_text[32];
        snprintf(key_text, sizeof(key_text), "user-%ld", next % KEYS);
        struct tcb_upload_tag tag = {.partition = (int32_t)(next % 4), .offset = next};
        int rc = tcb_uploader_submit(up, &cfg->clevertap.accounts[0], buf, len,
                                     tcb_upload_key_hash(key_text, strlen(key_text)), &tag);
        if (rc == TCB_UPLOAD_FULL) {
            assert_true(tcb_uploader_run(up, 10) >= 0);
            continue;
        }
        assert_int_equal(rc, 0);
        next++;
    }
    assert_int_equal(up_run_until(up, &out, RECORDS, ROUND_DEADLINE_MS), RECORDS);

    int *recorded = calloc(RECORDS, sizeof(int));
    long *order = calloc(RECORDS * 2, sizeof(long));
    assert_true(recorded && order);
    size_t lines = up_recorded(&the_emu, recorded, RECORDS, order);
    int duplicates_allowed = hang > 0 || drop > 0;
    for (long i = 0; i < RECORDS; i++) {
        assert_int_equal(out.count[i], 1);
        assert_int_equal(out.abandoned[i], 0);
        if (kind_of(i) == 0) {
            assert_int_equal(out.result[i], TCB_UPLOAD_ACCEPTED);
            assert_true(recorded[i] >= 1);
            assert_true(recorded[i] == 1 || duplicates_allowed);
        } else {
            assert_int_equal(out.result[i], TCB_UPLOAD_REJECTED);
            assert_int_equal(out.http_status[i], kind_of(i) == 1 ? 200 : 400);
            if (kind_of(i) == 1) {
                assert_int_equal(out.code[i], 513);
            }
            assert_int_equal(recorded[i], 0);
        }
    }
    if (setup->keyed) {
        check_order(order, lines < RECORDS ? lines : RECORDS);
    }
    struct tcb_uploader_stats stats;
    tcb_uploader_stats(up, &stats);
    assert_int_equal(stats.pending_records, 0);
    assert_int_equal(stats.pending_bytes, 0);
    assert_int_equal(tcb_uploader_flush(up, 0), 0);

    free(recorded);
    free(order);
    tcb_uploader_destroy(up);
    tcb_config_destroy(cfg);
    up_outcomes_free(&out);
    assert_int_equal(up_emu_stop(&the_emu), 0);
    tcb_test_emu_cleanup(&the_emu);
}

static int teardown(void **state)
{
    (void)state;
    if (the_emu.pid > 0) {
        up_emu_stop(&the_emu);
    }
    if (the_emu.dir[0]) {
        tcb_test_emu_cleanup(&the_emu);
    }
    return 0;
}

/* A seed for this run: time and pid mixed, never 0. */
static uint64_t drawn_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed =
        ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    return seed % 1000000000ULL + 1;
}

static void test_fault_mixes(void **state)
{
    (void)state;
    static const struct round_setup rounds[] = {
        {.seed = 3, .keyed = 1}, /* no hangs or drops: exactly once */
        {.seed = 101, .keyed = 1},
        {.seed = 202, .keyed = 0},
        {.seed = 4711, .keyed = 1},
    };
    for (size_t i = 0; i < sizeof(rounds) / sizeof(rounds[0]); i++) {
        run_round(&rounds[i]);
    }
    /* One more round with a seed drawn for this run (printed by run_round:
     * replay a failure with TCB_PROPERTY_SEED=N). */
    const char *fixed = getenv("TCB_PROPERTY_SEED");
    struct round_setup drawn = {.keyed = 1};
    drawn.seed = fixed ? strtoull(fixed, NULL, 10) : drawn_seed();
    fprintf(stderr, "drawn round: replay with TCB_PROPERTY_SEED=%llu\n",
            (unsigned long long)drawn.seed);
    run_round(&drawn);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcb_log_setup("test-uploader", TCB_LOG_ERROR, TCB_LOG_FORMAT_LOGFMT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fault_mixes, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
