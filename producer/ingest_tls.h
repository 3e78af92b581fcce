/* HTTPS for talon-ingest with GnuTLS: the certificate and key (reloadable
 * while connections stay open: a session keeps the credentials it started
 * with, new handshakes take the newest) and non-blocking sessions over the
 * server's sockets. It never logs; errors go to the caller's buffer. */
#ifndef TCB_PRODUCER_INGEST_TLS_H
#define TCB_PRODUCER_INGEST_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tcb_tls;
struct tcb_tls_session;

/* Loads the PEM certificate chain and its private key (paths borrowed for
 * the object's life: reloads read them again). Returns a new object, or NULL
 * with the reason in err (unreadable, not PEM, key not matching). */
struct tcb_tls *tcb_tls_create(const char *cert_file, const char *key_file, char *err,
                               size_t err_len);

/* Reads the files again. Returns 0 when new handshakes now use them, or -1
 * with the reason in err: the current certificate then stays in use.
 * Thread-safe against sessions starting and ending. */
int tcb_tls_reload(struct tcb_tls *tls, char *err, size_t err_len);

/* Frees it; accepts NULL. Sessions still open keep their credentials alive
 * until they close. */
void tcb_tls_destroy(struct tcb_tls *tls);

/* A server session on the connected, non-blocking socket fd (borrowed; the
 * caller closes it after tcb_tls_session_close). Returns a new session, or
 * NULL when GnuTLS cannot make one. Thread-safe. */
struct tcb_tls_session *tcb_tls_session_new(struct tcb_tls *tls, int fd);

#define TCB_TLS_AGAIN (-2) /* the socket would block; wait, then call again */

/* Advances the handshake: 0 when done, TCB_TLS_AGAIN, or -1 on failure. */
int tcb_tls_handshake(struct tcb_tls_session *session);

/* Reads decrypted bytes: the count, 0 at the peer's close, TCB_TLS_AGAIN,
 * or -1 on an error. */
ssize_t tcb_tls_recv(struct tcb_tls_session *session, void *buf, size_t len);

/* Writes bytes: the count taken, TCB_TLS_AGAIN (call again with the same
 * bytes), or -1 on an error. */
ssize_t tcb_tls_send(struct tcb_tls_session *session, const void *buf, size_t len);

/* 1 when the last TCB_TLS_AGAIN waits for the socket to become writable,
 * 0 when readable. */
int tcb_tls_wants_write(const struct tcb_tls_session *session);

/* Sends close_notify without waiting and frees the session; accepts NULL. */
void tcb_tls_session_close(struct tcb_tls_session *session);

#endif
