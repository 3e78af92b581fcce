/* Process and HTTP helpers shared by the emulator's integration tests. It
 * never talks to anything but 127.0.0.1. */
#include "tests/emulator/emulator_harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS      64
#define MAX_BODY      (64 * 1024 * 1024)
#define START_WAIT_MS 30000
#define STOP_WAIT_MS  30000

const char *tcb_test_emu_binary(void)
{
    static char path[512];
    const char *dir = getenv("TCB_BIN_DIR");
    snprintf(path, sizeof(path), "%s/clevertap-emulator", dir ? dir : "build/bin");
    return path;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t tcb_test_spawn(const char *const *argv, const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed test takes its children along */
    int fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)
                      : open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

/* Waits up to ms for pid; returns the exit status, -1 on a signal, -2 when
 * still running. */
static int wait_exit(pid_t pid, int ms)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        int status;
        pid_t rc = waitpid(pid, &status, WNOHANG);
        if (rc == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        if (rc < 0) {
            return -1;
        }
        nap_ms(10);
    }
    return -2;
}

int tcb_test_emu_run(const char *const *args)
{
    const char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = tcb_test_emu_binary();
    for (int i = 0; args && args[i] && n < MAX_ARGS - 1; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid_t pid = tcb_test_spawn(argv, NULL);
    if (pid < 0) {
        return -1;
    }
    int rc = wait_exit(pid, STOP_WAIT_MS);
    if (rc == -2) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return rc;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    int port = -1;
    if (!f) {
        return -1;
    }
    char text[16] = "";
    char *end = NULL;
    if (fgets(text, sizeof(text), f)) {
        long value = strtol(text, &end, 10);
        port = end != text && value > 0 && value < 65536 ? (int)value : -1;
    }
    fclose(f);
    return port;
}

void tcb_test_emu_cleanup(struct tcb_test_emu *emu)
{
    char path[256];
    if (emu->dir[0] == '\0') {
        return;
    }
    snprintf(path, sizeof(path), "%s/port", emu->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/emulator.log", emu->dir);
    unlink(path);
    unlink(emu->record_path);
    rmdir(emu->dir);
    emu->dir[0] = '\0';
}

void tcb_test_emu_print_log(const struct tcb_test_emu *emu)
{
    char path[256];
    char line[512];
    snprintf(path, sizeof(path), "%s/emulator.log", emu->dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        fprintf(stderr, "emulator: %s", line);
    }
    if (f) {
        fclose(f);
    }
}

int tcb_test_emu_launch(struct tcb_test_emu *emu, int port, const char *const *args)
{
    char port_path[256], listen[64], log_path[256];
    const char *argv[MAX_ARGS];
    int n = 0;
    if (emu->dir[0] == '\0') {
        snprintf(emu->dir, sizeof(emu->dir), "/tmp/tcb-emu-test-XXXXXX");
        if (!mkdtemp(emu->dir)) {
            emu->dir[0] = '\0';
            return -1;
        }
        snprintf(emu->record_path, sizeof(emu->record_path), "%s/records.ndjson", emu->dir);
    }
    snprintf(port_path, sizeof(port_path), "%s/port", emu->dir);
    snprintf(log_path, sizeof(log_path), "%s/emulator.log", emu->dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    unlink(port_path);
    argv[n++] = tcb_test_emu_binary();
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--port-file";
    argv[n++] = port_path;
    argv[n++] = "--record";
    argv[n++] = emu->record_path;
    for (int i = 0; args && args[i] && n < MAX_ARGS - 1; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    emu->port = 0;
    emu->pid = tcb_test_spawn(argv, log_path);
    if (emu->pid < 0) {
        return -1;
    }
    for (int waited = 0; waited < START_WAIT_MS; waited += 10) {
        emu->port = read_port(port_path);
        if (emu->port > 0) {
            return 0;
        }
        if (waitpid(emu->pid, NULL, WNOHANG) == emu->pid) {
            emu->pid = 0;
            tcb_test_emu_print_log(emu);
            return -1;
        }
        nap_ms(10);
    }
    kill(emu->pid, SIGKILL);
    waitpid(emu->pid, NULL, 0);
    emu->pid = 0;
    return -1;
}

void tcb_test_emu_account_args(const char *const *extra, const char **args, size_t cap)
{
    size_t n = 0;
    const char *fixed[] = {"--account",   TCB_TEST_ACCOUNT_1 ":" TCB_TEST_PASSCODE_1,
                           "--account",   TCB_TEST_ACCOUNT_2 ":" TCB_TEST_PASSCODE_2,
                           "--log-level", "warn"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n + 1 < cap; i++) {
        args[n++] = fixed[i];
    }
    for (size_t i = 0; extra && extra[i] && n + 1 < cap; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
}

int tcb_test_emu_start(struct tcb_test_emu *emu, const char *const *extra_args)
{
    const char *args[MAX_ARGS];
    memset(emu, 0, sizeof(*emu));
    tcb_test_emu_account_args(extra_args, args, MAX_ARGS);
    if (tcb_test_emu_launch(emu, 0, args) != 0) {
        tcb_test_emu_cleanup(emu);
        return -1;
    }
    return 0;
}

int tcb_test_emu_halt(struct tcb_test_emu *emu, int signo)
{
    if (emu->pid <= 0) {
        return -1;
    }
    kill(emu->pid, signo);
    int rc = wait_exit(emu->pid, STOP_WAIT_MS);
    if (rc == -2) {
        kill(emu->pid, SIGKILL);
        waitpid(emu->pid, NULL, 0);
        rc = -1;
    }
    emu->pid = 0;
    return rc;
}

int tcb_test_emu_stop(struct tcb_test_emu *emu)
{
    return tcb_test_emu_stop_with(emu, SIGTERM);
}

int tcb_test_emu_stop_with(struct tcb_test_emu *emu, int signo)
{
    int rc = tcb_test_emu_halt(emu, signo);
    tcb_test_emu_cleanup(emu);
    return rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct tcb_test_reply *reply = userdata;
    size_t n = size * nmemb;
    if (reply->body_len + n > MAX_BODY) {
        return 0;
    }
    char *grown = realloc(reply->body, reply->body_len + n + 1);
    if (!grown) {
        return 0;
    }
    memcpy(grown + reply->body_len, data, n);
    reply->body = grown;
    reply->body_len += n;
    reply->body[reply->body_len] = '\0';
    return n;
}

static int perform(CURL *curl, struct tcb_test_reply *reply)
{
    char *type = NULL;
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    reply->curl_code = (int)curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) {
        snprintf(reply->content_type, sizeof(reply->content_type), "%s", type);
    }
    if (!reply->body) {
        reply->body = calloc(1, 1);
        if (!reply->body) {
            return -1;
        }
    }
    return 0;
}

int tcb_test_emu_post(const struct tcb_test_emu *emu, const char *account, const char *passcode,
                      const char *body, long timeout_ms, struct tcb_test_reply *reply)
{
    char url[128];
    char id_header[256];
    char pass_header[256];
    struct curl_slist *headers = NULL;
    memset(reply, 0, sizeof(*reply));
    CURL *curl = curl_easy_init();
    if (!curl) {
        return -1;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/1/upload", emu->port);
    headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
    if (account) {
        snprintf(id_header, sizeof(id_header), "X-CleverTap-Account-Id: %s", account);
        headers = curl_slist_append(headers, id_header);
    }
    if (passcode) {
        snprintf(pass_header, sizeof(pass_header), "X-CleverTap-Passcode: %s", passcode);
        headers = curl_slist_append(headers, pass_header);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 60000L);
    int rc = perform(curl, reply);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}

int tcb_test_emu_get(const struct tcb_test_emu *emu, const char *path, struct tcb_test_reply *reply)
{
    char url[256];
    memset(reply, 0, sizeof(*reply));
    CURL *curl = curl_easy_init();
    if (!curl) {
        return -1;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", emu->port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
    int rc = perform(curl, reply);
    curl_easy_cleanup(curl);
    return rc;
}

json_t *tcb_test_emu_stats(const struct tcb_test_emu *emu)
{
    struct tcb_test_reply reply;
    json_t *stats = NULL;
    if (tcb_test_emu_get(emu, "/stats", &reply) == 0 && reply.status == 200) {
        stats = json_loads(reply.body, 0, NULL);
    }
    tcb_test_reply_free(&reply);
    return stats;
}

long long tcb_test_stat(const json_t *stats, const char *path)
{
    char copy[256];
    char *save = NULL;
    const json_t *node = stats;
    snprintf(copy, sizeof(copy), "%s", path);
    for (char *part = strtok_r(copy, "/", &save); part && node; part = strtok_r(NULL, "/", &save)) {
        node = json_object_get(node, part);
    }
    return json_is_integer(node) ? (long long)json_integer_value(node) : -1;
}

void tcb_test_reply_free(struct tcb_test_reply *reply)
{
    if (!reply) {
        return;
    }
    free(reply->body);
    reply->body = NULL;
    reply->body_len = 0;
}
