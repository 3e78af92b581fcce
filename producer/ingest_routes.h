/* The two ingest routes without the HTTP plumbing: who may call them
 * (credentials taken from the request headers), which request id the
 * records carry, and what their body becomes on Kafka. The server owns
 * connections and responses; this file owns the decisions 400 / 401 / 404 /
 * 413 / 503 that are known before Kafka answers. */
#ifndef TCB_PRODUCER_INGEST_ROUTES_H
#define TCB_PRODUCER_INGEST_ROUTES_H

#include "producer/ingest_request_id.h"
#include "util/buf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

struct tcb_config;
struct tcb_ingest_producer;

enum tcb_ingest_route { TCB_ROUTE_NONE = 0, TCB_ROUTE_UPLOAD, TCB_ROUTE_NOTIFICATIONS };

/* Header values of one request, borrowed from the server for the duration
 * of tcb_ingest_route_authorize; any may be NULL. */
struct tcb_ingest_headers {
    const char *account_id;
    const char *passcode;
    const char *x_uuid;
    const char *request_id;    /* the header named by ingest.request_id_header */
    const char *secret;        /* the header named by ingest.notification_secret_header */
    const char *authorization; /* Authorization, for Basic auth */
};

/* One request. The server embeds it in its connection, sets cfg, producer
 * and route, fills body, and calls tcb_ingest_request_reset between
 * requests. */
struct tcb_ingest_request {
    const struct tcb_config *cfg;         /* borrowed */
    struct tcb_ingest_producer *producer; /* borrowed */
    enum tcb_ingest_route route;
    struct tcb_buf body;      /* owned; limit cfg->ingest.max_body_bytes; freed after dispatch */
    int oversized;            /* a record exceeds Kafka's message size: 413, never queued */
    int id_from_body;         /* request_id is to be the body's hash, at dispatch */
    const char *account_name; /* borrowed from cfg; NULL = no account header */
    char request_id[TCB_REQUEST_ID_MAX + 1];
    long long received_at_ms;
    struct timespec started; /* CLOCK_MONOTONIC, first enqueue */
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
#define TCB_INGEST_TOO_DEEP         "Request body nests objects or arrays more than 2048 deep"

/* The route a request path names (TCB_ROUTE_NONE for any other path). */
enum tcb_ingest_route tcb_ingest_route_match(const char *path);

/* Checks the request's credentials for its route and chooses the request
 * id: the configured request-id header, else X-UUID, when acceptable; else
 * the body's hash when ingest.request_id_from_body is set (decided at
 * dispatch); else a random UUID. Returns 0 when the request may proceed, -1
 * with *answer set (401, or 404 when notifications are disabled) otherwise. */
int tcb_ingest_route_authorize(struct tcb_ingest_request *request,
                               const struct tcb_ingest_headers *headers,
                               struct tcb_ingest_answer *answer);

/* Parses the complete body and queues its records; the body is freed before
 * returning (Kafka copied what it keeps). Returns 0 when at least one record
 * was queued: request->pending then counts the acknowledgements still to
 * come plus one that the caller drops after arranging to wait. Returns -1
 * with *answer set when the response is known now (400, 413, 503, or 200 for
 * an empty upload). A record Kafka can never take (above its message size) is
 * skipped and sets request->oversized; the others still go. */
int tcb_ingest_route_dispatch(struct tcb_ingest_request *request, struct tcb_ingest_answer *answer);

/* The answer once every acknowledgement came: 200, 503 when Kafka failed
 * some record, 413 when a record was too large for Kafka. */
struct tcb_ingest_answer tcb_ingest_route_finish(const struct tcb_ingest_request *request);

/* Frees the body and forgets the request, keeping cfg and producer. */
void tcb_ingest_request_reset(struct tcb_ingest_request *request);

#endif
