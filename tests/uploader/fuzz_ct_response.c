/* libFuzzer target for the CleverTap response path: any bytes as an answer body
 * (2xx and 4xx), classified and mapped onto a fixed three-record batch; never a
 * crash, leak, out-of-range index or unbounded allocation. */
#include "consumer/batch.h"
#include "consumer/ct_response.h"
#include "consumer/upload_outcome.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const records[] = {
    "{\"type\":\"event\",\"identity\":\"a\",\"evtName\":\"X\",\"evtData\":{}}",
    "{\"type\":\"profile\",\"identity\":4,\"profileData\":{\"Email\":\"$$\"}}",
    "{\"type\":\"event\",\"FBID\":\"c\",\"evtName\":\"Y\",\"evtData\":{\"n\":1}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct tcb_upload_tag tag = {0};
    struct tcb_batch *batch = tcb_batch_new(1, 3);
    for (size_t i = 0; i < 3; i++) {
        tcb_batch_add(batch, tcb_batch_record_new(records[i], strlen(records[i]), 0, &tag, 0));
    }
    struct tcb_upload_verdict_info info;
    tcb_upload_classify(TCB_TRANSPORT_OK, 200, body, size, 0, batch->count, &info);
    if (info.verdict == TCB_VERDICT_OK) {
        unsigned char fate[3];
        int entry[3];
        int mismatches = 0;
        tcb_upload_map_records(&info.resp, batch, fate, entry, &mismatches);
        for (size_t i = 0; i < 3; i++) {
            if (entry[i] >= 0 && (size_t)entry[i] >= info.resp.unprocessed_count) {
                __builtin_trap(); /* an entry index the caller would read out of range */
            }
        }
    }
    tcb_upload_verdict_clear(&info);
    tcb_upload_classify(TCB_TRANSPORT_OK, 400, body, size, 0, batch->count, &info);
    tcb_upload_verdict_clear(&info);
    tcb_batch_destroy(batch);
    return 0;
}
