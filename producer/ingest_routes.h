/* The two ingest routes without the HTTP plumbing: who may call them
 * (credentials taken from the request headers) and what their body becomes
 * on Kafka. The server owns connections and responses; this file owns the
 * decisions 400 / 401 / 413 / 503 that are known before Kafka answers. */
#ifndef TCB_PRODUCER_INGEST_ROUTES_H
#define TCB_PRODUCER_INGEST_ROUTES_H

#include "producer/ingest_records.h"
#include "producer/ingest_request_id.h"
#include "util/buf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

struct tcb_config;
struct tcb_ingest_producer;

enum tcb_ingest_route { TCB_ROUTE_NONE = 0, TCB_ROUTE_UPLOAD, TCB_ROUTE_NOTIFICATIONS };

/* Header values of one request, borrowed from the HTTP library for the
 * duration of tcb_ingest_route_authorize; any may be NULL. */
struct tcb_ingest_headers {
    const char *account_id;
    const char *passcode;
    const char *x_uuid;
    const char *secret;         /* the configured notification secret header */
    const char *basic_password; /* from Authorization: Basic */
};

/* One request in flight. The server allocates it per request and frees it
 * with tcb_ingest_request_free once the response is sent. */
struct tcb_ingest_request {
    const struct tcb_config *cfg;         /* borrowed */
    struct tcb_ingest_producer *producer; /* borrowed */
    void *connection;                     /* the server's connection handle */
    enum tcb_ingest_route route;
    struct tcb_buf body; /* owned; limit cfg->ingest.max_body_bytes */
    int too_large;
    int waiting;              /* records queued, response deferred to the acknowledgements */
    int oversized;            /* a record exceeds Kafka's message size: 413, never queued */
    const char *account_name; /* borrowed from cfg; NULL = no account header */
    char request_id[TCB_REQUEST_ID_MAX + 1];
    long long received_at_ms;
    time_t body_deadline;    /* CLOCK_MONOTONIC seconds: the whole body by then */
    struct timespec started; /* CLOCK_MONOTONIC, first enqueue */
    struct tcb_ingest_upload upload;
    size_t record_count;
    atomic_int pending; /* acknowledgements still to come, +1 while dispatching */
    atomic_int failed;  /* some record was not acknowledged */
};

/* What to answer now: an HTTP status and a short CleverTap-style error text
 * (a string literal; never carries request data or secrets). */
struct tcb_ingest_answer {
    unsigned int status;
    const char *error;
};

#define TCB_INGEST_RECORD_TOO_LARGE "A record is larger than Kafka accepts (message.max.bytes)"

/* Checks the request's credentials for its route and takes the request id.
 * Returns 0 when the request may proceed, -1 with *answer set (401, or 404
 * when notifications are disabled) otherwise. */
int tcb_ingest_route_authorize(struct tcb_ingest_request *request,
                               const struct tcb_ingest_headers *headers,
                               struct tcb_ingest_answer *answer);

/* Appends a body chunk, keeping at most max_body_bytes (then too_large is
 * set and the rest discarded). Returns 0, or -1 when out of memory or when
 * the body is still arriving connection_timeout_s after the headers (a client
 * trickling bytes to hold the connection): the caller drops the connection. */
int tcb_ingest_request_append(struct tcb_ingest_request *request, const char *data, size_t size);

/* Parses the complete body and queues its records. Returns 0 when at least
 * one record was queued: request->pending then counts the acknowledgements
 * still to come plus one that the caller drops after arranging to wait.
 * Returns -1 with *answer set when the response is known now (400, 413, 503,
 * or 200 for an empty upload). A record Kafka can never take (above its
 * message size) is skipped and sets request->oversized; the others still go. */
int tcb_ingest_route_dispatch(struct tcb_ingest_request *request, struct tcb_ingest_answer *answer);

/* Frees the body and parsed records; accepts NULL. */
void tcb_ingest_request_free(struct tcb_ingest_request *request);

#endif
