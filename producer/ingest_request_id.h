/* Request ids put on every record (Kafka header request-id), which the sink
 * uses with record-index to drop Talon.One's retries: taken from a request
 * header when it is sane, else a hash of account and body (opt-in), else a
 * random UUIDv4. Header values are untrusted: bounded length and charset. */
#ifndef TCB_PRODUCER_INGEST_REQUEST_ID_H
#define TCB_PRODUCER_INGEST_REQUEST_ID_H

#include <stddef.h>

#define TCB_REQUEST_ID_MAX 128 /* longest header value taken as the request id */

/* Writes a new random UUIDv4 (36 characters and a NUL) into out[0..37). */
void tcb_ingest_request_id_new(char out[37]);

/* 1 when text (a request header value, may be NULL) can serve as a request
 * id: 1..TCB_REQUEST_ID_MAX characters, each A-Z a-z 0-9 . _ : or -;
 * 0 otherwise. */
int tcb_ingest_request_id_acceptable(const char *text);

#define TCB_REQUEST_ID_HASH_LEN 39 /* "sha256:" and 32 hex digits */

/* Writes "sha256:" and the first 128 bits of SHA-256 over (route, account,
 * body) in hex into out[0..TCB_REQUEST_ID_HASH_LEN], NUL-terminated: equal
 * bodies to the same route and account get equal ids. account may be NULL.
 * Should GnuTLS refuse to hash, writes a random UUIDv4 instead. */
void tcb_ingest_request_id_hash(const char *route, const char *account, const void *body,
                                size_t len, char out[TCB_REQUEST_ID_HASH_LEN + 1]);

#endif
