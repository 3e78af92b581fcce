/* Request ids for records that arrive without Talon.One's X-UUID: random
 * UUIDv4 strings. Never derived from the payload or credentials. */
#ifndef TCB_PRODUCER_INGEST_REQUEST_ID_H
#define TCB_PRODUCER_INGEST_REQUEST_ID_H

#include <stddef.h>

#define TCB_REQUEST_ID_MAX 128 /* longest X-UUID taken as the request id */

/* Writes a new random UUIDv4 (36 characters and a NUL) into out[0..37). */
void tcb_ingest_request_id_new(char out[37]);

/* 1 when text can serve as a request id: 1..TCB_REQUEST_ID_MAX printable
 * ASCII characters without spaces or quotes; 0 otherwise. */
int tcb_ingest_request_id_acceptable(const char *text);

#endif
