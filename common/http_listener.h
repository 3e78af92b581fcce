/* The operations HTTP listener both daemons run: GET /healthz (alive),
 * GET /readyz (ready callback), GET /metrics (Prometheus text). Built on
 * libmicrohttpd with a bounded connection count; it never blocks the caller. */
#ifndef TCB_COMMON_HTTP_LISTENER_H
#define TCB_COMMON_HTTP_LISTENER_H

#include <stddef.h>

struct tcb_metrics;
struct tcb_http_listener;

/* Answers whether the daemon is ready. Returns 1 ready, 0 not ready; may write
 * a short reason (no secrets) into why[0..why_len). Called from listener
 * threads: it must be thread-safe. */
typedef int (*tcb_ready_fn)(void *ctx, char *why, size_t why_len);

/* Starts listening on "HOST:PORT" ("[::1]:PORT" for IPv6; port 0 picks a free
 * port). metrics and ready_ctx are borrowed until tcb_http_listener_stop.
 * Returns a new listener, or NULL with a message in err. */
struct tcb_http_listener *tcb_http_listener_start(const char *listen, struct tcb_metrics *metrics,
                                                  tcb_ready_fn ready, void *ready_ctx, char *err,
                                                  size_t err_len);
/* The port actually bound (useful with port 0). */
int tcb_http_listener_port(const struct tcb_http_listener *listener);
/* Stops and frees; accepts NULL. */
void tcb_http_listener_stop(struct tcb_http_listener *listener);

#endif
