/* Reliability scenario 6 on the real broker: poison among valid records.
 * Through talon-ingest, envelopes whose records include reserved event names
 * (513), unrendered Talon.One templates (in a property; as the identity, 523)
 * and forbidden characters (512); straight to the topic, messages that are
 * not JSON, not UTF-8, nested 10,000 deep, and over the dead-letter topic's
 * size limit (1.5 MB on a topic allowing 2 MB: the dead letter is cut to
 * 64 KiB and says so). Every poison record is dead-lettered with its stage,
 * code and reason; every valid one, including those sharing an envelope with
 * poison, reaches CleverTap; the partitions move on to the end. A webhook
 * over the broker's message limit is refused by talon-ingest (413), never
 * answered 2xx. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILES      50
#define ENVELOPES     40 /* through talon-ingest, 10 records: 8 valid, 2 poison */
#define DIRECT_ROUNDS 20 /* straight to the topic: a valid record and 3 poison messages */
#define BIG_POISON    2
#define BIG_BYTES     (1536 * 1024)
#define DEEP          10000
#define TOTAL         (ENVELOPES * 10 + DIRECT_ROUNDS * 4 + BIG_POISON)

static struct e2e_item items[TOTAL];

/* Record r of an envelope: poison at positions 3 and 7 (the kind rotating). */
static void envelope_record(char *out, size_t cap, size_t *len, size_t seq, int r)
{
    size_t profile = seq % PROFILES;
    if (r != 3 && r != 7) {
        e2e_event(out, cap, len, seq, PROFILES);
        items[seq] = (struct e2e_item){.kind = E2E_VALID, .account = 2};
        return;
    }
    size_t kind = (seq / 4) % 4;
    size_t room = cap - *len;
    int wrote = 0;
    int code = 0;
    switch (kind) {
    case 0: /* a reserved system event name */
        wrote =
            snprintf(out + *len, room,
                     "{\"type\":\"event\",\"evtName\":\"App Launched\",\"identity\":\"e2e-u%zu\","
                     "\"evtData\":{\"Marker\":\"" E2E_MARK "%zu#\"}}",
                     profile, seq);
        code = 513;
        break;
    case 1: /* a property Talon.One never filled in */
        wrote = snprintf(out + *len, room,
                         "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":"
                         "\"e2e-u%zu\",\"evtData\":{\"CouponGenerated\":\"${$Coupon.Code}\","
                         "\"Marker\":\"" E2E_MARK "%zu#\"}}",
                         profile, seq);
        break;
    case 2: /* an identity Talon.One never filled in */
        wrote = snprintf(
            out + *len, room,
            "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":"
            "\"${$Profile.Id}\",\"evtData\":{\"Id\":\"e2e-u%zu\",\"Marker\":\"" E2E_MARK "%zu#\"}}",
            profile, seq);
        code = 523;
        break;
    default: /* a character CleverTap forbids in event names */
        wrote = snprintf(out + *len, room,
                         "{\"type\":\"event\",\"evtName\":\"Coupon.Generated\",\"identity\":"
                         "\"e2e-u%zu\",\"evtData\":{\"Marker\":\"" E2E_MARK "%zu#\"}}",
                         profile, seq);
        code = 512;
        break;
    }
    assert_true(wrote > 0 && (size_t)wrote < room);
    *len += (size_t)wrote;
    items[seq] = (struct e2e_item){.kind = E2E_POISON, .stage = "validation", .code = code};
}

static char *big_values[BIG_POISON];
static char *deep_value;

/* Direct message i: rounds of (valid, not JSON, not UTF-8, 10,000 deep), then
 * the messages over the DLQ's limit. */
static void make_direct(size_t i, struct sink_msg *msg, void *ctx)
{
    size_t base = *(const size_t *)ctx;
    size_t seq = base + i;
    snprintf(msg->key, sizeof(msg->key), "e2e-u%zu", seq % PROFILES);
    msg->headers[0] = "clevertap-account=two";
    if (i >= DIRECT_ROUNDS * 4) {
        char *v = big_values[i - DIRECT_ROUNDS * 4];
        int n = snprintf(v, 64, E2E_MARK "%zu# not JSON, ", seq);
        memset(v + n, 'x', BIG_BYTES - (size_t)n);
        msg->big_value = v;
        msg->big_len = BIG_BYTES;
        items[seq] = (struct e2e_item){.kind = E2E_POISON, .stage = "transform"};
        return;
    }
    switch (i % 4) {
    case 0: {
        size_t len = 0;
        e2e_event(msg->value, sizeof(msg->value), &len, seq, PROFILES);
        items[seq] = (struct e2e_item){.kind = E2E_VALID, .account = 2};
        return;
    }
    case 1:
        snprintf(msg->value, sizeof(msg->value), E2E_MARK "%zu# is not JSON", seq);
        break;
    case 2:
        snprintf(msg->value, sizeof(msg->value),
                 "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":\"e2e-u%zu\","
                 "\"evtData\":{\"Marker\":\"" E2E_MARK "%zu#\",\"Bad\":\"\xff\xfe\"}}",
                 seq % PROFILES, seq);
        break;
    default: {
        int n = snprintf(deep_value, 64, "{\"Marker\":\"" E2E_MARK "%zu#\",\"a\":", seq);
        memset(deep_value + n, '[', DEEP);
        memset(deep_value + n + DEEP, ']', DEEP);
        deep_value[n + 2 * DEEP] = '}';
        msg->big_value = deep_value;
        msg->big_len = (size_t)n + 2 * DEEP + 1;
        break;
    }
    }
    items[seq] = (struct e2e_item){.kind = E2E_POISON, .stage = "transform"};
}

static void print_dead_letter_samples(const struct sink_env *env)
{
    size_t count = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(env, &count);
    const char *seen[16];
    int seen_codes[16];
    size_t shown = 0;
    for (size_t d = 0; d < count && shown < 16; d++) {
        int known = 0;
        for (size_t s = 0; s < shown; s++) {
            known |= strcmp(seen[s], dlq[d].stage) == 0 && seen_codes[s] == dlq[d].code &&
                     (dlq[d].truncated_from < 0);
        }
        if (known) {
            continue;
        }
        seen[shown] = dlq[d].stage;
        seen_codes[shown++] = dlq[d].code;
        printf("dead letter: dlq-stage %s dlq-code %d dlq-reason \"%.100s\"%s\n", dlq[d].stage,
               dlq[d].code, dlq[d].reason,
               dlq[d].truncated_from > 0 ? " (value cut to 64 KiB)" : "");
    }
    free(dlq);
}

static void test_poison_records(void **state)
{
    (void)state;
    struct sink_opts base = {.ingest_extra = "  max_body_bytes: 4194304\n"};
    struct e2e_pipeline p;
    e2e_pipeline_start(&p, "poison", 4, NULL, "2097152", &base);
    static char body[65536];
    for (int e = 0; e < ENVELOPES; e++) {
        size_t len = (size_t)snprintf(body, sizeof(body), "{\"d\":[");
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                body[len++] = ',';
            }
            envelope_record(body, sizeof(body), &len, (size_t)e * 10 + (size_t)r, r);
        }
        snprintf(body + len, sizeof(body) - len, "]}");
        assert_int_equal(e2e_post_upload(&p.ingest, 2, body, NULL), 200);
    }
    /* Over the producer's message limit (1,000,000 bytes): refused, never 2xx. */
    static char huge[1200 * 1024];
    int n = snprintf(huge, sizeof(huge),
                     "{\"d\":[{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"identity\":"
                     "\"e2e-huge\",\"evtData\":{\"Blob\":\"");
    memset(huge + n, 'y', sizeof(huge) - (size_t)n - 16);
    snprintf(huge + sizeof(huge) - 16, 16, "\"}}]}");
    int status = e2e_post_upload(&p.ingest, 2, huge, NULL);
    printf("webhook of %zu bytes (one record over the broker's limit): HTTP %d\n", strlen(huge),
           status);
    assert_int_equal(status, 413);

    size_t base_seq = ENVELOPES * 10;
    for (int b = 0; b < BIG_POISON; b++) {
        big_values[b] = malloc(BIG_BYTES);
    }
    deep_value = malloc(2 * DEEP + 128);
    sink_produce(&p.env, DIRECT_ROUNDS * 4 + BIG_POISON, make_direct, &base_seq, NULL);
    assert_true(sink_wait_committed_to_end(&p.env, p.env.group, 120000));
    struct e2e_counts c = {.seconds = e2e_pipeline_seconds(&p)};
    int ok = e2e_check(&p.env, items, TOTAL, &c);
    e2e_report("poison", &c);
    print_dead_letter_samples(&p.env);
    size_t dlq_count = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(&p.env, &dlq_count);
    int truncated = 0;
    for (size_t d = 0; d < dlq_count; d++) {
        truncated += dlq[d].truncated_from == BIG_BYTES;
    }
    free(dlq);
    assert_true(ok);
    assert_int_equal(c.delivered, e2e_count_kind(items, TOTAL, E2E_VALID));
    assert_int_equal(c.dead_lettered, e2e_count_kind(items, TOTAL, E2E_POISON));
    assert_int_equal(c.duplicates, 0);
    assert_int_equal(truncated, BIG_POISON);
    assert_false(harness_file_contains(p.sink.log_path, "e2e-huge"));
    for (int b = 0; b < BIG_POISON; b++) {
        free(big_values[b]);
    }
    free(deep_value);
    e2e_pipeline_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_poison_records, sink_teardown),
    };
    return E2E_RUN(tests);
}
