/* Turns request bodies into Kafka messages: splits a CleverTap upload
 * envelope {"d":[...]} into one record per element with its identity key, and
 * finds the profile integration id of a Talon.One notification. Pure
 * functions over memory: no I/O, no logging, no Kafka. */
#ifndef TCB_PRODUCER_INGEST_RECORDS_H
#define TCB_PRODUCER_INGEST_RECORDS_H

#include <stddef.h>

#define TCB_INGEST_MAX_RECORDS 1000 /* CleverTap's per-request cap */

struct tcb_ingest_record {
    const char *value; /* the record's JSON text: borrowed from the body or owned below */
    size_t value_len;
    const char *key; /* identity / objectId / FBID / GPID; NULL when the record has none */
    size_t key_len;
    char key_number[24]; /* holds an integer identity as text */
    char *owned_value;   /* set only when the record had to be re-serialized */
};

struct tcb_ingest_upload {
    void *root; /* the parsed body (json_t); owned */
    struct tcb_ingest_record *records;
    size_t count;
};

enum tcb_ingest_parse_result {
    TCB_INGEST_PARSE_OK = 0,
    TCB_INGEST_PARSE_NOT_JSON = -1,   /* 400 */
    TCB_INGEST_PARSE_NOT_UPLOAD = -2, /* JSON without a "d" array: 400 */
    TCB_INGEST_PARSE_TOO_MANY = -3,   /* more than TCB_INGEST_MAX_RECORDS: 413 */
    TCB_INGEST_PARSE_NOMEM = -4
};

/* Splits body[0..len) into upload->records. Record values point into body,
 * which must outlive upload. Any JSON element of "d" is a record, valid for
 * CleverTap or not (the sink dead-letters what CleverTap would refuse).
 * Returns TCB_INGEST_PARSE_OK or a negative tcb_ingest_parse_result; upload is
 * always safe to pass to tcb_ingest_upload_free afterwards. */
int tcb_ingest_upload_parse(const char *body, size_t len, struct tcb_ingest_upload *upload);

/* Frees what tcb_ingest_upload_parse allocated; accepts a zeroed or
 * half-built upload. */
void tcb_ingest_upload_free(struct tcb_ingest_upload *upload);

/* Parses a Talon.One notification body (a JSON object) and returns its
 * profile integration id in *key_out (new string the caller frees, or NULL
 * when the notification carries none, as campaign notifications do).
 * Returns TCB_INGEST_PARSE_OK, TCB_INGEST_PARSE_NOT_JSON (not a JSON object)
 * or TCB_INGEST_PARSE_NOMEM. */
int tcb_ingest_notification_key(const char *body, size_t len, char **key_out);

#endif
