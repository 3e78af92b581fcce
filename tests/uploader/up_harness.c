/* The uploader tests' harness: an emulator child process on loopback, a config
 * pointing at it, an outcome collector and a reader for the emulator's record
 * file. Every failure fails the running cmocka test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/uploader/up_harness.h"

#include "config/config.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 48

int up_emu_start(struct tcb_test_emu *emu, int port, const char *passcode, const char *const *extra)
{
    char account[128];
    snprintf(account, sizeof(account), "%s:%s", UP_ACCOUNT_ID, passcode ? passcode : UP_PASSCODE);
    const char *args[MAX_ARGS] = {"--account", account, "--log-level", "error"};
    int n = 4;
    for (int i = 0; extra && extra[i] && n < MAX_ARGS - 1; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    return tcb_test_emu_launch(emu, port, args);
}

int up_emu_stop(struct tcb_test_emu *emu)
{
    return tcb_test_emu_halt(emu, SIGTERM) == 0 ? 0 : -1;
}

struct tcb_config *up_config(int port, int max_in_flight, const char *extra_sink,
                             const char *extra_clevertap)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "clevertap:\n"
             "  accounts:\n"
             "    - name: \"shop\"\n"
             "      account_id: \"%s\"\n"
             "      passcode: \"%s\"\n"
             "      region: \"eu1\"\n"
             "      endpoint: \"http://127.0.0.1:%d\"\n"
             "      max_in_flight: %d\n"
             "%s"
             "sink:\n"
             "%s",
             UP_ACCOUNT_ID, UP_PASSCODE, port, max_in_flight, extra_clevertap, extra_sink);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("uploader-test", yaml, strlen(yaml), &diag);
    for (size_t i = 0; i < diag.count; i++) {
        fprintf(stderr, "%s\n", diag.lines[i]);
    }
    tcb_config_diag_free(&diag);
    assert_non_null(cfg);
    return cfg;
}

void up_outcomes_init(struct up_outcomes *o, size_t capacity)
{
    memset(o, 0, sizeof(*o));
    o->capacity = capacity;
    o->count = calloc(capacity, sizeof(int));
    o->abandoned = calloc(capacity, sizeof(int));
    o->result = calloc(capacity, sizeof(int));
    o->code = calloc(capacity, sizeof(int));
    o->http_status = calloc(capacity, sizeof(int));
    o->attempts = calloc(capacity, sizeof(int));
    assert_true(o->count && o->abandoned && o->result && o->code && o->http_status && o->attempts);
}

void up_outcomes_free(struct up_outcomes *o)
{
    free(o->count);
    free(o->abandoned);
    free(o->result);
    free(o->code);
    free(o->http_status);
    free(o->attempts);
    memset(o, 0, sizeof(*o));
}

void up_outcomes_cb(void *ctx, const struct tcb_upload_tag *tag,
                    const struct tcb_upload_outcome *outcome)
{
    struct up_outcomes *o = ctx;
    assert_true(tag->offset >= 0 && (size_t)tag->offset < o->capacity);
    size_t i = (size_t)tag->offset;
    assert_non_null(outcome->text);
    assert_null(strstr(outcome->text, UP_PASSCODE));
    if (outcome->result == TCB_UPLOAD_ABANDONED) {
        o->abandoned[i]++;
        return;
    }
    o->count[i]++;
    o->finals++;
    o->result[i] = (int)outcome->result;
    o->code[i] = outcome->code;
    o->http_status[i] = outcome->http_status;
    o->attempts[i] = outcome->attempts;
}

size_t up_event(char *buf, size_t cap, long id, int key)
{
    int n = snprintf(buf, cap,
                     "{\"type\":\"event\",\"identity\":\"user-%d\",\"evtName\":\"Coupon "
                     "Generated\",\"evtData\":{\"seq\":%ld,\"CouponCode\":\"C-%ld\"}}",
                     key, id, id);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

size_t up_run_until(struct tcb_uploader *up, struct up_outcomes *o, size_t want, int deadline_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (o->finals < want) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= deadline_ms) {
            break;
        }
        assert_true(tcb_uploader_run(up, 50) >= 0);
    }
    return o->finals;
}

size_t up_recorded(const struct tcb_test_emu *emu, int *counts, size_t n, long *order)
{
    FILE *f = fopen(emu->record_path, "r");
    if (!f) {
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    size_t lines = 0;
    size_t ordered = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *doc = json_loads(line, 0, NULL);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "account")), UP_ACCOUNT_ID);
        json_t *seq =
            json_object_get(json_object_get(json_object_get(doc, "record"), "evtData"), "seq");
        if (json_is_integer(seq) && json_integer_value(seq) >= 0 &&
            (size_t)json_integer_value(seq) < n) {
            long id = (long)json_integer_value(seq);
            counts[id]++;
            if (order && ordered < n) {
                order[ordered++] = id;
            }
        }
        json_decref(doc);
        lines++;
    }
    free(line);
    fclose(f);
    return lines;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    char *buf = userp;
    size_t have = strlen(buf);
    size_t n = size * nmemb;
    size_t room = 8191 - have;
    memcpy(buf + have, data, n < room ? n : room);
    buf[have + (n < room ? n : room)] = '\0';
    return n;
}

long up_emu_stat(const struct tcb_test_emu *emu, const char *group, const char *key)
{
    char url[64];
    char *body = calloc(1, 8192);
    assert_non_null(body);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats", emu->port);
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    long value = -1;
    json_t *doc = rc == CURLE_OK ? json_loads(body, 0, NULL) : NULL;
    json_t *parent = doc;
    if (group) {
        parent = json_object_get(doc, group);
        if (strcmp(group, "accounts") == 0) {
            parent = json_object_get(parent, UP_ACCOUNT_ID);
        }
    }
    json_t *count = json_object_get(parent, key);
    if (json_is_integer(count)) {
        value = (long)json_integer_value(count);
    }
    json_decref(doc);
    free(body);
    return value;
}
