/* Integration tests of the real talon-ingest against kafka-dev-broker on
 * loopback: what a 2xx request puts on the topic (key, headers, value), each
 * error status and its cause, a Kafka outage (503, then recovery), SIGTERM,
 * SIGKILL under load losing no acknowledged record, and no secret anywhere. */
#include "tests/ingest/ingest_harness.h"

#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define TOPIC          "talon.webhooks"
#define ACCOUNT_ID     "W9R-TEST-001Z"
#define PASSCODE       "pc-Zq81-secret-passcode"
#define SECRET         "notif-Xy77-shared-secret"
#define SECRET_HEADER  "X-Talon-Secret"
#define MAX_BODY_BYTES 8192

static struct harness_broker broker;
static struct harness_ingest ingest;
static char yaml[4096];
static char first_log[512]; /* the log of the first daemon, checked at the end */
static int restarts;

static const char *const upload_auth[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID,
                                          "X-CleverTap-Passcode: " PASSCODE,
                                          "Content-Type: application/json", NULL};

/* kafka_extra: more lines of the kafka section ("" for none). */
static void write_yaml(const char *kafka_extra)
{
    snprintf(yaml, sizeof(yaml),
             "kafka:\n"
             "  brokers: \"%s\"\n"
             "  topic: \"" TOPIC "\"\n"
             "%s"
             "clevertap:\n"
             "  accounts:\n"
             "    - name: \"shop-eu\"\n"
             "      account_id: \"" ACCOUNT_ID "\"\n"
             "      passcode: \"" PASSCODE "\"\n"
             "      region: \"eu1\"\n"
             "    - name: \"shop-us\"\n"
             "      account_id: \"W9R-TEST-002Z\"\n"
             "      passcode: \"other-passcode\"\n"
             "      region: \"us1\"\n"
             "ingest:\n"
             "  listen: \"127.0.0.1:0\"\n"
             "  metrics_listen: \"127.0.0.1:0\"\n"
             "  max_body_bytes: %d\n"
             "  produce_timeout_ms: 1500\n"
             "  connection_timeout_s: 2\n"
             "  head_timeout_s: 2\n"
             "  body_timeout_s: 2\n"
             "  notification_secret: \"" SECRET "\"\n"
             "  notification_secret_header: \"" SECRET_HEADER "\"\n"
             "  notification_account: \"shop-eu\"\n"
             "log:\n"
             "  level: \"debug\"\n"
             "  format: \"json\"\n",
             broker.bootstrap, kafka_extra, MAX_BODY_BYTES);
}

static int start_ingest(void)
{
    char name[32];
    snprintf(name, sizeof(name), "ingest-%d", restarts++);
    return harness_ingest_start(&ingest, name, yaml);
}

static int setup(void **state)
{
    if (harness_broker_start(&broker, TOPIC ":4") != 0) {
        return -1;
    }
    write_yaml("");
    if (start_ingest() != 0) {
        return -1;
    }
    snprintf(first_log, sizeof(first_log), "%s", ingest.log_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_teardown(&ingest, &broker);
    return 0;
}

static int post(const char *path, const char *const *headers, const char *body, char *response,
                size_t response_len)
{
    return harness_post(&ingest, path, headers, body, response, response_len);
}

static void wait_ready(int want)
{
    char body[256];
    for (int i = 0; i < 400; i++) {
        int status =
            harness_http(ingest.ops_port, "GET", "/readyz", NULL, NULL, 0, body, sizeof(body));
        if ((status == 200) == want) {
            return;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("/readyz never became %s", want ? "ready" : "not ready");
}

static const struct harness_msg *find_by(const struct harness_msg *msgs, size_t n,
                                         const char *request_id, const char *index)
{
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].request_id && strcmp(msgs[i].request_id, request_id) == 0 &&
            msgs[i].record_index && strcmp(msgs[i].record_index, index) == 0) {
            return &msgs[i];
        }
    }
    return NULL;
}

/* A 200 means every record is on the topic, keyed by its identity (else the
 * request id), with the account, request id, index and receive time. */
static void test_upload_records_reach_kafka(void **state)
{
    int64_t highs[HARNESS_MAX_PARTITIONS];
    int partitions = harness_watermarks(broker.bootstrap, TOPIC, highs);
    assert_int_equal(partitions, 4);
    const char *body =
        "{\"d\":[{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":\"Talon.One\","
        "\"identity\":\"p1\",\"evtData\":{\"CouponGenerated\":\"X1\",\"v\":0.1}},\n"
        "  {\"type\":\"profile\",\"objectId\":\"obj-2\",\"profileData\":{\"Name\":\"A\"}},\n"
        "  {\"type\":\"event\",\"evtName\":\"no identity\"}]}";
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: req-upload-1", NULL};
    char response[512];
    long long before = (long long)time(NULL) * 1000;
    assert_int_equal(post("/1/upload", headers, body, response, sizeof(response)), 200);
    json_t *answer = json_loads(response, 0, NULL);
    assert_non_null(answer);
    assert_string_equal(json_string_value(json_object_get(answer, "status")), "success");
    assert_int_equal(json_integer_value(json_object_get(answer, "processed")), 3);
    assert_int_equal(json_array_size(json_object_get(answer, "unprocessed")), 0);
    json_decref(answer);

    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 3, &n);
    assert_int_equal(n, 3);
    static const struct {
        const char *index;
        const char *key;
        const char *value;
    } expected[] = {
        {"0", "p1",
         "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":\"Talon.One\","
         "\"identity\":\"p1\",\"evtData\":{\"CouponGenerated\":\"X1\",\"v\":0.1}}"},
        {"1", "obj-2",
         "{\"type\":\"profile\",\"objectId\":\"obj-2\",\"profileData\":{\"Name\":\"A\"}}"},
        {"2", "req-upload-1", "{\"type\":\"event\",\"evtName\":\"no identity\"}"},
    };
    for (size_t i = 0; i < 3; i++) {
        const struct harness_msg *msg = find_by(msgs, n, "req-upload-1", expected[i].index);
        assert_non_null(msg);
        assert_string_equal(msg->key, expected[i].key);
        assert_string_equal(msg->value, expected[i].value);
        assert_string_equal(msg->account, "shop-eu");
        assert_non_null(msg->received_at);
        assert_true(strtoll(msg->received_at, NULL, 10) >= before - 1000);
    }
    harness_msgs_free(msgs, n);
}

/* Without X-UUID every record of a request shares one generated id. */
static void test_generated_request_id(void **state)
{
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    char response[512];
    assert_int_equal(
        post("/1/upload", upload_auth, "{\"d\":[{\"x\":1},{\"x\":2}]}", response, sizeof(response)),
        200);
    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 2, &n);
    assert_int_equal(n, 2);
    assert_non_null(msgs[0].request_id);
    assert_int_equal(strlen(msgs[0].request_id), 36);
    assert_string_equal(msgs[0].request_id, msgs[1].request_id);
    assert_string_equal(msgs[0].key, msgs[0].request_id); /* no identity: keyed by request */
    harness_msgs_free(msgs, n);
}

static char *read_example(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "tests/ingest/data/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Notifications: the whole body as one message, keyed by the profile
 * integration id, authenticated by the secret header or Basic auth. */
static void test_notifications(void **state)
{
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    char response[512];
    const char *by_header[] = {SECRET_HEADER ": " SECRET, "X-UUID: notif-1", NULL};
    char *tier = strdup(read_example("tierUpgradeNotification.json"));
    assert_int_equal(post("/talon/notifications", by_header, tier, response, sizeof(response)),
                     200);
    /* Basic auth: any user, the secret as password (base64 of "talon:<SECRET>"). */
    char basic[256];
    const char *creds = "talon:" SECRET;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(creds);
    size_t o = (size_t)snprintf(basic, sizeof(basic), "Authorization: Basic ");
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)creds[i] << 16;
        v |= i + 1 < len ? (unsigned char)creds[i + 1] << 8 : 0;
        v |= i + 2 < len ? (unsigned char)creds[i + 2] : 0;
        basic[o++] = b64[(v >> 18) & 63];
        basic[o++] = b64[(v >> 12) & 63];
        basic[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        basic[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    basic[o] = '\0';
    const char *by_basic[] = {basic, "X-UUID: notif-2", NULL};
    char *campaign = strdup(read_example("campaignCreatedNotification.json"));
    assert_int_equal(post("/talon/notifications", by_basic, campaign, response, sizeof(response)),
                     200);

    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 2, &n);
    assert_int_equal(n, 2);
    const struct harness_msg *first = find_by(msgs, n, "notif-1", "0");
    assert_non_null(first);
    assert_string_equal(first->key, "URNGV8294NV");
    assert_string_equal(first->value, tier);
    assert_string_equal(first->account, "shop-eu");
    const struct harness_msg *second = find_by(msgs, n, "notif-2", "0");
    assert_non_null(second);
    assert_string_equal(second->key, "notif-2"); /* no profile: keyed by the request id */
    assert_string_equal(second->value, campaign);
    harness_msgs_free(msgs, n);
    free(tier);
    free(campaign);
}

static void expect_status(const char *path, const char *const *headers, const char *body,
                          int status, const char *error_fragment)
{
    char response[1024];
    int got = post(path, headers, body, response, sizeof(response));
    if (got != status) {
        fail_msg("%s: expected %d, got %d (%s)", path, status, got, response);
    }
    if (error_fragment && strstr(response, error_fragment) == NULL) {
        fail_msg("%s %d: '%s' not in %s", path, status, error_fragment, response);
    }
}

/* Each rejection with its cause; none of them writes to Kafka. */
static void test_rejections(void **state)
{
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    const char *ok_body = "{\"d\":[{\"identity\":\"r\"}]}";
    const char *wrong_pass[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID,
                                "X-CleverTap-Passcode: " PASSCODE "x", NULL};
    const char *other_pass[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID,
                                "X-CleverTap-Passcode: other-passcode", NULL};
    const char *unknown[] = {"X-CleverTap-Account-Id: NOPE", "X-CleverTap-Passcode: " PASSCODE,
                             NULL};
    const char *no_pass[] = {"X-CleverTap-Account-Id: " ACCOUNT_ID, NULL};
    expect_status("/1/upload", wrong_pass, ok_body, 401, "\"code\":401");
    expect_status("/1/upload", other_pass, ok_body, 401, "not valid");
    expect_status("/1/upload", unknown, ok_body, 401, "not valid");
    expect_status("/1/upload", no_pass, ok_body, 401, "not valid");
    expect_status("/1/upload", NULL, ok_body, 401, "not valid");
    expect_status("/1/upload", upload_auth, "{\"d\":[{\"identity\":", 400, "not valid JSON");
    expect_status("/1/upload", upload_auth, "<xml/>", 400, "not valid JSON");
    expect_status("/1/upload", upload_auth, "", 400, "not valid JSON"); /* no body at all */
    expect_status("/1/upload", upload_auth, "{\"data\":[]}", 400, "no d array");
    expect_status("/1/upload", upload_auth, "{\"d\":{\"identity\":\"x\"}}", 400, "no d array");

    static char big[MAX_BODY_BYTES + 100];
    memset(big, ' ', sizeof(big) - 1);
    snprintf(big, sizeof(big), "{\"d\":["); /* {"d":[ ...spaces... ]} */
    big[6] = ' ';
    big[sizeof(big) - 3] = ']';
    big[sizeof(big) - 2] = '}';
    expect_status("/1/upload", upload_auth, big, 413, "too large");
    static char many[4000];
    size_t used = (size_t)snprintf(many, sizeof(many), "{\"d\":[");
    for (int i = 0; i <= 1000; i++) {
        used += (size_t)snprintf(many + used, sizeof(many) - used, "%s", i ? ",1" : "1");
    }
    snprintf(many + used, sizeof(many) - used, "]}");
    expect_status("/1/upload", upload_auth, many, 413, "1000");

    const char *chunked[] = {upload_auth[0], upload_auth[1], "Transfer-Encoding: chunked", NULL};
    expect_status("/1/upload", chunked, big, 413, "too large"); /* no Content-Length to check */
    expect_status("/1/upload", chunked, ok_body, 200, NULL);
    expect_status("/1/upload", upload_auth, "{\"d\":[]}", 200, "\"processed\":0");

    const char *wrong_secret[] = {SECRET_HEADER ": not-it", NULL};
    expect_status("/talon/notifications", wrong_secret, "{}", 401, "not valid");
    expect_status("/talon/notifications", NULL, "{}", 401, "not valid");
    const char *secret[] = {SECRET_HEADER ": " SECRET, NULL};
    expect_status("/talon/notifications", secret, "[1,2]", 400, "JSON object");
    expect_status("/talon/notifications", secret, "nope", 400, "JSON object");
    expect_status("/talon/notifications", secret, "", 400, "JSON object");
    expect_status("/nowhere", upload_auth, ok_body, 404, NULL);
    char response[256];
    assert_int_equal(harness_http(ingest.port, "GET", "/1/upload", upload_auth, NULL, 0, response,
                                  sizeof(response)),
                     405);

    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 1, &n);
    assert_int_equal(n, 1); /* only the chunked 200 */
    assert_string_equal(msgs[0].value, "{\"identity\":\"r\"}");
    harness_msgs_free(msgs, n);
}

/* A record above Kafka's message size can never be written: 413 (Talon.One
 * does not retry it) rather than a 503 retried in vain, and the request's
 * other records still reach the topic. */
static void test_record_too_large_for_kafka(void **state)
{
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    write_yaml("  properties:\n    message.max.bytes: \"2000\"\n");
    assert_int_equal(start_ingest(), 0);
    wait_ready(1);
    int64_t highs[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(broker.bootstrap, TOPIC, highs), 4);
    char filler[3001];
    memset(filler, 'x', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    char body[4096];
    snprintf(body, sizeof(body),
             "{\"d\":[{\"identity\":\"small-1\"},{\"identity\":\"big\",\"evtData\":{\"x\":\"%s\"}},"
             "{\"identity\":\"small-2\"}]}",
             filler);
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: too-large-1", NULL};
    expect_status("/1/upload", headers, body, 413, "message.max.bytes");
    snprintf(body, sizeof(body), "{\"d\":[{\"identity\":\"big\",\"evtData\":{\"x\":\"%s\"}}]}",
             filler);
    expect_status("/1/upload", upload_auth, body, 413, "message.max.bytes");
    snprintf(body, sizeof(body), "{\"ProfileIntegrationID\":\"p\",\"Data\":\"%s\"}", filler);
    const char *secret[] = {SECRET_HEADER ": " SECRET, NULL};
    expect_status("/talon/notifications", secret, body, 413, "message.max.bytes");

    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, highs, 2, &n);
    assert_int_equal(n, 2);
    assert_non_null(find_by(msgs, n, "too-large-1", "0"));
    assert_non_null(find_by(msgs, n, "too-large-1", "2"));
    harness_msgs_free(msgs, n);

    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    write_yaml("");
    assert_int_equal(start_ingest(), 0);
}

static int connect_raw(void)
{
    int fd = harness_connect(ingest.port);
    assert_true(fd >= 0);
    return fd;
}

/* A client that never finishes its headers gets a 408 and is disconnected
 * (head_timeout_s), not waited for forever. */
static void test_slow_client_is_cut_off(void **state)
{
    int fd = connect_raw();
    const char *partial = "POST /1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Clever";
    assert_int_equal(send(fd, partial, strlen(partial), 0), (ssize_t)strlen(partial));
    char buf[1024];
    assert_true(harness_read_to_close(fd, buf, sizeof(buf), 30000) > 0); /* the deadline: 2 s */
    assert_int_equal(strncmp(buf, "HTTP/1.1 408 ", 13), 0);
    close(fd);
}

/* A client trickling its body (each byte well within the idle timeout) is
 * cut off once the body takes longer than connection_timeout_s. */
static void test_trickling_body_is_cut_off(void **state)
{
    int fd = connect_raw();
    const char *head = "POST /1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "X-CleverTap-Account-Id: " ACCOUNT_ID "\r\n"
                       "X-CleverTap-Passcode: " PASSCODE "\r\nContent-Length: 200\r\n\r\n";
    assert_int_equal(send(fd, head, strlen(head), 0), (ssize_t)strlen(head));
    int closed = 0;
    for (int i = 0; i < 200 && !closed; i++) { /* 200 bytes, one per 100 ms: 20 s */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) == 1) {
            char buf[256];
            closed = recv(fd, buf, sizeof(buf), 0) <= 0;
        } else {
            closed = send(fd, " ", 1, MSG_NOSIGNAL) != 1;
        }
    }
    close(fd);
    assert_true(closed);
}

static void test_operations_endpoints(void **state)
{
    char body[65536];
    assert_int_equal(
        harness_http(ingest.ops_port, "GET", "/healthz", NULL, NULL, 0, body, sizeof(body)), 200);
    wait_ready(1);
    assert_int_equal(
        harness_http(ingest.ops_port, "GET", "/metrics", NULL, NULL, 0, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "tcb_ingest_requests_total{route=\"upload\",status=\"200\"}"));
    assert_non_null(strstr(body, "tcb_ingest_requests_total{route=\"upload\",status=\"401\"}"));
    assert_non_null(strstr(body, "tcb_ingest_records_produced_total"));
    assert_non_null(strstr(body, "tcb_ingest_produce_latency_seconds_count"));
    assert_non_null(strstr(body, "tcb_ingest_queue_depth"));
}

/* Kafka down: a clear 503 (never a hang) and /readyz false; back up: 200. */
static void test_kafka_outage(void **state)
{
    const char *body = "{\"d\":[{\"identity\":\"outage\"}]}";
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: outage-1", NULL};
    char response[512];
    assert_true(harness_broker_command(&broker, "down 1"));
    assert_int_equal(post("/1/upload", headers, body, response, sizeof(response)), 503);
    assert_non_null(strstr(response, "\"code\":503"));
    wait_ready(0);
    assert_true(harness_broker_command(&broker, "up 1"));
    wait_ready(1);
    int status = 0;
    for (int attempt = 0; attempt < 20 && status != 200; attempt++) {
        status = post("/1/upload", headers, body, response, sizeof(response));
    }
    assert_int_equal(status, 200);
}

struct pending_post {
    pthread_t thread;
    int status;
};

static void *post_during_outage(void *arg)
{
    struct pending_post *pending = arg;
    const char *headers[] = {upload_auth[0], upload_auth[1], "X-UUID: stopping-1", NULL};
    char response[256];
    pending->status =
        post("/1/upload", headers, "{\"d\":[{\"identity\":\"s\"}]}", response, sizeof(response));
    return NULL;
}

/* SIGTERM while a request waits for an unreachable Kafka: the client gets
 * its 503 (no 2xx for an unacknowledged record, no hang), /readyz says
 * "shutting down" meanwhile, and the daemon exits 0. */
static void test_sigterm_answers_waiting_requests(void **state)
{
    assert_true(harness_broker_command(&broker, "down 1"));
    struct pending_post pending = {.status = 0};
    pthread_create(&pending.thread, NULL, post_during_outage, &pending);
    char body[4096];
    for (int i = 0; i < 400; i++) { /* until the request waits for Kafka */
        harness_http(ingest.ops_port, "GET", "/metrics", NULL, NULL, 0, body, sizeof(body));
        if (strstr(body, "tcb_ingest_queue_depth 1") != NULL) {
            break;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* While it drains, /readyz takes the instance out of rotation. */
    kill(ingest.pid, SIGTERM);
    int seen_shutting_down = 0;
    for (int i = 0; i < 100 && !seen_shutting_down; i++) {
        if (harness_http(ingest.ops_port, "GET", "/readyz", NULL, NULL, 0, body, sizeof(body)) ==
                503 &&
            strstr(body, "shutting down") != NULL) {
            seen_shutting_down = 1;
        }
    }
    assert_true(seen_shutting_down);
    assert_int_equal(harness_ingest_stop(&ingest, SIGTERM), 0);
    pthread_join(pending.thread, NULL);
    assert_int_equal(pending.status, 503);
    assert_true(harness_broker_command(&broker, "up 1"));
    assert_int_equal(start_ingest(), 0);
    wait_ready(1);
}

struct loader {
    int id;
    volatile int *stop;
    char acked[4096][64];
    volatile int acked_count;
};

static void *load(void *arg)
{
    struct loader *loader = arg;
    for (int i = 0; !*loader->stop && loader->acked_count < 4096; i++) {
        char uuid[64];
        char header[96];
        char body[256];
        snprintf(uuid, sizeof(uuid), "kill-%d-%d", loader->id, i);
        snprintf(header, sizeof(header), "X-UUID: %s", uuid);
        snprintf(body, sizeof(body),
                 "{\"d\":[{\"type\":\"event\",\"evtName\":\"E\",\"identity\":\"%s\","
                 "\"evtData\":{}},{\"identity\":\"%s-b\"}]}",
                 uuid, uuid);
        const char *headers[] = {upload_auth[0], upload_auth[1], header, NULL};
        char response[256];
        if (post("/1/upload", headers, body, response, sizeof(response)) == 200) {
            snprintf(loader->acked[loader->acked_count++], 64, "%s", uuid);
        } else if (*loader->stop) {
            break;
        }
    }
    return NULL;
}

/* SIGKILL while clients are writing: every request answered 200 has both of
 * its records on the topic. */
static void test_sigkill_loses_no_acknowledged_record(void **state)
{
    enum { LOADERS = 4, ACKS_BEFORE_KILL = 200 };
    static struct loader loaders[LOADERS];
    volatile int stop = 0;
    pthread_t threads[LOADERS];
    for (int i = 0; i < LOADERS; i++) {
        loaders[i].id = i;
        loaders[i].stop = &stop;
        loaders[i].acked_count = 0;
        pthread_create(&threads[i], NULL, load, &loaders[i]);
    }
    for (int waited = 0; waited < 600; waited++) {
        int total = 0;
        for (int i = 0; i < LOADERS; i++) {
            total += loaders[i].acked_count;
        }
        if (total >= ACKS_BEFORE_KILL) {
            break;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(harness_ingest_stop(&ingest, SIGKILL), 128 + SIGKILL);
    stop = 1;
    int total = 0;
    for (int i = 0; i < LOADERS; i++) {
        pthread_join(threads[i], NULL);
        total += loaders[i].acked_count;
    }
    assert_true(total >= ACKS_BEFORE_KILL);

    size_t n = 0;
    struct harness_msg *msgs =
        harness_consume(broker.bootstrap, TOPIC, NULL, (size_t)total * 2, &n);
    for (int i = 0; i < LOADERS; i++) {
        for (int j = 0; j < loaders[i].acked_count; j++) {
            const char *uuid = loaders[i].acked[j];
            if (find_by(msgs, n, uuid, "0") == NULL || find_by(msgs, n, uuid, "1") == NULL) {
                fail_msg("acknowledged request %s is not on the topic", uuid);
            }
        }
    }
    harness_msgs_free(msgs, n);
    assert_int_equal(start_ingest(), 0);
}

/* Neither the passcode nor the notification secret reaches Kafka or a log. */
static void test_no_secret_anywhere(void **state)
{
    size_t n = 0;
    struct harness_msg *msgs = harness_consume(broker.bootstrap, TOPIC, NULL, 1, &n);
    assert_true(n > 0);
    const char *secrets[] = {PASSCODE, SECRET, "other-passcode"};
    for (size_t i = 0; i < n; i++) {
        const char *fields[] = {msgs[i].key,        msgs[i].value,        msgs[i].account,
                                msgs[i].request_id, msgs[i].record_index, msgs[i].received_at};
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            for (size_t s = 0; fields[f] && s < 3; s++) {
                assert_null(strstr(fields[f], secrets[s]));
            }
        }
    }
    harness_msgs_free(msgs, n);
    char log[512];
    for (int r = 0; r < restarts; r++) {
        snprintf(log, sizeof(log), "%s/ingest-%d.log", harness_tmpdir(), r);
        for (size_t s = 0; s < 3; s++) {
            assert_false(harness_file_contains(log, secrets[s]));
        }
    }
    assert_true(harness_file_contains(first_log, "ingest.started")); /* the logs were written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_records_reach_kafka),
        cmocka_unit_test(test_generated_request_id),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_slow_client_is_cut_off),
        cmocka_unit_test(test_trickling_body_is_cut_off),
        cmocka_unit_test(test_operations_endpoints),
        cmocka_unit_test(test_kafka_outage),
        cmocka_unit_test(test_sigterm_answers_waiting_requests),
        cmocka_unit_test(test_sigkill_loses_no_acknowledged_record),
        cmocka_unit_test(test_record_too_large_for_kafka), /* restarts the daemon */
        cmocka_unit_test(test_no_secret_anywhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
