/* The emulator's counters and in-flight gauges, shared by all connection
 * threads (one mutex), rendered as JSON for GET /stats. It also owns the
 * per-account concurrency slots that decide 429s. It never logs. */
#ifndef TCB_EMULATOR_STATS_H
#define TCB_EMULATOR_STATS_H

#include <pthread.h>
#include <stddef.h>

#include "tools/clevertap-emulator/emulator_auth.h"
#include "tools/clevertap-emulator/emulator_upload.h"

/* HTTP statuses counted one by one in /stats; anything else is "other". */
#define TCB_EMU_STATUS_SLOTS 8
extern const int tcb_emu_stats_status_codes[TCB_EMU_STATUS_SLOTS];

struct tcb_emu_account_stats {
    unsigned long long requests;
    unsigned long long records_accepted;
    int in_flight;
    int max_in_flight;
};

struct tcb_emu_stats {
    pthread_mutex_t lock;
    unsigned long long requests; /* POST /1/upload requests answered or faulted */
    unsigned long long status[TCB_EMU_STATUS_SLOTS]; /* see tcb_emu_stats_status_codes */
    unsigned long long status_other;
    unsigned long long records_accepted;
    unsigned long long rejected_by_code[TCB_EMU_CODE_SLOTS];
    unsigned long long rejected_other_code;
    unsigned long long injected_555;
    unsigned long long injected_429;
    unsigned long long injected_5xx;
    unsigned long long limit_429; /* 429s from the concurrency limit */
    unsigned long long hung;
    int hung_held; /* hung requests still holding their connection */
    unsigned long long dropped;
    unsigned long long records_not_recorded; /* --record ceiling reached or write failed */
    int in_flight;
    int max_in_flight;
    const struct tcb_emu_accounts *accounts; /* borrowed */
    struct tcb_emu_account_stats account[TCB_EMU_MAX_ACCOUNTS];
};

/* Initialises stats; accounts is borrowed for the life of stats. Returns 0/-1. */
int tcb_emu_stats_init(struct tcb_emu_stats *stats, const struct tcb_emu_accounts *accounts);
/* Releases the mutex; accepts NULL. */
void tcb_emu_stats_destroy(struct tcb_emu_stats *stats);

/* Takes one concurrency slot of account (index) if fewer than limit are in
 * use. Returns 1 when taken (release it with tcb_emu_stats_leave), 0 when the
 * account is at its limit (the caller answers 429; counted here). */
int tcb_emu_stats_enter(struct tcb_emu_stats *stats, int account, int limit);
/* Releases a slot taken by tcb_emu_stats_enter. */
void tcb_emu_stats_leave(struct tcb_emu_stats *stats, int account);

/* Counts one upload request answered with this HTTP status (0 = closed
 * without an answer; account -1 when unauthenticated). */
void tcb_emu_stats_answered(struct tcb_emu_stats *stats, int account, int http_status);
/* Counts a processed upload body's per-record outcomes (recorded = records
 * that reached the --record file). */
void tcb_emu_stats_records(struct tcb_emu_stats *stats, int account,
                           const struct tcb_emu_upload_result *result, int recorded);

enum tcb_emu_stats_event {
    TCB_EMU_EVENT_HUNG,          /* a hung request starts being held */
    TCB_EMU_EVENT_HUNG_RELEASED, /* ... and lets its connection go */
    TCB_EMU_EVENT_DROPPED,
    TCB_EMU_EVENT_INJECTED_429,
    TCB_EMU_EVENT_INJECTED_5XX,
};
/* Counts one fault event. */
void tcb_emu_stats_event(struct tcb_emu_stats *stats, enum tcb_emu_stats_event event);

/* Renders every counter as one JSON object (CleverTap spacing is not used
 * here: compact JSON). Returns a new string (caller frees) or NULL. */
char *tcb_emu_stats_render(struct tcb_emu_stats *stats, size_t *len);

#endif
