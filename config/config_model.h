/* The configuration both daemons share, as data: every section's struct and
 * the look-ups over them (accounts, transforms, region hosts). No loader and
 * no YAML here, so the pure transforms library can use it without libyaml;
 * config/config.h adds loading, defaults and destruction. */
#ifndef TCB_CONFIG_CONFIG_MODEL_H
#define TCB_CONFIG_CONFIG_MODEL_H

#include <stddef.h>

#define TCB_CLEVERTAP_MAX_IN_FLIGHT 15   /* CleverTap's per-account concurrency limit */
#define TCB_CLEVERTAP_MAX_BATCH     1000 /* records per upload request */

/* A string -> string map in file order (kafka.properties, rename, constants). */
struct tcb_kv {
    char *key;
    char *value;
};
struct tcb_kv_list {
    struct tcb_kv *items;
    size_t count;
};
struct tcb_str_list {
    char **items;
    size_t count;
};

struct tcb_config_kafka {
    char *brokers;
    char *topic;
    char *dlq_topic;
    char *group_id;
    char *client_id;
    int session_timeout_ms;
    struct tcb_kv_list properties; /* verbatim librdkafka settings; values may be secrets */
};

struct tcb_account {
    char *name;
    char *account_id;
    char *passcode; /* secret: never print, log or produce */
    char *region;   /* in1 sg1 us1 aps3 mec1 eu1 */
    char *endpoint; /* NULL = the region's host */
    int max_in_flight;
    int max_properties; /* CleverTap's per-event property cap for this account */
};

struct tcb_config_clevertap {
    char *default_account; /* NULL when none */
    struct tcb_account *accounts;
    size_t account_count;
    int request_timeout_ms;
    int connect_timeout_ms;
    int retry_initial_ms; /* first back-off; doubles up to retry_max_ms */
    int retry_max_ms;
    int retry_after_max_s;   /* Retry-After is honoured up to this */
    int auth_retry_ms;       /* how often a halted (401/403) account is retried */
    int max_record_attempts; /* 555 answers one record may get before "exhausted" */
    int max_retry_s;         /* whole-request retries end in "exhausted" after this; 0 = never */
    char *ca_file;           /* PEM CA bundle trusted for CleverTap's certificate; NULL = system */
};

struct tcb_config_ingest {
    char *listen;
    char *metrics_listen;
    long max_body_bytes;
    int max_connections;
    int connection_timeout_s;         /* idle keep-alive connection / stalled write */
    int head_timeout_s;               /* connect (or first byte) to a complete request head */
    int body_timeout_s;               /* complete head to complete body */
    long max_inflight_bytes;          /* request bytes held at once, all connections */
    int produce_timeout_ms;           /* answer 503 when Kafka has not acked by then */
    int max_queue_messages;           /* librdkafka queue.buffering.max.messages */
    char *notification_secret;        /* secret; NULL = notifications endpoint disabled */
    char *notification_secret_header; /* header carrying the secret */
    char *notification_account;       /* account header put on notifications; NULL = none */
    char *request_id_header;          /* header taken as the request id; NULL = none */
    int request_id_from_body;         /* 1: request id = hash of account + body */
    char *tls_cert_file;              /* PEM certificate chain; NULL = plain HTTP */
    char *tls_key_file;               /* PEM private key for tls_cert_file */
};

enum tcb_stale_policy { TCB_STALE_KEEP = 0, TCB_STALE_RESTAMP, TCB_STALE_DEAD_LETTER };
/* A notification item with no user to send to (a coupon without a recipient,
 * a card without a profile) or a CouponCreated carrying only a BatchID. */
enum tcb_no_user_policy { TCB_NO_USER_SKIP = 0, TCB_NO_USER_DEAD_LETTER };
/* A string property value above CleverTap's 512 bytes. */
enum tcb_long_value_policy {
    TCB_LONG_VALUE_TRUNCATE = 0,
    TCB_LONG_VALUE_DROP,
    TCB_LONG_VALUE_DEAD_LETTER
};

struct tcb_config_sink {
    char *metrics_listen;
    int batch_max_records;
    long batch_max_bytes;
    int batch_linger_ms;
    long stale_after_s;
    enum tcb_stale_policy stale_policy;
    int shutdown_timeout_ms;
    int keyed_ordering;      /* 1: same-key records uploaded in offset order */
    int dedup_window;        /* (request-id, record-index) pairs remembered per partition */
    int max_pending_records; /* records held in memory before partitions pause */
    long max_pending_bytes;  /* record bytes held in memory before partitions pause */
    int commit_interval_ms;  /* asynchronous offset commits at most this often */
    /* Outputs (records, dead letters, skips) one message may yield; beyond,
     * the whole message is one dead letter. The consumer holds them all. */
    int max_records_per_message;
    long max_output_bytes_per_message; /* serialised records + DLQ values */
    enum tcb_no_user_policy no_user_policy;
    enum tcb_long_value_policy long_value_policy;
};

enum tcb_nested_policy { TCB_NESTED_STRINGIFY = 0, TCB_NESTED_FLATTEN, TCB_NESTED_DROP };
/* How a transform combines with a built-in notification mapping. */
enum tcb_builtin_mode { TCB_BUILTIN_EXTEND = 0, TCB_BUILTIN_REPLACE };
/* One event per item of the notification's array, or one per notification. */
enum tcb_event_per { TCB_EVENT_PER_ITEM = 0, TCB_EVENT_PER_NOTIFICATION };
/* Profile records from a notification: none, beside the event, or instead. */
enum tcb_profile_mode { TCB_PROFILE_NONE = 0, TCB_PROFILE_ALSO, TCB_PROFILE_ONLY };

/* A named mapping from a Talon.One notification or CleverTap record to the
 * CleverTap record(s) to send. Every field is optional (NULL / empty). */
struct tcb_transform_spec {
    char *name;
    char *event_name;                  /* override evtName */
    char *identity_field;              /* source field (dotted path) giving the identity */
    struct tcb_kv_list rename;         /* source property -> CleverTap property */
    struct tcb_str_list include;       /* keep only these properties (empty = all) */
    struct tcb_str_list exclude;       /* drop these properties */
    struct tcb_kv_list constants;      /* added properties; "$"-keys go on the record */
    enum tcb_nested_policy nested;     /* objects/arrays in properties */
    struct tcb_str_list date_fields;   /* turned into $D_<epoch seconds> */
    enum tcb_builtin_mode builtin;     /* extend (default) or replace the built-in mapping */
    char *ts_field;                    /* source field (path) giving ts; NULL = receive time */
    enum tcb_event_per event_per;      /* notifications: per item (default) or per notification */
    enum tcb_profile_mode profile;     /* notifications: profile records none / also / only */
    struct tcb_kv_list profile_fields; /* source field -> profile property */
};

enum tcb_route_action { TCB_ROUTE_SEND = 0, TCB_ROUTE_SKIP };

/* A routing rule: the first rule whose every given match field equals the
 * record's decides account, transform, stale policy and action. */
struct tcb_route {
    char *name;
    char *match_notification_type; /* Talon.One NotificationType */
    char *match_event_name;        /* CleverTap evtName */
    char *match_account_header;    /* value of the clevertap-account header */
    /* JSON pointer ("/campaignId") or dotted path -> the value's text, each
     * looked up in the notification item, then the notification (or in the
     * CleverTap record) */
    struct tcb_kv_list match_fields;
    char *account;   /* account name or id; NULL = fall through */
    char *transform; /* tcb_transform_spec name; NULL = built-in */
    int has_stale_policy;
    enum tcb_stale_policy stale_policy;
    enum tcb_route_action action;            /* send (default) or skip and count */
    struct tcb_str_list required_properties; /* event properties that must be non-empty */
};

struct tcb_config_log {
    char *level;  /* debug | info | warn | error */
    char *format; /* json | logfmt */
};

struct tcb_config {
    char *source_path; /* the file loaded, or "<defaults>" */
    struct tcb_config_kafka kafka;
    struct tcb_config_clevertap clevertap;
    struct tcb_config_ingest ingest;
    struct tcb_config_sink sink;
    struct tcb_route *routes;
    size_t route_count;
    struct tcb_transform_spec *transforms;
    size_t transform_count;
    struct tcb_config_log log;
};

/* The account whose name or account_id equals key, or NULL. Borrowed from cfg. */
const struct tcb_account *tcb_config_find_account(const struct tcb_config *cfg, const char *key);
/* The transform named name, or NULL. Borrowed from cfg. */
const struct tcb_transform_spec *tcb_config_find_transform(const struct tcb_config *cfg,
                                                           const char *name);
/* The Upload API base URL for an account: its endpoint, else
 * https://<region>.api.clevertap.com (eu1: https://api.clevertap.com).
 * Returns a static or cfg-owned string; NULL for an unknown region. */
const char *tcb_account_base_url(const struct tcb_account *account);

/* Writes a region's host base URL; returns NULL for an unknown region. */
const char *tcb_region_base_url(const char *region);

#endif
