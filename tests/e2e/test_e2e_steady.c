/* Reliability scenario 1, steady state, on the real broker: three accounts in
 * three regions, every shape a record may take (CleverTap records and
 * envelopes through talon-ingest, Talon.One notifications through it, and
 * the same shapes produced straight to the topic by another producer). Every
 * record reaches its account exactly once, nothing is dead-lettered, and the
 * group's offsets are committed to the end. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILES 97

/* The plan, by seq range. */
#define ENVELOPES        100 /* through talon-ingest, 10 records each, accounts 1 and 2 */
#define SINGLES          300 /* through talon-ingest, account 3 */
#define NOTIFICATIONS    50  /* through talon-ingest, 4 coupons each, account 3 */
#define DIRECT_SINGLES   500 /* straight to the topic, the account in the header */
#define DIRECT_ENVELOPES 100 /* straight to the topic, 5 records each */
#define DIRECT_NOTES     100 /* straight to the topic, 2 coupons each */
#define TOTAL                                                                                      \
    (ENVELOPES * 10 + SINGLES + NOTIFICATIONS * 4 + DIRECT_SINGLES + DIRECT_ENVELOPES * 5 +        \
     DIRECT_NOTES * 2)

static struct e2e_item items[TOTAL];

static const char *const account_names[] = {"one", "two", "three"};

struct direct {
    size_t base; /* first seq of the direct messages */
};

/* Direct message i: singles, then envelopes, then notifications. */
static void make_direct(size_t i, struct sink_msg *msg, void *ctx)
{
    const struct direct *d = ctx;
    size_t seq;
    int account;
    if (i < DIRECT_SINGLES) {
        seq = d->base + i;
        account = (int)(i % 3) + 1;
        size_t len = 0;
        e2e_event(msg->value, sizeof(msg->value), &len, seq, PROFILES);
        items[seq] = (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
    } else if (i < DIRECT_SINGLES + DIRECT_ENVELOPES) {
        size_t k = i - DIRECT_SINGLES;
        seq = d->base + DIRECT_SINGLES + k * 5;
        account = (int)(k % 3) + 1;
        e2e_envelope(msg->value, sizeof(msg->value), seq, 5, PROFILES);
        for (size_t r = 0; r < 5; r++) {
            items[seq + r] =
                (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
        }
    } else {
        size_t k = i - DIRECT_SINGLES - DIRECT_ENVELOPES;
        seq = d->base + DIRECT_SINGLES + DIRECT_ENVELOPES * 5 + k * 2;
        account = 3;
        e2e_notification(msg->value, sizeof(msg->value), seq, 2, PROFILES);
        for (size_t r = 0; r < 2; r++) {
            items[seq + r] = (struct e2e_item){.kind = E2E_VALID, .account = 3};
        }
    }
    snprintf(msg->key, sizeof(msg->key), "e2e-u%zu", seq % PROFILES);
    snprintf(msg->header_text[0], sizeof(msg->header_text[0]), "clevertap-account=%s",
             account_names[account - 1]);
    msg->headers[0] = msg->header_text[0];
}

/* Everything through talon-ingest; returns the next seq. */
static size_t send_through_ingest(const struct harness_ingest *ingest)
{
    static char body[65536];
    size_t seq = 0;
    for (int e = 0; e < ENVELOPES; e++, seq += 10) {
        int account = e % 2 + 1;
        e2e_envelope(body, sizeof(body), seq, 10, PROFILES);
        assert_int_equal(e2e_post_upload(ingest, account, body, NULL), 200);
        for (size_t r = 0; r < 10; r++) {
            items[seq + r] =
                (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
        }
    }
    for (int s = 0; s < SINGLES; s++, seq++) {
        e2e_envelope(body, sizeof(body), seq, 1, PROFILES);
        assert_int_equal(e2e_post_upload(ingest, 3, body, NULL), 200);
        items[seq] = (struct e2e_item){.kind = E2E_VALID, .account = 3};
    }
    for (int n = 0; n < NOTIFICATIONS; n++, seq += 4) {
        char uuid[64];
        snprintf(uuid, sizeof(uuid), "e2e-steady-note-%d", n);
        e2e_notification(body, sizeof(body), seq, 4, PROFILES);
        assert_int_equal(e2e_post_notification(ingest, body, uuid), 200);
        for (size_t r = 0; r < 4; r++) {
            items[seq + r] = (struct e2e_item){.kind = E2E_VALID, .account = 3};
        }
    }
    return seq;
}

static void test_steady_state(void **state)
{
    (void)state;
    struct e2e_pipeline p;
    e2e_pipeline_start(&p, "steady", 6, NULL, NULL, NULL);
    struct direct d = {.base = send_through_ingest(&p.ingest)};
    sink_produce(&p.env, DIRECT_SINGLES + DIRECT_ENVELOPES + DIRECT_NOTES, make_direct, &d, NULL);
    assert_true(sink_wait_committed_to_end(&p.env, p.env.group, 120000));
    struct e2e_counts c = {.seconds = e2e_pipeline_seconds(&p)};
    int ok = e2e_check(&p.env, items, TOTAL, &c);
    e2e_report("steady", &c);
    assert_true(ok);
    assert_int_equal(c.delivered, TOTAL);
    assert_int_equal(c.duplicates, 0); /* no failure: nothing sent twice */
    assert_int_equal(c.dead_lettered, 0);
    e2e_pipeline_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_steady_state, sink_teardown),
    };
    return E2E_RUN(tests);
}
