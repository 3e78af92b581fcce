/* Reliability scenario 7 on the real broker: talon-ingest killed with SIGKILL
 * twice under load from concurrent webhook clients, and started again (on a
 * new port, as a restarted pod behind its Service). Every record whose
 * webhook was answered 2xx reaches CleverTap (the answer comes only after
 * Kafka acknowledged it); records whose webhook got no answer or an error may
 * arrive or not (Talon.One would send them again), and are never dead-lettered. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS     4
#define PER_REQUEST 10
#define PROFILES    400
#define CAPACITY    400000
#define KILLS       2

static struct e2e_item items[CAPACITY];

struct load {
    struct harness_ingest copy; /* the port the clients use, swapped under lock */
    pthread_mutex_t lock;
    atomic_size_t next_seq;
    atomic_int stop;
    atomic_long ok, failed;
};

static void *client(void *arg)
{
    struct load *load = arg;
    char body[8192];
    while (!atomic_load(&load->stop)) {
        size_t seq = atomic_fetch_add(&load->next_seq, PER_REQUEST);
        if (seq + PER_REQUEST > CAPACITY) {
            break;
        }
        int account = (int)(seq / PER_REQUEST % 3) + 1;
        e2e_envelope(body, sizeof(body), seq, PER_REQUEST, PROFILES);
        pthread_mutex_lock(&load->lock);
        struct harness_ingest target = load->copy;
        pthread_mutex_unlock(&load->lock);
        int status = e2e_post_upload(&target, account, body, NULL);
        for (size_t r = 0; r < PER_REQUEST; r++) {
            items[seq + r] = status == 200 ? (struct e2e_item){.kind = E2E_VALID,
                                                               .account = (unsigned char)account}
                                           : (struct e2e_item){.kind = E2E_UNSURE};
        }
        atomic_fetch_add(status == 200 ? &load->ok : &load->failed, 1);
        if (status != 200) {
            sink_sleep_ms(50); /* nobody listening yet: do not spin */
        }
    }
    return NULL;
}

static void test_ingest_killed_under_load(void **state)
{
    (void)state;
    struct e2e_pipeline p;
    e2e_pipeline_start(&p, "ingest-kill", 6, NULL, NULL, NULL);
    struct load load = {.copy = p.ingest};
    pthread_mutex_init(&load.lock, NULL);
    pthread_t threads[CLIENTS];
    for (int t = 0; t < CLIENTS; t++) {
        assert_int_equal(pthread_create(&threads[t], NULL, client, &load), 0);
    }
    for (int k = 0; k < KILLS; k++) {
        sink_sleep_ms(2000);
        long ok_before = atomic_load(&load.ok);
        assert_int_equal(harness_ingest_stop(&p.ingest, SIGKILL), 128 + SIGKILL);
        printf("kill %d: talon-ingest killed after %ld answered webhooks\n", k + 1, ok_before);
        sink_sleep_ms(300);
        e2e_ingest_start(&p.ingest, &p.env, "ingest", &p.opts);
        pthread_mutex_lock(&load.lock);
        load.copy = p.ingest;
        pthread_mutex_unlock(&load.lock);
    }
    sink_sleep_ms(2000);
    atomic_store(&load.stop, 1);
    for (int t = 0; t < CLIENTS; t++) {
        pthread_join(threads[t], NULL);
    }
    size_t sent = atomic_load(&load.next_seq);
    if (sent > CAPACITY) {
        sent = CAPACITY;
    }
    assert_true(sink_wait_committed_to_end(&p.env, p.env.group, 180000));
    struct e2e_counts c = {.seconds = e2e_pipeline_seconds(&p)};
    int ok = e2e_check(&p.env, items, sent, &c);
    e2e_report("ingest-sigkill", &c);
    printf("scenario ingest-sigkill: %ld webhooks answered 200, %ld without an answer or refused; "
           "%zu of their records reached CleverTap anyway\n",
           atomic_load(&load.ok), atomic_load(&load.failed), c.unsure_delivered);
    assert_true(ok);
    assert_int_equal(c.delivered, e2e_count_kind(items, sent, E2E_VALID));
    assert_true(atomic_load(&load.ok) > 0);
    assert_int_equal(c.duplicates, 0); /* no client sent anything twice */
    pthread_mutex_destroy(&load.lock);
    e2e_pipeline_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ingest_killed_under_load, sink_teardown),
    };
    return E2E_RUN(tests);
}
