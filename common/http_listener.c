/* The operations listener: /healthz, /readyz and /metrics over libmicrohttpd's
 * internal polling thread, at most 64 connections, 10 s idle timeout. It reads
 * no request bodies and serves nothing else (404, 405 for non-GET). */
#include "common/http_listener.h"

#include "common/metrics.h"
#include "common/net_address.h"
#include "util/alloc.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTENER_MAX_CONNECTIONS 64
#define LISTENER_TIMEOUT_S       10

struct tcb_http_listener {
    struct MHD_Daemon *daemon;
    struct tcb_metrics *metrics;
    tcb_ready_fn ready;
    void *ready_ctx;
    int port;
};

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned int status,
                               const char *content_type, char *body, size_t len,
                               int body_is_malloced)
{
    struct MHD_Response *response =
        body_is_malloced ? MHD_create_response_from_buffer_with_free_callback(len, body, free)
                         : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    if (!response) {
        if (body_is_malloced) {
            free(body);
        }
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result serve_readyz(struct tcb_http_listener *listener,
                                    struct MHD_Connection *connection)
{
    char why[256] = "";
    int ready = listener->ready ? listener->ready(listener->ready_ctx, why, sizeof(why)) : 1;
    char body[320];
    int n = snprintf(body, sizeof(body), "%s%s%s\n", ready ? "ready" : "not ready",
                     why[0] ? ": " : "", why);
    return respond(connection, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                   "text/plain; charset=utf-8", body, (size_t)n, 0);
}

static enum MHD_Result serve_metrics(struct tcb_http_listener *listener,
                                     struct MHD_Connection *connection)
{
    size_t len = 0;
    char *text = listener->metrics ? tcb_metrics_render(listener->metrics, &len) : tcb_xstrdup("");
    return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
                   1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct tcb_http_listener *listener = cls;
    static int first_call_marker;
    if (*req_cls == NULL) { /* headers only so far: wait for the whole request */
        *req_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size) { /* bodies are ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                       (char *)"method not allowed\n", 19, 0);
    }
    if (strcmp(url, "/healthz") == 0) {
        return respond(connection, MHD_HTTP_OK, "text/plain", (char *)"ok\n", 3, 0);
    }
    if (strcmp(url, "/readyz") == 0) {
        return serve_readyz(listener, connection);
    }
    if (strcmp(url, "/metrics") == 0) {
        return serve_metrics(listener, connection);
    }
    return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain", (char *)"not found\n", 10, 0);
}

struct tcb_http_listener *tcb_http_listener_start(const char *listen, struct tcb_metrics *metrics,
                                                  tcb_ready_fn ready, void *ready_ctx, char *err,
                                                  size_t err_len)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (tcb_net_parse_listen(listen, &addr, &addr_len, err, err_len) != 0) {
        return NULL;
    }
    struct tcb_http_listener *listener = tcb_xcalloc(1, sizeof(*listener));
    listener->metrics = metrics;
    listener->ready = ready;
    listener->ready_ctx = ready_ctx;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    listener->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, listener, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)LISTENER_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)LISTENER_TIMEOUT_S, MHD_OPTION_END);
    if (!listener->daemon) {
        snprintf(err, err_len, "cannot listen (address in use or not local?)");
        free(listener);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(listener->daemon, MHD_DAEMON_INFO_BIND_PORT);
    listener->port = info ? info->port : tcb_net_port(&addr);
    return listener;
}

int tcb_http_listener_port(const struct tcb_http_listener *listener)
{
    return listener ? listener->port : -1;
}

void tcb_http_listener_stop(struct tcb_http_listener *listener)
{
    if (!listener) {
        return;
    }
    if (listener->daemon) {
        MHD_stop_daemon(listener->daemon);
    }
    free(listener);
}
