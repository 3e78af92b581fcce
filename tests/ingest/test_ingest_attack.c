/* talon-ingest under attack, as a real process against kafka-dev-broker:
 * every answer well-formed for a strict parser (tests/ingest/
 * strict_responses.py), smuggled requests never processed, slow heads cut
 * off and never starving real clients, bytes in flight capped (503 +
 * Retry-After, then room again), bodies of nested empty objects costing
 * their size and not 80 times it, JSON integers past 64 bits accepted,
 * "basic" auth in lower case, request ids from a header or the body. */
#include "tests/ingest/ingest_harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define TOPIC      "talon.webhooks"
#define ACCOUNT_ID "W9R-ATTACK-01"
#define PASSCODE   "attack-passcode-value"
#define SECRET     "attack-notification-secret"
/* base64("talon:" SECRET) */
#define BASIC_CREDENTIALS "dGFsb246YXR0YWNrLW5vdGlmaWNhdGlvbi1zZWNyZXQ="

static struct harness_broker broker;
static struct harness_ingest ingest;
static int restarts;

static const char *const upload_auth[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID,
                                          "X-CleverTap-Passcode: " PASSCODE, NULL};

/* (Re)starts the daemon with extra lines in its ingest section. */
static void start_with(const char *ingest_extra)
{
    if (ingest.pid > 0) {
        assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    }
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "kafka:\n  brokers: \"%s\"\n  topic: \"" TOPIC "\"\n"
             "clevertap:\n  accounts:\n"
             "    - { name: shop, account_id: \"" ACCOUNT_ID "\", passcode: \"" PASSCODE
             "\", region: eu1 }\n"
             "ingest:\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"127.0.0.1:0\"\n"
             "  notification_secret: \"" SECRET "\"\n  notification_account: shop\n%s"
             "log: { level: info }\n",
             broker.bootstrap, ingest_extra);
    char name[32];
    snprintf(name, sizeof(name), "attack-%d", restarts++);
    assert_int_equal(harness_ingest_start(&ingest, name, yaml), 0);
}

static int setup(void **state)
{
    (void)state;
    /* Freed memory goes back at once under ASan too, so RSS means something. */
    const char *asan = getenv("ASAN_OPTIONS");
    char options[512];
    snprintf(options, sizeof(options), "%s%squarantine_size_mb=1", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", options, 1);
    return harness_broker_start(&broker, TOPIC ":4");
}

static int teardown(void **state)
{
    (void)state;
    harness_teardown(&ingest, &broker);
    return 0;
}

/* Sends raw bytes on a new connection and reads all until the server
 * closes (at most timeout_ms); returns what came, or fails. */
static void raw_exchange(const char *request, size_t len, char *response, size_t cap,
                         int timeout_ms)
{
    int fd = harness_connect(ingest.port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    long got = harness_read_to_close(fd, response, cap, timeout_ms);
    close(fd);
    if (got < 0) {
        fail_msg("the server neither answered nor closed within %d ms", timeout_ms);
    }
}

/* A metric's value from /metrics (the first line starting with series). */
static double metric(const char *series)
{
    static char body[1 << 16];
    assert_int_equal(
        harness_http(ingest.ops_port, "GET", "/metrics", NULL, NULL, 0, body, sizeof(body)), 200);
    for (const char *line = body; line != NULL && *line;) {
        if (strncmp(line, series, strlen(series)) == 0 && line[strlen(series)] == ' ') {
            return strtod(line + strlen(series) + 1, NULL);
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Every error answer parses with a strict HTTP parser: one response, its
 * declared length, nothing after it (libmicrohttpd 0.9.75 repeated its
 * status line and headers for "Content-Length: -1", "0x10" or 23 digits). */
static void test_error_responses_are_well_formed(void **state)
{
    (void)state;
    start_with("");
    char command[512];
    snprintf(command, sizeof(command), "python3 tests/ingest/strict_responses.py %d %s %s",
             ingest.port, ACCOUNT_ID, PASSCODE);
    int status = system(command); /* NOLINT(cert-env33-c): the test's own checker */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static int topic_has_request(const int64_t *from, const char *request_id)
{
    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, from, 0, &n);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        found |= msgs[i].request_id && strcmp(msgs[i].request_id, request_id) == 0;
    }
    harness_msgs_free(msgs, n);
    return found;
}

/* "Content-Length: 0" then "Content-Length: N": libmicrohttpd took the
 * first and ran the request hidden in the body. Now: 400, connection
 * closed, neither request on the topic. */
static void test_smuggled_request_is_not_processed(void **state)
{
    (void)state;
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    const char *hidden = "POST /1/upload HTTP/1.1\r\nHost: x\r\n"
                         "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                         "X-CleverTap-Passcode: " PASSCODE "\r\nX-UUID: smuggled-2\r\n"
                         "Content-Length: 24\r\n\r\n{\"d\":[{\"identity\":\"s\"}]}";
    char request[2048];
    int len = snprintf(request, sizeof(request),
                       "POST /1/upload HTTP/1.1\r\nHost: x\r\n"
                       "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                       "X-CleverTap-Passcode: " PASSCODE "\r\nX-UUID: smuggled-1\r\n"
                       "Content-Length: 0\r\nContent-Length: %zu\r\n\r\n%s",
                       strlen(hidden), hidden);
    char response[4096];
    raw_exchange(request, (size_t)len, response, sizeof(response), 20000);
    assert_int_equal(strncmp(response, "HTTP/1.1 400 ", 13), 0);
    assert_non_null(strstr(response, "Connection: close"));
    assert_null(strstr(response + 13, "HTTP/1.1")); /* one answer only */
    assert_int_equal(harness_post(&ingest, "/1/upload", upload_auth,
                                  "{\"d\":[{\"identity\":\"after\"}]}", response, sizeof(response)),
                     200); /* Kafka works: the absence below means something */
    assert_false(topic_has_request(highs, "smuggled-1"));
    assert_false(topic_has_request(highs, "smuggled-2"));
}

/* Sends request on its own connection: the answer must be a 400 naming
 * fragment, within 15 s (the deadlines here are 30 s, so it is no timeout). */
static void expect_refused_at_once(const char *request, const char *fragment)
{
    char response[4096];
    raw_exchange(request, strlen(request), response, sizeof(response), 15000);
    assert_int_equal(strncmp(response, "HTTP/1.1 400 ", 13), 0);
    assert_non_null(strstr(response, fragment));
}

/* "Transfer-Encoding: gzip, chunked" left the client waiting 30 s (the
 * body length was unknowable); now a 400 comes at once. */
static void test_unknown_transfer_coding_answered_at_once(void **state)
{
    (void)state;
    expect_refused_at_once("POST /1/upload HTTP/1.1\r\nHost: x\r\n"
                           "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                           "X-CleverTap-Passcode: " PASSCODE "\r\n"
                           "Transfer-Encoding: gzip, chunked\r\n\r\n",
                           "Transfer-Encoding");
}

/* HTTP/1.1 requires Host; a request without it is refused. */
static void test_missing_host_refused(void **state)
{
    (void)state;
    expect_refused_at_once("POST /1/upload HTTP/1.1\r\n"
                           "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                           "X-CleverTap-Passcode: " PASSCODE "\r\n"
                           "Content-Length: 24\r\n\r\n{\"d\":[{\"identity\":\"h\"}]}",
                           "Host");
}

/* One byte of head every 200 ms keeps a connection busy but never idle:
 * head_timeout_s (2 s) ends it with a 408, whatever the trickle. */
static void test_trickled_head_is_cut_off(void **state)
{
    (void)state;
    start_with("  head_timeout_s: 2\n");
    int fd = harness_connect(ingest.port);
    assert_true(fd >= 0);
    const char *head = "POST /1/upload HTTP/1.1\r\nHost: x\r\nX-Slow: "
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    char response[1024] = "";
    int closed = 0;
    for (size_t i = 0; i < strlen(head) && !closed; i++) { /* 150 bytes: 30 s at most */
        if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1) {
            closed = 1;
            break;
        }
        closed = harness_read_to_close(fd, response, sizeof(response), 200) >= 0;
    }
    if (!closed) {
        closed = harness_read_to_close(fd, response, sizeof(response), 5000) >= 0;
    }
    close(fd);
    assert_true(closed);
    assert_int_equal(strncmp(response, "HTTP/1.1 408 ", 13), 0);
    assert_true(metric("tcb_ingest_connections_shed_total{reason=\"head_timeout\"}") >= 1);
}

/* 300 connections trickling their heads (more than max_connections, 256)
 * with a 60 s head deadline: a real client still gets its 200 at once, as
 * each new connection closes the one waiting longest for its head. */
static void test_slow_heads_do_not_starve_clients(void **state)
{
    (void)state;
    enum { SLOW = 300 };
    start_with("  head_timeout_s: 60\n");
    static int fds[SLOW];
    for (int i = 0; i < SLOW; i++) {
        fds[i] = harness_connect(ingest.port);
        assert_true(fds[i] >= 0);
        const char *start = "POST /1/upload HTTP/1.1\r\nHost: x\r\nX-Slow: a";
        ssize_t sent = send(fds[i], start, strlen(start), MSG_NOSIGNAL);
        (void)sent; /* an evicted connection may already be gone */
    }
    for (int round = 0; round < 3; round++) { /* still trickling */
        for (int i = 0; i < SLOW; i++) {
            ssize_t sent = send(fds[i], "a", 1, MSG_NOSIGNAL);
            (void)sent;
        }
        sleep_ms(100);
    }
    char response[512];
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: not-starved", NULL};
    /* harness_http gives up after 30 s, half the head deadline that would
     * otherwise be the first to free a slot. */
    assert_int_equal(harness_post(&ingest, "/1/upload", headers,
                                  "{\"d\":[{\"identity\":\"real\"}]}", response, sizeof(response)),
                     200);
    assert_true(metric("tcb_ingest_connections_shed_total{reason=\"evicted\"}") >= 1);
    for (int i = 0; i < SLOW; i++) {
        close(fds[i]);
    }
}

struct held_post {
    pthread_t thread;
    const char *body;
    int status;
};

static void *post_in_thread(void *arg)
{
    struct held_post *held = arg;
    char response[512];
    held->status =
        harness_post(&ingest, "/1/upload", upload_auth, held->body, response, sizeof(response));
    return NULL;
}

static char *upload_of_size(size_t size, const char *identity)
{
    char *body = malloc(size + 1);
    int head = snprintf(body, size + 1, "{\"d\":[{\"identity\":\"%s\",\"pad\":\"", identity);
    memset(body + head, 'x', size - (size_t)head - 4);
    memcpy(body + size - 4, "\"}]}", 5);
    return body;
}

/* Bodies held while Kafka is down count against max_inflight_bytes: past
 * it a 503 with Retry-After comes at once; once answered, the bytes are
 * free again. */
static void test_bytes_in_flight_are_capped(void **state)
{
    (void)state;
    enum { HELD = 3, BODY = 60000 };
    start_with("  max_body_bytes: 65536\n  max_inflight_bytes: 200000\n"
               "  produce_timeout_ms: 20000\n");
    assert_true(harness_broker_command(&broker, "down 1"));
    struct held_post held[HELD];
    char *bodies[HELD];
    for (int i = 0; i < HELD; i++) {
        char identity[16];
        snprintf(identity, sizeof(identity), "held-%d", i);
        bodies[i] = upload_of_size(BODY, identity);
        held[i] = (struct held_post){.body = bodies[i], .status = 0};
        pthread_create(&held[i].thread, NULL, post_in_thread, &held[i]);
    }
    for (int i = 0; i < 200 && metric("tcb_ingest_inflight_bytes") < HELD * BODY; i++) {
        sleep_ms(50);
    }
    assert_true(metric("tcb_ingest_inflight_bytes") >= HELD * BODY);
    char *extra = upload_of_size(BODY, "one-too-many");
    char request[BODY + 1024];
    int len = snprintf(request, sizeof(request),
                       "POST /1/upload HTTP/1.1\r\nHost: x\r\n"
                       "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                       "X-CleverTap-Passcode: " PASSCODE "\r\nContent-Length: %d\r\n\r\n%s",
                       BODY, extra);
    char response[4096];
    raw_exchange(request, (size_t)len, response, sizeof(response), 10000);
    assert_int_equal(strncmp(response, "HTTP/1.1 503 ", 13), 0);
    assert_non_null(strstr(response, "Retry-After: 1\r\n"));
    assert_non_null(strstr(response, "in flight"));
    assert_true(harness_broker_command(&broker, "up 1"));
    for (int i = 0; i < HELD; i++) {
        pthread_join(held[i].thread, NULL);
        free(bodies[i]);
    }
    for (int i = 0; i < 100 && metric("tcb_ingest_inflight_bytes") > 0; i++) {
        sleep_ms(50);
    }
    assert_true(metric("tcb_ingest_inflight_bytes") == 0);
    int status = 0;
    for (int attempt = 0; attempt < 20 && status != 200; attempt++) {
        status = harness_post(&ingest, "/1/upload", upload_auth, extra, response, sizeof(response));
    }
    assert_int_equal(status, 200); /* room again */
    free(extra);
}

/* 1 MiB of nested empty objects: a parsed tree of it held ~80 MB until
 * Kafka answered. Sixteen of them held at once (Kafka down) now cost about
 * their 16 MiB, and the memory goes back once they are answered. */
static void test_nested_objects_cost_their_size(void **state)
{
    (void)state;
    enum { HELD = 16, RECORDS = 60, OBJECTS = 5800 };
    start_with("  produce_timeout_ms: 20000\n");
    size_t cap = 2 * 1024 * 1024;
    char *body = malloc(cap);
    size_t used = (size_t)snprintf(body, cap, "{\"d\":[");
    for (int r = 0; r < RECORDS; r++) {
        used += (size_t)snprintf(body + used, cap - used, "%s[", r ? "," : "");
        for (int i = 0; i < OBJECTS; i++) {
            memcpy(body + used, i ? ",{}" : "{}", i ? 3 : 2);
            used += i ? 3 : 2;
        }
        body[used++] = ']';
    }
    snprintf(body + used, cap - used, "]}");
    assert_true(strlen(body) < 1048576);
    long before = harness_proc_kib(ingest.pid, "VmRSS:");
    assert_true(harness_broker_command(&broker, "down 1"));
    struct held_post held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = (struct held_post){.body = body, .status = 0};
        pthread_create(&held[i].thread, NULL, post_in_thread, &held[i]);
    }
    for (int i = 0; i < 400 && metric("tcb_ingest_queue_depth") < HELD * RECORDS; i++) {
        sleep_ms(50);
    }
    assert_true(metric("tcb_ingest_queue_depth") >= HELD * RECORDS); /* all of them held */
    long peak = harness_proc_kib(ingest.pid, "VmHWM:");
    assert_true(harness_broker_command(&broker, "up 1"));
    for (int i = 0; i < HELD; i++) {
        pthread_join(held[i].thread, NULL);
        assert_int_equal(held[i].status, 200);
    }
    long after = harness_proc_kib(ingest.pid, "VmRSS:");
    print_message("RSS before %ld KiB, peak %ld KiB, after %ld KiB\n", before, peak, after);
    /* 16 bodies and their copies in librdkafka's queue: ~32 MiB; a tree per
     * body was ~1.3 GB. The bound leaves room for ASan's own overhead. */
    assert_true(peak - before < 256 * 1024);
    free(body);
}

/* A JSON integer beyond 2^63 is valid JSON (CleverTap takes it): the record
 * goes to Kafka byte for byte, keyed by the number's text; it was a 400
 * "not valid JSON". */
static void test_big_integers_are_accepted(void **state)
{
    (void)state;
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    const char *record = "{\"identity\":98765432109876543210987,\"evtName\":\"E\","
                         "\"evtData\":{\"n\":-18446744073709551617}}";
    char body[512];
    snprintf(body, sizeof(body), "{\"d\":[%s]}", record);
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: big-int-1", NULL};
    char response[512];
    assert_int_equal(harness_post(&ingest, "/1/upload", headers, body, response, sizeof(response)),
                     200);
    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 1, &n);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].value, record);
    assert_string_equal(msgs[0].key, "98765432109876543210987");
    harness_msgs_free(msgs, n);
}

/* Authentication schemes are case-insensitive (RFC 9110): "basic" works. */
static void test_basic_scheme_any_case(void **state)
{
    (void)state;
    const char *schemes[] = {"Authorization: basic " BASIC_CREDENTIALS,
                             "Authorization: BASIC " BASIC_CREDENTIALS};
    for (size_t i = 0; i < 2; i++) {
        const char *headers[] = {schemes[i], NULL};
        char response[512];
        assert_int_equal(harness_post(&ingest, "/talon/notifications", headers,
                                      "{\"ProfileIntegrationID\":\"b\"}", response,
                                      sizeof(response)),
                         200);
    }
    const char *wrong[] = {"Authorization: Bearer " BASIC_CREDENTIALS, NULL};
    char response[512];
    assert_int_equal(
        harness_post(&ingest, "/talon/notifications", wrong, "{}", response, sizeof(response)),
        401);
}

static char *request_id_of(const int64_t *from, size_t want_index)
{
    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, from, want_index + 1, &n);
    assert_true(n > want_index);
    char *id = strdup(msgs[want_index].request_id);
    harness_msgs_free(msgs, n);
    return id;
}

/* Webhooks carry no X-UUID: the request id comes from a configured header
 * (sane values only), else, opted in, from a hash of account and body, so
 * a Talon.One retry gets the same id and the sink can drop it. */
static void test_request_id_from_header_or_body(void **state)
{
    (void)state;
    start_with("  request_id_header: \"X-Talon-Event-Id\"\n  request_id_from_body: true\n");
    const char *body = "{\"d\":[{\"identity\":\"rid\"}]}";
    char response[512];
    int64_t highs[HARNESS_MAX_PARTITIONS];

    const char *by_header[] = {upload_auth[0], upload_auth[1], "X-Talon-Event-Id: evt-42",
                               "X-UUID: not-this", NULL};
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    assert_int_equal(
        harness_post(&ingest, "/1/upload", by_header, body, response, sizeof(response)), 200);
    char *id = request_id_of(highs, 0);
    assert_string_equal(id, "evt-42");
    free(id);

    char *ids[3];
    const char *insane[] = {upload_auth[0], upload_auth[1], "X-Talon-Event-Id: has space", NULL};
    const char *bodies[] = {body, body, "{\"d\":[{\"identity\":\"rid\"}] }"};
    for (int i = 0; i < 3; i++) { /* the same body twice, then another */
        assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
        assert_int_equal(harness_post(&ingest, "/1/upload", i == 0 ? insane : upload_auth,
                                      bodies[i], response, sizeof(response)),
                         200);
        ids[i] = request_id_of(highs, 0);
        assert_int_equal(strncmp(ids[i], "sha256:", 7), 0);
    }
    assert_string_equal(ids[0], ids[1]);
    assert_string_not_equal(ids[1], ids[2]);
    for (int i = 0; i < 3; i++) {
        free(ids[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_responses_are_well_formed),
        cmocka_unit_test(test_smuggled_request_is_not_processed),
        cmocka_unit_test(test_unknown_transfer_coding_answered_at_once),
        cmocka_unit_test(test_missing_host_refused),
        cmocka_unit_test(test_big_integers_are_accepted),
        cmocka_unit_test(test_basic_scheme_any_case),
        cmocka_unit_test(test_trickled_head_is_cut_off),
        cmocka_unit_test(test_slow_heads_do_not_starve_clients),
        cmocka_unit_test(test_bytes_in_flight_are_capped),
        cmocka_unit_test(test_nested_objects_cost_their_size),
        cmocka_unit_test(test_request_id_from_header_or_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
