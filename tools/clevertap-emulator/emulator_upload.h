/* The emulator's answer to one authenticated POST /1/upload body: parse
 * {"d":[...]}, validate each record with CleverTap's rules
 * (tcb_validate_record), inject per-record 555s, and write the CleverTap-shaped
 * answer. Pure: no I/O, no sleeping, no global state. */
#ifndef TCB_EMULATOR_UPLOAD_H
#define TCB_EMULATOR_UPLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "tools/clevertap-emulator/emulator_faults.h"
#include "transforms/validate.h"
#include "util/buf.h"

#define TCB_EMU_CODE_SLOTS 100 /* per-record codes 500..599 */

struct tcb_emu_upload_cfg {
    int max_records; /* more -> 400; CleverTap allows 1000 */
    struct tcb_validation_limits limits;
    double p_555;              /* share of records answered 555 */
    size_t max_response_bytes; /* ceiling on the answer body */
};

struct tcb_emu_upload_result {
    int http_status; /* 200, 400 (bad body) or 500 (answer too large) */
    char *body;      /* owned, NUL-terminated */
    size_t body_len;
    json_t *doc;             /* owned parsed body, or NULL */
    json_t *records;         /* borrowed from doc: the "d" array (use only when 200) */
    unsigned char *accepted; /* owned; accepted[i] = 1 when record i was processed */
    size_t record_count;
    int processed;
    int unprocessed;
    int injected_555;
    unsigned rejected_by_code[TCB_EMU_CODE_SLOTS]; /* index = code - 500 */
    unsigned rejected_other_code;                  /* codes outside 500..599 */
};

/* Processes body[0..len) (borrowed). rng is the request's PRNG, already past
 * its request-level draws; one draw is taken per record for the 555 decision.
 * Fills *result (free it with tcb_emu_upload_result_free). Returns 0, or -1 on
 * out-of-memory (result then holds nothing to use, but must still be freed). */
int tcb_emu_upload_process(const struct tcb_emu_upload_cfg *cfg, const char *body, size_t len,
                           struct tcb_emu_rng *rng, struct tcb_emu_upload_result *result);
/* Frees what result owns; accepts NULL and zeroed results. */
void tcb_emu_upload_result_free(struct tcb_emu_upload_result *result);

/* Writes CleverTap's whole-request failure body,
 * `{ "status" : "fail" , "error" : "<error>" , "code" : <code>}`.
 * Returns a new string (caller frees) or NULL on out-of-memory. */
char *tcb_emu_fail_body(const char *error, int code, size_t *len);

#endif
