/* libFuzzer target for talon-ingest's body parsing: any bytes in, records or
 * a rejection out, never a crash or leak. Differential against jansson: the
 * validator accepts what jansson accepts (up to jansson's depth limit) and
 * refuses nothing jansson takes; it accepts more only for numbers beyond 64
 * bits, reals beyond double and "\u0000" in strings, which jansson refuses by design. Every record
 * handed to Kafka is exactly the JSON value at its position in "d". */
#include "producer/ingest_json.h"
#include "producer/ingest_records.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const struct tcb_ingest_upload *upload, json_t *root)
{
    json_t *array = json_object_get(root, "d");
    if (json_array_size(array) != upload->count) {
        abort();
    }
    for (size_t i = 0; i < upload->count; i++) {
        const struct tcb_ingest_record *record = &upload->records[i];
        json_t *value = json_loadb(record->value, record->value_len, JSON_DECODE_ANY, NULL);
        if (value == NULL || !json_equal(value, json_array_get(array, i))) {
            abort();
        }
        json_decref(value);
    }
}

/* Refusals of jansson that valid JSON may still earn. */
static int jansson_only_refusal(const json_error_t *error)
{
    return strstr(error->text, "too big") != NULL || strstr(error->text, "overflow") != NULL ||
           strstr(error->text, "\\u0000") != NULL || strstr(error->text, "NUL") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_error_t error;
    json_t *root = json_loadb(text, size, JSON_DECODE_ANY, &error);
    int verdict = tcb_json_validate(text, size);
    int nul_byte = size > 0 && memchr(text, '\0', size) != NULL; /* jansson skips raw NULs */
    if (root != NULL && verdict != TCB_JSON_VALID && !nul_byte) {
        abort();
    }
    if (root == NULL && verdict == TCB_JSON_VALID && !jansson_only_refusal(&error)) {
        abort();
    }
    struct tcb_ingest_upload upload;
    if (tcb_ingest_upload_parse(text, size, &upload) == TCB_INGEST_PARSE_OK && root != NULL) {
        check_records(&upload, root);
    }
    tcb_ingest_upload_free(&upload);
    struct tcb_ingest_key key;
    tcb_ingest_notification_key(text, size, &key);
    tcb_ingest_key_free(&key);
    json_decref(root);
    return 0;
}
