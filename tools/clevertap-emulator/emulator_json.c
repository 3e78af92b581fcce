/* CleverTap-style spaced JSON writer over jansson values: "{ " + members joined
 * by " , " + "}", key " : " value, "[ ]" for an empty array. Never parses. */
#include "tools/clevertap-emulator/emulator_json.h"

#include "util/json_text.h"

#include <stdio.h>
#include <string.h>

static int write_real(struct tcb_buf *buf, double value)
{
    char text[40];
    snprintf(text, sizeof(text), "%.17g", value);
    /* CleverTap writes a whole real with ".0"; %g would print "3". */
    return tcb_buf_printf(buf, "%s%s", text, strpbrk(text, ".eEn") ? "" : ".0");
}

static int write_object(struct tcb_buf *buf, const json_t *object)
{
    const char *key;
    json_t *member;
    int first = 1;
    if (tcb_buf_append_str(buf, "{ ") != 0) {
        return -1;
    }
    /* json_object_foreach needs a non-const object; iteration does not modify it. */
    json_object_foreach ((json_t *)object, key, member) {
        if (!first && tcb_buf_append_str(buf, " , ") != 0) {
            return -1;
        }
        first = 0;
        if (tcb_buf_append_json_string(buf, key, strlen(key)) != 0 ||
            tcb_buf_append_str(buf, " : ") != 0 || tcb_emu_json_spaced(buf, member) != 0) {
            return -1;
        }
    }
    return tcb_buf_append_str(buf, "}");
}

static int write_array(struct tcb_buf *buf, const json_t *array)
{
    size_t count = json_array_size(array);
    if (count == 0) {
        return tcb_buf_append_str(buf, "[ ]");
    }
    if (tcb_buf_append_str(buf, "[ ") != 0) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && tcb_buf_append_str(buf, " , ") != 0) {
            return -1;
        }
        if (tcb_emu_json_spaced(buf, json_array_get(array, i)) != 0) {
            return -1;
        }
    }
    return tcb_buf_append_str(buf, "]");
}

int tcb_emu_json_spaced(struct tcb_buf *buf, const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return write_object(buf, value);
    case JSON_ARRAY:
        return write_array(buf, value);
    case JSON_STRING:
        return tcb_buf_append_json_string(buf, json_string_value(value), json_string_length(value));
    case JSON_INTEGER:
        return tcb_buf_printf(buf, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    case JSON_REAL:
        return write_real(buf, json_real_value(value));
    case JSON_TRUE:
        return tcb_buf_append_str(buf, "true");
    case JSON_FALSE:
        return tcb_buf_append_str(buf, "false");
    case JSON_NULL:
        return tcb_buf_append_str(buf, "null");
    }
    return -1;
}
