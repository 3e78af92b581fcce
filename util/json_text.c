/* JSON string literal escaping into a bounded buffer. No other state. */
#include "util/json_text.h"

#include "util/buf.h"

#include <string.h>

int tcb_buf_append_json_string(struct tcb_buf *buf, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    static const char named_escapes[] = "\"\\\n\r\t";
    static const char named_letters[] = "\"\\nrt";
    int rc = tcb_buf_append(buf, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
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
    if (rc == 0) {
        rc = tcb_buf_append(buf, text + start, len - start);
    }
    if (rc == 0) {
        rc = tcb_buf_append(buf, "\"", 1);
    }
    return rc ? -1 : 0;
}
