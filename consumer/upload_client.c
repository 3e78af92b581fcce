/* The uploader's public entry points: creation from the config, submission with
 * back-pressure, readiness and counters. The loop that sends, retries and reports
 * lives in upload_loop.c. Never logs record contents or the passcode. */
#include "consumer/upload_state.h"

#include "common/metrics.h"
#include "config/config.h"
#include "util/alloc.h"
#include "util/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_PENDING_RECORDS 10000
#define DEFAULT_MAX_PENDING_BYTES   (64L * 1024 * 1024)

int64_t tcb_upload_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *tcb_upload_account_label(const struct tcb_upload_account *acct)
{
    return acct->account->name ? acct->account->name : "unnamed";
}

static long positive_or(long value, long fallback)
{
    return value > 0 ? value : fallback;
}

static void read_settings(struct tcb_uploader *up, const struct tcb_uploader_options *opts)
{
    const struct tcb_config *cfg = opts->cfg;
    long max_records = cfg->sink.batch_max_records;
    if (max_records <= 0 || max_records > TCB_CLEVERTAP_MAX_BATCH) {
        max_records = TCB_CLEVERTAP_MAX_BATCH;
    }
    up->policy.max_records = (size_t)max_records;
    up->policy.max_bytes = (size_t)positive_or(cfg->sink.batch_max_bytes, 1024L * 1024);
    up->policy.linger_ms = cfg->sink.batch_linger_ms > 0 ? cfg->sink.batch_linger_ms : 0;
    up->policy.keyed_ordering = cfg->sink.keyed_ordering;
    up->max_pending_records =
        opts->max_pending_records
            ? opts->max_pending_records
            : (size_t)positive_or(cfg->sink.max_pending_records, DEFAULT_MAX_PENDING_RECORDS);
    up->max_pending_bytes =
        opts->max_pending_bytes
            ? opts->max_pending_bytes
            : (size_t)positive_or(cfg->sink.max_pending_bytes, DEFAULT_MAX_PENDING_BYTES);
    up->timeout_ms = positive_or(cfg->clevertap.request_timeout_ms, 30000);
    up->connect_timeout_ms = positive_or(cfg->clevertap.connect_timeout_ms, 10000);
    up->ca_file = cfg->clevertap.ca_file && *cfg->clevertap.ca_file ? cfg->clevertap.ca_file : NULL;
    up->retry_initial_ms = positive_or(cfg->clevertap.retry_initial_ms, 200);
    up->retry_max_ms = positive_or(cfg->clevertap.retry_max_ms, 30000);
    /* 0 is a setting (honour no Retry-After), not "unset". */
    up->retry_after_max_s =
        cfg->clevertap.retry_after_max_s >= 0 ? cfg->clevertap.retry_after_max_s : 60;
    up->auth_retry_ms = positive_or(cfg->clevertap.auth_retry_ms, 60000);
    up->max_record_attempts = (int)positive_or(cfg->clevertap.max_record_attempts, 10);
    up->max_retry_ms =
        cfg->clevertap.max_retry_s > 0 ? (int64_t)cfg->clevertap.max_retry_s * 1000 : 0;
    up->watch_fd = -1;
    /* An answer echoes failing records: room for the whole batch twice plus text. */
    up->resp_max = up->policy.max_bytes * 2 + 64 * 1024;
    uint64_t seed = opts->seed;
    if (seed == 0) {
        seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
    }
    tcb_rng_seed(&up->rng, seed);
}

static int make_accounts(struct tcb_uploader *up, char *err, size_t err_len)
{
    const struct tcb_config_clevertap *ct = &up->cfg->clevertap;
    long connections = 1;
    up->accts = tcb_xcalloc(ct->account_count ? ct->account_count : 1, sizeof(*up->accts));
    for (size_t i = 0; i < ct->account_count; i++) {
        const struct tcb_account *account = &ct->accounts[i];
        if (tcb_upload_account_init(&up->accts[i], account, tcb_account_base_url(account), err,
                                    err_len) != 0) {
            up->acct_count = i + 1; /* cleanup covers the half-built one */
            return -1;
        }
        up->acct_count = i + 1;
        connections += up->accts[i].aimd.max;
    }
    curl_multi_setopt(up->multi, CURLMOPT_MAXCONNECTS, connections);
    return 0;
}

struct tcb_uploader *tcb_uploader_create(const struct tcb_uploader_options *opts, char *err,
                                         size_t err_len)
{
    if (!opts || !opts->cfg || !opts->on_outcome) {
        snprintf(err, err_len, "uploader: config and outcome callback are required");
        return NULL;
    }
    struct tcb_uploader *up = tcb_xcalloc(1, sizeof(*up));
    up->cfg = opts->cfg;
    up->on_outcome = opts->on_outcome;
    up->ctx = opts->ctx;
    up->next_seq = 1;
    read_settings(up, opts);
    up->ready_lock = tcb_xmalloc(sizeof(pthread_mutex_t));
    if (pthread_mutex_init(up->ready_lock, NULL) != 0) {
        free(up->ready_lock);
        up->ready_lock = NULL;
        snprintf(err, err_len, "uploader: cannot make a mutex");
        goto fail;
    }
    up->multi = curl_multi_init();
    if (!up->multi) {
        snprintf(err, err_len, "uploader: curl_multi_init failed");
        goto fail;
    }
    if (up->ca_file && access(up->ca_file, R_OK) != 0) {
        snprintf(err, err_len, "clevertap.ca_file: cannot read %s", up->ca_file);
        goto fail;
    }
    if (make_accounts(up, err, err_len) != 0) {
        goto fail;
    }
    up->keys = tcb_batch_keys_create(up->max_pending_records);
    tcb_upload_metrics_register(&up->m, opts->metrics);
    return up;
fail:
    tcb_uploader_destroy(up);
    return NULL;
}

void tcb_uploader_destroy(struct tcb_uploader *up)
{
    if (!up) {
        return;
    }
    for (size_t i = 0; i < up->acct_count; i++) {
        for (struct tcb_batch *batch = up->accts[i].first; batch; batch = batch->next) {
            struct tcb_upload_xfer *xfer = batch->xfer;
            if (xfer) {
                curl_multi_remove_handle(up->multi, xfer->easy);
                tcb_upload_xfer_free(xfer);
            }
        }
        tcb_upload_account_cleanup(&up->accts[i]);
    }
    free(up->accts);
    while (up->free_xfers) {
        struct tcb_upload_xfer *xfer = up->free_xfers;
        up->free_xfers = xfer->next_free;
        tcb_upload_xfer_free(xfer);
    }
    if (up->multi) {
        curl_multi_cleanup(up->multi);
    }
    tcb_batch_keys_destroy(up->keys);
    if (up->ready_lock) {
        pthread_mutex_destroy(up->ready_lock);
        free(up->ready_lock);
    }
    free(up);
}

static struct tcb_upload_account *find_account(struct tcb_uploader *up,
                                               const struct tcb_account *account)
{
    const struct tcb_config_clevertap *ct = &up->cfg->clevertap;
    if (!account) {
        return NULL;
    }
    if (ct->account_count > 0 && account >= ct->accounts &&
        account < ct->accounts + ct->account_count) {
        return &up->accts[account - ct->accounts];
    }
    for (size_t i = 0; i < up->acct_count && account->account_id; i++) {
        if (strcmp(up->accts[i].account->account_id, account->account_id) == 0) {
            return &up->accts[i];
        }
    }
    return NULL;
}

int tcb_uploader_submit(struct tcb_uploader *up, const struct tcb_account *account,
                        const char *json, size_t len, uint64_t key,
                        const struct tcb_upload_tag *tag)
{
    struct tcb_upload_item item = {
        .account = account, .json = json, .len = len, .key = key, .tag = *tag};
    return tcb_uploader_submit_all(up, &item, 1);
}

size_t tcb_uploader_max_record_bytes(const struct tcb_uploader *up)
{
    return up->policy.max_bytes - TCB_BATCH_ENVELOPE_BYTES;
}

/* Whether the set fits: every item sendable, the totals within the pending
 * bounds (any set fits an empty uploader) and no account past its 3/4 share
 * (one halted or slow account never takes the whole budget from the others).
 * Fills acct_of[i]. Returns 0 or a TCB_UPLOAD_* code. */
static int check_set(struct tcb_uploader *up, const struct tcb_upload_item *items, size_t count,
                     struct tcb_upload_account **acct_of)
{
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
        acct_of[i] = find_account(up, items[i].account);
        if (!acct_of[i]) {
            return TCB_UPLOAD_BAD_ACCOUNT;
        }
        if (items[i].len > tcb_uploader_max_record_bytes(up)) {
            return TCB_UPLOAD_TOO_LARGE;
        }
        bytes += items[i].len;
    }
    if (up->pending_records == 0) {
        return 0;
    }
    if (up->pending_records + count > up->max_pending_records ||
        up->pending_bytes + bytes > up->max_pending_bytes) {
        return TCB_UPLOAD_FULL;
    }
    if (up->acct_count < 2) {
        return 0;
    }
    size_t share = up->max_pending_records / 4 * 3;
    size_t *adding = tcb_xcalloc(up->acct_count, sizeof(*adding));
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        adding[acct_of[i] - up->accts]++;
    }
    for (size_t a = 0; a < up->acct_count; a++) {
        if (adding[a] > 0 && up->accts[a].held_records + adding[a] > share) {
            rc = TCB_UPLOAD_FULL;
        }
    }
    free(adding);
    return rc;
}

int tcb_uploader_submit_all(struct tcb_uploader *up, const struct tcb_upload_item *items,
                            size_t count)
{
    struct tcb_upload_account *one = NULL;
    struct tcb_upload_account **acct_of =
        count > 1 ? tcb_xcalloc(count, sizeof(struct tcb_upload_account *)) : &one;
    int rc = check_set(up, items, count, acct_of);
    if (rc == 0) {
        int64_t now = tcb_upload_now_ms();
        for (size_t i = 0; i < count; i++) {
            const struct tcb_upload_item *item = &items[i];
            tcb_upload_account_enqueue(
                acct_of[i],
                tcb_batch_record_new(item->json, item->len, item->key, &item->tag, now));
            up->pending_records++;
            up->pending_bytes += item->len;
            acct_of[i]->held_records++;
        }
    }
    if (acct_of != &one) {
        free(acct_of);
    }
    return rc;
}

void tcb_uploader_watch_fd(struct tcb_uploader *up, int fd)
{
    up->watch_fd = fd;
}

void tcb_uploader_set_share(struct tcb_uploader *up, int numerator, int denominator)
{
    for (size_t i = 0; i < up->acct_count; i++) {
        struct tcb_upload_account *acct = &up->accts[i];
        int budget = acct->account->max_in_flight;
        if (budget < 1 || budget > TCB_CLEVERTAP_MAX_IN_FLIGHT) {
            budget = TCB_CLEVERTAP_MAX_IN_FLIGHT;
        }
        int cap = budget;
        if (denominator > 0 && numerator >= 0 && numerator < denominator) {
            cap = (int)((long)budget * numerator / denominator);
        }
        tcb_aimd_set_max(&acct->aimd, cap);
    }
}

void tcb_upload_set_halted(struct tcb_uploader *up, struct tcb_upload_account *acct, int halted,
                           int64_t now_ms)
{
    if (acct->halted == halted) {
        return;
    }
    acct->halted = halted;
    acct->probe_at_ms = now_ms + up->auth_retry_ms;
    const char *labels[] = {tcb_upload_account_label(acct)};
    tcb_gauge_set(up->m.halted, labels, halted);
    pthread_mutex_lock(up->ready_lock);
    up->halted_count = halted ? up->halted_count + 1 : up->halted_count - 1;
    up->halted_name[0] = '\0';
    for (size_t i = 0; i < up->acct_count; i++) {
        if (up->accts[i].halted) {
            snprintf(up->halted_name, sizeof(up->halted_name), "%s",
                     tcb_upload_account_label(&up->accts[i]));
            break;
        }
    }
    pthread_mutex_unlock(up->ready_lock);
}

int tcb_uploader_ready(const struct tcb_uploader *up, char *why, size_t why_len)
{
    pthread_mutex_lock(up->ready_lock);
    size_t halted = up->halted_count;
    if (halted > 0 && why && why_len > 0) {
        snprintf(why, why_len, "CleverTap account %s halted by 401/403 (%zu halted)",
                 up->halted_name, halted);
    }
    pthread_mutex_unlock(up->ready_lock);
    return halted == 0;
}

void tcb_uploader_stats(const struct tcb_uploader *up, struct tcb_uploader_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    stats->pending_records = up->pending_records;
    stats->pending_bytes = up->pending_bytes;
    stats->in_flight_records = up->in_flight_records;
    stats->in_flight_requests = up->in_flight_requests;
    for (size_t i = 0; i < up->acct_count; i++) {
        stats->halted_accounts += up->accts[i].halted ? 1 : 0;
    }
}

uint64_t tcb_upload_key_hash(const void *key, size_t len)
{
    return tcb_hash64(key, len);
}
