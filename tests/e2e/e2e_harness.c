/* The reliability suite's harness: the fixture's real broker (topics, outages),
 * the three-account environment and configuration, webhook clients, and the
 * checks of what reached CleverTap and the dead-letter topic. Loopback only. */
#include "tests/e2e/e2e_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int e2e_run_group(const char *name, const struct CMUnitTest *tests, size_t count)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = _cmocka_run_group_tests(name, tests, count, NULL, sink_group_teardown);
    curl_global_cleanup();
    return rc;
}

const char *e2e_slow_drain(int batch_records, int max_pending)
{
    static char text[256];
    snprintf(text, sizeof(text),
             "  batch: { max_records: %d, linger_ms: 20 }\n"
             "  max_pending_records: %d\n"
             "  max_records_per_message: 1000\n",
             batch_records, max_pending);
    return text;
}

const char *e2e_bootstrap(void)
{
    const char *b = getenv("TCB_E2E_BOOTSTRAP");
    return b && *b ? b : "127.0.0.1:29092";
}

static void run_fixture_script(const char *script)
{
    const char *src = getenv("TCB_SOURCE_DIR");
    const char *work = getenv("TCB_E2E_KAFKA_WORK");
    if (!src || !work) {
        fail_msg("TCB_SOURCE_DIR and TCB_E2E_KAFKA_WORK must name the fixture (ctest sets them)");
    }
    char command[2048];
    snprintf(command, sizeof(command), "bash %s/tests/e2e/kafka/%s %s >>%s/logs/%s.log 2>&1", src,
             script, work, work, script);
    int status = system(command); /* NOLINT(cert-env33-c): the fixture's own scripts */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("%s failed (see %s/logs)", script, work);
    }
}

void e2e_broker_halt(void)
{
    run_fixture_script("halt.sh");
}

void e2e_broker_restart(void)
{
    run_fixture_script("restart.sh");
}

void e2e_create_topic(const char *bootstrap, const char *topic, int partitions,
                      const char *max_message_bytes)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_NewTopic_t *topic_spec = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    assert_non_null(topic_spec);
    if (max_message_bytes) {
        assert_int_equal(
            rd_kafka_NewTopic_set_config(topic_spec, "max.message.bytes", max_message_bytes), 0);
    }
    rd_kafka_AdminOptions_t *options =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, 20000, err, sizeof(err));
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &topic_spec, 1, options, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 30000);
    assert_non_null(event);
    const rd_kafka_CreateTopics_result_t *result = rd_kafka_event_CreateTopics_result(event);
    assert_non_null(result);
    size_t count = 0;
    const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(result, &count);
    assert_int_equal(count, 1);
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(topics[0]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail_msg("create topic %s: %s", topic, rd_kafka_err2str(code));
    }
    rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(topic_spec);
    rd_kafka_destroy(rk);
    /* Wait until every partition has a leader that answers. */
    int64_t highs[HARNESS_MAX_PARTITIONS];
    for (long long deadline = sink_now_ms() + 30000; sink_now_ms() < deadline; sink_sleep_ms(100)) {
        if (harness_watermarks(bootstrap, topic, highs) == partitions) {
            return;
        }
    }
    fail_msg("topic %s never served its %d partitions", topic, partitions);
}

/* The emulator's arguments: the third account, then extra. */
static void with_third_account(const char *const *extra, const char **args, int cap)
{
    int n = 0;
    args[n++] = "--account";
    args[n++] = E2E_ACCOUNT_3 ":" E2E_PASSCODE_3;
    for (int i = 0; extra && extra[i] && n < cap - 1; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
}

void e2e_env_start_dev_broker(struct sink_env *env, int partitions, const char *const *emu_args)
{
    const char *args[32];
    with_third_account(emu_args, args, 32);
    sink_env_start(env, partitions, args);
}

void e2e_env_start(struct sink_env *env, const char *scenario, int partitions,
                   const char *const *emu_args, const char *topic_max_bytes)
{
    e2e_env_start_at(env, e2e_bootstrap(), scenario, partitions, emu_args, topic_max_bytes);
}

void e2e_env_start_at(struct sink_env *env, const char *bootstrap, const char *scenario,
                      int partitions, const char *const *emu_args, const char *topic_max_bytes)
{
    char topic[128], dlq[160], group[128];
    snprintf(topic, sizeof(topic), "e2e.%s.%d", scenario, (int)getpid());
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(group, sizeof(group), "e2e-%s-%d", scenario, (int)getpid());
    const char *args[32];
    with_third_account(emu_args, args, 32);
    sink_env_start_on(env, bootstrap, topic, dlq, group, partitions, args);
    e2e_create_topic(env->broker.bootstrap, env->topic, partitions, topic_max_bytes);
    e2e_create_topic(env->broker.bootstrap, env->dlq, 1, NULL);
}

struct sink_opts e2e_opts(const struct sink_env *env, const struct sink_opts *base)
{
    static char accounts[512];
    static char tail[4096];
    struct sink_opts o = {0};
    if (base) {
        o = *base;
    }
    snprintf(accounts, sizeof(accounts),
             "    - { name: \"three\", account_id: \"" E2E_ACCOUNT_3
             "\", passcode: \"" E2E_PASSCODE_3 "\", region: \"in1\",\n"
             "        endpoint: \"%s://127.0.0.1:%d\", max_in_flight: %d }\n%s",
             o.https ? "https" : "http", env->emu.port, o.max_in_flight ? o.max_in_flight : 15,
             o.accounts_extra ? o.accounts_extra : "");
    snprintf(tail, sizeof(tail),
             "ingest:\n"
             "  listen: \"127.0.0.1:0\"\n"
             "  metrics_listen: \"127.0.0.1:0\"\n"
             "  notification_secret: \"" E2E_SECRET "\"\n"
             "  notification_account: \"three\"\n"
             "  request_id_header: \"X-Request-Id\"\n"
             "  produce_timeout_ms: 5000\n"
             "%s%s",
             o.ingest_extra ? o.ingest_extra : "", o.tail ? o.tail : "");
    o.accounts_extra = accounts;
    o.tail = tail;
    return o;
}

void e2e_ingest_start(struct harness_ingest *ingest, const struct sink_env *env, const char *name,
                      const struct sink_opts *opts)
{
    char *yaml = sink_config_text(env, opts);
    int rc = harness_ingest_start(ingest, name, yaml);
    free(yaml);
    if (rc != 0) {
        fail_msg("talon-ingest %s did not start (log %s)", name, ingest->log_path);
    }
}

void e2e_pipeline_start(struct e2e_pipeline *p, const char *scenario, int partitions,
                        const char *const *emu_args, const char *topic_max_bytes,
                        const struct sink_opts *base)
{
    e2e_env_start(&p->env, scenario, partitions, emu_args, topic_max_bytes);
    p->opts = e2e_opts(&p->env, base);
    p->start_ms = sink_now_ms();
    e2e_ingest_start(&p->ingest, &p->env, "ingest", &p->opts);
    sink_start(&p->sink, &p->env, "sink", &p->opts);
}

void e2e_pipeline_stop(struct e2e_pipeline *p)
{
    assert_int_equal(harness_ingest_stop(&p->ingest, SIGTERM), 0);
    assert_int_equal(sink_stop(&p->sink, SIGTERM), 0);
    sink_env_stop(&p->env);
}

double e2e_pipeline_seconds(const struct e2e_pipeline *p)
{
    return (double)(sink_now_ms() - p->start_ms) / 1000.0;
}

int e2e_post_upload(const struct harness_ingest *ingest, int account, const char *body,
                    const char *request_id)
{
    static const char *const ids[] = {TCB_TEST_ACCOUNT_1, TCB_TEST_ACCOUNT_2, E2E_ACCOUNT_3};
    static const char *const codes[] = {TCB_TEST_PASSCODE_1, TCB_TEST_PASSCODE_2, E2E_PASSCODE_3};
    char id_header[128], pass_header[128], rid_header[160];
    snprintf(id_header, sizeof(id_header), "X-CleverTap-Account-Id: %s", ids[account - 1]);
    snprintf(pass_header, sizeof(pass_header), "X-CleverTap-Passcode: %s", codes[account - 1]);
    snprintf(rid_header, sizeof(rid_header), "X-Request-Id: %s", request_id ? request_id : "");
    const char *headers[] = {id_header, pass_header, "Content-Type: application/json",
                             request_id ? rid_header : NULL, NULL};
    char response[1024];
    return harness_http(ingest->port, "POST", "/1/upload", headers, body, strlen(body), response,
                        sizeof(response));
}

int e2e_post_notification(const struct harness_ingest *ingest, const char *body, const char *uuid)
{
    char uuid_header[128];
    snprintf(uuid_header, sizeof(uuid_header), "X-UUID: %s", uuid);
    const char *headers[] = {"X-Talon-Secret: " E2E_SECRET, uuid_header,
                             "Content-Type: application/json", NULL};
    char response[1024];
    return harness_http(ingest->port, "POST", "/talon/notifications", headers, body, strlen(body),
                        response, sizeof(response));
}

static void event_as(char *out, size_t cap, size_t *len, size_t seq, int profiles,
                     const char *prefix)
{
    int wrote = snprintf(out + *len, cap - *len,
                         "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":"
                         "\"Talon.One\",\"identity\":\"%s%zu\",\"evtData\":{\"CouponGenerated\":"
                         "\"" E2E_MARK "%zu#\",\"seq\":%zu}}",
                         prefix, seq % (size_t)(profiles > 0 ? profiles : 1), seq, seq);
    assert_true(wrote > 0 && (size_t)wrote < cap - *len);
    *len += (size_t)wrote;
}

void e2e_event(char *out, size_t cap, size_t *len, size_t seq, int profiles)
{
    event_as(out, cap, len, seq, profiles, "e2e-u");
}

size_t e2e_envelope_as(char *out, size_t cap, size_t seq, size_t count, int profiles,
                       const char *prefix)
{
    size_t len = (size_t)snprintf(out, cap, "{\"d\":[");
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            out[len++] = ',';
        }
        event_as(out, cap, &len, seq + i, profiles, prefix);
    }
    assert_true(len + 3 < cap);
    len += (size_t)snprintf(out + len, cap - len, "]}");
    return len;
}

size_t e2e_envelope(char *out, size_t cap, size_t seq, size_t count, int profiles)
{
    return e2e_envelope_as(out, cap, seq, count, profiles, "e2e-u");
}

size_t e2e_notification(char *out, size_t cap, size_t seq, size_t count, int profiles)
{
    size_t len = (size_t)snprintf(out, cap, "{\"NotificationType\":\"CouponCreated\",\"data\":[");
    for (size_t i = 0; i < count; i++) {
        int wrote = snprintf(
            out + len, cap - len,
            "%s{\"id\":%zu,\"created\":\"2026-06-10T09:05:27Z\",\"campaignId\":211,"
            "\"value\":\"" E2E_MARK "%zu#\",\"usageLimit\":1,"
            "\"recipientIntegrationId\":\"e2e-u%zu\"}",
            i ? "," : "", seq + i, seq + i, (seq + i) % (size_t)(profiles > 0 ? profiles : 1));
        assert_true(wrote > 0 && (size_t)wrote < cap - len);
        len += (size_t)wrote;
    }
    int wrote = snprintf(out + len, cap - len, "],\"totalResultSize\":%zu}", count);
    assert_true(wrote > 0 && (size_t)wrote < cap - len);
    return len + (size_t)wrote;
}

void e2e_make_event(size_t i, struct sink_msg *msg, void *ctx)
{
    static const char *const names[] = {"one", "two", "three"};
    const struct e2e_direct *d = ctx;
    size_t seq = d->base + i;
    size_t profile = seq % (size_t)(d->profiles > 0 ? d->profiles : 1);
    int account = (int)(profile % (size_t)(d->accounts > 0 ? d->accounts : 3)) + 1;
    size_t len = 0;
    e2e_event(msg->value, sizeof(msg->value), &len, seq, d->profiles);
    snprintf(msg->key, sizeof(msg->key), "e2e-u%zu", profile);
    snprintf(msg->header_text[0], sizeof(msg->header_text[0]), "clevertap-account=%s",
             names[account - 1]);
    msg->headers[0] = msg->header_text[0];
    d->items[seq] = (struct e2e_item){.kind = E2E_VALID, .account = (unsigned char)account};
}

struct member {
    const struct sink_proc *p;
};

static int has_partitions(void *ctx)
{
    const struct member *m = ctx;
    return sink_metric(m->p, "tcb_sink_assigned_partitions", "") > 0;
}

int e2e_wait_assigned(const struct sink_proc *p, int timeout_ms)
{
    struct member m = {p};
    return sink_wait(has_partitions, &m, timeout_ms);
}

/* The seq of the marker at or after text (within end), and where it ends. */
static long mark_from(const char *text, const char *end, const char **after)
{
    size_t mark_len = sizeof(E2E_MARK) - 1;
    for (const char *p = text; p + mark_len < end; p++) {
        if (memcmp(p, E2E_MARK, mark_len) != 0) {
            continue;
        }
        const char *q = p + mark_len;
        long seq = 0;
        int digits = 0;
        while (q < end && *q >= '0' && *q <= '9' && digits < 12) {
            seq = seq * 10 + (*q - '0');
            q++;
            digits++;
        }
        if (digits > 0 && q < end && *q == '#') {
            *after = q + 1;
            return seq;
        }
    }
    *after = end;
    return -1;
}

long e2e_mark(const char *text, size_t len)
{
    const char *after = NULL;
    return text ? mark_from(text, text + len, &after) : -1;
}

static unsigned char account_of(const char *line)
{
    static const char key[] = "\"account\":\"";
    const char *p = strstr(line, key);
    if (!p) {
        return 0;
    }
    p += sizeof(key) - 1;
    const char *ids[] = {TCB_TEST_ACCOUNT_1, TCB_TEST_ACCOUNT_2, E2E_ACCOUNT_3};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(ids[i]);
        if (strncmp(p, ids[i], n) == 0 && p[n] == '"') {
            return (unsigned char)(i + 1);
        }
    }
    return 0;
}

size_t e2e_recorded(const struct sink_env *env, int *counts, unsigned char *accounts, size_t n)
{
    FILE *f = fopen(env->emu.record_path, "r");
    if (!f) {
        return 0;
    }
    char *line = NULL;
    size_t cap = 0, lines = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        if (line[got - 1] != '\n') {
            break; /* a line being written */
        }
        lines++;
        long seq = e2e_mark(line, (size_t)got);
        if (seq < 0 || (size_t)seq >= n) {
            continue;
        }
        counts[seq]++;
        if (accounts) {
            accounts[seq] = account_of(line);
        }
    }
    free(line);
    fclose(f);
    return lines;
}

size_t e2e_duplicates(const struct sink_env *env, size_t n)
{
    int *counts = calloc(n ? n : 1, sizeof(*counts));
    e2e_recorded(env, counts, NULL, n);
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) {
        extra += counts[i] > 1 ? (size_t)(counts[i] - 1) : 0;
    }
    free(counts);
    return extra;
}

size_t e2e_count_kind(const struct e2e_item *items, size_t n, enum e2e_kind kind)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += items[i].kind == kind;
    }
    return count;
}

/* Matches the DLQ against the plan: dead[seq] = 1 for each expected dead letter. */
static void check_dlq(const struct sink_env *env, const struct e2e_item *items, size_t n,
                      unsigned char *dead, struct e2e_counts *out)
{
    size_t count = 0;
    struct sink_dlq_msg *dlq = sink_read_dlq(env, &count);
    for (size_t d = 0; d < count; d++) {
        const struct sink_dlq_msg *m = &dlq[d];
        long seq = e2e_mark(m->value, strlen(m->value));
        const struct e2e_item *item = seq >= 0 && (size_t)seq < n ? &items[seq] : NULL;
        int ok = item && item->kind == E2E_POISON && strcmp(m->stage, item->stage) == 0 &&
                 (item->code == 0 || item->code == m->code) && m->reason[0] != '\0';
        if (!ok) {
            out->unexpected++;
            print_error(
                "unexpected dead letter (seq %ld): stage %s code %d reason %s value %.80s\n", seq,
                m->stage, m->code, m->reason, m->value);
            continue;
        }
        out->dlq_duplicates += dead[seq];
        dead[seq] = 1;
    }
    free(dlq);
}

int e2e_check(const struct sink_env *env, const struct e2e_item *items, size_t n,
              struct e2e_counts *out)
{
    double seconds = out->seconds;
    memset(out, 0, sizeof(*out));
    out->seconds = seconds;
    int *counts = calloc(n ? n : 1, sizeof(*counts));
    unsigned char *accounts = calloc(n ? n : 1, 1);
    unsigned char *dead = calloc(n ? n : 1, 1);
    e2e_recorded(env, counts, accounts, n);
    check_dlq(env, items, n, dead, out);
    size_t reported = 0;
    for (size_t i = 0; i < n; i++) {
        const struct e2e_item *item = &items[i];
        size_t extra = counts[i] > 1 ? (size_t)(counts[i] - 1) : 0;
        if (item->kind == E2E_VALID) {
            out->sent++;
            out->delivered += counts[i] > 0;
            out->duplicates += extra;
            out->missing += counts[i] == 0;
            out->misrouted += counts[i] > 0 && accounts[i] != item->account;
            if ((counts[i] == 0 || (counts[i] > 0 && accounts[i] != item->account)) &&
                reported++ < 10) {
                print_error("seq %zu: %d copies at account %d (want account %d)\n", i, counts[i],
                            accounts[i], item->account);
            }
        } else if (item->kind == E2E_POISON) {
            out->sent++;
            out->dead_lettered += dead[i];
            out->missing += !dead[i];
            out->misrouted += counts[i] > 0;
            if ((!dead[i] || counts[i] > 0) && reported++ < 10) {
                print_error("poison seq %zu: %s, %d copies at CleverTap\n", i,
                            dead[i] ? "dead-lettered" : "not dead-lettered", counts[i]);
            }
        } else if (item->kind == E2E_UNSURE) {
            out->unsure_delivered += counts[i] > 0;
            out->duplicates += extra;
        }
    }
    free(counts);
    free(accounts);
    free(dead);
    return out->missing == 0 && out->misrouted == 0 && out->unexpected == 0;
}

void e2e_report(const char *name, const struct e2e_counts *c)
{
    printf("scenario %s: sent %zu delivered %zu dead-lettered %zu duplicates %zu seconds %.1f",
           name, c->sent, c->delivered, c->dead_lettered, c->duplicates, c->seconds);
    if (c->missing || c->misrouted || c->unexpected || c->dlq_duplicates || c->unsure_delivered) {
        printf(" (missing %zu misrouted %zu unexpected dead letters %zu dead-letter duplicates %zu "
               "unanswered but delivered %zu)",
               c->missing, c->misrouted, c->unexpected, c->dlq_duplicates, c->unsure_delivered);
    }
    printf("\n");
    fflush(stdout);
}

void e2e_locate(const struct sink_env *env, struct sink_where *where, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        where[i].partition = -1;
        where[i].offset = -1;
    }
    int64_t highs[HARNESS_MAX_PARTITIONS];
    int parts = harness_watermarks(env->broker.bootstrap, env->topic, highs);
    assert_true(parts > 0);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", env->broker.bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "e2e-locate", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    int64_t left = 0;
    for (int p = 0; p < parts; p++) {
        rd_kafka_topic_partition_list_add(list, env->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        left += highs[p];
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    for (long long deadline = sink_now_ms() + 60000; left > 0 && sink_now_ms() < deadline;) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 200);
        if (!rkm) {
            continue;
        }
        if (rkm->err == 0 && rkm->offset < highs[rkm->partition]) {
            left--;
            const char *text = rkm->payload;
            const char *end = text ? text + rkm->len : NULL;
            const char *next = text;
            long seq;
            while (next && (seq = mark_from(next, end, &next)) >= 0) {
                if ((size_t)seq < n) {
                    where[seq].partition = rkm->partition;
                    where[seq].offset = rkm->offset;
                }
            }
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    assert_int_equal(left, 0);
}

size_t e2e_at_risk(const struct sink_env *env, const struct sink_where *where, size_t n)
{
    int64_t committed[HARNESS_MAX_PARTITIONS];
    int rc = -1;
    /* Right after a broker restart the coordinator may still be loading. */
    for (long long end = sink_now_ms() + 60000; rc != 0 && sink_now_ms() < end;) {
        rc = sink_committed(env, env->group, committed);
        if (rc != 0) {
            sink_sleep_ms(250);
        }
    }
    assert_int_equal(rc, 0);
    int *counts = calloc(n ? n : 1, sizeof(*counts));
    e2e_recorded(env, counts, NULL, n);
    size_t risk = 0;
    for (size_t i = 0; i < n; i++) {
        if (where[i].partition < 0 || counts[i] == 0) {
            continue;
        }
        int64_t c = committed[where[i].partition];
        if (c < 0 || where[i].offset >= c) {
            risk += (size_t)counts[i];
        }
    }
    free(counts);
    return risk;
}
