/* Reliability scenario 8 on the real broker: account "two" configured with a
 * wrong passcode. Its uploads are refused (401): the account halts, the
 * member reports not ready and names it, and its records are kept, never
 * dead-lettered, while the other accounts' records flow. After the passcode
 * is fixed and the member restarted, everything is delivered; the duplicates
 * stay within the other accounts' records CleverTap had taken past the
 * committed offsets (held back by account two's records in the same
 * partitions) when the member stopped. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILES  300
#define DIRECT    6000
#define ENVELOPES 60 /* through talon-ingest, accounts one and three */
#define TOTAL     (DIRECT + ENVELOPES * 10)

static struct e2e_item items[TOTAL];
static struct sink_where where[TOTAL];

struct others {
    const struct sink_env *env;
    size_t want;
};

/* Every record of accounts one and three is at CleverTap. */
static int others_delivered(void *ctx)
{
    const struct others *o = ctx;
    int *counts = calloc(TOTAL, sizeof(*counts));
    e2e_recorded(o->env, counts, NULL, TOTAL);
    size_t have = 0;
    for (size_t i = 0; i < TOTAL; i++) {
        have += items[i].account != 2 && counts[i] > 0;
    }
    free(counts);
    return have >= o->want;
}

static void test_wrong_passcode_then_fixed(void **state)
{
    (void)state;
    struct sink_env env;
    e2e_env_start(&env, "passcode", 4, NULL, NULL);
    struct e2e_direct plan = {.items = items, .profiles = PROFILES};
    sink_produce(&env, DIRECT, e2e_make_event, &plan, NULL);
    struct sink_opts right = e2e_opts(&env, NULL);
    long long start = sink_now_ms();
    struct harness_ingest ingest;
    e2e_ingest_start(&ingest, &env, "ingest", &right);
    static char body[32768];
    for (int e = 0; e < ENVELOPES; e++) {
        int account = e % 2 ? 3 : 1;
        size_t seq = DIRECT + (size_t)e * 10;
        /* Identities of the account's own: keyed ordering is per identity
         * across accounts, so a shared one would wait behind account two. */
        e2e_envelope_as(body, sizeof(body), seq, 10, PROFILES,
                        account == 1 ? "e2e-a1-" : "e2e-a3-");
        assert_int_equal(e2e_post_upload(&ingest, account, body, NULL), 200);
        for (size_t r = 0; r < 10; r++) {
            items[seq + r] =
                (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
        }
    }
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    e2e_locate(&env, where, TOTAL);

    struct sink_opts wrong_base = {.passcode_2 = "not-the-passcode"};
    struct sink_opts wrong = e2e_opts(&env, &wrong_base);
    struct sink_proc sink;
    sink_start(&sink, &env, "wrong", &wrong);
    struct others o = {&env, 0};
    for (size_t i = 0; i < TOTAL; i++) {
        o.want += items[i].account != 2;
    }
    if (!sink_wait(others_delivered, &o, 120000)) {
        sink_print_log(&sink);
        fail_msg("accounts one and three did not get their records while two was halted");
    }
    char ready[512];
    int status = sink_http_get(&sink, "/readyz", ready, sizeof(ready));
    printf("while account two is halted: /readyz %d %s", status, ready);
    assert_int_equal(status, 503);
    assert_non_null(strstr(ready, "two"));
    assert_true(sink_metric(&sink, "tcb_upload_account_halted", "account=\"two\"") == 1);
    int *counts = calloc(TOTAL, sizeof(*counts));
    unsigned char *accounts = calloc(TOTAL, 1);
    e2e_recorded(&env, counts, accounts, TOTAL);
    for (size_t i = 0; i < TOTAL; i++) {
        assert_false(counts[i] > 0 && accounts[i] == 2); /* nothing reached CleverTap as two */
    }
    free(counts);
    free(accounts);
    size_t dead = 0;
    free(sink_read_dlq(&env, &dead));
    assert_int_equal(dead, 0); /* kept, never dead-lettered */
    assert_int_equal(sink_stop(&sink, SIGTERM), 0);
    size_t bound = e2e_at_risk(&env, where, TOTAL);
    printf("stopped with account two halted: %zu records at CleverTap past the committed offsets\n",
           bound);

    sink_start(&sink, &env, "fixed", &right);
    assert_true(sink_wait_committed_to_end(&env, env.group, 120000));
    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, TOTAL, &c);
    e2e_report("wrong-passcode", &c);
    printf("scenario wrong-passcode: duplicate bound %zu\n", bound);
    assert_true(ok);
    assert_int_equal(c.delivered, TOTAL);
    assert_int_equal(c.dead_lettered, 0);
    assert_true(c.duplicates <= bound);
    assert_int_equal(sink_stop(&sink, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_wrong_passcode_then_fixed, sink_teardown),
    };
    return E2E_RUN(tests);
}
