/* End to end against a real Apache Kafka broker (KRaft, started by the
 * real_kafka ctest fixture): talon-ingest's acknowledged webhooks and
 * notifications are on the topic with keys, headers and values intact, one
 * profile's records stay in one partition in order, no credential reaches
 * Kafka, and SIGTERM stops the daemon cleanly. Uses the ingest test harness. */
#include "tests/ingest/ingest_harness.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define ACCOUNT_ID          "E2E-ACC-001"
#define PASSCODE            "e2e-passcode-never-in-kafka"
#define SECRET              "e2e-notification-secret"
#define REQUESTS            40
#define RECORDS_PER_REQUEST 3
#define PROFILES            7

static struct harness_ingest ingest;
static char topic[64];

static const char *bootstrap(void)
{
    const char *b = getenv("TCB_E2E_BOOTSTRAP");
    return b && *b ? b : "127.0.0.1:29092";
}

static int setup(void **state)
{
    (void)state;
    char yaml[2048];
    snprintf(topic, sizeof(topic), "e2e.webhooks.%d", (int)getpid());
    snprintf(yaml, sizeof(yaml),
             "kafka:\n  brokers: \"%s\"\n  topic: \"%s\"\n"
             "clevertap:\n  accounts:\n"
             "    - { name: shop, account_id: \"" ACCOUNT_ID "\", passcode: \"" PASSCODE
             "\", region: eu1 }\n"
             "ingest:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"127.0.0.1:0\"\n"
             "  notification_secret: \"" SECRET "\"\n  notification_account: shop\n"
             "log: { level: debug }\n",
             bootstrap(), topic);
    return harness_ingest_start(&ingest, "ingest-e2e", yaml);
}

static int teardown(void **state)
{
    (void)state;
    if (ingest.pid > 0) {
        harness_ingest_stop(&ingest, SIGKILL);
    }
    harness_tmpdir_remove();
    return 0;
}

static const char *const upload_headers[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID,
                                             "X-CleverTap-Passcode: " PASSCODE,
                                             "Content-Type: application/json", NULL};

/* The sequence number a test record carries in evtData.seq. */
static int seq_of(const char *value)
{
    const char *p = strstr(value, "\"seq\":");
    return p ? (int)strtol(p + 6, NULL, 10) : -1;
}

static void test_acknowledged_records_are_on_the_topic(void **state)
{
    (void)state;
    char response[1024];
    int seq = 0;
    for (int r = 0; r < REQUESTS; r++) {
        char body[1024];
        size_t len = (size_t)snprintf(body, sizeof(body), "{\"d\":[");
        for (int i = 0; i < RECORDS_PER_REQUEST; i++, seq++) {
            len += (size_t)snprintf(body + len, sizeof(body) - len,
                                    "%s{\"type\":\"event\",\"evtName\":\"Coupon Generated\","
                                    "\"identity\":\"profile-%d\",\"evtData\":{\"seq\":%d}}",
                                    i ? "," : "", seq % PROFILES, seq);
        }
        len += (size_t)snprintf(body + len, sizeof(body) - len, "]}");
        int status = harness_http(ingest.port, "POST", "/1/upload", upload_headers, body, len,
                                  response, sizeof(response));
        if (status != 200) {
            print_error("request %d: HTTP %d %s\n", r, status, response);
        }
        assert_int_equal(status, 200);
        assert_non_null(strstr(response, "\"processed\":3"));
    }
    const char *notification_headers[] = {"X-Talon-Secret: " SECRET,
                                          "X-UUID: 11111111-2222-4333-8444-555555555555", NULL};
    const char *notification =
        "{\"NotificationType\":\"CouponCreated\",\"totalResultSize\":1,"
        "\"data\":[{\"id\":1,\"value\":\"E2E-COUPON\",\"recipientIntegrationId\":\"profile-1\"}]}";
    assert_int_equal(harness_http(ingest.port, "POST", "/talon/notifications", notification_headers,
                                  notification, strlen(notification), response, sizeof(response)),
                     200);

    const size_t want = REQUESTS * RECORDS_PER_REQUEST + 1;
    size_t count = 0;
    struct harness_msg *msgs = harness_consume(bootstrap(), topic, NULL, want, &count);
    assert_non_null(msgs);
    assert_int_equal(count, want);

    int partition_of[PROFILES];
    int last_seq[PROFILES];
    for (int p = 0; p < PROFILES; p++) {
        partition_of[p] = last_seq[p] = -1;
    }
    int uploads = 0, notifications = 0;
    for (size_t i = 0; i < count; i++) {
        const struct harness_msg *m = &msgs[i];
        assert_null(strstr(m->value, PASSCODE));
        assert_null(strstr(m->value, SECRET));
        assert_string_equal(m->account, "shop");
        assert_non_null(m->request_id);
        assert_non_null(m->received_at);
        if (strstr(m->value, "NotificationType")) {
            notifications++;
            assert_string_equal(m->request_id, "11111111-2222-4333-8444-555555555555");
            assert_string_equal(m->key, "profile-1");
            continue;
        }
        uploads++;
        int s = seq_of(m->value);
        int profile = s % PROFILES;
        char key[32];
        snprintf(key, sizeof(key), "profile-%d", profile);
        assert_string_equal(m->key, key); /* keyed by identity */
        assert_int_equal((int)strtol(m->record_index, NULL, 10), s % RECORDS_PER_REQUEST);
        if (partition_of[profile] < 0) {
            partition_of[profile] = m->partition;
        }
        assert_int_equal(m->partition, partition_of[profile]); /* one profile, one partition */
        assert_true(s > last_seq[profile]);                    /* in order within it */
        last_seq[profile] = s;
    }
    assert_int_equal(uploads, REQUESTS * RECORDS_PER_REQUEST);
    assert_int_equal(notifications, 1);
    harness_msgs_free(msgs, count);

    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    ingest.pid = 0;
    assert_false(harness_file_contains(ingest.log_path, PASSCODE));
    assert_false(harness_file_contains(ingest.log_path, SECRET));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acknowledged_records_are_on_the_topic, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
