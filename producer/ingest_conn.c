/* One talon-ingest connection, as a state machine driven by edge-triggered
 * epoll events: TLS handshake, request head (strictly parsed, bounded in
 * size and time), route and credentials, body (bounded in size, time and
 * the server's bytes in flight), dispatch to Kafka, the answer, then the
 * next request or a lingering close. It runs on its worker's thread only. */
#include "producer/ingest_conn.h"

#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "producer/ingest_metrics.h"
#include "producer/ingest_tls.h"
#include "util/alloc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_AGAIN     (-2)
#define LINGER_MS    2000
#define LINGER_BYTES (1024 * 1024)

enum answer_flags {
    ANSWER_CLOSE = 1, /* close after it: the rest of the request is not read */
    ANSWER_QUIET = 2, /* a protocol-level refusal: logged at debug only */
};

static const char continue_response[] = "HTTP/1.1 100 Continue\r\n\r\n";

static struct tcb_ingest_server *server_of(const struct ingest_conn *c)
{
    return c->worker->server;
}

static const struct tcb_config_ingest *limits_of(const struct ingest_conn *c)
{
    return &server_of(c)->cfg->ingest;
}

static const struct tcb_ingest_metrics *metrics_of(const struct ingest_conn *c)
{
    static const struct tcb_ingest_metrics none;
    const struct tcb_ingest_metrics *metrics = server_of(c)->metrics;
    return metrics ? metrics : &none;
}

/* >0 bytes, 0 at the peer's end, IO_AGAIN, or -1 on an error. */
static ssize_t conn_recv(struct ingest_conn *c, void *buf, size_t len)
{
    if (c->tls != NULL) {
        ssize_t n = tcb_tls_recv(c->tls, buf, len);
        return n == TCB_TLS_AGAIN ? IO_AGAIN : n;
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -1;
        }
    }
}

static ssize_t conn_send(struct ingest_conn *c, const void *buf, size_t len)
{
    if (c->tls != NULL) {
        ssize_t n = tcb_tls_send(c->tls, buf, len);
        return n == TCB_TLS_AGAIN ? IO_AGAIN : n;
    }
    for (;;) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -1;
        }
    }
}

/* Counts n more bytes held for the request; -1 when that would pass
 * ingest.max_inflight_bytes (nothing counted then). */
static int reserve(struct ingest_conn *c, size_t n)
{
    struct tcb_ingest_server *server = server_of(c);
    long long max = limits_of(c)->max_inflight_bytes;
    long long now = atomic_load(&server->inflight);
    do {
        if (now + (long long)n > max) {
            return -1;
        }
    } while (!atomic_compare_exchange_weak(&server->inflight, &now, now + (long long)n));
    c->reserved += n;
    return 0;
}

static void release(struct ingest_conn *c)
{
    if (c->reserved > 0) {
        atomic_fetch_sub(&server_of(c)->inflight, (long long)c->reserved);
        c->reserved = 0;
    }
}

/* Drops n bytes from the front of the input. */
static void consume(struct ingest_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->scanned = 0;
}

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

static const char *reason_phrase(unsigned int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

static void count_answer(const struct ingest_conn *c, unsigned int status, const char *error,
                         int flags)
{
    char status_text[8];
    snprintf(status_text, sizeof(status_text), "%u", status);
    const char *route = route_label(c->request.route);
    const char *labels[] = {route, status_text};
    tcb_counter_add(metrics_of(c)->requests, labels, 1);
    if (status < 400) {
        return;
    }
    if (flags & ANSWER_QUIET) {
        TCB_DEBUG("ingest.refused", "%s %u: %s", route, status, error ? error : "");
    } else if (status >= 500) {
        TCB_WARN("ingest.unavailable", "%s %u: %s", route, status, error ? error : "");
    } else {
        TCB_INFO("ingest.rejected", "%s %u: %s", route, status, error ? error : "");
    }
}

/* Queues the answer to the current request (a CleverTap-shaped JSON body)
 * and forgets the request. error is a string literal without quotes. */
static void answer(struct ingest_conn *c, unsigned int status, const char *error, int flags)
{
    struct tcb_ingest_server *server = server_of(c);
    ingest_timer_clear(c);
    release(c);
    count_answer(c, status, error, flags);
    char body[256];
    int body_len;
    if (status == 200) {
        body_len = snprintf(body, sizeof(body),
                            "{\"status\":\"success\",\"processed\":%zu,\"unprocessed\":[]}",
                            c->request.record_count);
    } else {
        body_len =
            snprintf(body, sizeof(body), "{\"status\":\"fail\",\"error\":\"%s\",\"code\":%u}",
                     error ? error : "", status);
    }
    c->close_after = (flags & ANSWER_CLOSE) || !c->keep_alive || atomic_load(&server->closing) != 0;
    const char *connection = c->close_after  ? "Connection: close\r\n"
                             : c->minor == 0 ? "Connection: keep-alive\r\n"
                                             : "";
    int head_len =
        snprintf(c->out, sizeof(c->out),
                 "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: application/json\r\nContent-Length: "
                 "%d\r\n%s%s%s%s\r\n",
                 status, reason_phrase(status), ingest_date(c->worker), body_len, connection,
                 status == 401 && c->request.route == TCB_ROUTE_NOTIFICATIONS
                     ? "WWW-Authenticate: Basic realm=\"talon-ingest\"\r\n"
                     : "",
                 status == 503 ? "Retry-After: 1\r\n" : "", status == 405 ? "Allow: POST\r\n" : "");
    c->out_len = (size_t)head_len;
    if (!c->omit_body) {
        memcpy(c->out + c->out_len, body, (size_t)body_len);
        c->out_len += (size_t)body_len;
    }
    c->out_sent = 0;
    c->continue_sent = 0;
    tcb_ingest_request_reset(&c->request);
    c->state = CONN_WRITING;
}

void ingest_conn_close(struct ingest_conn *c, const char *shed_reason)
{
    if (c->closed || c->state == CONN_WAITING) {
        return; /* a waiting request is answered first; its memory is Kafka's opaque */
    }
    struct tcb_ingest_server *server = server_of(c);
    if (shed_reason != NULL) {
        ingest_count_shed(server, shed_reason);
    }
    ingest_evictable(c, 0); /* off the list before the socket goes: see evict_oldest */
    ingest_timer_clear(c);
    release(c);
    tcb_tls_session_close(c->tls);
    c->tls = NULL;
    close(c->fd);
    c->closed = 1;
    atomic_fetch_sub(&server->open, 1);
    c->done_next = c->worker->graveyard;
    c->worker->graveyard = c;
}

void ingest_conn_open(struct ingest_worker *w, int fd)
{
    struct tcb_ingest_server *server = w->server;
    struct ingest_conn *c = tcb_xcalloc(1, sizeof(*c));
    c->worker = w;
    c->fd = fd;
    c->timer = TIMER_NONE;
    c->request.cfg = server->cfg;
    c->request.producer = server->producer;
    tcb_ingest_request_reset(&c->request);
    c->all_next = w->all;
    if (w->all) {
        w->all->all_prev = c;
    }
    w->all = c;
    atomic_fetch_add(&server->open, 1);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* answers are one write */
    c->state = CONN_HEAD;
    ingest_timer_set(c, TIMER_HEAD, w->now_ms + 1000LL * limits_of(c)->head_timeout_s);
    ingest_evictable(c, 1);
    if (server->tls != NULL) {
        c->tls = tcb_tls_session_new(server->tls, fd);
        c->state = CONN_HANDSHAKE;
    }
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if ((server->tls != NULL && c->tls == NULL) ||
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &event) != 0) {
        ingest_conn_close(c, NULL);
    }
}

/* The head is complete: parse it, pick the route, check credentials and
 * sizes, then read the body (or answer now). */
static void start_request(struct ingest_conn *c, size_t head_len)
{
    struct tcb_ingest_server *server = server_of(c);
    const struct tcb_config_ingest *limits = limits_of(c);
    struct tcb_ingest_request *request = &c->request;
    ingest_evictable(c, 0);
    ingest_timer_clear(c);
    c->keep_alive = 0;
    c->omit_body = 0;
    c->minor = 1;
    memset(&c->chunked_state, 0, sizeof(c->chunked_state));
    struct tcb_http_head head;
    const char *why = NULL;
    int rc = tcb_http_head_parse(c->in, head_len, &head, &why);
    if (rc != 0) {
        answer(c, (unsigned int)rc, why, ANSWER_CLOSE | ANSWER_QUIET);
        return;
    }
    c->keep_alive = head.keep_alive;
    c->minor = head.minor;
    c->omit_body = strcmp(head.method, "HEAD") == 0;
    c->chunked = head.chunked;
    c->body_left = head.content_length > 0 ? head.content_length : 0;
    int has_body = c->chunked || c->body_left > 0;
    struct tcb_ingest_answer refusal = {0, NULL};
    request->route = tcb_ingest_route_match(head.path);
    if (request->route == TCB_ROUTE_NONE) {
        refusal = (struct tcb_ingest_answer){404, "Not found"};
    } else if (strcmp(head.method, "POST") != 0) {
        refusal = (struct tcb_ingest_answer){405, "Method not allowed"};
    } else if (atomic_load(&server->closing)) {
        refusal = (struct tcb_ingest_answer){503, "Shutting down"};
    } else {
        const struct tcb_ingest_headers headers = {
            .account_id = tcb_http_field(&head, "X-CleverTap-Account-Id"),
            .passcode = tcb_http_field(&head, "X-CleverTap-Passcode"),
            .x_uuid = tcb_http_field(&head, "X-UUID"),
            .request_id =
                limits->request_id_header ? tcb_http_field(&head, limits->request_id_header) : NULL,
            .secret = limits->notification_secret_header
                          ? tcb_http_field(&head, limits->notification_secret_header)
                          : NULL,
            .authorization = tcb_http_field(&head, "Authorization"),
        };
        if (tcb_ingest_route_authorize(request, &headers, &refusal) == 0) {
            refusal.status = 0;
            if (head.content_length > limits->max_body_bytes) {
                refusal = (struct tcb_ingest_answer){413, "Request body is too large"};
            } else if (c->body_left > 0 && reserve(c, (size_t)c->body_left) != 0) {
                refusal = (struct tcb_ingest_answer){
                    503, "Too many request bytes in flight; retry later"};
            }
        }
    }
    consume(c, head_len); /* head's strings are gone from here on */
    if (refusal.status != 0) {
        answer(c, refusal.status, refusal.error, has_body ? ANSWER_CLOSE : 0);
        return;
    }
    c->state = CONN_BODY;
    c->body_deadline = c->worker->now_ms + 1000LL * limits->body_timeout_s;
    ingest_timer_set(c, TIMER_BODY, c->body_deadline);
    if (head.expect_continue && has_body && c->in_len == 0) {
        memcpy(c->out, continue_response, sizeof(continue_response) - 1);
        c->out_len = sizeof(continue_response) - 1;
        c->out_sent = 0;
        c->continue_sent = 1;
        c->state = CONN_WRITING;
    }
}

/* The body is complete: queue its records, or answer now. */
static void dispatch(struct ingest_conn *c)
{
    struct tcb_ingest_server *server = server_of(c);
    ingest_timer_clear(c);
    if (atomic_load(&server->closing)) { /* the producer is being drained */
        answer(c, 503, "Shutting down", 0);
        return;
    }
    struct tcb_ingest_answer now;
    if (tcb_ingest_route_dispatch(&c->request, &now) != 0) {
        answer(c, now.status, now.error, 0);
        return;
    }
    c->state = CONN_WAITING;
    atomic_fetch_add(&server->waiting, 1);
    /* Drop the dispatch reference: if every acknowledgement already came,
     * answer here; else the last one hands the connection back. */
    if (atomic_fetch_sub(&c->request.pending, 1) == 1) {
        ingest_conn_acknowledged(c);
    }
}

/* Answers the request whose records Kafka has all acknowledged (or failed). */
static void finish(struct ingest_conn *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double seconds = (double)(now.tv_sec - c->request.started.tv_sec) +
                     (double)(now.tv_nsec - c->request.started.tv_nsec) / 1e9;
    tcb_histogram_observe(metrics_of(c)->produce_latency, NULL, seconds);
    atomic_fetch_sub(&server_of(c)->waiting, 1);
    c->state = CONN_WRITING; /* not waiting any more */
    struct tcb_ingest_answer done = tcb_ingest_route_finish(&c->request);
    answer(c, done.status, done.error, 0);
}

void ingest_conn_acknowledged(struct ingest_conn *c)
{
    finish(c);
}

static int step_handshake(struct ingest_conn *c)
{
    int rc = tcb_tls_handshake(c->tls);
    if (rc == 0) {
        c->state = CONN_HEAD;
        return 1;
    }
    if (rc != TCB_TLS_AGAIN) {
        TCB_DEBUG("ingest.tls", "TLS handshake failed");
        ingest_conn_close(c, NULL);
    }
    return 0;
}

static int step_head(struct ingest_conn *c)
{
    size_t head_len = tcb_http_head_end(c->in, c->in_len, &c->scanned);
    if (head_len > 0) {
        start_request(c, head_len);
        return 1;
    }
    if (c->in_len == sizeof(c->in)) {
        ingest_evictable(c, 0);
        c->keep_alive = 0;
        answer(c, (unsigned int)tcb_http_head_too_large(c->in, c->in_len),
               "Request head is too large", ANSWER_CLOSE | ANSWER_QUIET);
        return 1;
    }
    ssize_t n = conn_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
    if (n > 0) {
        if (c->state == CONN_IDLE) { /* the next request begins: its head has a deadline */
            c->state = CONN_HEAD;
            ingest_timer_set(c, TIMER_HEAD,
                             c->worker->now_ms + 1000LL * limits_of(c)->head_timeout_s);
        }
        c->in_len += (size_t)n;
        return 1;
    }
    if (n != IO_AGAIN) {
        ingest_conn_close(c, NULL); /* the client left */
    }
    return 0;
}

static int step_body(struct ingest_conn *c)
{
    struct tcb_buf *body = &c->request.body;
    if (c->in_len > 0 && c->chunked) {
        size_t used = 0;
        size_t before = body->len;
        const char *why = NULL;
        int rc = tcb_http_chunked_feed(&c->chunked_state, c->in, c->in_len, body, &used, &why);
        consume(c, used);
        if (rc >= 400) {
            answer(c, (unsigned int)rc, why, ANSWER_CLOSE | ANSWER_QUIET);
            return 1;
        }
        if (body->len > before && reserve(c, body->len - before) != 0) {
            answer(c, 503, "Too many request bytes in flight; retry later", ANSWER_CLOSE);
            return 1;
        }
        if (rc == 1) {
            dispatch(c);
            return 1;
        }
    } else if (c->in_len > 0) {
        size_t take = c->in_len < (size_t)c->body_left ? c->in_len : (size_t)c->body_left;
        tcb_buf_append(body, c->in, take); /* fits: body_left <= max_body_bytes */
        consume(c, take);
        c->body_left -= (long long)take;
    }
    if (!c->chunked && c->body_left == 0) {
        dispatch(c);
        return 1;
    }
    ssize_t n = conn_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
    if (n > 0) {
        c->in_len += (size_t)n;
        return 1;
    }
    if (n != IO_AGAIN) {
        ingest_conn_close(c, NULL); /* the client left mid-body */
    }
    return 0;
}

static void begin_linger(struct ingest_conn *c)
{
    tcb_tls_session_close(c->tls); /* close_notify; what follows is discarded raw */
    c->tls = NULL;
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->lingered = 0;
    c->in_len = 0;
    ingest_timer_set(c, TIMER_LINGER, c->worker->now_ms + LINGER_MS);
    ingest_evictable(c, 1); /* closing anyway: the first to go when slots run out */
}

static int step_write(struct ingest_conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = conn_send(c, c->out + c->out_sent, c->out_len - c->out_sent);
        if (n > 0) {
            c->out_sent += (size_t)n;
            continue;
        }
        if (n != IO_AGAIN) {
            ingest_conn_close(c, NULL);
        } else if (!c->continue_sent) { /* a client not reading its answer */
            ingest_timer_set(c, TIMER_WRITE,
                             c->worker->now_ms + 1000LL * limits_of(c)->connection_timeout_s);
        }
        return 0;
    }
    if (c->continue_sent) {
        c->continue_sent = 0;
        c->state = CONN_BODY;
        return 1;
    }
    if (c->close_after) {
        begin_linger(c);
        return 1;
    }
    c->state = CONN_IDLE;
    c->scanned = 0;
    ingest_timer_set(c, TIMER_IDLE,
                     c->worker->now_ms + 1000LL * limits_of(c)->connection_timeout_s);
    ingest_evictable(c, 1);
    return 1;
}

/* Reads and drops what the client still sends after a closing answer, so
 * that closing with unread data (a reset) cannot destroy the answer. */
static int step_linger(struct ingest_conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
        if (n > 0) {
            c->lingered += (size_t)n;
            if (c->lingered <= LINGER_BYTES) {
                continue;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        ingest_conn_close(c, NULL);
        return 0;
    }
}

void ingest_conn_drive(struct ingest_conn *c)
{
    int progress = 1;
    while (progress && !c->closed) {
        switch (c->state) {
        case CONN_HANDSHAKE:
            progress = step_handshake(c);
            break;
        case CONN_IDLE:
        case CONN_HEAD:
            progress = step_head(c);
            break;
        case CONN_BODY:
            progress = step_body(c);
            break;
        case CONN_WRITING:
            progress = step_write(c);
            break;
        case CONN_LINGER:
            progress = step_linger(c);
            break;
        default: /* CONN_WAITING: Kafka hands it back */
            progress = 0;
            break;
        }
    }
}

void ingest_conn_expired(struct ingest_conn *c)
{
    switch (c->timer) {
    case TIMER_HEAD:
        ingest_evictable(c, 0);
        if (c->state == CONN_HEAD && c->in_len > 0) {
            ingest_count_shed(server_of(c), "head_timeout");
            c->keep_alive = 0;
            answer(c, 408, "Request head not complete in time", ANSWER_CLOSE | ANSWER_QUIET);
            ingest_conn_drive(c);
        } else {
            ingest_conn_close(c, "head_timeout"); /* nothing sent, or no TLS session yet */
        }
        break;
    case TIMER_BODY:
        if (c->continue_sent) { /* not even reading "100 Continue" */
            ingest_conn_close(c, "body_timeout");
            break;
        }
        ingest_count_shed(server_of(c), "body_timeout");
        answer(c, 408, "Request body not complete in time", ANSWER_CLOSE | ANSWER_QUIET);
        ingest_conn_drive(c);
        break;
    case TIMER_IDLE:
        ingest_conn_close(c, "idle");
        break;
    case TIMER_WRITE:
        ingest_conn_close(c, "write_timeout");
        break;
    default:
        ingest_conn_close(c, NULL);
        break;
    }
}
