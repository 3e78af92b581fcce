/* Counters behind GET /stats and the per-account concurrency slots. One mutex
 * guards everything; critical sections are a few increments long. */
#include "tools/clevertap-emulator/emulator_stats.h"
#include "util/json_text.h"

#include <string.h>

#include "tools/clevertap-emulator/emulator_json.h"

const int tcb_emu_stats_status_codes[TCB_EMU_STATUS_SLOTS] = {200, 400, 401, 404,
                                                              413, 429, 500, 503};

static int status_slot(int http_status)
{
    for (int i = 0; i < TCB_EMU_STATUS_SLOTS; i++) {
        if (tcb_emu_stats_status_codes[i] == http_status) {
            return i;
        }
    }
    return -1;
}

int tcb_emu_stats_init(struct tcb_emu_stats *stats, const struct tcb_emu_accounts *accounts)
{
    memset(stats, 0, sizeof(*stats));
    stats->accounts = accounts;
    return pthread_mutex_init(&stats->lock, NULL) == 0 ? 0 : -1;
}

void tcb_emu_stats_destroy(struct tcb_emu_stats *stats)
{
    if (stats) {
        pthread_mutex_destroy(&stats->lock);
    }
}

int tcb_emu_stats_enter(struct tcb_emu_stats *stats, int account, int limit)
{
    int entered = 0;
    pthread_mutex_lock(&stats->lock);
    struct tcb_emu_account_stats *acc = &stats->account[account];
    if (acc->in_flight < limit) {
        entered = 1;
        acc->in_flight++;
        if (acc->in_flight > acc->max_in_flight) {
            acc->max_in_flight = acc->in_flight;
        }
        stats->in_flight++;
        if (stats->in_flight > stats->max_in_flight) {
            stats->max_in_flight = stats->in_flight;
        }
    } else {
        stats->limit_429++;
    }
    pthread_mutex_unlock(&stats->lock);
    return entered;
}

void tcb_emu_stats_leave(struct tcb_emu_stats *stats, int account)
{
    pthread_mutex_lock(&stats->lock);
    stats->account[account].in_flight--;
    stats->in_flight--;
    pthread_mutex_unlock(&stats->lock);
}

void tcb_emu_stats_answered(struct tcb_emu_stats *stats, int account, int http_status)
{
    pthread_mutex_lock(&stats->lock);
    stats->requests++;
    if (account >= 0) {
        stats->account[account].requests++;
    }
    if (http_status != 0) { /* 0: hung or dropped, no answer */
        int slot = status_slot(http_status);
        if (slot >= 0) {
            stats->status[slot]++;
        } else {
            stats->status_other++;
        }
    }
    pthread_mutex_unlock(&stats->lock);
}

void tcb_emu_stats_records(struct tcb_emu_stats *stats, int account,
                           const struct tcb_emu_upload_result *result, int recorded)
{
    pthread_mutex_lock(&stats->lock);
    stats->records_accepted += (unsigned long long)result->processed;
    stats->account[account].records_accepted += (unsigned long long)result->processed;
    stats->injected_555 += (unsigned long long)result->injected_555;
    for (int i = 0; i < TCB_EMU_CODE_SLOTS; i++) {
        stats->rejected_by_code[i] += result->rejected_by_code[i];
    }
    stats->rejected_other_code += result->rejected_other_code;
    if (recorded < result->processed) {
        stats->records_not_recorded += (unsigned long long)(result->processed - recorded);
    }
    pthread_mutex_unlock(&stats->lock);
}

void tcb_emu_stats_event(struct tcb_emu_stats *stats, enum tcb_emu_stats_event event)
{
    pthread_mutex_lock(&stats->lock);
    switch (event) {
    case TCB_EMU_EVENT_HUNG:
        stats->hung++;
        stats->hung_held++;
        break;
    case TCB_EMU_EVENT_HUNG_RELEASED:
        stats->hung_held--;
        break;
    case TCB_EMU_EVENT_DROPPED:
        stats->dropped++;
        break;
    case TCB_EMU_EVENT_INJECTED_429:
        stats->injected_429++;
        break;
    case TCB_EMU_EVENT_INJECTED_5XX:
        stats->injected_5xx++;
        break;
    }
    pthread_mutex_unlock(&stats->lock);
}

static void render_rejected(const struct tcb_emu_stats *stats, struct tcb_buf *out)
{
    unsigned long long total = stats->rejected_other_code;
    int first = 1;
    tcb_buf_append_str(out, "\"records_rejected_by_code\":{");
    for (int i = 0; i < TCB_EMU_CODE_SLOTS; i++) {
        if (stats->rejected_by_code[i] == 0) {
            continue;
        }
        tcb_buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", 500 + i, stats->rejected_by_code[i]);
        total += stats->rejected_by_code[i];
        first = 0;
    }
    if (stats->rejected_other_code) {
        tcb_buf_printf(out, "%s\"other\":%llu", first ? "" : ",", stats->rejected_other_code);
    }
    tcb_buf_printf(out, "},\"records_rejected\":%llu,", total);
}

static void render_accounts(const struct tcb_emu_stats *stats, struct tcb_buf *out)
{
    tcb_buf_append_str(out, "\"accounts\":{");
    for (int i = 0; i < stats->accounts->count; i++) {
        const struct tcb_emu_account_stats *acc = &stats->account[i];
        const char *id = stats->accounts->items[i].id;
        if (i > 0) {
            tcb_buf_append_str(out, ",");
        }
        tcb_buf_append_json_string(out, id, strlen(id));
        tcb_buf_printf(out,
                       ":{\"requests\":%llu,\"records_accepted\":%llu,\"in_flight\":%d,"
                       "\"max_concurrent_seen\":%d}",
                       acc->requests, acc->records_accepted, acc->in_flight, acc->max_in_flight);
    }
    tcb_buf_append_str(out, "}");
}

char *tcb_emu_stats_render(struct tcb_emu_stats *stats, size_t *len)
{
    struct tcb_buf out;
    int max_account = 0;
    unsigned long long server_errors = 0;
    tcb_buf_init(&out, 64 * 1024);
    pthread_mutex_lock(&stats->lock);
    for (int i = 0; i < stats->accounts->count; i++) {
        if (stats->account[i].max_in_flight > max_account) {
            max_account = stats->account[i].max_in_flight;
        }
    }
    tcb_buf_printf(&out, "{\"requests\":%llu,\"status\":{", stats->requests);
    for (int i = 0; i < TCB_EMU_STATUS_SLOTS; i++) {
        tcb_buf_printf(&out, "\"%d\":%llu,", tcb_emu_stats_status_codes[i], stats->status[i]);
        if (tcb_emu_stats_status_codes[i] >= 500) {
            server_errors += stats->status[i];
        }
    }
    tcb_buf_printf(&out, "\"5xx\":%llu,\"other\":%llu},", server_errors, stats->status_other);
    tcb_buf_printf(&out, "\"records_accepted\":%llu,", stats->records_accepted);
    render_rejected(stats, &out);
    tcb_buf_printf(&out,
                   "\"injected_555\":%llu,\"injected_429\":%llu,\"injected_5xx\":%llu,"
                   "\"limit_429\":%llu,\"hung\":%llu,\"hung_held\":%d,\"dropped\":%llu,"
                   "\"records_not_recorded\":%llu,\"in_flight\":%d,"
                   "\"max_concurrent_seen\":%d,\"max_in_flight_all_accounts\":%d,",
                   stats->injected_555, stats->injected_429, stats->injected_5xx, stats->limit_429,
                   stats->hung, stats->hung_held, stats->dropped, stats->records_not_recorded,
                   stats->in_flight, max_account, stats->max_in_flight);
    render_accounts(stats, &out);
    pthread_mutex_unlock(&stats->lock);
    tcb_buf_append_str(&out, "}");
    if (out.overflow) {
        tcb_buf_free(&out, 0);
        return NULL;
    }
    return tcb_buf_take(&out, len);
}
