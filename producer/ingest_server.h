/* talon-ingest's HTTP front: the CleverTap-compatible POST /1/upload and
 * POST /talon/notifications over HTTP/1.1, or HTTPS when a certificate is
 * configured. A request waits, holding no thread, until Kafka acknowledged
 * every record; it never answers 2xx before that. Every client is bounded:
 * time to a complete request head, time to a complete body, idle time,
 * connection count (the one waiting longest for a head makes room), and the
 * body bytes held across all connections (past them: 503 with Retry-After). */
#ifndef TCB_PRODUCER_INGEST_SERVER_H
#define TCB_PRODUCER_INGEST_SERVER_H

#include <stddef.h>

struct tcb_config;
struct tcb_ingest_metrics;
struct tcb_ingest_producer;
struct tcb_ingest_server;

/* Starts listening on cfg->ingest.listen (HTTPS when cfg->ingest.tls_cert_file
 * is set). cfg, producer and metrics are borrowed until
 * tcb_ingest_server_stop (metrics may be NULL). The producer must have been
 * created with tcb_ingest_server_on_delivery as its delivery callback.
 * Returns a new server, or NULL with a message in err (never quoting a
 * configuration value). */
struct tcb_ingest_server *tcb_ingest_server_start(const struct tcb_config *cfg,
                                                  struct tcb_ingest_producer *producer,
                                                  const struct tcb_ingest_metrics *metrics,
                                                  char *err, size_t err_len);

/* The bound port (useful with port 0), or -1. */
int tcb_ingest_server_port(const struct tcb_ingest_server *server);

/* 1 when the listener speaks HTTPS. */
int tcb_ingest_server_tls(const struct tcb_ingest_server *server);

/* Reads the certificate and key files again (on SIGHUP): new handshakes use
 * them, open connections keep theirs. Returns 0, 1 when the listener has no
 * TLS, or -1 with the reason in err (the current certificate stays). */
int tcb_ingest_server_reload_tls(struct tcb_ingest_server *server, char *err, size_t err_len);

/* Stops accepting connections and answers new requests 503; requests already
 * waiting for Kafka still complete. */
void tcb_ingest_server_quiesce(struct tcb_ingest_server *server);

/* Requests currently waiting for Kafka acknowledgements. */
int tcb_ingest_server_waiting(const struct tcb_ingest_server *server);

/* Stops and frees the server; accepts NULL. Call only when no request is
 * waiting (after tcb_ingest_producer_drain); otherwise the server is leaked
 * rather than stopped, since its waiting requests still have
 * acknowledgements to come. */
void tcb_ingest_server_stop(struct tcb_ingest_server *server);

/* The producer's delivery callback: opaque is the waiting request. Called
 * from the producer's thread; hands the request back to its worker. */
void tcb_ingest_server_on_delivery(void *opaque, int ok);

#endif
