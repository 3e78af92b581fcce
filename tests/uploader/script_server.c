/* The scripted CleverTap stand-in: one reply per request from a fixed script,
 * then success. Bodies are read whole (capped) so the record count is known. */
#include "tests/uploader/script_server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_CAP (4 * 1024 * 1024)

struct script_server {
    struct MHD_Daemon *daemon;
    const struct script_reply *replies;
    size_t reply_count;
    const char *account_id;
    const char *passcode;
    pthread_mutex_t lock;
    size_t next_reply;
    struct script_request requests[SCRIPT_MAX_REQUESTS];
    size_t request_count;
};

struct upload {
    char *body;
    size_t len;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int header_is(struct MHD_Connection *conn, const char *name, const char *want)
{
    const char *value = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    return value && strcmp(value, want) == 0;
}

static size_t count_records(const struct upload *upload)
{
    json_t *doc = json_loadb(upload->body ? upload->body : "", upload->len, 0, NULL);
    size_t n = json_array_size(json_object_get(doc, "d"));
    json_decref(doc);
    return n;
}

static enum MHD_Result answer(struct script_server *server, struct MHD_Connection *conn,
                              const struct upload *upload)
{
    struct script_request req = {
        .records = count_records(upload),
        .at_ms = now_ms(),
        .headers_ok = header_is(conn, "X-CleverTap-Account-Id", server->account_id) &&
                      header_is(conn, "X-CleverTap-Passcode", server->passcode) &&
                      header_is(conn, "Content-Type", "application/json; charset=utf-8"),
    };
    struct script_reply reply = {.status = 200};
    pthread_mutex_lock(&server->lock);
    if (server->request_count < SCRIPT_MAX_REQUESTS) {
        server->requests[server->request_count++] = req;
    }
    if (server->next_reply < server->reply_count) {
        reply = server->replies[server->next_reply++];
    }
    pthread_mutex_unlock(&server->lock);
    if (reply.delay_ms > 0) {
        struct timespec ts = {reply.delay_ms / 1000, (reply.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    char success[128];
    if (!reply.body) {
        snprintf(success, sizeof(success),
                 "{ \"status\" : \"success\" , \"processed\" : %zu , \"unprocessed\" : [ ]}",
                 req.records);
    }
    const char *body = reply.body ? reply.body : success;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(response, "Content-Type", "application/json;charset=utf-8");
    if (reply.retry_after) {
        MHD_add_response_header(response, "Retry-After", reply.retry_after);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned int)reply.status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct script_server *server = cls;
    (void)url;
    (void)method;
    (void)version;
    struct upload *upload = *con_cls;
    if (!upload) {
        upload = calloc(1, sizeof(*upload));
        *con_cls = upload;
        return upload ? MHD_YES : MHD_NO;
    }
    if (*data_size > 0) {
        if (upload->len + *data_size <= BODY_CAP) {
            char *grown = realloc(upload->body, upload->len + *data_size);
            if (!grown) {
                return MHD_NO;
            }
            upload->body = grown;
            memcpy(upload->body + upload->len, data, *data_size);
            upload->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    return answer(server, conn, upload);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct upload *upload = *con_cls;
    if (upload) {
        free(upload->body);
        free(upload);
        *con_cls = NULL;
    }
}

struct script_server *script_server_start(const struct script_reply *replies, size_t count,
                                          const char *account_id, const char *passcode)
{
    struct script_server *server = calloc(1, sizeof(*server));
    if (!server) {
        return NULL;
    }
    server->replies = replies;
    server->reply_count = count;
    server->account_id = account_id;
    server->passcode = passcode;
    pthread_mutex_init(&server->lock, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, on_request, server, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!server->daemon) {
        script_server_stop(server);
        return NULL;
    }
    return server;
}

int script_server_port(const struct script_server *server)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : -1;
}

size_t script_server_requests(struct script_server *server, struct script_request *out, size_t cap)
{
    pthread_mutex_lock(&server->lock);
    size_t n = server->request_count < cap ? server->request_count : cap;
    memcpy(out, server->requests, n * sizeof(*out));
    pthread_mutex_unlock(&server->lock);
    return n;
}

void script_server_stop(struct script_server *server)
{
    if (!server) {
        return;
    }
    if (server->daemon) {
        MHD_stop_daemon(server->daemon);
    }
    pthread_mutex_destroy(&server->lock);
    free(server);
}
