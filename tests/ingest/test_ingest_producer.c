/* Unit test of talon-ingest's Kafka producer on its own, against a loopback
 * port where no broker listens (messages stay queued): shutdown's drain calls
 * back every message a send accepted, even while sends are still racing in. */
#include "config/config.h"
#include "producer/ingest_producer.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static const char yaml[] = "kafka:\n"
                           "  brokers: \"127.0.0.1:1\"\n" /* nothing listens: connection refused */
                           "  topic: \"talon.webhooks\"\n"
                           "ingest:\n"
                           "  produce_timeout_ms: 300000\n";

static atomic_int delivered;

static void on_delivery(void *opaque, int ok)
{
    (void)opaque;
    (void)ok;
    atomic_fetch_add(&delivered, 1);
}

struct sender {
    struct tcb_ingest_producer *producer;
    atomic_int stop;
    atomic_int accepted;
};

/* One send every 100 us until told to stop, like request threads that have
 * not yet seen the shutdown. */
static void *send_loop(void *arg)
{
    struct sender *sender = arg;
    const struct tcb_ingest_message message = {
        .value = "{}", .value_len = 2, .request_id = "r", .record_index = 0};
    while (!atomic_load(&sender->stop)) {
        if (tcb_ingest_producer_send(sender->producer, &message, NULL) == 0) {
            atomic_fetch_add(&sender->accepted, 1);
        }
        struct timespec ts = {0, 100 * 1000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* A message accepted after drain's last flush would never be called back,
 * and its HTTP request would wait for an answer that never comes. */
static void test_drain_calls_back_every_accepted_send(void **state)
{
    (void)state;
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("test.yaml", yaml, strlen(yaml), &diag);
    assert_non_null(cfg);
    char err[256] = "";
    struct sender sender = {0};
    sender.producer = tcb_ingest_producer_create(cfg, NULL, on_delivery, err, sizeof(err));
    assert_non_null(sender.producer);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, send_loop, &sender), 0);
    while (atomic_load(&sender.accepted) < 10) {
        struct timespec ts = {0, 1000 * 1000L};
        nanosleep(&ts, NULL);
    }
    tcb_ingest_producer_drain(sender.producer, 200);
    int delivered_at_drain_end = atomic_load(&delivered);
    atomic_store(&sender.stop, 1);
    pthread_join(thread, NULL);
    assert_int_equal(delivered_at_drain_end, atomic_load(&sender.accepted));
    tcb_ingest_producer_destroy(sender.producer);
    tcb_config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_calls_back_every_accepted_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
