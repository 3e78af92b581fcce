/* Turns request bodies into Kafka messages: splits a CleverTap upload
 * envelope {"d":[...]} into one record per element with its identity key, and
 * finds the profile integration id of a Talon.One notification. Records and
 * keys are spans into the body (no parsed tree is ever built or kept). Pure
 * functions over memory: no I/O, no logging, no Kafka. */
#ifndef TCB_PRODUCER_INGEST_RECORDS_H
#define TCB_PRODUCER_INGEST_RECORDS_H

#include <stddef.h>

#define TCB_INGEST_MAX_RECORDS 1000 /* CleverTap's per-request cap */

/* A Kafka message key: bytes in the body, or owned_key when the JSON string
 * held escapes and had to be decoded. data is NULL when there is no key. */
struct tcb_ingest_key {
    const char *data;
    size_t len;
    char *owned_key;
};

struct tcb_ingest_record {
    const char *value; /* the record's JSON text, byte for byte: borrowed from the body */
    size_t value_len;
    struct tcb_ingest_key key; /* identity / objectId / FBID / GPID, if any */
};

struct tcb_ingest_upload {
    struct tcb_ingest_record *records; /* owned */
    size_t count;
};

enum tcb_ingest_parse_result {
    TCB_INGEST_PARSE_OK = 0,
    TCB_INGEST_PARSE_NOT_JSON = -1,   /* 400 */
    TCB_INGEST_PARSE_NOT_UPLOAD = -2, /* JSON without a "d" array: 400 */
    TCB_INGEST_PARSE_TOO_MANY = -3,   /* more than TCB_INGEST_MAX_RECORDS: 413 */
    TCB_INGEST_PARSE_TOO_DEEP = -4,   /* nested deeper than TCB_JSON_MAX_DEPTH: 400 */
};

/* Splits body[0..len) into upload->records. Record values and most keys
 * point into body, which must outlive upload. Any JSON element of "d" is a
 * record, valid for CleverTap or not (the sink dead-letters what CleverTap
 * would refuse); any grammatical JSON is accepted, numbers of any size
 * included. Returns TCB_INGEST_PARSE_OK or a negative
 * tcb_ingest_parse_result; upload is always safe to pass to
 * tcb_ingest_upload_free afterwards. */
int tcb_ingest_upload_parse(const char *body, size_t len, struct tcb_ingest_upload *upload);

/* Frees what tcb_ingest_upload_parse allocated; accepts a zeroed or
 * half-built upload. */
void tcb_ingest_upload_free(struct tcb_ingest_upload *upload);

/* Validates a Talon.One notification body (a JSON object) and finds its
 * profile integration id: *key (pointing into body, or decoded into
 * key->owned_key; free with tcb_ingest_key_free) has data NULL when the
 * notification carries none, as campaign notifications do. Returns
 * TCB_INGEST_PARSE_OK, TCB_INGEST_PARSE_NOT_JSON (not a JSON object) or
 * TCB_INGEST_PARSE_TOO_DEEP. */
int tcb_ingest_notification_key(const char *body, size_t len, struct tcb_ingest_key *key);

/* Frees a key's decoded copy; accepts a zeroed key. */
void tcb_ingest_key_free(struct tcb_ingest_key *key);

#endif
