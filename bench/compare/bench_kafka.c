/* bench-kafka: the comparison benchmark's Kafka side. `fill` produces the
 * workload (talon-ingest-shaped messages: partner-guide coupon events and
 * CouponCreated notifications, keyed by identity, with ingest's headers) and
 * checks how many landed; `watch` waits until a consumer group has committed
 * every partition to its end and prints when that happened. Benchmark code:
 * never part of the daemons or of tests/run.sh. */
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTITIONS 64

struct fill_opts {
    const char *brokers;
    const char *topic;
    long records;   /* messages to produce (one record each) */
    long profiles;  /* identities spread over */
    int accounts;   /* clevertap-account header: acct-<profile % accounts> */
    int notify_pct; /* share of messages that are CouponCreated notifications */
    const char *compression;
};

struct watch_opts {
    const char *brokers;
    const char *topic;
    const char *group;
    long expect;      /* messages the topic must hold (0: whatever it holds) */
    double timeout_s; /* give up after this long */
    int interval_ms;
};

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long delivered;
static long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err) {
        if (failed++ < 5) {
            fprintf(stderr, "bench-kafka: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
        }
    } else {
        delivered++;
    }
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench-kafka: %s: %s\n", name, err);
        return -1;
    }
    return 0;
}

/* Message i of the workload into value/key; returns the value's length. The
 * profile order is a fixed permutation so that neighbouring messages go to
 * different identities (and partitions), as independent webhooks do. */
static int make_message(const struct fill_opts *o, long i, char *value, size_t cap, char *key,
                        size_t key_cap, int *account)
{
    long profile = (long)(((uint64_t)i * 2654435761u) % (uint64_t)o->profiles);
    *account = (int)(profile % o->accounts);
    snprintf(key, key_cap, "P%07ld", profile);
    if ((i * o->notify_pct) % 100 < o->notify_pct) {
        /* Talon.One's CouponCreated notification (its documented example), one
         * coupon for this profile. */
        return snprintf(
            value, cap,
            "{\"data\":[{\"id\":%ld,\"created\":\"2020-06-10T09:05:27.993483Z\",\"campaignId\":211,"
            "\"value\":\"XMAS-%08ld\",\"usageLimit\":100,\"discountLimit\":30,"
            "\"reservationLimit\":45,\"startDate\":\"2020-01-24T14:15:22Z\",\"expiryDate\":"
            "\"2023-08-24T14:15:22Z\",\"limits\":[{\"action\":\"createCoupon\",\"limit\":1000,"
            "\"period\":\"yearly\",\"entities\":[\"Coupon\"]}],\"usageCounter\":10,"
            "\"discountCounter\":10,\"discountRemainder\":5,\"reservationCounter\":1,"
            "\"attributes\":{},\"referralId\":326632952,\"recipientIntegrationId\":\"%s\","
            "\"importId\":4,\"reservation\":false,\"batchId\":\"32535-43255\","
            "\"isReservationMandatory\":false,\"implicitlyReserved\":false,\"ApplicationId\":0}],"
            "\"totalResultSize\":1,\"BatchID\":\"haanlypn\",\"TypeOfChange\":\"campaign_manager\","
            "\"Operation\":\"AsyncCouponsCreated\",\"EmployeeName\":\"Franziska Schneider\","
            "\"NotificationType\":\"CouponCreated\"}",
            i, i, key);
    }
    /* The CleverTap partner guide's Talon.One webhook record, as talon-ingest
     * writes it (one message per record of the {"d":[...]} envelope). */
    return snprintf(value, cap,
                    "{\"type\":\"event\",\"evtName\":\"Coupon Generated\",\"$source\":"
                    "\"Talon.One\",\"identity\":\"%s\",\"evtData\":{\"CouponGenerated\":"
                    "\"XMAS-%08ld\"}}",
                    key, i);
}

static int fill(const struct fill_opts *o)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", o->brokers) || set(conf, "enable.idempotence", "true") ||
        set(conf, "acks", "all") || set(conf, "compression.codec", o->compression) ||
        set(conf, "linger.ms", "50") || set(conf, "batch.size", "1000000") ||
        set(conf, "batch.num.messages", "10000") ||
        set(conf, "queue.buffering.max.messages", "1000000") ||
        set(conf, "partitioner", "murmur2_random")) {
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "bench-kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    char value[2048];
    char key[32];
    char request_id[48];
    char received[24];
    double t0 = wall_ms();
    long long base_ms = (long long)t0;
    for (long i = 0; i < o->records && !stop; i++) {
        int account = 0;
        int len = make_message(o, i, value, sizeof(value), key, sizeof(key), &account);
        char header[32];
        snprintf(header, sizeof(header), "acct-%d", account);
        snprintf(request_id, sizeof(request_id), "bench-%lld-%ld", base_ms, i);
        snprintf(received, sizeof(received), "%lld", base_ms + i / 1000);
        rd_kafka_headers_t *headers = rd_kafka_headers_new(4);
        rd_kafka_header_add(headers, "clevertap-account", -1, header, -1);
        rd_kafka_header_add(headers, "request-id", -1, request_id, -1);
        rd_kafka_header_add(headers, "record-index", -1, "0", -1);
        rd_kafka_header_add(headers, "received-at", -1, received, -1);
        const rd_kafka_vu_t vus[] = {
            {.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = o->topic},
            {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
            {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {value, (size_t)len}},
            {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {key, strlen(key)}},
            {.vtype = RD_KAFKA_VTYPE_HEADERS, .u.headers = headers},
        };
        rd_kafka_resp_err_t rc;
        for (;;) {
            rd_kafka_error_t *error = rd_kafka_produceva(rk, vus, sizeof(vus) / sizeof(vus[0]));
            rc = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
            if (error) {
                rd_kafka_error_destroy(error);
            }
            if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                break;
            }
            rd_kafka_poll(rk, 50);
        }
        if (rc) {
            fprintf(stderr, "bench-kafka: produce: %s\n", rd_kafka_err2str(rc));
            rd_kafka_headers_destroy(headers);
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0 && !stop) {
        rd_kafka_poll(rk, 100);
    }
    rd_kafka_flush(rk, 10000);
    printf("produced %ld delivered %ld failed %ld in %.1f s\n", o->records, delivered, failed,
           (wall_ms() - t0) / 1e3);
    rd_kafka_destroy(rk);
    return delivered == o->records ? 0 : 1;
}

/* Sum of the partitions' end offsets (messages held when the topic started at
 * 0) into *total; fills parts with every partition. 0 or -1. */
static int end_offsets(rd_kafka_t *rk, const char *topic, rd_kafka_topic_partition_list_t *parts,
                       long *total)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (rc || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
        fprintf(stderr, "bench-kafka: no metadata for %s: %s\n", topic,
                rc ? rd_kafka_err2str(rc) : "no such topic");
        if (md) {
            rd_kafka_metadata_destroy(md);
        }
        return -1;
    }
    *total = 0;
    for (int i = 0; i < md->topics[0].partition_cnt && i < MAX_PARTITIONS; i++) {
        int32_t id = md->topics[0].partitions[i].id;
        int64_t lo = 0;
        int64_t hi = 0;
        rc = rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi, 10000);
        if (rc) {
            fprintf(stderr, "bench-kafka: watermarks of %s [%d]: %s\n", topic, id,
                    rd_kafka_err2str(rc));
            rd_kafka_metadata_destroy(md);
            return -1;
        }
        rd_kafka_topic_partition_list_add(parts, topic, id)->offset = hi;
        *total += (long)(hi - lo);
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

static rd_kafka_t *consumer(const char *brokers, const char *group)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", brokers) || set(conf, "group.id", group) ||
        set(conf, "enable.auto.commit", "false") || set(conf, "log_level", "3")) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "bench-kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int count(const char *brokers, const char *topic)
{
    rd_kafka_t *rk = consumer(brokers, "bench-kafka-count");
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(MAX_PARTITIONS);
    long total = 0;
    int rc = rk ? end_offsets(rk, topic, parts, &total) : -1;
    if (rc == 0) {
        printf("%ld\n", total);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return rc == 0 ? 0 : 1;
}

/* Polls the group's committed offsets every interval; prints one line with
 * the wall-clock times (ms since the epoch) of the first commit and of the
 * commit that reached every partition's end. Never joins the group. */
static int watch(const struct watch_opts *o)
{
    rd_kafka_t *rk = consumer(o->brokers, o->group);
    if (!rk) {
        return 1;
    }
    rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_new(MAX_PARTITIONS);
    long total = 0;
    double start = wall_ms();
    while (end_offsets(rk, o->topic, ends, &total) != 0 || (o->expect > 0 && total < o->expect)) {
        if (stop || wall_ms() - start > o->timeout_s * 1e3) {
            fprintf(stderr, "bench-kafka: the topic holds %ld of %ld messages\n", total, o->expect);
            rd_kafka_topic_partition_list_destroy(ends);
            rd_kafka_destroy(rk);
            return 1;
        }
        rd_kafka_topic_partition_list_destroy(ends);
        ends = rd_kafka_topic_partition_list_new(MAX_PARTITIONS);
        usleep(200000);
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_copy(ends);
    double first = 0;
    double done = 0;
    long committed = 0;
    while (!stop && wall_ms() - start < o->timeout_s * 1e3) {
        for (int i = 0; i < parts->cnt; i++) {
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        }
        if (rd_kafka_committed(rk, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            committed = 0;
            int all = 1;
            for (int i = 0; i < parts->cnt; i++) {
                int64_t off = parts->elems[i].err ? -1 : parts->elems[i].offset;
                committed += off > 0 ? (long)off : 0;
                all &= off >= ends->elems[i].offset;
            }
            if (committed > 0 && first == 0) {
                first = wall_ms();
            }
            if (all) {
                done = wall_ms();
                break;
            }
        }
        usleep((useconds_t)o->interval_ms * 1000);
    }
    printf("{\"messages\":%ld,\"committed\":%ld,\"first_commit_ms\":%.0f,\"done_ms\":%.0f}\n",
           total, committed, first, done);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_topic_partition_list_destroy(ends);
    rd_kafka_destroy(rk);
    return done > 0 ? 0 : 1;
}

static int usage(void)
{
    fprintf(
        stderr,
        "usage: bench-kafka fill BROKERS TOPIC RECORDS [PROFILES ACCOUNTS NOTIFY_PCT COMPRESSION]\n"
        "       bench-kafka count BROKERS TOPIC\n"
        "       bench-kafka watch BROKERS TOPIC GROUP [EXPECT TIMEOUT_S]\n"
        "fill: RECORDS messages of one record each, identities over PROFILES (100000),\n"
        "  header clevertap-account=acct-<profile %% ACCOUNTS> (1), NOTIFY_PCT%% CouponCreated\n"
        "  notifications (10), the rest partner-guide coupon events; COMPRESSION lz4.\n"
        "watch: prints {messages, committed, first_commit_ms, done_ms} once GROUP has\n"
        "  committed every partition of TOPIC to its end (exit 1 on timeout, 600 s).\n");
    return 2;
}

static long number(const char *text, long fallback)
{
    if (!text) {
        return fallback;
    }
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    return errno || end == text || *end || value < 0 ? -1 : value;
}

int main(int argc, char **argv)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (argc >= 5 && strcmp(argv[1], "fill") == 0) {
        struct fill_opts o = {argv[2],
                              argv[3],
                              number(argv[4], 0),
                              number(argc > 5 ? argv[5] : NULL, 100000),
                              (int)number(argc > 6 ? argv[6] : NULL, 1),
                              (int)number(argc > 7 ? argv[7] : NULL, 10),
                              argc > 8 ? argv[8] : "lz4"};
        if (o.records <= 0 || o.profiles <= 0 || o.accounts <= 0 || o.notify_pct < 0 ||
            o.notify_pct > 100) {
            return usage();
        }
        return fill(&o);
    }
    if (argc == 4 && strcmp(argv[1], "count") == 0) {
        return count(argv[2], argv[3]);
    }
    if (argc >= 5 && strcmp(argv[1], "watch") == 0) {
        struct watch_opts o = {argv[2],
                               argv[3],
                               argv[4],
                               number(argc > 5 ? argv[5] : NULL, 0),
                               (double)number(argc > 6 ? argv[6] : NULL, 600),
                               100};
        if (o.expect < 0 || o.timeout_s <= 0) {
            return usage();
        }
        return watch(&o);
    }
    return usage();
}
