/* libmicrohttpd glue for the emulator: request contexts, bounded body
 * collection, routing, the upload flow (auth -> concurrency slot -> fault plan
 * -> validation -> record -> answer) and interruptible waits for latency and
 * hangs. Never logs payloads, identities or passcodes. */
#include "tools/clevertap-emulator/emulator_server.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "tools/clevertap-emulator/emulator_recorder.h"
#include "tools/clevertap-emulator/emulator_stats.h"
#include "tools/clevertap-emulator/emulator_upload.h"
#include "util/alloc.h"

#define JSON_TYPE     "application/json;charset=utf-8"
#define HANG_CHECK_MS 100 /* how often a hung request looks for a closed client */
#define HTML_503                                                                                   \
    "<html><body><h1>503 Service Unavailable</h1>\n"                                               \
    "No server is available to handle this request.\n</body></html>\n"

struct tcb_emu_server {
    struct MHD_Daemon *mhd;
    const struct tcb_emu_options *opts; /* borrowed */
    struct tcb_emu_recorder *recorder;
    struct tcb_emu_upload_cfg upload_cfg;
    struct tcb_emu_stats stats;
    int stats_ready;
    pthread_mutex_t lock; /* guards stopping and next_seq; wake waits on it */
    pthread_cond_t wake;
    int sync_ready;
    int stopping;
    uint64_t next_seq;
    uint64_t seed;
    int port;
    char *tls_cert; /* PEM text of --tls-cert / --tls-key, owned; NULL = plain HTTP */
    char *tls_key;
};

enum route { ROUTE_UPLOAD, ROUTE_STATS, ROUTE_HEALTH, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

struct request {
    enum route route;
    int account; /* index, or -1 when the credentials did not match */
    int too_large;
    struct tcb_buf body;
};

/* The monotonic time ms milliseconds from now. */
static struct timespec deadline_after(int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

/* Waits until deadline (CLOCK_MONOTONIC) or until the server stops. Returns 1
 * when stopping. */
static int wait_until(struct tcb_emu_server *server, const struct timespec *deadline)
{
    pthread_mutex_lock(&server->lock);
    while (!server->stopping) {
        if (pthread_cond_timedwait(&server->wake, &server->lock, deadline) == ETIMEDOUT) {
            break;
        }
    }
    int stopping = server->stopping;
    pthread_mutex_unlock(&server->lock);
    return stopping;
}

static uint64_t take_sequence(struct tcb_emu_server *server)
{
    pthread_mutex_lock(&server->lock);
    uint64_t seq = server->next_seq++;
    pthread_mutex_unlock(&server->lock);
    return seq;
}

/* Queues body (taken: freed by libmicrohttpd) with status and content type. */
static enum MHD_Result send_owned(struct MHD_Connection *conn, int status, char *body, size_t len,
                                  const char *type)
{
    if (!body) {
        return MHD_NO;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned int)status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result send_static(struct MHD_Connection *conn, int status, const char *text,
                                   const char *type)
{
    size_t len = strlen(text);
    char *copy = tcb_xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    return send_owned(conn, status, copy, len, type);
}

static enum MHD_Result send_fail(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                 int account, int status, const char *error)
{
    size_t len = 0;
    char *body = tcb_emu_fail_body(error, status, &len);
    tcb_emu_stats_answered(&server->stats, account, status);
    return send_owned(conn, status, body, len, JSON_TYPE);
}

/* 1 when the client closed its end of conn (or the socket failed). */
static int client_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    char byte;
    if (!info) {
        return 1;
    }
    ssize_t n = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Holds a hung request for hang_ms, until shutdown, or until the client gives
 * up and closes: a hung request never answers, but a client that went away no
 * longer pins a connection thread. */
static void hold_hung(struct tcb_emu_server *server, struct MHD_Connection *conn)
{
    struct timespec release = deadline_after(server->opts->hang_ms);
    for (;;) {
        struct timespec next = deadline_after(HANG_CHECK_MS);
        int last = next.tv_sec > release.tv_sec ||
                   (next.tv_sec == release.tv_sec && next.tv_nsec >= release.tv_nsec);
        if (wait_until(server, last ? &release : &next) || last || client_gone(conn)) {
            return;
        }
    }
}

/* Hangs or drops: the connection closes without an answer. */
static enum MHD_Result no_answer(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                 int account, enum tcb_emu_fault_action action)
{
    tcb_emu_stats_leave(&server->stats, account);
    tcb_emu_stats_answered(&server->stats, account, 0);
    if (action == TCB_EMU_FAULT_HANG) {
        tcb_emu_stats_event(&server->stats, TCB_EMU_EVENT_HUNG);
        hold_hung(server, conn);
        tcb_emu_stats_event(&server->stats, TCB_EMU_EVENT_HUNG_RELEASED);
    } else {
        tcb_emu_stats_event(&server->stats, TCB_EMU_EVENT_DROPPED);
    }
    return MHD_NO;
}

static enum MHD_Result send_fault(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                  int account, enum tcb_emu_fault_action action)
{
    if (action == TCB_EMU_FAULT_429) {
        tcb_emu_stats_event(&server->stats, TCB_EMU_EVENT_INJECTED_429);
        return send_fail(server, conn, account, 429, "Too many concurrent requests");
    }
    tcb_emu_stats_event(&server->stats, TCB_EMU_EVENT_INJECTED_5XX);
    if (action == TCB_EMU_FAULT_500) {
        return send_fail(server, conn, account, 500, "Internal Server Error");
    }
    tcb_emu_stats_answered(&server->stats, account, 503);
    return send_static(conn, 503, HTML_503, "text/html");
}

/* Validates, records and answers an upload that drew no request-level fault,
 * no earlier than answer_at: added latency overlaps the work, as a slow server's
 * would. The concurrency slot is released before the answer is queued, so a
 * client that has its answer can never find its own slot still taken. */
static enum MHD_Result answer_upload(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                     struct request *req, struct tcb_emu_rng *rng,
                                     const struct timespec *answer_at)
{
    struct tcb_emu_upload_result result;
    const char *account_id = server->opts->accounts.items[req->account].id;
    const char *body = req->body.data ? req->body.data : "";
    int rc_process = tcb_emu_upload_process(&server->upload_cfg, body, req->body.len, rng, &result);
    if (wait_until(server, answer_at)) {
        tcb_emu_upload_result_free(&result);
        tcb_emu_stats_leave(&server->stats, req->account);
        return MHD_NO; /* shutting down: nothing recorded, no answer */
    }
    if (rc_process != 0) {
        tcb_emu_upload_result_free(&result);
        tcb_emu_stats_leave(&server->stats, req->account);
        return send_fail(server, conn, req->account, 500, "Internal Server Error");
    }
    if (result.http_status == 200) {
        int recorded = tcb_emu_recorder_write(server->recorder, account_id, result.records,
                                              result.accepted, result.record_count);
        tcb_emu_stats_records(&server->stats, req->account, &result, recorded);
        TCB_DEBUG("upload.answer", "account=%s records=%zu processed=%d unprocessed=%d", account_id,
                  result.record_count, result.processed, result.unprocessed);
    }
    tcb_emu_stats_leave(&server->stats, req->account);
    tcb_emu_stats_answered(&server->stats, req->account, result.http_status);
    enum MHD_Result rc =
        send_owned(conn, result.http_status, result.body, result.body_len, JSON_TYPE);
    result.body = NULL; /* taken by send_owned */
    tcb_emu_upload_result_free(&result);
    return rc;
}

static enum MHD_Result handle_upload(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                     struct request *req)
{
    if (req->account < 0) {
        return send_fail(server, conn, -1, 401, "Account ID is not valid");
    }
    if (req->too_large) {
        return send_fail(server, conn, req->account, 413, "Payload too large");
    }
    if (!tcb_emu_stats_enter(&server->stats, req->account, server->opts->max_concurrent)) {
        return send_fail(server, conn, req->account, 429, "Too many concurrent requests");
    }

    struct tcb_emu_rng rng;
    struct tcb_emu_fault_plan plan;
    tcb_emu_rng_seed(&rng, server->seed, take_sequence(server));
    tcb_emu_faults_plan(&server->opts->faults, &rng, &plan);
    struct timespec answer_at = deadline_after(plan.latency_ms);
    if (plan.action == TCB_EMU_FAULT_NONE) {
        return answer_upload(server, conn, req, &rng, &answer_at);
    }
    if (wait_until(server, &answer_at)) {
        tcb_emu_stats_leave(&server->stats, req->account);
        return MHD_NO; /* shutting down */
    }
    if (plan.action == TCB_EMU_FAULT_DROP || plan.action == TCB_EMU_FAULT_HANG) {
        return no_answer(server, conn, req->account, plan.action);
    }
    tcb_emu_stats_leave(&server->stats, req->account);
    return send_fault(server, conn, req->account, plan.action);
}

static enum MHD_Result handle_final(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                    struct request *req)
{
    switch (req->route) {
    case ROUTE_UPLOAD:
        return handle_upload(server, conn, req);
    case ROUTE_STATS: {
        size_t len = 0;
        char *json = tcb_emu_stats_render(&server->stats, &len);
        return send_owned(conn, 200, json, len, "application/json");
    }
    case ROUTE_HEALTH:
        return send_static(conn, 200, "ok\n", "text/plain");
    case ROUTE_BAD_METHOD:
        return send_static(conn, 405, "method not allowed\n", "text/plain");
    case ROUTE_NOT_FOUND:
        break;
    }
    return send_static(conn, 404, "not found\n", "text/plain");
}

static struct request *new_request(struct tcb_emu_server *server, struct MHD_Connection *conn,
                                   const char *url, const char *method)
{
    struct request *req = tcb_xcalloc(1, sizeof(*req));
    req->account = -1;
    tcb_buf_init(&req->body, server->opts->max_body_bytes);
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (strcmp(url, "/1/upload") == 0) {
        req->route = strcmp(method, MHD_HTTP_METHOD_POST) == 0 ? ROUTE_UPLOAD : ROUTE_BAD_METHOD;
    } else if (strcmp(url, "/stats") == 0) {
        req->route = is_get ? ROUTE_STATS : ROUTE_BAD_METHOD;
    } else if (strcmp(url, "/healthz") == 0) {
        req->route = is_get ? ROUTE_HEALTH : ROUTE_BAD_METHOD;
    } else {
        req->route = ROUTE_NOT_FOUND;
    }
    if (req->route == ROUTE_UPLOAD) {
        const char *id =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CleverTap-Account-Id");
        const char *pass =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CleverTap-Passcode");
        req->account = tcb_emu_accounts_check(&server->opts->accounts, id, pass);
    }
    return req;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct tcb_emu_server *server = cls;
    struct request *req = *con_cls;
    if (!req) {
        req = new_request(server, conn, url, method);
        *con_cls = req;
        return req ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size > 0) {
        /* Bodies of unauthenticated or oversized requests are read and dropped,
         * so the client always gets its answer instead of a reset. */
        int keep = req->route == ROUTE_UPLOAD && req->account >= 0 && !req->too_large;
        if (keep && tcb_buf_append(&req->body, upload_data, *upload_data_size) != 0) {
            req->too_large = 1;
            tcb_buf_free(&req->body, 0);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle_final(server, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *req = *con_cls;
    if (req) {
        tcb_buf_free(&req->body, 0);
        free(req);
        *con_cls = NULL;
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    tcb_vlog(TCB_LOG_DEBUG, "http.mhd", fmt, ap);
}

static int init_sync(struct tcb_emu_server *server)
{
    pthread_condattr_t attr;
    if (pthread_mutex_init(&server->lock, NULL) != 0) {
        return -1;
    }
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&server->lock);
        return -1;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&server->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&server->lock);
        return -1;
    }
    server->sync_ready = 1;
    return 0;
}

#define PEM_MAX_BYTES (1024 * 1024)

/* A whole PEM file as a new NUL-terminated string, or NULL (missing, unreadable,
 * empty or over PEM_MAX_BYTES). */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *text = tcb_xmalloc(PEM_MAX_BYTES + 1);
    size_t n = fread(text, 1, PEM_MAX_BYTES + 1, f);
    fclose(f);
    if (n == 0 || n > PEM_MAX_BYTES) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* With --tls-cert: reads both files and fills the TLS options (MHD_OPTION_END
 * terminated) and flag. Returns 0, or -1 with the file named in err. */
static int tls_options(struct tcb_emu_server *server, struct MHD_OptionItem *items,
                       unsigned int *flags, char *err, size_t err_len)
{
    items[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (!server->opts->tls_cert) {
        return 0;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, err_len, "this libmicrohttpd was built without TLS");
        return -1;
    }
    server->tls_cert = read_pem(server->opts->tls_cert);
    server->tls_key = read_pem(server->opts->tls_key);
    if (!server->tls_cert || !server->tls_key) {
        snprintf(err, err_len, "cannot read %s", server->tls_cert ? "--tls-key" : "--tls-cert");
        return -1;
    }
    items[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key};
    items[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, server->tls_cert};
    items[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    *flags |= MHD_USE_TLS;
    return 0;
}

static int start_mhd(struct tcb_emu_server *server, const struct sockaddr_storage *addr, char *err,
                     size_t err_len)
{
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (addr->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem tls[3];
    if (tls_options(server, tls, &flags, err, err_len) != 0) {
        return -1;
    }
    server->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)server->opts->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!server->mhd) {
        snprintf(err, err_len, "cannot listen on %s (in use, not a local address%s?)",
                 server->opts->listen,
                 server->tls_cert ? ", or a certificate and key that do not parse or match" : "");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->mhd, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? (int)info->port : -1;
    return 0;
}

struct tcb_emu_server *tcb_emu_server_start(const struct tcb_emu_options *opts,
                                            const struct sockaddr_storage *addr, socklen_t addr_len,
                                            uint64_t seed, char *err, size_t err_len)
{
    struct tcb_emu_server *server = tcb_xcalloc(1, sizeof(*server));
    server->opts = opts;
    server->seed = seed;
    server->upload_cfg.max_records = opts->max_records;
    server->upload_cfg.limits.max_properties = opts->max_properties;
    server->upload_cfg.p_555 = opts->faults.p_555;
    server->upload_cfg.max_response_bytes = opts->max_body_bytes * 4 + 65536;
    if (init_sync(server) != 0 || tcb_emu_stats_init(&server->stats, &opts->accounts) != 0) {
        snprintf(err, err_len, "cannot initialise locks");
        tcb_emu_server_stop(server);
        return NULL;
    }
    server->stats_ready = 1;
    if (opts->record_path) {
        server->recorder =
            tcb_emu_recorder_open(opts->record_path, opts->record_max_bytes, err, err_len);
        if (!server->recorder) {
            tcb_emu_server_stop(server);
            return NULL;
        }
    }
    (void)addr_len;
    if (start_mhd(server, addr, err, err_len) != 0) {
        tcb_emu_server_stop(server);
        return NULL;
    }
    return server;
}

int tcb_emu_server_port(const struct tcb_emu_server *server)
{
    return server->port;
}

char *tcb_emu_server_stats(struct tcb_emu_server *server)
{
    return tcb_emu_stats_render(&server->stats, NULL);
}

void tcb_emu_server_stop(struct tcb_emu_server *server)
{
    if (!server) {
        return;
    }
    if (server->sync_ready) {
        pthread_mutex_lock(&server->lock);
        server->stopping = 1;
        pthread_cond_broadcast(&server->wake);
        pthread_mutex_unlock(&server->lock);
    }
    if (server->mhd) {
        MHD_stop_daemon(server->mhd);
    }
    tcb_emu_recorder_close(server->recorder);
    free(server->tls_cert);
    free(server->tls_key);
    if (server->stats_ready) {
        tcb_emu_stats_destroy(&server->stats);
    }
    if (server->sync_ready) {
        pthread_cond_destroy(&server->wake);
        pthread_mutex_destroy(&server->lock);
    }
    free(server);
}
