/* Builds the answer to one upload body: validation via the shared transforms
 * validator, 555 injection, CleverTap's success/partial/fail body with the
 * "Skipped record number : N" suffix. Never does I/O or decides HTTP faults. */
#include "tools/clevertap-emulator/emulator_upload.h"
#include "util/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/clevertap-emulator/emulator_json.h"
#include "util/alloc.h"

#define REASON_MAX 512
#define TEXT_555   "Internal error while processing the record, please retry."

char *tcb_emu_fail_body(const char *error, int code, size_t *len)
{
    struct tcb_buf buf;
    tcb_buf_init(&buf, 4096);
    tcb_buf_append_str(&buf, "{ \"status\" : \"fail\" , \"error\" : ");
    tcb_buf_append_json_string(&buf, error, strlen(error));
    tcb_buf_printf(&buf, " , \"code\" : %d}", code);
    if (buf.overflow) {
        tcb_buf_free(&buf, 0);
        return NULL;
    }
    return tcb_buf_take(&buf, len);
}

static int answer_fail(struct tcb_emu_upload_result *result, int status, const char *error)
{
    result->http_status = status;
    result->body = tcb_emu_fail_body(error, status, &result->body_len);
    return result->body ? 0 : -1;
}

static void count_code(struct tcb_emu_upload_result *result, int code)
{
    if (code >= 500 && code < 500 + TCB_EMU_CODE_SLOTS) {
        result->rejected_by_code[code - 500]++;
    } else {
        result->rejected_other_code++;
    }
}

/* Appends one unprocessed entry (record borrowed) to out. */
static void write_unprocessed(struct tcb_buf *out, int code, const char *reason, size_t number,
                              const json_t *record)
{
    struct tcb_buf text;
    tcb_buf_init(&text, REASON_MAX + 64);
    tcb_buf_printf(&text, "%sSkipped record number : %zu", reason, number);
    tcb_buf_printf(out, "{ \"status\" : \"fail\" , \"code\" : %d , \"error\" : ", code);
    tcb_buf_append_json_string(out, text.data ? text.data : "", text.len);
    tcb_buf_append_str(out, " , \"record\" : ");
    tcb_emu_json_spaced(out, record);
    tcb_buf_append_str(out, "}");
    tcb_buf_free(&text, 0);
}

/* Decides one record (1-based number); appends its unprocessed entry if any.
 * Returns 1 when processed, 0 when unprocessed. */
static int judge_record(const struct tcb_emu_upload_cfg *cfg, struct tcb_emu_rng *rng,
                        const json_t *record, size_t number, struct tcb_buf *entries,
                        struct tcb_emu_upload_result *result)
{
    char reason[REASON_MAX];
    int code;
    reason[0] = '\0';
    if (tcb_emu_rng_chance(rng, cfg->p_555)) {
        code = 555;
        snprintf(reason, sizeof(reason), "%s", TEXT_555);
        result->injected_555++;
    } else {
        code = tcb_validate_record(record, &cfg->limits, reason, sizeof(reason));
        if (code == 0) {
            return 1;
        }
    }
    if (result->unprocessed > 0) {
        tcb_buf_append_str(entries, " , ");
    }
    write_unprocessed(entries, code, reason, number, record);
    count_code(result, code);
    return 0;
}

static int answer_records(const struct tcb_emu_upload_cfg *cfg, struct tcb_emu_rng *rng,
                          struct tcb_emu_upload_result *result)
{
    struct tcb_buf entries;
    struct tcb_buf out;
    tcb_buf_init(&entries, cfg->max_response_bytes);
    tcb_buf_init(&out, cfg->max_response_bytes);

    for (size_t i = 0; i < result->record_count; i++) {
        if (judge_record(cfg, rng, json_array_get(result->records, i), i + 1, &entries, result)) {
            result->accepted[i] = 1;
            result->processed++;
        } else {
            result->unprocessed++;
        }
    }
    const char *status = "success";
    if (result->unprocessed > 0) {
        status = result->processed > 0 ? "partial" : "fail";
    }
    tcb_buf_printf(&out, "{ \"status\" : \"%s\" , \"processed\" : %d , \"unprocessed\" : ", status,
                   result->processed);
    if (result->unprocessed == 0) {
        tcb_buf_append_str(&out, "[ ]}");
    } else {
        tcb_buf_append_str(&out, "[ ");
        if (entries.data) {
            tcb_buf_append(&out, entries.data, entries.len);
        }
        tcb_buf_append_str(&out, "]}");
    }
    int overflow = entries.overflow || out.overflow;
    tcb_buf_free(&entries, 0);
    if (overflow) {
        tcb_buf_free(&out, 0);
        memset(result->accepted, 0, result->record_count);
        result->processed = 0;
        return answer_fail(result, 500, "Response too large");
    }
    result->http_status = 200;
    result->body = tcb_buf_take(&out, &result->body_len);
    return result->body ? 0 : -1;
}

int tcb_emu_upload_process(const struct tcb_emu_upload_cfg *cfg, const char *body, size_t len,
                           struct tcb_emu_rng *rng, struct tcb_emu_upload_result *result)
{
    json_error_t error;
    memset(result, 0, sizeof(*result));
    result->doc = json_loadb(body, len, 0, &error);
    if (!result->doc || !json_is_object(result->doc)) {
        return answer_fail(result, 400, "Payload is not valid JSON");
    }
    result->records = json_object_get(result->doc, "d");
    if (!json_is_array(result->records)) {
        return answer_fail(result, 400, "Payload must contain \"d\" with an array of records");
    }
    result->record_count = json_array_size(result->records);
    if (result->record_count > (size_t)cfg->max_records) {
        char text[96];
        snprintf(text, sizeof(text), "Too many records in one request; at most %d allowed",
                 cfg->max_records);
        return answer_fail(result, 400, text);
    }
    result->accepted = tcb_xcalloc(result->record_count, 1);
    return answer_records(cfg, rng, result);
}

void tcb_emu_upload_result_free(struct tcb_emu_upload_result *result)
{
    if (!result) {
        return;
    }
    free(result->body);
    free(result->accepted);
    json_decref(result->doc);
    memset(result, 0, sizeof(*result));
}
