/* Internal to talon-ingest's server: the server, its worker threads and
 * their connections, shared by the event loop (ingest_server.c) and the
 * per-connection HTTP state machine (ingest_conn.c). A connection belongs to
 * one worker: only that worker's thread touches it, except the eviction list
 * (server lock) and the acknowledgement hand-back (worker lock). */
#ifndef TCB_PRODUCER_INGEST_CONN_H
#define TCB_PRODUCER_INGEST_CONN_H

#include "producer/ingest_http.h"
#include "producer/ingest_routes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define TCB_INGEST_MAX_WORKERS  8
#define TCB_INGEST_RESPONSE_MAX 768

struct tcb_config;
struct tcb_ingest_metrics;
struct tcb_ingest_producer;
struct tcb_tls;
struct tcb_tls_session;

enum conn_state {
    CONN_HANDSHAKE, /* TLS handshake */
    CONN_IDLE,      /* keep-alive, no byte of the next request yet */
    CONN_HEAD,      /* reading a request head */
    CONN_BODY,      /* reading its body */
    CONN_WAITING,   /* records queued, waiting for Kafka */
    CONN_WRITING,   /* sending a response */
    CONN_LINGER,    /* answered and closing: reading what the client still sends */
};

/* Each kind has one fixed timeout, so appending keeps its list in deadline
 * order. */
enum conn_timer { TIMER_HEAD, TIMER_IDLE, TIMER_BODY, TIMER_WRITE, TIMER_LINGER, TIMER_KINDS };
#define TIMER_NONE (-1)

struct ingest_worker;

struct ingest_conn {
    struct ingest_worker *worker;
    int fd;
    enum conn_state state;
    struct tcb_tls_session *tls; /* NULL for plain HTTP */
    int closed;                  /* freed at the end of the loop iteration */

    char in[TCB_HTTP_HEAD_MAX]; /* received, not yet consumed: heads and body bytes */
    size_t in_len;
    size_t scanned; /* head boundary search progress */

    /* The request being read, from its head. */
    int keep_alive;
    int minor;     /* HTTP/1.<minor> */
    int omit_body; /* HEAD request: no body in the answer */
    int chunked;
    long long body_left; /* Content-Length bytes still to come */
    long long body_deadline;
    struct tcb_http_chunked chunked_state;
    size_t reserved; /* bytes counted in the server's in-flight total */
    struct tcb_ingest_request request;

    char out[TCB_INGEST_RESPONSE_MAX];
    size_t out_len;
    size_t out_sent;
    int close_after;   /* close once the answer is sent */
    int continue_sent; /* the answer being sent is "100 Continue" */
    size_t lingered;

    int timer; /* enum conn_timer, or TIMER_NONE */
    long long deadline;
    struct ingest_conn *timer_prev, *timer_next;
    int evictable; /* on the server's eviction list; guarded by its lock */
    struct ingest_conn *evict_prev, *evict_next;
    struct ingest_conn *all_prev, *all_next; /* the worker's connections */
    struct ingest_conn *done_next;           /* acknowledged, handed back */
};

struct conn_list {
    struct ingest_conn *first;
    struct ingest_conn *last;
};

struct ingest_worker {
    struct tcb_ingest_server *server;
    pthread_t thread;
    int started;
    int epfd;
    int wake_fd; /* eventfd: acknowledgements handed back, stop, quiesce */
    int listening;
    long long now_ms; /* CLOCK_MONOTONIC, refreshed every loop */
    struct conn_list timers[TIMER_KINDS];
    struct ingest_conn *all;
    struct ingest_conn *graveyard; /* closed this iteration (chained by done_next) */
    pthread_mutex_t done_lock;
    struct ingest_conn *done; /* acknowledged requests (chained by done_next) */
    long date_second;
    char date[40]; /* the HTTP Date of date_second */
};

struct tcb_ingest_server {
    const struct tcb_config *cfg;
    struct tcb_ingest_producer *producer;
    const struct tcb_ingest_metrics *metrics;
    struct tcb_tls *tls; /* NULL for plain HTTP */
    int listen_fd;
    int port;
    struct ingest_worker workers[TCB_INGEST_MAX_WORKERS];
    unsigned int worker_count;
    atomic_int closing;
    atomic_int stopping;
    atomic_int waiting;
    atomic_int open;
    atomic_llong inflight;
    pthread_mutex_t evict_lock;
    struct ingest_conn *evict_first, *evict_last;
};

/* ingest_conn.c: the state machine. */

/* Takes an accepted socket (non-blocking): a new connection on worker w. */
void ingest_conn_open(struct ingest_worker *w, int fd);
/* Advances the connection as far as its socket allows (any epoll event). */
void ingest_conn_drive(struct ingest_conn *c);
/* The request's acknowledgements are all in: queues its answer (the caller
 * then drives the connection to send it). */
void ingest_conn_acknowledged(struct ingest_conn *c);
/* The connection's deadline passed. */
void ingest_conn_expired(struct ingest_conn *c);
/* Closes the socket now (no answer) and schedules the memory's release. */
void ingest_conn_close(struct ingest_conn *c, const char *shed_reason);

/* ingest_server.c: bookkeeping the state machine calls. */

void ingest_timer_set(struct ingest_conn *c, int kind, long long deadline);
void ingest_timer_clear(struct ingest_conn *c);
void ingest_evictable(struct ingest_conn *c, int on);
/* Counts a connection the server closed, by reason. */
void ingest_count_shed(const struct tcb_ingest_server *server, const char *reason);
/* The worker's HTTP Date for now. */
const char *ingest_date(struct ingest_worker *w);

#endif
