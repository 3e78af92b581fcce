/* Process, HTTP and Kafka plumbing for the talon-ingest integration tests.
 * Everything stays on 127.0.0.1; every wait is bounded. */
#include "tests/ingest/ingest_harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *harness_tmpdir(void)
{
    static char dir[64];
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/tcb-ingest-test-XXXXXX");
        if (mkdtemp(dir) == NULL) {
            abort();
        }
    }
    return dir;
}

void harness_tmpdir_remove(void)
{
    const char *dir = harness_tmpdir();
    DIR *d = opendir(dir);
    struct dirent *entry;
    char path[512];
    while (d && (entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
        unlink(path);
    }
    if (d) {
        closedir(d);
    }
    rmdir(dir);
}

static void binary_path(char *out, size_t len, const char *name)
{
    const char *dir = getenv("TCB_BIN_DIR");
    snprintf(out, len, "%s/%s", dir ? dir : "build/bin", name);
}

/* Reads one line from fd within timeout_ms; returns its length or -1. */
static int read_line(int fd, char *line, size_t len, int timeout_ms)
{
    size_t used = 0;
    long long deadline = now_ms() + timeout_ms;
    while (used + 1 < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            return -1;
        }
        if (read(fd, line + used, 1) != 1) {
            return -1;
        }
        if (line[used] == '\n') {
            line[used] = '\0';
            return (int)used;
        }
        used++;
    }
    return -1;
}

int harness_broker_start(struct harness_broker *broker, const char *topic_spec)
{
    int in[2];
    int out[2];
    char path[512];
    char bootstrap_file[512];
    binary_path(path, sizeof(path), "kafka-dev-broker");
    snprintf(bootstrap_file, sizeof(bootstrap_file), "%s/bootstrap", harness_tmpdir());
    if (pipe(in) != 0 || pipe(out) != 0) {
        return -1;
    }
    broker->pid = fork();
    if (broker->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed test takes its children along */
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[1]);
        close(out[0]);
        execl(path, path, "--bootstrap-file", bootstrap_file, "--topic", topic_spec, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    broker->control_fd = in[1];
    broker->reply_fd = out[0];
    char line[512];
    if (read_line(broker->reply_fd, line, sizeof(line), 10000) < 0 ||
        strncmp(line, "BOOTSTRAP=", 10) != 0) {
        return -1;
    }
    snprintf(broker->bootstrap, sizeof(broker->bootstrap), "%s", line + 10);
    return 0;
}

int harness_broker_command(struct harness_broker *broker, const char *command)
{
    char line[512];
    snprintf(line, sizeof(line), "%s\n", command);
    if (write(broker->control_fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        return 0;
    }
    if (read_line(broker->reply_fd, line, sizeof(line), 10000) < 0) {
        return 0;
    }
    return strncmp(line, "OK ", 3) == 0;
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status = 0;
    while (now_ms() < deadline) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(20);
    }
    return -1;
}

void harness_broker_stop(struct harness_broker *broker)
{
    if (broker->pid <= 0) {
        return;
    }
    kill(broker->pid, SIGTERM);
    if (wait_exit(broker->pid, 10000) < 0) {
        kill(broker->pid, SIGKILL);
        wait_exit(broker->pid, 10000);
    }
    close(broker->control_fd);
    close(broker->reply_fd);
    broker->pid = 0;
}

/* Reads WEBHOOK_PORT / OPS_PORT from the daemon's port file; 0 when both
 * were there. */
static int read_ports(struct harness_ingest *ingest)
{
    FILE *f = fopen(ingest->port_path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[128];
    ingest->port = ingest->ops_port = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "WEBHOOK_PORT=", 13) == 0) {
            ingest->port = (int)strtol(line + 13, NULL, 10);
        } else if (strncmp(line, "OPS_PORT=", 9) == 0) {
            ingest->ops_port = (int)strtol(line + 9, NULL, 10);
        }
    }
    fclose(f);
    return ingest->port > 0 && ingest->ops_port > 0 ? 0 : -1;
}

int harness_ingest_start(struct harness_ingest *ingest, const char *name, const char *yaml)
{
    char path[512];
    binary_path(path, sizeof(path), "talon-ingest");
    snprintf(ingest->config_path, sizeof(ingest->config_path), "%s/%s.yaml", harness_tmpdir(),
             name);
    snprintf(ingest->log_path, sizeof(ingest->log_path), "%s/%s.log", harness_tmpdir(), name);
    snprintf(ingest->port_path, sizeof(ingest->port_path), "%s/%s.ports", harness_tmpdir(), name);
    unlink(ingest->port_path);
    FILE *f = fopen(ingest->config_path, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(yaml, f);
    fclose(f);
    ingest->pid = fork();
    if (ingest->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed test takes its children along */
        int fd = open(ingest->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execl(path, path, "--config", ingest->config_path, "--port-file", ingest->port_path,
              (char *)NULL);
        _exit(127);
    }
    char body[256];
    for (long long deadline = now_ms() + 20000; now_ms() < deadline; sleep_ms(50)) {
        if (read_ports(ingest) == 0 && harness_http(ingest->ops_port, "GET", "/healthz", NULL, NULL,
                                                    0, body, sizeof(body)) == 200) {
            return 0;
        }
        int status = 0;
        if (waitpid(ingest->pid, &status, WNOHANG) == ingest->pid) {
            ingest->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            ingest->pid = 0;
            break;
        }
    }
    return -1;
}

int harness_ingest_stop(struct harness_ingest *ingest, int sig)
{
    if (ingest->pid <= 0) {
        return -1;
    }
    kill(ingest->pid, sig);
    int rc = wait_exit(ingest->pid, 30000);
    if (rc < 0) {
        kill(ingest->pid, SIGKILL);
        wait_exit(ingest->pid, 10000);
    }
    ingest->pid = 0;
    return rc;
}

struct response_buffer {
    char *data;
    size_t len;
    size_t cap;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response_buffer *buf = userdata;
    size_t n = size * nmemb;
    size_t room = buf->cap - 1 - buf->len;
    size_t take = n < room ? n : room;
    memcpy(buf->data + buf->len, ptr, take);
    buf->len += take;
    buf->data[buf->len] = '\0';
    return n;
}

int harness_http(int port, const char *method, const char *path, const char *const *headers,
                 const char *body, size_t body_len, char *response, size_t response_len)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++) {
        list = curl_slist_append(list, headers[i]);
    }
    list = curl_slist_append(list, "Expect:");
    struct response_buffer buf = {response, 0, response_len};
    response[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return (int)status;
}

int harness_post(const struct harness_ingest *ingest, const char *path, const char *const *headers,
                 const char *body, char *response, size_t response_len)
{
    return harness_http(ingest->port, "POST", path, headers, body, strlen(body), response,
                        response_len);
}

void harness_teardown(struct harness_ingest *ingest, struct harness_broker *broker)
{
    if (ingest->pid > 0) {
        harness_ingest_stop(ingest, SIGTERM);
    }
    harness_broker_stop(broker);
    if (getenv("TCB_KEEP_TEST_FILES") == NULL) {
        harness_tmpdir_remove();
    }
}

static rd_kafka_t *consumer_new(const char *bootstrap)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "ingest-test-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = -1;
    for (int attempt = 0; attempt < 50 && count < 0; attempt++) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0) {
                count = md->topics[0].partition_cnt;
            }
            rd_kafka_metadata_destroy(md);
        }
        if (count < 0) {
            sleep_ms(100);
        }
    }
    rd_kafka_topic_destroy(rkt);
    return count > HARNESS_MAX_PARTITIONS ? HARNESS_MAX_PARTITIONS : count;
}

int harness_watermarks(const char *bootstrap, const char *topic, int64_t *highs)
{
    rd_kafka_t *rk = consumer_new(bootstrap);
    int count = rk ? partition_count(rk, topic) : -1;
    for (int p = 0; p < count; p++) {
        int64_t low = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &low, &highs[p], 5000) != 0) {
            count = -1;
            break;
        }
    }
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return count;
}

static char *copy_bytes(const void *data, size_t len)
{
    if (data == NULL) {
        return NULL;
    }
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

static char *header_copy(rd_kafka_headers_t *headers, const char *name)
{
    const void *value = NULL;
    size_t size = 0;
    if (headers == NULL || rd_kafka_header_get_last(headers, name, &value, &size) != 0) {
        return NULL;
    }
    return copy_bytes(value, size);
}

static void take_message(struct harness_msg *msg, rd_kafka_message_t *rkm)
{
    rd_kafka_headers_t *headers = NULL;
    rd_kafka_message_headers(rkm, &headers);
    msg->partition = rkm->partition;
    msg->key = copy_bytes(rkm->key, rkm->key_len);
    msg->value = copy_bytes(rkm->payload ? rkm->payload : "", rkm->len);
    msg->account = header_copy(headers, "clevertap-account");
    msg->request_id = header_copy(headers, "request-id");
    msg->record_index = header_copy(headers, "record-index");
    msg->received_at = header_copy(headers, "received-at");
}

struct harness_msg *harness_consume(const char *bootstrap, const char *topic, const int64_t *from,
                                    size_t want, size_t *count)
{
    rd_kafka_t *rk = consumer_new(bootstrap);
    int partitions = partition_count(rk, topic);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++) {
        rd_kafka_topic_partition_list_add(list, topic, p)->offset =
            from ? from[p] : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    size_t cap = want + 64;
    struct harness_msg *msgs = calloc(cap, sizeof(*msgs));
    size_t n = 0;
    int at_end[HARNESS_MAX_PARTITIONS] = {0};
    int ended = 0;
    for (long long deadline = now_ms() + 20000; now_ms() < deadline;) {
        if (ended == partitions && n >= want) {
            break;
        }
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL) {
            continue;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (rkm->partition < partitions && !at_end[rkm->partition]++) {
                ended++;
            }
        } else if (rkm->err == 0) {
            if (n == cap) {
                cap *= 2;
                msgs = realloc(msgs, cap * sizeof(*msgs));
                memset(msgs + n, 0, (cap - n) * sizeof(*msgs));
            }
            take_message(&msgs[n++], rkm);
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *count = n;
    return msgs;
}

void harness_msgs_free(struct harness_msg *msgs, size_t count)
{
    for (size_t i = 0; msgs && i < count; i++) {
        free(msgs[i].key);
        free(msgs[i].value);
        free(msgs[i].account);
        free(msgs[i].request_id);
        free(msgs[i].record_index);
        free(msgs[i].received_at);
    }
    free(msgs);
}

int harness_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

long harness_read_to_close(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t used = 0;
    long long deadline = now_ms() + timeout_ms;
    buf[0] = '\0';
    for (;;) {
        int left = (int)(deadline - now_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) != 1) {
            return -1;
        }
        char scratch[4096];
        ssize_t n = recv(fd, scratch, sizeof(scratch), 0);
        if (n <= 0) {
            return (long)used;
        }
        size_t take = (size_t)n < cap - 1 - used ? (size_t)n : cap - 1 - used;
        memcpy(buf + used, scratch, take);
        used += take;
        buf[used] = '\0';
    }
}

long harness_proc_kib(pid_t pid, const char *name)
{
    char path[64];
    char line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, name, strlen(name)) == 0) {
            kib = strtol(line + strlen(name), NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kib;
}

int harness_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    size_t cap = 1 << 16;
    size_t len = 0;
    char *data = malloc(cap);
    size_t n;
    while ((n = fread(data + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            data = realloc(data, cap *= 2);
        }
    }
    data[len] = '\0';
    fclose(f);
    int found = strstr(data, needle) != NULL;
    free(data);
    return found;
}
