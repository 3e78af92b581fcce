/* talon-ingest's listener and worker threads: one listening socket shared by
 * up to eight epoll loops (EPOLLEXCLUSIVE), per-worker deadline lists, the
 * server-wide eviction list (connections still without a complete request
 * head, oldest first), acknowledgements handed back from the Kafka thread,
 * quiesce and stop. The HTTP exchange itself is in ingest_conn.c. */
#include "producer/ingest_server.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/net_address.h"
#include "config/config.h"
#include "producer/ingest_conn.h"
#include "producer/ingest_metrics.h"
#include "producer/ingest_tls.h"
#include "util/alloc.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_PER_WAIT  64
#define ACCEPTS_PER_WAKE 32
#define LISTEN_BACKLOG   1024
#define MAX_WAIT_MS      1000
#define GAUGE_PERIOD_MS  500

/* What plain-HTTP clients get when every slot is busy with a request. */
static const char busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: 59\r\n\r\n"
    "{\"status\":\"fail\",\"error\":\"Too many connections\",\"code\":503}";

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ingest_count_shed(const struct tcb_ingest_server *server, const char *reason)
{
    const char *labels[] = {reason};
    tcb_counter_add(server->metrics ? server->metrics->connections_shed : NULL, labels, 1);
}

const char *ingest_date(struct ingest_worker *w)
{
    time_t now = time(NULL);
    if ((long)now != w->date_second) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_second = (long)now;
    }
    return w->date;
}

/* Deadline lists: one per timeout kind, in deadline order. */

void ingest_timer_clear(struct ingest_conn *c)
{
    if (c->timer == TIMER_NONE) {
        return;
    }
    struct conn_list *list = &c->worker->timers[c->timer];
    if (c->timer_prev) {
        c->timer_prev->timer_next = c->timer_next;
    } else {
        list->first = c->timer_next;
    }
    if (c->timer_next) {
        c->timer_next->timer_prev = c->timer_prev;
    } else {
        list->last = c->timer_prev;
    }
    c->timer_prev = c->timer_next = NULL;
    c->timer = TIMER_NONE;
}

void ingest_timer_set(struct ingest_conn *c, int kind, long long deadline)
{
    ingest_timer_clear(c);
    struct conn_list *list = &c->worker->timers[kind];
    c->timer = kind;
    c->deadline = deadline;
    c->timer_prev = list->last;
    if (list->last) {
        list->last->timer_next = c;
    } else {
        list->first = c;
    }
    list->last = c;
}

/* The eviction list: connections without a complete request head, in the
 * order they became so. Guarded by evict_lock, which also makes a
 * shutdown() by another worker safe: a connection is taken off the list
 * before its socket is closed. */

void ingest_evictable(struct ingest_conn *c, int on)
{
    struct tcb_ingest_server *server = c->worker->server;
    pthread_mutex_lock(&server->evict_lock);
    if (on && !c->evictable) {
        c->evict_prev = server->evict_last;
        c->evict_next = NULL;
        if (server->evict_last) {
            server->evict_last->evict_next = c;
        } else {
            server->evict_first = c;
        }
        server->evict_last = c;
        c->evictable = 1;
    } else if (!on && c->evictable) {
        if (c->evict_prev) {
            c->evict_prev->evict_next = c->evict_next;
        } else {
            server->evict_first = c->evict_next;
        }
        if (c->evict_next) {
            c->evict_next->evict_prev = c->evict_prev;
        } else {
            server->evict_last = c->evict_prev;
        }
        c->evict_prev = c->evict_next = NULL;
        c->evictable = 0;
    }
    pthread_mutex_unlock(&server->evict_lock);
}

/* Shuts down the connection longest without a complete request head (its
 * own worker then sees the end and frees it). Returns 1, or 0 when every
 * connection is busy with a request. */
static int evict_oldest(struct tcb_ingest_server *server)
{
    pthread_mutex_lock(&server->evict_lock);
    struct ingest_conn *c = server->evict_first;
    if (c != NULL) {
        server->evict_first = c->evict_next;
        if (server->evict_first) {
            server->evict_first->evict_prev = NULL;
        } else {
            server->evict_last = NULL;
        }
        c->evict_prev = c->evict_next = NULL;
        c->evictable = 0;
        shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&server->evict_lock);
    if (c != NULL) {
        ingest_count_shed(server, "evicted");
    }
    return c != NULL;
}

static void accept_some(struct ingest_worker *w)
{
    struct tcb_ingest_server *server = w->server;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        int fd = accept4(server->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE) {
                TCB_WARN("ingest.accept", "out of file descriptors: %s", strerror(errno));
            }
            return; /* EAGAIN, or the listener was shut down */
        }
        if (atomic_load(&server->open) >= server->cfg->ingest.max_connections &&
            !evict_oldest(server)) {
            if (server->tls == NULL) {
                ssize_t sent = send(fd, busy_response, sizeof(busy_response) - 1, MSG_NOSIGNAL);
                (void)sent; /* best effort: the connection closes either way */
            }
            close(fd);
            ingest_count_shed(server, "refused");
            continue;
        }
        ingest_conn_open(w, fd);
    }
}

/* Takes the acknowledged requests handed back by the Kafka thread. */
static void take_acknowledged(struct ingest_worker *w)
{
    uint64_t count;
    ssize_t got = read(w->wake_fd, &count, sizeof(count));
    (void)got; /* a wake-up with nothing to read is harmless */
    pthread_mutex_lock(&w->done_lock);
    struct ingest_conn *c = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->done_lock);
    while (c != NULL) {
        struct ingest_conn *next = c->done_next;
        c->done_next = NULL;
        ingest_conn_acknowledged(c);
        ingest_conn_drive(c);
        c = next;
    }
}

static void wake(struct ingest_worker *w)
{
    uint64_t one = 1;
    ssize_t put = write(w->wake_fd, &one, sizeof(one));
    (void)put; /* the counter only saturates when a wake-up is pending anyway */
}

void tcb_ingest_server_on_delivery(void *opaque, int ok)
{
    struct tcb_ingest_request *request = opaque;
    if (!ok) {
        atomic_store(&request->failed, 1);
    }
    if (atomic_fetch_sub(&request->pending, 1) != 1) {
        return;
    }
    struct ingest_conn *c =
        (struct ingest_conn *)((char *)request - offsetof(struct ingest_conn, request));
    struct ingest_worker *w = c->worker;
    pthread_mutex_lock(&w->done_lock);
    int was_empty = w->done == NULL;
    c->done_next = w->done;
    w->done = c;
    pthread_mutex_unlock(&w->done_lock);
    if (was_empty) {
        wake(w);
    }
}

static int next_wait_ms(struct ingest_worker *w)
{
    long long wait = MAX_WAIT_MS;
    for (int kind = 0; kind < TIMER_KINDS; kind++) {
        const struct ingest_conn *first = w->timers[kind].first;
        if (first != NULL && first->deadline - w->now_ms < wait) {
            wait = first->deadline - w->now_ms;
        }
    }
    return wait < 0 ? 0 : (int)wait;
}

static void expire(struct ingest_worker *w)
{
    for (int kind = 0; kind < TIMER_KINDS; kind++) {
        struct ingest_conn *c;
        while ((c = w->timers[kind].first) != NULL && c->deadline <= w->now_ms) {
            ingest_conn_expired(c); /* always takes c off this list */
        }
    }
}

static void bury(struct ingest_worker *w)
{
    while (w->graveyard != NULL) {
        struct ingest_conn *c = w->graveyard;
        w->graveyard = c->done_next;
        if (c->all_prev) {
            c->all_prev->all_next = c->all_next;
        } else {
            w->all = c->all_next;
        }
        if (c->all_next) {
            c->all_next->all_prev = c->all_prev;
        }
        tcb_buf_free(&c->request.body, 0);
        free(c);
    }
}

static void update_gauges(struct tcb_ingest_server *server)
{
    if (server->metrics == NULL) {
        return;
    }
    tcb_gauge_set(server->metrics->connections, NULL, atomic_load(&server->open));
    tcb_gauge_set(server->metrics->inflight_bytes, NULL, (double)atomic_load(&server->inflight));
}

static void *worker_main(void *arg)
{
    struct ingest_worker *w = arg;
    struct tcb_ingest_server *server = w->server;
    struct epoll_event events[EVENTS_PER_WAIT];
    long long gauges_at = 0;
    while (!atomic_load(&server->stopping)) {
        w->now_ms = monotonic_ms();
        int n = epoll_wait(w->epfd, events, EVENTS_PER_WAIT, next_wait_ms(w));
        w->now_ms = monotonic_ms();
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &server->listen_fd) {
                accept_some(w);
            } else if (tag == &w->wake_fd) {
                take_acknowledged(w);
            } else {
                ingest_conn_drive(tag);
            }
        }
        expire(w);
        if (w->listening && atomic_load(&server->closing)) {
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, server->listen_fd, NULL);
            w->listening = 0;
        }
        bury(w);
        if (w == &server->workers[0] && w->now_ms - gauges_at >= GAUGE_PERIOD_MS) {
            update_gauges(server);
            gauges_at = w->now_ms;
        }
    }
    return NULL;
}

static unsigned int thread_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) {
        return 1;
    }
    return cpus > TCB_INGEST_MAX_WORKERS ? TCB_INGEST_MAX_WORKERS : (unsigned int)cpus;
}

static int open_listener(struct tcb_ingest_server *server, char *err, size_t err_len)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (tcb_net_parse_listen(server->cfg->ingest.listen, &addr, &addr_len, err, err_len) != 0) {
        return -1;
    }
    server->listen_fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    /* SO_REUSEADDR only (restarts past TIME_WAIT); never SO_REUSEPORT, which
     * would let a second talon-ingest share the port silently. */
    if (server->listen_fd < 0 ||
        setsockopt(server->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(server->listen_fd, (struct sockaddr *)&addr, addr_len) != 0 ||
        listen(server->listen_fd, LISTEN_BACKLOG) != 0) {
        snprintf(err, err_len, "cannot listen on ingest.listen: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    if (getsockname(server->listen_fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        snprintf(err, err_len, "cannot read the bound port: %s", strerror(errno));
        return -1;
    }
    server->port = tcb_net_port(&bound);
    return 0;
}

static int start_worker(struct tcb_ingest_server *server, struct ingest_worker *w)
{
    w->server = server;
    w->listening = 1;
    w->date_second = -1;
    for (int kind = 0; kind < TIMER_KINDS; kind++) {
        w->timers[kind].first = w->timers[kind].last = NULL;
    }
    pthread_mutex_init(&w->done_lock, NULL);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->epfd < 0 || w->wake_fd < 0) {
        return -1;
    }
    struct epoll_event listen_event = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                       .data.ptr = &server->listen_fd};
    struct epoll_event wake_event = {.events = EPOLLIN, .data.ptr = &w->wake_fd};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, server->listen_fd, &listen_event) != 0 ||
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &wake_event) != 0) {
        return -1;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        return -1;
    }
    w->started = 1;
    return 0;
}

/* Joins the workers and frees everything; the connections left are closed. */
static void destroy(struct tcb_ingest_server *server)
{
    atomic_store(&server->stopping, 1);
    for (unsigned int i = 0; i < server->worker_count; i++) {
        struct ingest_worker *w = &server->workers[i];
        if (w->started) {
            wake(w);
            pthread_join(w->thread, NULL);
        }
    }
    for (unsigned int i = 0; i < server->worker_count; i++) {
        struct ingest_worker *w = &server->workers[i];
        while (w->all != NULL) {
            struct ingest_conn *c = w->all;
            if (!c->closed) {
                c->state = CONN_IDLE; /* nothing waits for Kafka any more */
                ingest_conn_close(c, NULL);
            }
            bury(w);
        }
        if (w->epfd >= 0) {
            close(w->epfd);
        }
        if (w->wake_fd >= 0) {
            close(w->wake_fd);
        }
        pthread_mutex_destroy(&w->done_lock);
    }
    if (server->listen_fd >= 0) {
        close(server->listen_fd);
    }
    tcb_tls_destroy(server->tls);
    pthread_mutex_destroy(&server->evict_lock);
    free(server);
}

struct tcb_ingest_server *tcb_ingest_server_start(const struct tcb_config *cfg,
                                                  struct tcb_ingest_producer *producer,
                                                  const struct tcb_ingest_metrics *metrics,
                                                  char *err, size_t err_len)
{
    struct tcb_ingest_server *server = tcb_xcalloc(1, sizeof(*server));
    server->cfg = cfg;
    server->producer = producer;
    server->metrics = metrics;
    server->listen_fd = -1;
    pthread_mutex_init(&server->evict_lock, NULL);
    for (unsigned int i = 0; i < TCB_INGEST_MAX_WORKERS; i++) {
        server->workers[i].epfd = server->workers[i].wake_fd = -1;
    }
    const char *cert = cfg->ingest.tls_cert_file;
    if (cert != NULL && cert[0] != '\0') {
        server->tls = tcb_tls_create(cert, cfg->ingest.tls_key_file, err, err_len);
        if (server->tls == NULL) {
            destroy(server);
            return NULL;
        }
    }
    if (open_listener(server, err, err_len) != 0) {
        destroy(server);
        return NULL;
    }
    unsigned int count = thread_count();
    for (unsigned int i = 0; i < count; i++) {
        server->worker_count = i + 1;
        if (start_worker(server, &server->workers[i]) != 0) {
            snprintf(err, err_len, "cannot start a worker thread: %s", strerror(errno));
            destroy(server);
            return NULL;
        }
    }
    return server;
}

int tcb_ingest_server_port(const struct tcb_ingest_server *server)
{
    return server ? server->port : -1;
}

int tcb_ingest_server_tls(const struct tcb_ingest_server *server)
{
    return server != NULL && server->tls != NULL;
}

int tcb_ingest_server_reload_tls(struct tcb_ingest_server *server, char *err, size_t err_len)
{
    if (server == NULL || server->tls == NULL) {
        return 1;
    }
    return tcb_tls_reload(server->tls, err, err_len);
}

void tcb_ingest_server_quiesce(struct tcb_ingest_server *server)
{
    if (server == NULL || atomic_exchange(&server->closing, 1)) {
        return;
    }
    shutdown(server->listen_fd, SHUT_RD); /* new connections are refused from now on */
    for (unsigned int i = 0; i < server->worker_count; i++) {
        wake(&server->workers[i]);
    }
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
    destroy(server);
}
