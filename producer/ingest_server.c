/* libmicrohttpd plumbing for talon-ingest: one epoll thread pool, bounded
 * connections, header memory, bodies and read timeouts; per-request state
 * machine (headers -> body -> dispatch -> suspended until acknowledged ->
 * response). Decisions about statuses live in ingest_routes.c. */
#include "producer/ingest_server.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/net_address.h"
#include "config/config.h"
#include "producer/ingest_metrics.h"
#include "producer/ingest_routes.h"
#include "util/alloc.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS       8
#define HEADER_MEMORY     (16 * 1024) /* request line + headers + read buffer */
#define RESPONSE_BODY_MAX 256

struct tcb_ingest_server {
    const struct tcb_config *cfg;
    struct tcb_ingest_producer *producer;
    const struct tcb_ingest_metrics *metrics;
    struct MHD_Daemon *daemon;
    int port;
    MHD_socket quiesced_fd;
    atomic_int closing;
    atomic_int waiting;
};

static const char *route_label(enum tcb_ingest_route route)
{
    switch (route) {
    case TCB_ROUTE_UPLOAD:
        return "upload";
    case TCB_ROUTE_NOTIFICATIONS:
        return "notifications";
    default:
        return "other";
    }
}

static enum MHD_Result respond(struct tcb_ingest_server *server, struct MHD_Connection *connection,
                               enum tcb_ingest_route route, unsigned int status, const char *body)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == 401 && route == TCB_ROUTE_NOTIFICATIONS) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"talon-ingest\"");
    }
    enum MHD_Result rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    char status_text[8];
    snprintf(status_text, sizeof(status_text), "%u", status);
    const char *labels[] = {route_label(route), status_text};
    tcb_counter_add(server->metrics ? server->metrics->requests : NULL, labels, 1);
    return rc;
}

/* CleverTap-shaped bodies: success with the record count, or a failure. */
static enum MHD_Result answer(struct tcb_ingest_server *server, struct MHD_Connection *connection,
                              enum tcb_ingest_route route, const struct tcb_ingest_answer *a,
                              size_t processed)
{
    char body[RESPONSE_BODY_MAX];
    if (a->status == 200) {
        snprintf(body, sizeof(body),
                 "{\"status\":\"success\",\"processed\":%zu,\"unprocessed\":[]}", processed);
    } else {
        snprintf(body, sizeof(body), "{\"status\":\"fail\",\"error\":\"%s\",\"code\":%u}",
                 a->error ? a->error : "", a->status);
    }
    if (a->status >= 500) {
        TCB_WARN("ingest.unavailable", "%s %u: %s", route_label(route), a->status,
                 a->error ? a->error : "");
    } else if (a->status >= 400) {
        TCB_INFO("ingest.rejected", "%s %u: %s", route_label(route), a->status,
                 a->error ? a->error : "");
    }
    return respond(server, connection, route, a->status, body);
}

static enum tcb_ingest_route match_route(const char *url)
{
    if (strcmp(url, "/1/upload") == 0) {
        return TCB_ROUTE_UPLOAD;
    }
    if (strcmp(url, "/talon/notifications") == 0) {
        return TCB_ROUTE_NOTIFICATIONS;
    }
    return TCB_ROUTE_NONE;
}

static const char *header(struct MHD_Connection *connection, const char *name)
{
    return name ? MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name) : NULL;
}

/* First call for a request: route, method, credentials, declared size. */
static enum MHD_Result begin(struct tcb_ingest_server *server, struct MHD_Connection *connection,
                             const char *url, const char *method, void **req_cls)
{
    struct tcb_ingest_answer a = {0, NULL};
    enum tcb_ingest_route route = match_route(url);
    if (route == TCB_ROUTE_NONE) {
        a = (struct tcb_ingest_answer){404, "Not found"};
    } else if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        a = (struct tcb_ingest_answer){405, "Method not allowed"};
    } else if (atomic_load(&server->closing)) {
        a = (struct tcb_ingest_answer){503, "Shutting down"};
    }
    if (a.status != 0) {
        return answer(server, connection, route, &a, 0);
    }

    struct tcb_ingest_request *request = tcb_xcalloc(1, sizeof(*request));
    request->cfg = server->cfg;
    request->producer = server->producer;
    request->connection = connection;
    request->route = route;
    tcb_buf_init(&request->body, (size_t)server->cfg->ingest.max_body_bytes);
    *req_cls = request;

    char *user = NULL;
    char *password = NULL;
    if (route == TCB_ROUTE_NOTIFICATIONS) {
        user = MHD_basic_auth_get_username_password(connection, &password);
    }
    const struct tcb_ingest_headers headers = {
        .account_id = header(connection, "X-CleverTap-Account-Id"),
        .passcode = header(connection, "X-CleverTap-Passcode"),
        .x_uuid = header(connection, "X-UUID"),
        .secret = header(connection, server->cfg->ingest.notification_secret_header),
        .basic_password = password,
    };
    int authorized = tcb_ingest_route_authorize(request, &headers, &a);
    if (password) {
        explicit_bzero(password, strlen(password));
        MHD_free(password);
    }
    if (user) {
        MHD_free(user);
    }
    if (authorized != 0) {
        return answer(server, connection, route, &a, 0);
    }

    const char *length = header(connection, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoll(length, NULL, 10) > server->cfg->ingest.max_body_bytes) {
        a = (struct tcb_ingest_answer){413, "Request body is too large"};
        return answer(server, connection, route, &a, 0);
    }
    return MHD_YES;
}

/* The body is complete: queue its records and wait, or answer now. */
static enum MHD_Result dispatch(struct tcb_ingest_server *server,
                                struct tcb_ingest_request *request)
{
    struct MHD_Connection *connection = request->connection;
    struct tcb_ingest_answer a = {503, "Shutting down"};
    if (atomic_load(&server->closing)) { /* the producer is being drained */
        return answer(server, connection, request->route, &a, 0);
    }
    if (tcb_ingest_route_dispatch(request, &a) != 0) {
        return answer(server, connection, request->route, &a, request->record_count);
    }
    request->waiting = 1;
    atomic_fetch_add(&server->waiting, 1);
    MHD_suspend_connection(connection);
    /* Drop the dispatch reference: if every acknowledgement already came, we
     * resume ourselves; else the last acknowledgement does. */
    if (atomic_fetch_sub(&request->pending, 1) == 1) {
        MHD_resume_connection(connection);
    }
    return MHD_YES;
}

/* Resumed after the last acknowledgement. */
static enum MHD_Result finish(struct tcb_ingest_server *server, struct tcb_ingest_request *request)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double seconds = (double)(now.tv_sec - request->started.tv_sec) +
                     (double)(now.tv_nsec - request->started.tv_nsec) / 1e9;
    tcb_histogram_observe(server->metrics ? server->metrics->produce_latency : NULL, NULL, seconds);
    request->waiting = 0;
    atomic_fetch_sub(&server->waiting, 1);
    struct tcb_ingest_answer a = {200, NULL};
    if (atomic_load(&request->failed)) {
        a = (struct tcb_ingest_answer){503, "Kafka did not acknowledge the records in time"};
    } else if (request->oversized) { /* the others are on Kafka; this one never can be */
        a = (struct tcb_ingest_answer){413, TCB_INGEST_RECORD_TOO_LARGE};
    }
    return answer(server, request->connection, request->route, &a, request->record_count);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct tcb_ingest_server *server = cls;
    struct tcb_ingest_request *request = *req_cls;
    if (request == NULL) {
        return begin(server, connection, url, method, req_cls);
    }
    if (*upload_data_size > 0) {
        int rc = tcb_ingest_request_append(request, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    if (request->waiting) {
        return finish(server, request);
    }
    return dispatch(server, request);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct tcb_ingest_server *server = cls;
    struct tcb_ingest_request *request = *req_cls;
    if (request && request->waiting) {
        atomic_fetch_sub(&server->waiting, 1); /* client left before the answer */
    }
    tcb_ingest_request_free(request);
    *req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    tcb_vlog(TCB_LOG_WARN, "http.server", fmt, ap);
}

static unsigned int thread_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) {
        return 1;
    }
    return cpus > MAX_THREADS ? MAX_THREADS : (unsigned int)cpus;
}

struct tcb_ingest_server *tcb_ingest_server_start(const struct tcb_config *cfg,
                                                  struct tcb_ingest_producer *producer,
                                                  const struct tcb_ingest_metrics *metrics,
                                                  char *err, size_t err_len)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (tcb_net_parse_listen(cfg->ingest.listen, &addr, &addr_len, err, err_len) != 0) {
        return NULL;
    }
    struct tcb_ingest_server *server = tcb_xcalloc(1, sizeof(*server));
    server->cfg = cfg;
    server->producer = producer;
    server->metrics = metrics;
    server->quiesced_fd = MHD_INVALID_SOCKET;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, thread_count(),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->ingest.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->ingest.connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, server, MHD_OPTION_END);
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: that sets SO_REUSEPORT, which would let a
     * second talon-ingest on the same port start silently and share the traffic. */
    if (server->daemon == NULL) {
        snprintf(err, err_len, "cannot listen on %s", cfg->ingest.listen);
        free(server);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : -1;
    return server;
}

int tcb_ingest_server_port(const struct tcb_ingest_server *server)
{
    return server ? server->port : -1;
}

void tcb_ingest_server_quiesce(struct tcb_ingest_server *server)
{
    if (server == NULL || atomic_exchange(&server->closing, 1)) {
        return;
    }
    server->quiesced_fd = MHD_quiesce_daemon(server->daemon);
}

int tcb_ingest_server_waiting(const struct tcb_ingest_server *server)
{
    return server ? atomic_load(&server->waiting) : 0;
}

void tcb_ingest_server_stop(struct tcb_ingest_server *server)
{
    if (server == NULL) {
        return;
    }
    if (atomic_load(&server->waiting) > 0) {
        TCB_ERROR("ingest.stop", "%d requests still wait for Kafka; not stopping the listener",
                  atomic_load(&server->waiting));
        return;
    }
    if (server->daemon) {
        MHD_stop_daemon(server->daemon);
    }
    if (server->quiesced_fd != MHD_INVALID_SOCKET) {
        close(server->quiesced_fd);
    }
    free(server);
}

void tcb_ingest_server_on_delivery(void *opaque, int ok)
{
    struct tcb_ingest_request *request = opaque;
    if (!ok) {
        atomic_store(&request->failed, 1);
    }
    if (atomic_fetch_sub(&request->pending, 1) == 1) {
        MHD_resume_connection(request->connection);
    }
}
