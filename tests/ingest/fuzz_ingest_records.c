/* libFuzzer target for talon-ingest's body parsing: any bytes in, records or
 * a rejection out, never a crash or leak; every record handed to Kafka holds
 * exactly the JSON value the parser saw at its position in "d". */
#include "producer/ingest_records.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const struct tcb_ingest_upload *upload)
{
    json_t *array = json_object_get((json_t *)upload->root, "d");
    for (size_t i = 0; i < upload->count; i++) {
        const struct tcb_ingest_record *record = &upload->records[i];
        json_t *value = json_loadb(record->value, record->value_len, JSON_DECODE_ANY, NULL);
        if (value == NULL || !json_equal(value, json_array_get(array, i))) {
            abort();
        }
        json_decref(value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tcb_ingest_upload upload;
    if (tcb_ingest_upload_parse((const char *)data, size, &upload) == TCB_INGEST_PARSE_OK) {
        check_records(&upload);
    }
    tcb_ingest_upload_free(&upload);
    char *key = NULL;
    tcb_ingest_notification_key((const char *)data, size, &key);
    free(key);
    return 0;
}
