/* The CleverTap uploader: takes transformed records per account, batches them,
 * uploads them over libcurl's multi interface and reports exactly one final
 * outcome per record (accepted, rejected or exhausted) through a callback. It
 * owns every retry; it never commits offsets, writes dead letters or touches
 * Kafka. Single-threaded: every call but tcb_uploader_ready comes from one
 * thread, which may also wait on one file descriptor of its own (watch_fd).
 *
 * Behaviour (design.md "clevertap-sink"): batches per account bounded by
 * sink.batch.{max_records,max_bytes,linger_ms}; at most the account's in-flight
 * cap of requests (max_in_flight, halved on 429, +1 per cap successes). Each
 * finished request is OK (2xx: per-record fates; 555 resent until a record got
 * clevertap.max_record_attempts 555 answers, then EXHAUSTED), RETRY
 * (429, 408, 5xx, timeout, transport, unreadable or ambiguous 2xx: whole batch
 * again after full-jitter back-off, Retry-After honoured; EXHAUSTED once a
 * record waited clevertap.max_retry_s since its first attempt, when set; 401/403
 * halt the account, which then sends one probe per clevertap.auth_retry_ms and
 * never exhausts) or PERMANENT (other 4xx: halves until one record is left,
 * which is rejected). A 2xx is ambiguous when "processed" plus its unprocessed
 * entries does not add up to the records sent, an entry names no record, or a
 * "fail" leaves a record unnamed: it is resent in halves (a lone record waits
 * and retries), so an unnamed record is never counted as accepted. Transient
 * failures never reject: records wait, and submit says "full". With
 * sink.keyed_ordering a key has at most one record outstanding; its later
 * records wait in the queue, so a key's records reach CleverTap in submission
 * order even across retries and 555 answers. */
#ifndef TCB_CONSUMER_UPLOAD_CLIENT_H
#define TCB_CONSUMER_UPLOAD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct tcb_config;
struct tcb_account;
struct tcb_metrics;
struct tcb_uploader;

/* What the caller needs to find its record again; opaque to the uploader. */
struct tcb_upload_tag {
    int32_t partition;
    int32_t sub_index; /* position within a Kafka message (envelopes carry several) */
    int64_t offset;
};

enum tcb_upload_result {
    TCB_UPLOAD_ACCEPTED = 0, /* final: CleverTap took the record */
    TCB_UPLOAD_REJECTED,     /* final: CleverTap refused it for good (dead-letter it) */
    TCB_UPLOAD_ABANDONED, /* NOT final: flush deadline hit; do not commit, it will be redelivered */
    TCB_UPLOAD_EXHAUSTED, /* final: the retry budget ran out (dead-letter it, stage "exhausted") */
};

struct tcb_upload_outcome {
    enum tcb_upload_result result;
    int code;         /* CleverTap's code for a rejection, 0 when it gave none */
    const char *text; /* CleverTap's error text or an HTTP body excerpt; "" when none.
                         Borrowed for the callback's duration; never holds a secret. */
    int http_status;  /* of the last request carrying the record; 0 when never sent */
    int attempts;     /* requests that carried the record */
    const struct tcb_account *account; /* borrowed from the config */
    const char *json; /* the record as submitted (json[0..json_len)), borrowed for the
                         callback's duration: a dead letter's value needs no second copy */
    size_t json_len;
};

/* Called from tcb_uploader_run / tcb_uploader_flush only (never from submit),
 * exactly once per submitted tag with ACCEPTED, REJECTED or EXHAUSTED, or once
 * with ABANDONED by flush. tag and outcome are borrowed for the call. The
 * callback may call tcb_uploader_submit, but not run/flush/destroy. */
typedef void (*tcb_upload_outcome_fn)(void *ctx, const struct tcb_upload_tag *tag,
                                      const struct tcb_upload_outcome *outcome);

struct tcb_uploader_options {
    const struct tcb_config *cfg; /* borrowed for the uploader's life: accounts, sink.batch_*,
                                     sink.keyed_ordering, clevertap timeouts and retry timing */
    struct tcb_metrics *metrics;  /* optional (NULL): borrowed for the uploader's life */
    tcb_upload_outcome_fn on_outcome;
    void *ctx;                  /* passed to on_outcome */
    size_t max_pending_records; /* submit says "full" beyond; 0 = sink.max_pending_records;
                                   with several accounts, one account holds at most 3/4 */
    size_t max_pending_bytes;   /* likewise for record bytes; 0 = sink.max_pending_bytes */
    uint64_t seed;              /* back-off jitter seed; 0 = derived from the clock */
};

/* Submit results besides 0. */
enum {
    TCB_UPLOAD_FULL = -1,        /* back-pressure: retry after tcb_uploader_run made room */
    TCB_UPLOAD_TOO_LARGE = -2,   /* one record bigger than sink.batch.max_bytes allows: it can
                                    never be sent; the caller dead-letters it */
    TCB_UPLOAD_BAD_ACCOUNT = -3, /* account not in the config the uploader was made with */
};

/* New uploader, or NULL with a message in err (an account without a usable base
 * URL, an unreadable clevertap.ca_file, curl failing to initialise). Call curl_global_init once
 * before, in main. */
struct tcb_uploader *tcb_uploader_create(const struct tcb_uploader_options *opts, char *err,
                                         size_t err_len);

/* Aborts transfers and frees everything; accepts NULL. Delivers no callbacks:
 * call tcb_uploader_flush first to learn which tags were abandoned. */
void tcb_uploader_destroy(struct tcb_uploader *up);

/* Queues one record: json[0..len) is compact JSON (copied), account is borrowed from
 * the config, key is an ordering key hash (tcb_upload_key_hash; 0 = no ordering),
 * tag is copied. Returns 0 (the tag's outcome will come through the callback),
 * TCB_UPLOAD_FULL (nothing queued), TCB_UPLOAD_TOO_LARGE or TCB_UPLOAD_BAD_ACCOUNT
 * (nothing queued, no callback will come). */
int tcb_uploader_submit(struct tcb_uploader *up, const struct tcb_account *account,
                        const char *json, size_t len, uint64_t key,
                        const struct tcb_upload_tag *tag);

/* One record of tcb_uploader_submit_all; every pointer borrowed for the call. */
struct tcb_upload_item {
    const struct tcb_account *account;
    const char *json;
    size_t len;
    uint64_t key;
    struct tcb_upload_tag tag;
};

/* Queues all of items[0..count) or none (a Kafka message's records never split
 * across a pause). The bounds are checked for the whole set: the pending records
 * and bytes, and each account's 3/4 share; an empty uploader takes any set, so a
 * message larger than the bounds still goes through alone. Returns 0 (every
 * item's outcome will come), TCB_UPLOAD_FULL, or TCB_UPLOAD_TOO_LARGE /
 * TCB_UPLOAD_BAD_ACCOUNT when some item can never be sent (nothing queued; the
 * caller dead-letters that item, see tcb_uploader_max_record_bytes, and submits
 * the rest). */
int tcb_uploader_submit_all(struct tcb_uploader *up, const struct tcb_upload_item *items,
                            size_t count);

/* The largest record (bytes of compact JSON) a batch can carry. */
size_t tcb_uploader_max_record_bytes(const struct tcb_uploader *up);

/* Makes tcb_uploader_run's wait also end when fd becomes readable (-1 = none).
 * The uploader never reads it: the caller drains it (an eventfd or a pipe that
 * librdkafka's rd_kafka_queue_io_event_enable writes to, for instance). */
void tcb_uploader_watch_fd(struct tcb_uploader *up, int fd);

/* Sets this member's share of every account's max_in_flight budget (CleverTap's
 * limit is per account across all consumer-group members): each account's cap
 * becomes max(1, floor(max_in_flight * numerator / denominator)). numerator is
 * this member's partition count, denominator the topic's; 0/0 restores the full
 * budget. Requests on the wire above a lowered cap finish normally. */
void tcb_uploader_set_share(struct tcb_uploader *up, int numerator, int denominator);

/* Forms due batches, starts transfers, waits up to timeout_ms for network
 * activity, a due timer or the watched fd, and handles finished transfers
 * (callbacks run here).
 * Returns the number of final outcomes delivered (>= 0), or -1 when curl's multi
 * handle failed (the caller treats it as a runtime failure). */
int tcb_uploader_run(struct tcb_uploader *up, int timeout_ms);

/* Sends everything pending without waiting for linger, and keeps running until
 * nothing is left or deadline_ms passed; then aborts what is left and reports it
 * ABANDONED. Returns the number of abandoned tags. The uploader stays usable. */
size_t tcb_uploader_flush(struct tcb_uploader *up, int deadline_ms);

/* The same for the records of the given partitions only (partitions[0..count),
 * borrowed for the call), for a revoke: other partitions' records keep going.
 * A request already carrying abandoned records together with kept ones is not
 * stopped: the abandoned ones are reported now and never again (CleverTap may
 * still take them; redelivery after the revoke then sends them once more). */
size_t tcb_uploader_flush_partitions(struct tcb_uploader *up, int deadline_ms,
                                     const int32_t *partitions, size_t count);

/* 1 when no account is halted by 401/403, else 0 with a reason naming the
 * account (by name, never a secret) in why. Thread-safe (metrics listener). */
int tcb_uploader_ready(const struct tcb_uploader *up, char *why, size_t why_len);

struct tcb_uploader_stats {
    size_t pending_records; /* submitted, not final (queued, in flight or waiting) */
    size_t pending_bytes;
    size_t in_flight_records; /* in requests on the wire now */
    size_t in_flight_requests;
    size_t halted_accounts;
};
/* Fills *stats. */
void tcb_uploader_stats(const struct tcb_uploader *up, struct tcb_uploader_stats *stats);

/* A non-zero 64-bit hash of key bytes (FNV-1a), for tcb_uploader_submit. */
uint64_t tcb_upload_key_hash(const void *key, size_t len);

#endif
