/* clevertap-sink test harness: processes (broker, emulator, sink members),
 * producing test messages, and reading back the emulator's records, the DLQ
 * and the group's committed offsets. Loopback only. */
#include "tests/sink/sink_harness.h"

#include "common/kafka_produce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EMU_ARGS 32
#define MAX_PROCS    16

/* What a failed test must not leave running. */
static struct sink_env *current_env;
static pid_t running[MAX_PROCS];

static void remember(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (running[i] <= 0) {
            running[i] = pid;
            return;
        }
    }
}

static void forget(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (running[i] == pid) {
            running[i] = 0;
        }
    }
}

int sink_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_PROCS; i++) {
        if (running[i] > 0) {
            kill(running[i], SIGKILL);
            waitpid(running[i], NULL, 0);
            running[i] = 0;
        }
    }
    if (current_env) {
        sink_env_stop(current_env);
    }
    return 0;
}

long long sink_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sink_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void env_init(struct sink_env *env, const char *topic, const char *dlq, const char *group,
                     int partitions)
{
    memset(env, 0, sizeof(*env));
    current_env = env;
    env->partitions = partitions;
    snprintf(env->topic, sizeof(env->topic), "%s", topic);
    snprintf(env->dlq, sizeof(env->dlq), "%s", dlq);
    snprintf(env->group, sizeof(env->group), "%s", group);
}

static void env_launch_emulator(struct sink_env *env, const char *const *emu_args)
{
    const char *args[MAX_EMU_ARGS];
    tcb_test_emu_account_args(emu_args, args, MAX_EMU_ARGS);
    assert_int_equal(tcb_test_emu_launch(&env->emu, 0, args), 0);
}

void sink_env_start(struct sink_env *env, int partitions, const char *const *emu_args)
{
    env_init(env, SINK_TOPIC, SINK_DLQ, SINK_GROUP, partitions);
    char spec[64];
    snprintf(spec, sizeof(spec), "%s:%d", SINK_TOPIC, partitions);
    assert_int_equal(harness_broker_start(&env->broker, spec), 0);
    char dlq[64];
    snprintf(dlq, sizeof(dlq), "topic %s 1", SINK_DLQ);
    assert_true(harness_broker_command(&env->broker, dlq));
    env_launch_emulator(env, emu_args);
}

void sink_env_start_on(struct sink_env *env, const char *bootstrap, const char *topic,
                       const char *dlq, const char *group, int partitions,
                       const char *const *emu_args)
{
    env_init(env, topic, dlq, group, partitions);
    snprintf(env->broker.bootstrap, sizeof(env->broker.bootstrap), "%s", bootstrap);
    env_launch_emulator(env, emu_args);
}

void sink_env_restart_emulator(struct sink_env *env, const char *const *emu_args)
{
    int port = env->emu.port;
    tcb_test_emu_halt(&env->emu, SIGTERM);
    const char *args[MAX_EMU_ARGS];
    tcb_test_emu_account_args(emu_args, args, MAX_EMU_ARGS);
    assert_int_equal(tcb_test_emu_launch(&env->emu, port, args), 0);
}

void sink_env_stop(struct sink_env *env)
{
    current_env = NULL;
    if (env->emu.pid > 0) {
        tcb_test_emu_halt(&env->emu, SIGTERM);
    }
    tcb_test_emu_cleanup(&env->emu);
    harness_broker_stop(&env->broker);
}

int sink_group_teardown(void **state)
{
    (void)state;
    if (getenv("TCB_KEEP_TEST_DIR")) {
        fprintf(stderr, "test directory kept: %s\n", harness_tmpdir());
        return 0;
    }
    harness_tmpdir_remove();
    return 0;
}

static void write_config(FILE *f, const struct sink_env *env, const struct sink_opts *o)
{
    const char *scheme = o && o->https ? "https" : "http";
    int in_flight = o && o->max_in_flight ? o->max_in_flight : 15;
    fprintf(f,
            "kafka:\n"
            "  brokers: \"%s\"\n"
            "  topic: \"%s\"\n"
            "  dlq_topic: \"%s\"\n"
            "  group_id: \"%s\"\n"
            "  session_timeout_ms: 6000\n"
            "%s"
            "clevertap:\n"
            "  accounts:\n"
            "    - { name: \"one\", account_id: \"%s\", passcode: \"%s\", region: \"eu1\",\n"
            "        endpoint: \"%s://127.0.0.1:%d\", max_in_flight: %d }\n"
            "    - { name: \"two\", account_id: \"%s\", passcode: \"%s\", region: \"us1\",\n"
            "        endpoint: \"%s://127.0.0.1:%d\", max_in_flight: %d }\n"
            "%s"
            "  request_timeout_ms: %d\n"
            "  retry_initial_ms: 20\n"
            "  retry_max_ms: 500\n"
            "  auth_retry_ms: 1000\n"
            "%s"
            "sink:\n"
            "  metrics_listen: \"127.0.0.1:0\"\n"
            "  shutdown_timeout_ms: %d\n"
            "  commit_interval_ms: 200\n"
            "%s"
            "%s"
            "log: { level: \"info\", format: \"logfmt\" }\n"
            "%s",
            o && o->brokers ? o->brokers : env->broker.bootstrap, env->topic, env->dlq, env->group,
            o && o->kafka_extra ? o->kafka_extra : "", TCB_TEST_ACCOUNT_1, TCB_TEST_PASSCODE_1,
            scheme, env->emu.port, in_flight, TCB_TEST_ACCOUNT_2,
            o && o->passcode_2 ? o->passcode_2 : TCB_TEST_PASSCODE_2, scheme, env->emu.port,
            in_flight, o && o->accounts_extra ? o->accounts_extra : "",
            o && o->request_timeout_ms ? o->request_timeout_ms : 2000,
            o && o->clevertap_extra ? o->clevertap_extra : "",
            o && o->shutdown_timeout_ms ? o->shutdown_timeout_ms : 5000,
            o && o->sink_extra && strstr(o->sink_extra, "batch:") ? ""
                                                                  : "  batch: { linger_ms: 20 }\n",
            o && o->sink_extra ? o->sink_extra : "", o && o->tail ? o->tail : "");
}

void sink_write_config(const char *path, const struct sink_env *env, const struct sink_opts *o)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    write_config(f, env, o);
    assert_int_equal(fclose(f), 0);
}

char *sink_config_text(const struct sink_env *env, const struct sink_opts *o)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    write_config(f, env, o);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* The operations port from the sink.started log line, or -1. */
static int ops_port_from_log(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int port = -1;
    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "event=sink.started");
        p = p ? strstr(p, "(port ") : NULL;
        if (p) {
            port = (int)strtol(p + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return port;
}

void sink_print_log(const struct sink_proc *p)
{
    FILE *f = fopen(p->log_path, "r");
    char line[2048];
    while (f && fgets(line, sizeof(line), f)) {
        fprintf(stderr, "sink: %s", line);
    }
    if (f) {
        fclose(f);
    }
}

void sink_print_state(const struct sink_proc *p)
{
    static char body[1 << 20];
    if (sink_http_get(p, "/metrics", body, sizeof(body)) == 200) {
        char *save = NULL;
        for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (strncmp(line, "tcb_sink_", 9) == 0 ||
                strncmp(line, "tcb_upload_in_flight", 20) == 0 ||
                strncmp(line, "tcb_upload_account_halted", 25) == 0 ||
                strncmp(line, "tcb_upload_retries_total", 24) == 0) {
                fprintf(stderr, "sink metric: %s\n", line);
            }
        }
    }
    FILE *f = fopen(p->log_path, "r");
    char lines[60][1024];
    size_t n = 0;
    while (f && fgets(lines[n % 60], sizeof(lines[0]), f)) {
        n++;
    }
    for (size_t i = n > 60 ? n - 60 : 0; i < n; i++) {
        fprintf(stderr, "sink: %s", lines[i % 60]);
    }
    if (f) {
        fclose(f);
    }
}

void sink_start(struct sink_proc *p, const struct sink_env *env, const char *name,
                const struct sink_opts *opts)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.yaml", harness_tmpdir(), name);
    sink_write_config(path, env, opts);
    sink_launch(p, name, path);
}

void sink_launch(struct sink_proc *p, const char *name, const char *config_path)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->config_path, sizeof(p->config_path), "%s", config_path);
    snprintf(p->log_path, sizeof(p->log_path), "%s/%s.log", harness_tmpdir(), name);
    unlink(p->log_path);
    char binary[512];
    const char *dir = getenv("TCB_BIN_DIR");
    snprintf(binary, sizeof(binary), "%s/clevertap-sink", dir ? dir : "build/bin");
    const char *argv[] = {binary, "--config", p->config_path, NULL};
    p->pid = tcb_test_spawn(argv, p->log_path);
    assert_true(p->pid > 0);
    remember(p->pid);
    char body[256];
    for (long long deadline = sink_now_ms() + 20000; sink_now_ms() < deadline; sink_sleep_ms(50)) {
        if (p->ops_port <= 0) {
            p->ops_port = ops_port_from_log(p->log_path);
        }
        if (p->ops_port > 0 && sink_http_get(p, "/healthz", body, sizeof(body)) == 200) {
            return;
        }
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            break;
        }
    }
    sink_print_log(p);
    fail_msg("clevertap-sink %s did not start", name);
}

int sink_wait_exit(struct sink_proc *p, int timeout_ms)
{
    int status = 0;
    for (long long deadline = sink_now_ms() + timeout_ms; p->pid > 0 && sink_now_ms() < deadline;
         sink_sleep_ms(20)) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            forget(p->pid);
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    return -1;
}

int sink_stop(struct sink_proc *p, int sig)
{
    if (p->pid <= 0) {
        return -1;
    }
    kill(p->pid, sig);
    int rc = sink_wait_exit(p, 60000);
    if (rc < 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        forget(p->pid);
        p->pid = 0;
    }
    return rc;
}

int sink_http_get(const struct sink_proc *p, const char *path, char *body, size_t len)
{
    return harness_http(p->ops_port, "GET", path, NULL, NULL, 0, body, len);
}

double sink_metric(const struct sink_proc *p, const char *name, const char *labels)
{
    static char body[1 << 20];
    if (sink_http_get(p, "/metrics", body, sizeof(body)) != 200) {
        return -1;
    }
    double sum = -1;
    size_t name_len = strlen(name);
    char *save = NULL;
    for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, name, name_len) != 0 ||
            (line[name_len] != '{' && line[name_len] != ' ')) {
            continue;
        }
        const char *rest = line + name_len;
        if (labels && *labels && strncmp(rest + 1, labels, strlen(labels)) != 0) {
            continue;
        }
        if (labels && !*labels && *rest != ' ') {
            continue;
        }
        const char *value = strrchr(line, ' ');
        sum = (sum < 0 ? 0 : sum) + strtod(value + 1, NULL);
    }
    return sum;
}

struct delivery {
    struct sink_where *where;
    int failed;
    size_t acked;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    struct delivery *d = opaque;
    size_t i = (size_t)(uintptr_t)rkm->_private;
    if (rkm->err) {
        d->failed = 1;
        return;
    }
    d->acked++;
    if (d->where) {
        d->where[i].partition = rkm->partition;
        d->where[i].offset = rkm->offset;
    }
}

static void add_headers(rd_kafka_headers_t *hdrs, const struct sink_msg *m)
{
    for (int h = 0; h < 8 && m->headers[h]; h++) {
        const char *eq = strchr(m->headers[h], '=');
        assert_non_null(eq);
        rd_kafka_header_add(hdrs, m->headers[h], eq - m->headers[h], eq + 1, -1);
    }
}

static void produce(const struct sink_env *env, size_t count,
                    void (*make)(size_t i, struct sink_msg *msg, void *ctx), void *ctx,
                    struct sink_where *where, const char *linger_ms)
{
    char err[512];
    struct delivery d = {.where = where};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", env->broker.bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", linger_ms, err, sizeof(err));
    rd_kafka_conf_set(conf, "batch.num.messages", "10000", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_conf_set(conf, "message.max.bytes", "8388608", err, sizeof(err));
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    struct sink_msg *m = calloc(1, sizeof(*m));
    for (size_t i = 0; i < count; i++) {
        memset(m, 0, sizeof(*m));
        m->partition = -1;
        make(i, m, ctx);
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        add_headers(hdrs, m);
        struct tcb_kafka_message km = {.topic = env->topic,
                                       .partition =
                                           m->partition >= 0 ? m->partition : RD_KAFKA_PARTITION_UA,
                                       .value = m->big_value ? m->big_value : m->value,
                                       .value_len = m->big_value ? m->big_len : strlen(m->value),
                                       .key = m->key[0] ? m->key : NULL,
                                       .key_len = strlen(m->key),
                                       .headers = hdrs,
                                       .flags = RD_KAFKA_MSG_F_COPY,
                                       .opaque = (void *)(uintptr_t)i};
        rd_kafka_resp_err_t err_code;
        while ((err_code = tcb_kafka_produce(rk, &km)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 50);
        }
        assert_int_equal(err_code, RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_poll(rk, 0);
    }
    free(m);
    assert_int_equal(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    assert_false(d.failed);
    assert_int_equal(d.acked, count);
}

void sink_produce(const struct sink_env *env, size_t count,
                  void (*make)(size_t i, struct sink_msg *msg, void *ctx), void *ctx,
                  struct sink_where *where)
{
    produce(env, count, make, ctx, where, "5");
}

void sink_produce_bulk(const struct sink_env *env, size_t count,
                       void (*make)(size_t i, struct sink_msg *msg, void *ctx), void *ctx,
                       struct sink_where *where)
{
    produce(env, count, make, ctx, where, "50");
}

size_t sink_recorded(const struct sink_env *env, int *counts, char *accounts, size_t n, long *order)
{
    FILE *f = fopen(env->emu.record_path, "r");
    if (!f) {
        return 0;
    }
    char *line = NULL;
    size_t cap = 0, lines = 0, ordered = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *doc = json_loads(line, 0, NULL);
        if (!doc) {
            continue; /* a line being written */
        }
        json_t *seq =
            json_object_get(json_object_get(json_object_get(doc, "record"), "evtData"), "seq");
        if (json_is_integer(seq) && json_integer_value(seq) >= 0 &&
            (size_t)json_integer_value(seq) < n) {
            size_t id = (size_t)json_integer_value(seq);
            counts[id]++;
            const char *account = json_string_value(json_object_get(doc, "account"));
            if (accounts && account) {
                accounts[id] = account[0];
            }
            if (order && ordered < n) {
                order[ordered++] = (long)id;
            }
        }
        json_decref(doc);
        lines++;
    }
    free(line);
    fclose(f);
    return lines;
}

static void header_text(rd_kafka_headers_t *hdrs, const char *name, char *out, size_t len)
{
    const void *value = NULL;
    size_t size = 0;
    out[0] = '\0';
    if (hdrs && rd_kafka_header_get_last(hdrs, name, &value, &size) == 0 && value) {
        size_t n = size < len - 1 ? size : len - 1;
        memcpy(out, value, n);
        out[n] = '\0';
    }
}

static long header_number(rd_kafka_headers_t *hdrs, const char *name)
{
    char text[32];
    header_text(hdrs, name, text, sizeof(text));
    return text[0] ? strtol(text, NULL, 10) : -1;
}

static rd_kafka_t *reader(const struct sink_env *env, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", env->broker.bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    assert_non_null(rk);
    return rk;
}

struct sink_dlq_msg *sink_read_dlq(const struct sink_env *env, size_t *count)
{
    int64_t high = 0;
    assert_int_equal(harness_watermarks(env->broker.bootstrap, env->dlq, &high), 1);
    struct sink_dlq_msg *out = calloc(high > 0 ? (size_t)high : 1, sizeof(*out));
    size_t n = 0;
    *count = 0;
    if (high <= 0) {
        return out;
    }
    rd_kafka_t *rk = reader(env, "sink-test-dlq-reader");
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, env->dlq, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    for (long long deadline = sink_now_ms() + 20000;
         n < (size_t)high && sink_now_ms() < deadline;) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm) {
            continue;
        }
        if (rkm->err == 0 && rkm->offset < high) {
            struct sink_dlq_msg *d = &out[n++];
            rd_kafka_headers_t *hdrs = NULL;
            rd_kafka_message_headers(rkm, &hdrs);
            d->src_partition = (int32_t)header_number(hdrs, "dlq-source-partition");
            d->src_offset = header_number(hdrs, "dlq-source-offset");
            d->output_index = header_number(hdrs, "dlq-output-index");
            d->code = (int)header_number(hdrs, "dlq-code");
            d->http_status = (int)header_number(hdrs, "dlq-http-status");
            d->attempts = (int)header_number(hdrs, "dlq-attempts");
            d->truncated_from = header_number(hdrs, "dlq-value-truncated");
            header_text(hdrs, "dlq-stage", d->stage, sizeof(d->stage));
            header_text(hdrs, "dlq-reason", d->reason, sizeof(d->reason));
            header_text(hdrs, "dlq-account", d->account, sizeof(d->account));
            header_text(hdrs, "request-id", d->request_id, sizeof(d->request_id));
            size_t klen = rkm->key_len < sizeof(d->key) - 1 ? rkm->key_len : sizeof(d->key) - 1;
            if (rkm->key) {
                memcpy(d->key, rkm->key, klen);
            }
            size_t vlen = rkm->len < sizeof(d->value) - 1 ? rkm->len : sizeof(d->value) - 1;
            if (rkm->payload) {
                memcpy(d->value, rkm->payload, vlen);
            }
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *count = n;
    return out;
}

int sink_committed(const struct sink_env *env, const char *group, int64_t *out)
{
    rd_kafka_t *rk = reader(env, group);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(env->partitions);
    for (int p = 0; p < env->partitions; p++) {
        rd_kafka_topic_partition_list_add(list, env->topic, p);
    }
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, 10000);
    for (int p = 0; err == 0 && p < list->cnt; p++) {
        out[list->elems[p].partition] = list->elems[p].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return err == 0 ? 0 : -1;
}

int sink_wait_committed_to_end(const struct sink_env *env, const char *group, int timeout_ms)
{
    int64_t highs[HARNESS_MAX_PARTITIONS];
    int64_t committed[HARNESS_MAX_PARTITIONS];
    assert_int_equal(harness_watermarks(env->broker.bootstrap, env->topic, highs), env->partitions);
    for (long long deadline = sink_now_ms() + timeout_ms; sink_now_ms() < deadline;
         sink_sleep_ms(200)) {
        if (sink_committed(env, group, committed) != 0) {
            continue;
        }
        int done = 1;
        for (int p = 0; p < env->partitions; p++) {
            done &= highs[p] == 0 || committed[p] == highs[p];
        }
        if (done) {
            return 1;
        }
    }
    if (timeout_ms >= 1000) { /* not a poll: say where each partition stands */
        int read = sink_committed(env, group, committed) == 0;
        fprintf(stderr, "group %s not committed to the end after %d ms:", group, timeout_ms);
        for (int p = 0; p < env->partitions; p++) {
            fprintf(stderr, " p%d %lld/%lld", p, read ? (long long)committed[p] : -1LL,
                    (long long)highs[p]);
        }
        fprintf(stderr, "\n");
    }
    return 0;
}

size_t sink_kill_cycles(const struct sink_env *env, const struct sink_opts *opts, int kills,
                        int (*ready)(const struct sink_proc *p), int min_ms, int spread_ms,
                        int settle_ms, size_t (*at_risk)(void *ctx), void *ctx)
{
    unsigned seed = (unsigned)sink_now_ms();
    printf("kill timing seed %u\n", seed);
    size_t bound = 0;
    struct sink_proc p;
    for (int k = 0; k < kills; k++) {
        sink_start(&p, env, "killed", opts);
        if (ready && !ready(&p)) {
            sink_print_log(&p);
            fail_msg("member %d never got ready to be killed", k + 1);
        }
        sink_sleep_ms(min_ms + (int)(rand_r(&seed) % (unsigned)(spread_ms > 0 ? spread_ms : 1)));
        assert_int_equal(sink_stop(&p, SIGKILL), 128 + SIGKILL);
        sink_sleep_ms(settle_ms);
        size_t risk = at_risk(ctx);
        printf("kill %d: %zu records at CleverTap (%zu lines) past the committed offsets\n", k + 1,
               risk, sink_recorded(env, NULL, NULL, 0, NULL));
        bound += risk;
    }
    return bound;
}

int sink_wait(int (*check)(void *ctx), void *ctx, int timeout_ms)
{
    for (long long deadline = sink_now_ms() + timeout_ms; sink_now_ms() < deadline;
         sink_sleep_ms(100)) {
        if (check(ctx)) {
            return 1;
        }
    }
    return check(ctx);
}

struct wait_for {
    const struct sink_env *env;
    size_t want;
};

static int has_lines(void *ctx)
{
    const struct wait_for *w = ctx;
    return sink_recorded(w->env, NULL, NULL, 0, NULL) >= w->want;
}

static int dlq_holds(void *ctx)
{
    const struct wait_for *w = ctx;
    int64_t high = 0;
    return harness_watermarks(w->env->broker.bootstrap, w->env->dlq, &high) == 1 &&
           (size_t)high >= w->want;
}

int sink_wait_recorded(const struct sink_env *env, size_t lines, int timeout_ms)
{
    struct wait_for w = {env, lines};
    return sink_wait(has_lines, &w, timeout_ms);
}

int sink_wait_dlq(const struct sink_env *env, size_t count, int timeout_ms)
{
    struct wait_for w = {env, count};
    return sink_wait(dlq_holds, &w, timeout_ms);
}
