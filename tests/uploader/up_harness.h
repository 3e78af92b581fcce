/* Test harness for the uploader: runs the real clevertap-emulator as a child on
 * 127.0.0.1 (port 0 + --port-file, or a fixed port to restart it), builds a config
 * pointing at it, collects the uploader's outcomes per tag, and reads the
 * emulator's --record file. Loopback only. */
#ifndef TCB_TESTS_UPLOADER_HARNESS_H
#define TCB_TESTS_UPLOADER_HARNESS_H

#include "consumer/upload_client.h"
#include "tests/emulator/emulator_harness.h"

#include <stddef.h>
#include <sys/types.h>

#define UP_ACCOUNT_ID "W9R-ABC-123Z"
#define UP_PASSCODE   "up-test-passcode"

/* Starts the emulator (tests/emulator/emulator_harness.h) accepting
 * UP_ACCOUNT_ID with passcode (NULL = UP_PASSCODE) on port (0 = any), plus
 * extra args (NULL-ended, may be NULL). A restart keeps emu->dir and its
 * record file. Returns 0 once it serves. */
int up_emu_start(struct tcb_test_emu *emu, int port, const char *passcode,
                 const char *const *extra);
/* SIGTERM and wait, keeping the directory; returns 0 on a clean exit. Remove
 * it with tcb_test_emu_cleanup. */
int up_emu_stop(struct tcb_test_emu *emu);

/* A config with one account "shop" at http://127.0.0.1:port; extra_sink and
 * extra_clevertap are YAML lines (2-space indented keys) appended to those
 * sections (may be ""). Fails the test on a config error. */
struct tcb_config *up_config(int port, int max_in_flight, const char *extra_sink,
                             const char *extra_clevertap);

/* One slot per tag offset 0..capacity-1 (tests use offset as the record id). */
struct up_outcomes {
    size_t capacity;
    int *count;       /* outcomes seen per offset (final ones) */
    int *abandoned;   /* ABANDONED reports per offset */
    int *result;      /* last enum tcb_upload_result */
    int *code;        /* last code */
    int *http_status; /* last HTTP status */
    int *attempts;    /* last attempts */
    size_t finals;    /* total final outcomes */
};
void up_outcomes_init(struct up_outcomes *o, size_t capacity);
void up_outcomes_free(struct up_outcomes *o);
/* The tcb_upload_outcome_fn to register with ctx = struct up_outcomes *. */
void up_outcomes_cb(void *ctx, const struct tcb_upload_tag *tag,
                    const struct tcb_upload_outcome *outcome);

/* A valid CleverTap event record carrying id in evtData.seq and identity
 * "user-<key>", written to buf. Returns its length. */
size_t up_event(char *buf, size_t cap, long id, int key);

/* Runs the uploader until finals reaches want or deadline_ms passes. Returns the
 * number of finals then. */
size_t up_run_until(struct tcb_uploader *up, struct up_outcomes *o, size_t want, int deadline_ms);

/* Reads the record file: counts[id] += 1 for each recorded evtData.seq < n, and
 * when order is not NULL, order[] receives the ids in file order (at most n);
 * returns the number of lines read. */
size_t up_recorded(const struct tcb_test_emu *emu, int *counts, size_t n, long *order);

/* A number from the emulator's GET /stats: top-level key (group NULL), or
 * group/key ("status"/"429"), or for group "accounts" the test account's key
 * ("max_concurrent_seen"). Returns -1 when absent. */
long up_emu_stat(const struct tcb_test_emu *emu, const char *group, const char *key);

#endif
