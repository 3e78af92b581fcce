/* The configuration's key table: every key both daemons read, its type,
 * default, bounds and meaning. config/example.yaml mirrors it (a test checks
 * that every key here appears there with this default). */
#include "config/config_keys.h"

#include "config/config.h"

#include <stddef.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

const char *const tcb_config_regions[] = {"in1", "sg1", "us1", "aps3", "mec1", "eu1", NULL};
static const char *const stale_policies[] = {"keep", "restamp", "dead_letter", NULL};
static const char *const nested_policies[] = {"stringify", "flatten", "drop", NULL};
static const char *const no_user_policies[] = {"skip", "dead_letter", NULL};
static const char *const long_value_policies[] = {"truncate", "drop", "dead_letter", NULL};
static const char *const builtin_modes[] = {"extend", "replace", NULL};
static const char *const event_per_choices[] = {"item", "notification", NULL};
static const char *const profile_modes[] = {"none", "also", "only", NULL};
static const char *const route_actions[] = {"send", "skip", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"json", "logfmt", NULL};

/* offsetof(s, f) takes a type and a member name: they cannot be parenthesised. */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define STR(s, f, def, desc)                                                                       \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_STRING, .offset = offsetof(s, f), .default_value = def,        \
        .description = desc                                                                        \
    }
#define INT_AS(yaml_name, s, f, def, lo, hi, desc)                                                 \
    {                                                                                              \
        .name = yaml_name, .type = TCB_KEY_INT, .offset = offsetof(s, f), .default_value = def,    \
        .min = lo, .max = hi, .description = desc                                                  \
    }
#define LONG_AS(yaml_name, s, f, def, lo, hi, desc)                                                \
    {                                                                                              \
        .name = yaml_name, .type = TCB_KEY_LONG, .offset = offsetof(s, f), .default_value = def,   \
        .min = lo, .max = hi, .description = desc                                                  \
    }
#define STR_REQ(s, f, desc)                                                                        \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_STRING, .offset = offsetof(s, f), .required = 1,               \
        .description = desc                                                                        \
    }
#define INT(s, f, def, lo, hi, desc)                                                               \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_INT, .offset = offsetof(s, f), .default_value = def,           \
        .min = lo, .max = hi, .description = desc                                                  \
    }
#define LONG(s, f, def, lo, hi, desc)                                                              \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_LONG, .offset = offsetof(s, f), .default_value = def,          \
        .min = lo, .max = hi, .description = desc                                                  \
    }
#define LIST(s, f, desc)                                                                           \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_LIST, .offset = offsetof(s, f), .max_items = 256,              \
        .description = desc                                                                        \
    }
#define MAP(s, f, desc)                                                                            \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_MAP, .offset = offsetof(s, f), .max_items = 256,               \
        .description = desc                                                                        \
    }
#define ENUM(s, f, def, choice_list, desc)                                                         \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_ENUM, .offset = offsetof(s, f), .default_value = def,          \
        .choices = choice_list, .description = desc                                                \
    }
// NOLINTEND(bugprone-macro-parentheses)

static const struct tcb_key kafka_keys[] = {
    STR(struct tcb_config_kafka, brokers, "127.0.0.1:9092", "bootstrap servers, host:port,..."),
    STR(struct tcb_config_kafka, topic, "talon.webhooks",
        "topic talon-ingest writes and the sink reads"),
    STR(struct tcb_config_kafka, dlq_topic, "talon.webhooks.dlq", "dead-letter topic"),
    STR(struct tcb_config_kafka, group_id, "clevertap-sink", "the sink's consumer group"),
    STR(struct tcb_config_kafka, client_id, "talon-clevertap-bridge", "Kafka client.id"),
    INT(struct tcb_config_kafka, session_timeout_ms, "45000", 6000, 300000,
        "consumer session timeout; revoke deadlines stay below it"),
    MAP(struct tcb_config_kafka, properties,
        "verbatim librdkafka settings (SASL, SSL, ...); values are treated as secrets"),
};

static const struct tcb_key account_keys[] = {
    STR_REQ(struct tcb_account, name,
            "unique name used by routes and the clevertap-account header"),
    STR_REQ(struct tcb_account, account_id, "CleverTap account id (X-CleverTap-Account-Id)"),
    {.name = "passcode",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_account, passcode),
     .required = 1,
     .secret = 1,
     .description = "CleverTap passcode; use ${ENV} or ${file:/path}"},
    {.name = "region",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_account, region),
     .required = 1,
     .choices = tcb_config_regions,
     .description = "in1 sg1 us1 aps3 mec1 eu1 (eu1 = api.clevertap.com)"},
    STR(struct tcb_account, endpoint, NULL,
        "base URL overriding the region host (emulator, proxy)"),
    INT(struct tcb_account, max_in_flight, "5", 1, TCB_CLEVERTAP_MAX_IN_FLIGHT,
        "concurrent upload requests for this account across all sink members, shared by "
        "partitions (CleverTap allows 15)"),
    INT(struct tcb_account, max_properties, "100", 1, 1024,
        "properties allowed per event or profile for this account"),
};
static const struct tcb_schema account_schema = {"account", account_keys, N(account_keys),
                                                 sizeof(struct tcb_account)};

static const struct tcb_key clevertap_keys[] = {
    STR(struct tcb_config_clevertap, default_account, NULL,
        "account used when neither the header nor a route names one"),
    {.name = "accounts",
     .type = TCB_KEY_OBJECT_LIST,
     .offset = offsetof(struct tcb_config_clevertap, accounts),
     .count_offset = offsetof(struct tcb_config_clevertap, account_count),
     .max_items = 64,
     .sub = &account_schema,
     .description = "CleverTap accounts"},
    INT(struct tcb_config_clevertap, request_timeout_ms, "10000", 100, 300000,
        "whole upload request timeout"),
    INT(struct tcb_config_clevertap, connect_timeout_ms, "3000", 100, 60000,
        "TCP+TLS connect timeout"),
    INT(struct tcb_config_clevertap, retry_initial_ms, "200", 1, 60000, "first retry back-off"),
    INT(struct tcb_config_clevertap, retry_max_ms, "30000", 1, 600000, "back-off ceiling"),
    INT(struct tcb_config_clevertap, retry_after_max_s, "60", 0, 3600,
        "longest Retry-After honoured"),
    INT(struct tcb_config_clevertap, auth_retry_ms, "60000", 1000, 3600000,
        "retry period of an account halted by 401/403"),
    INT(struct tcb_config_clevertap, max_record_attempts, "10", 1, 1000,
        "answers failing one record alone (CleverTap's 555) before it is dead-lettered as "
        "exhausted"),
    INT(struct tcb_config_clevertap, max_retry_s, "0", 0, 2592000,
        "whole-request failures (5xx, 429, transport) end as exhausted after this; 0 = never"),
    STR(struct tcb_config_clevertap, ca_file, NULL,
        "PEM CA bundle that verifies CleverTap's (or a proxy's) certificate instead of the "
        "system's trust store"),
};

static const struct tcb_key ingest_keys[] = {
    STR(struct tcb_config_ingest, listen, "127.0.0.1:8080",
        "webhook listener HOST:PORT (port 0: any free port)"),
    STR(struct tcb_config_ingest, metrics_listen, "127.0.0.1:9464", "/healthz /readyz /metrics"),
    LONG(struct tcb_config_ingest, max_body_bytes, "1048576", 1024, 67108864,
         "largest request body (413 above)"),
    INT(struct tcb_config_ingest, max_connections, "256", 1, 65536,
        "concurrent HTTP connections; past it the one longest without a complete request "
        "head is closed"),
    INT(struct tcb_config_ingest, connection_timeout_s, "30", 1, 3600,
        "idle keep-alive connection, or a client not reading its answer"),
    INT(struct tcb_config_ingest, head_timeout_s, "10", 1, 600,
        "connect (keep-alive: first byte) to a complete request head, TLS handshake included"),
    INT(struct tcb_config_ingest, body_timeout_s, "30", 1, 3600,
        "complete request head to complete body"),
    LONG(struct tcb_config_ingest, max_inflight_bytes, "67108864", 1024, 17179869184L,
         "request body bytes held at once across all connections (503 + Retry-After above)"),
    INT(struct tcb_config_ingest, produce_timeout_ms, "10000", 100, 300000,
        "503 when Kafka has not acknowledged by then"),
    INT(struct tcb_config_ingest, max_queue_messages, "100000", 100, 10000000,
        "producer queue bound (librdkafka queue.buffering.max.messages)"),
    {.name = "notification_secret",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_config_ingest, notification_secret),
     .secret = 1,
     .description = "shared secret for POST /talon/notifications; empty disables it"},
    STR(struct tcb_config_ingest, notification_secret_header, "X-Talon-Secret",
        "header carrying the notification secret (Basic auth password also accepted)"),
    STR(struct tcb_config_ingest, notification_account, NULL,
        "clevertap-account header put on notifications"),
    STR(struct tcb_config_ingest, request_id_header, NULL,
        "request header taken as the request id (before X-UUID)"),
    {.name = "request_id_from_body",
     .type = TCB_KEY_BOOL,
     .offset = offsetof(struct tcb_config_ingest, request_id_from_body),
     .default_value = "false",
     .description = "without a request id header: a hash of account and body as request id"},
    STR(struct tcb_config_ingest, tls_cert_file, NULL,
        "PEM certificate chain: the webhook listener speaks HTTPS (reloaded on SIGHUP)"),
    STR(struct tcb_config_ingest, tls_key_file, NULL, "PEM private key of tls_cert_file"),
};

static const struct tcb_key batch_keys[] = {
    INT_AS("max_records", struct tcb_config_sink, batch_max_records, "1000", 1,
           TCB_CLEVERTAP_MAX_BATCH, "records per upload request"),
    LONG_AS("max_bytes", struct tcb_config_sink, batch_max_bytes, "1048576", 1024, 10485760,
            "bytes per upload request"),
    INT_AS("linger_ms", struct tcb_config_sink, batch_linger_ms, "200", 0, 60000,
           "wait for a fuller batch"),
};
static const struct tcb_key stale_keys[] = {
    LONG_AS("after_s", struct tcb_config_sink, stale_after_s, "7200", 0, 31536000,
            "an event older than this is stale"),
    {.name = "policy",
     .type = TCB_KEY_ENUM,
     .offset = offsetof(struct tcb_config_sink, stale_policy),
     .default_value = "keep",
     .choices = stale_policies,
     .description = "keep | restamp | dead_letter"},
};
/* Nested sections share their parent's struct: their offsets are into it. */
static const struct tcb_schema batch_schema = {"batch", batch_keys, N(batch_keys), 0};
static const struct tcb_schema stale_schema = {"stale_events", stale_keys, N(stale_keys), 0};

static const struct tcb_key sink_keys[] = {
    STR(struct tcb_config_sink, metrics_listen, "127.0.0.1:9465", "/healthz /readyz /metrics"),
    {.name = "batch", .type = TCB_KEY_SECTION, .sub = &batch_schema, .description = "batching"},
    {.name = "stale_events",
     .type = TCB_KEY_SECTION,
     .sub = &stale_schema,
     .description = "events older than CleverTap's live-campaign window"},
    INT(struct tcb_config_sink, shutdown_timeout_ms, "30000", 0, 600000,
        "time to finish in-flight work on stop"),
    {.name = "keyed_ordering",
     .type = TCB_KEY_BOOL,
     .offset = offsetof(struct tcb_config_sink, keyed_ordering),
     .default_value = "true",
     .description = "same-key records uploaded in offset order, across retries"},
    INT(struct tcb_config_sink, dedup_window, "100000", 0, 10000000,
        "(request-id, record-index) pairs remembered to drop Talon.One retries"),
    INT(struct tcb_config_sink, max_pending_records, "50000", 1000, 10000000,
        "records in memory before partitions are paused"),
    LONG(struct tcb_config_sink, max_pending_bytes, "33554432", 1048576, 4294967296,
         "record bytes in memory before partitions are paused"),
    INT(struct tcb_config_sink, commit_interval_ms, "1000", 10, 60000,
        "asynchronous offset commits at most this often"),
    INT(struct tcb_config_sink, max_records_per_message, "10000", 1, 1000000,
        "outputs (records, dead letters, skips) one message may yield; beyond, the message "
        "is one dead letter"),
    LONG(struct tcb_config_sink, max_output_bytes_per_message, "8388608", 65536, 1073741824,
         "serialised records and DLQ values one message may yield; beyond, one dead letter"),
    ENUM(struct tcb_config_sink, no_user_policy, "skip", no_user_policies,
         "skip | dead_letter: notification items without a user, BatchID-only CouponCreated"),
    ENUM(struct tcb_config_sink, long_value_policy, "truncate", long_value_policies,
         "truncate | drop | dead_letter: string property values above 512 bytes"),
};

static const struct tcb_key match_schema_keys[] = {
    {.name = "notification_type",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_route, match_notification_type),
     .description = "Talon.One NotificationType"},
    {.name = "event_name",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_route, match_event_name),
     .description = "CleverTap evtName"},
    {.name = "account_header",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_route, match_account_header),
     .description = "clevertap-account header value"},
    {.name = "fields",
     .type = TCB_KEY_MAP,
     .offset = offsetof(struct tcb_route, match_fields),
     .max_items = 32,
     .description = "JSON pointer or dotted path -> value, in the item then the notification"},
};
static const struct tcb_schema match_schema = {"match", match_schema_keys, N(match_schema_keys), 0};

static const struct tcb_key route_keys[] = {
    STR_REQ(struct tcb_route, name, "route name (for logs and metrics)"),
    {.name = "match",
     .type = TCB_KEY_SECTION,
     .sub = &match_schema,
     .description = "every given field must equal the record's"},
    STR(struct tcb_route, account, NULL, "account name or id for matching records"),
    STR(struct tcb_route, transform, NULL, "transforms[].name to apply"),
    {.name = "stale_policy",
     .type = TCB_KEY_ENUM,
     .offset = offsetof(struct tcb_route, stale_policy),
     .choices = stale_policies,
     .has_presence = 1,
     .presence_offset = offsetof(struct tcb_route, has_stale_policy),
     .description = "overrides sink.stale_events.policy"},
    ENUM(struct tcb_route, action, "send", route_actions,
         "send | skip (matching items are counted as skipped, never sent)"),
    LIST(struct tcb_route, required_properties,
         "event properties that must be present and non-empty, else dead letter"),
};
static const struct tcb_schema route_schema = {"route", route_keys, N(route_keys),
                                               sizeof(struct tcb_route)};

static const struct tcb_key transform_keys[] = {
    STR_REQ(struct tcb_transform_spec, name, "transform name referenced by routes"),
    STR(struct tcb_transform_spec, event_name, NULL, "evtName override"),
    STR(struct tcb_transform_spec, identity_field, NULL, "dotted source field giving the identity"),
    MAP(struct tcb_transform_spec, rename, "source property -> CleverTap property"),
    LIST(struct tcb_transform_spec, include, "keep only these properties"),
    LIST(struct tcb_transform_spec, exclude, "drop these properties"),
    MAP(struct tcb_transform_spec, constants, "properties added; $-keys go on the record"),
    {.name = "nested",
     .type = TCB_KEY_ENUM,
     .offset = offsetof(struct tcb_transform_spec, nested),
     .default_value = "stringify",
     .choices = nested_policies,
     .description = "stringify | flatten | drop nested values"},
    LIST(struct tcb_transform_spec, date_fields, "fields turned into $D_<epoch seconds>"),
    ENUM(struct tcb_transform_spec, builtin, "extend", builtin_modes,
         "extend | replace the built-in notification mapping"),
    STR(struct tcb_transform_spec, ts_field, NULL,
        "source field whose date becomes ts (default: receive time)"),
    ENUM(struct tcb_transform_spec, event_per, "item", event_per_choices,
         "item | notification: one event per array item or per notification"),
    ENUM(struct tcb_transform_spec, profile, "none", profile_modes,
         "none | also | only: profile records from notifications"),
    MAP(struct tcb_transform_spec, profile_fields, "source field -> profile property"),
};
static const struct tcb_schema transform_schema = {"transform", transform_keys, N(transform_keys),
                                                   sizeof(struct tcb_transform_spec)};

static const struct tcb_key log_keys[] = {
    {.name = "level",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_config_log, level),
     .default_value = "info",
     .choices = log_levels,
     .description = "debug | info | warn | error"},
    {.name = "format",
     .type = TCB_KEY_STRING,
     .offset = offsetof(struct tcb_config_log, format),
     .default_value = "json",
     .choices = log_formats,
     .description = "json | logfmt"},
};

static const struct tcb_schema kafka_schema = {"kafka", kafka_keys, N(kafka_keys), 0};
static const struct tcb_schema clevertap_schema = {"clevertap", clevertap_keys, N(clevertap_keys),
                                                   0};
static const struct tcb_schema ingest_schema = {"ingest", ingest_keys, N(ingest_keys), 0};
static const struct tcb_schema sink_schema = {"sink", sink_keys, N(sink_keys), 0};
static const struct tcb_schema log_schema = {"log", log_keys, N(log_keys), 0};

// NOLINTBEGIN(bugprone-macro-parentheses): f is a member name, schema is taken by address
#define SECTION(f, schema, desc)                                                                   \
    {                                                                                              \
        .name = #f, .type = TCB_KEY_SECTION, .offset = offsetof(struct tcb_config, f),             \
        .sub = &schema, .description = desc                                                        \
    }
// NOLINTEND(bugprone-macro-parentheses)

static const struct tcb_key root_keys[] = {
    SECTION(kafka, kafka_schema, "Kafka connection, topics, group"),
    SECTION(clevertap, clevertap_schema, "CleverTap accounts and upload behaviour"),
    SECTION(ingest, ingest_schema, "talon-ingest"),
    SECTION(sink, sink_schema, "clevertap-sink"),
    {.name = "routes",
     .type = TCB_KEY_OBJECT_LIST,
     .offset = offsetof(struct tcb_config, routes),
     .count_offset = offsetof(struct tcb_config, route_count),
     .max_items = 256,
     .sub = &route_schema,
     .description = "routing rules, first match wins"},
    {.name = "transforms",
     .type = TCB_KEY_OBJECT_LIST,
     .offset = offsetof(struct tcb_config, transforms),
     .count_offset = offsetof(struct tcb_config, transform_count),
     .max_items = 256,
     .sub = &transform_schema,
     .description = "named mappings"},
    SECTION(log, log_schema, "logging"),
};
static const struct tcb_schema root_schema = {"config", root_keys, N(root_keys),
                                              sizeof(struct tcb_config)};

const struct tcb_schema *tcb_config_root_schema(void)
{
    return &root_schema;
}
