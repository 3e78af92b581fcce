/* Reliability scenario 3 on the real broker: the broker process is stopped
 * and started again on the same data (the fixture's halt.sh and restart.sh)
 * twice: once mid-drain with talon-ingest and clevertap-sink running (a
 * webhook posted during the outage is refused, never answered 2xx, and
 * talon-ingest takes webhooks again once Kafka is back), and once with the
 * sink alone through a 30 s outage. Neither daemon exits; nothing acknowledged
 * is lost; offsets end committed to the end; duplicates stay within the
 * records CleverTap had taken past the committed offsets, measured as soon as
 * the broker answers again. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PROFILES       600
#define DIRECT_A       15000 /* on the topic before the first outage */
#define INGEST_BEFORE  20    /* envelopes of 10 through talon-ingest before it */
#define INGEST_AFTER   20    /* and after it */
#define DIRECT_B       10000 /* before the sink's lone 30 s outage */
#define LONG_OUTAGE_MS 30000
#define TOTAL          (DIRECT_A + (INGEST_BEFORE + INGEST_AFTER + 1) * 10 + DIRECT_B)

static struct e2e_item items[TOTAL];
static struct sink_where where[TOTAL];

/* Posts envelopes of 10 from seq on until each gets its 200 (same X-Request-Id
 * on a retry, so the sink drops a copy Kafka kept from an unanswered try);
 * returns the next seq. */
static size_t post_envelopes(const struct harness_ingest *ingest, size_t seq, int count)
{
    static char body[32768];
    for (int e = 0; e < count; e++, seq += 10) {
        char request_id[64];
        snprintf(request_id, sizeof(request_id), "outage-%zu", seq);
        e2e_envelope(body, sizeof(body), seq, 10, PROFILES);
        int status = 0;
        for (long long end = sink_now_ms() + 60000; status != 200 && sink_now_ms() < end;) {
            status = e2e_post_upload(ingest, 1, body, request_id);
            if (status != 200) {
                sink_sleep_ms(500);
            }
        }
        assert_int_equal(status, 200);
        for (size_t r = 0; r < 10; r++) {
            items[seq + r] = (struct e2e_item){.kind = E2E_VALID, .account = 1};
        }
    }
    return seq;
}

static int delivered_at_least(const struct sink_env *env, size_t lines, int timeout_ms)
{
    return sink_wait_recorded(env, lines, timeout_ms);
}

static void assert_alive(struct sink_proc *p, const char *when)
{
    if (waitpid(p->pid, NULL, WNOHANG) != 0) {
        sink_print_log(p);
        fail_msg("clevertap-sink exited %s", when);
    }
}

static void test_broker_outages(void **state)
{
    (void)state;
    struct sink_env env;
    static const char *const emu_args[] = {"--latency-ms", "100", NULL};
    e2e_env_start(&env, "outage", 6, emu_args, NULL);
    struct e2e_direct plan = {.items = items, .profiles = PROFILES};
    sink_produce(&env, DIRECT_A, e2e_make_event, &plan, NULL);
    struct sink_opts base = {.max_in_flight = 4, .sink_extra = e2e_slow_drain(50, 3000)};
    struct sink_opts opts = e2e_opts(&env, &base);
    long long start = sink_now_ms();
    struct harness_ingest ingest;
    e2e_ingest_start(&ingest, &env, "ingest", &opts);
    size_t seq = post_envelopes(&ingest, DIRECT_A, INGEST_BEFORE);
    struct sink_proc sink;
    sink_start(&sink, &env, "sink", &opts);
    assert_true(delivered_at_least(&env, 2000, 60000));

    /* Outage 1: mid-drain, both daemons running. Where each record sits is
     * read first, so the duplicate bound can be measured the moment Kafka is back. */
    e2e_locate(&env, where, TOTAL);
    e2e_broker_halt();
    printf("broker stopped after %d records reached CleverTap\n",
           (int)e2e_recorded(&env, NULL, NULL, 0));
    static char body[32768];
    e2e_envelope(body, sizeof(body), seq, 10, PROFILES);
    int status = e2e_post_upload(&ingest, 1, body, "outage-refused");
    printf("webhook during the outage: HTTP %d\n", status);
    assert_int_not_equal(status, 200); /* never acknowledged without Kafka's acknowledgement */
    for (size_t r = 0; r < 10; r++) {
        items[seq + r] = (struct e2e_item){.kind = E2E_UNSURE};
    }
    seq += 10;
    sink_sleep_ms(3000);
    assert_alive(&sink, "during the outage");
    e2e_broker_restart();
    size_t bound = e2e_at_risk(&env, where, TOTAL);
    printf("outage 1: %zu records at CleverTap past the committed offsets\n", bound);
    seq = post_envelopes(&ingest, seq, INGEST_AFTER);
    assert_true(sink_wait_committed_to_end(&env, env.group, 180000));
    assert_alive(&sink, "after the outage");

    /* Outage 2: the sink alone through 30 s without Kafka. */
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    plan.base = seq;
    sink_produce(&env, DIRECT_B, e2e_make_event, &plan, NULL);
    e2e_locate(&env, where, TOTAL);
    assert_true(delivered_at_least(&env, (size_t)e2e_recorded(&env, NULL, NULL, 0) + 1000, 60000));
    e2e_broker_halt();
    for (long long end = sink_now_ms() + LONG_OUTAGE_MS; sink_now_ms() < end; sink_sleep_ms(1000)) {
        assert_alive(&sink, "during the 30 s outage");
    }
    char ready[256];
    printf("sink /readyz during the outage: %d %s\n",
           sink_http_get(&sink, "/readyz", ready, sizeof(ready)), ready);
    e2e_broker_restart();
    size_t at_risk = e2e_at_risk(&env, where, TOTAL);
    printf("outage 2: %zu records at CleverTap past the committed offsets\n", at_risk);
    bound += at_risk;
    assert_true(sink_wait_committed_to_end(&env, env.group, 180000));
    assert_alive(&sink, "after the 30 s outage");

    struct e2e_counts c = {.seconds = (double)(sink_now_ms() - start) / 1000.0};
    int ok = e2e_check(&env, items, TOTAL, &c);
    e2e_report("broker-outage", &c);
    printf("scenario broker-outage: duplicate bound %zu\n", bound);
    assert_true(ok);
    assert_int_equal(c.delivered, TOTAL - 10);
    assert_true(c.duplicates <= bound);
    assert_int_equal(sink_stop(&sink, SIGTERM), 0);
    sink_env_stop(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_broker_outages, sink_teardown),
    };
    return E2E_RUN(tests);
}
