/* CleverTap-style spaced JSON writer over jansson values: "{ " + members joined
 * by " , " + "}", key " : " value, "[ ]" for an empty array. Never parses. */
#include "tools/clevertap-emulator/emulator_json.h"

#include <stdio.h>
#include <string.h>

int tcb_emu_json_string(struct tcb_buf *buf, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    static const char named_escapes[] = "\"\\\n\r\t";
    static const char named_letters[] = "\"\\nrt";
    int rc = tcb_buf_append(buf, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc |= tcb_buf_append(buf, text + start, i - start);
        start = i + 1;
        const char *named = c ? strchr(named_escapes, c) : NULL;
        if (named) {
            char esc[2] = {'\\', named_letters[named - named_escapes]};
            rc |= tcb_buf_append(buf, esc, sizeof(esc));
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            rc |= tcb_buf_append(buf, esc, sizeof(esc));
        }
    }
    if (rc == 0)
        rc = tcb_buf_append(buf, text + start, len - start);
    if (rc == 0)
        rc = tcb_buf_append(buf, "\"", 1);
    return rc ? -1 : 0;
}

static int write_real(struct tcb_buf *buf, double value)
{
    char text[40];
    snprintf(text, sizeof(text), "%.17g", value);
    if (strpbrk(text, ".eEn") == NULL)
        strcat(text, ".0");
    return tcb_buf_append_str(buf, text);
}

static int write_object(struct tcb_buf *buf, const json_t *object)
{
    const char *key;
    json_t *member;
    int first = 1;
    if (tcb_buf_append_str(buf, "{ ") != 0)
        return -1;
    /* json_object_foreach needs a non-const object; iteration does not modify it. */
    json_object_foreach ((json_t *)object, key, member) {
        if (!first && tcb_buf_append_str(buf, " , ") != 0)
            return -1;
        first = 0;
        if (tcb_emu_json_string(buf, key, strlen(key)) != 0 ||
            tcb_buf_append_str(buf, " : ") != 0 || tcb_emu_json_spaced(buf, member) != 0)
            return -1;
    }
    return tcb_buf_append_str(buf, "}");
}

static int write_array(struct tcb_buf *buf, const json_t *array)
{
    size_t count = json_array_size(array);
    if (count == 0)
        return tcb_buf_append_str(buf, "[ ]");
    if (tcb_buf_append_str(buf, "[ ") != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && tcb_buf_append_str(buf, " , ") != 0)
            return -1;
        if (tcb_emu_json_spaced(buf, json_array_get(array, i)) != 0)
            return -1;
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
        return tcb_emu_json_string(buf, json_string_value(value), json_string_length(value));
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
