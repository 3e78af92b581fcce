/* UTF-8-safe truncation and sanitising (see text.h). Pure: no I/O, no
 * globals; never allocates. */
#include "transforms/text.h"

#include <string.h>

void tcb_utf8_clip(char *s)
{
    size_t len = strlen(s), start = len, need;
    unsigned char lead;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80) {
        start--;
    }
    if (start == 0) {
        return;
    }
    lead = (unsigned char)s[start - 1];
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need) {
        s[start - 1] = '\0';
    }
}

const char *tcb_utf8_prefix(const char *s, char *buf, size_t buf_len)
{
    size_t len = strlen(s);
    if (len < buf_len) {
        memcpy(buf, s, len + 1); /* the common case: no cut, nothing to clip */
        return buf;
    }
    memcpy(buf, s, buf_len - 1);
    buf[buf_len - 1] = '\0';
    tcb_utf8_clip(buf);
    return buf;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned cp;
    size_t n;
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2, cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3, cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

void tcb_utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p != '\0') {
        size_t n = utf8_sequence(p);
        if (n == 0 || (*p < 0x20 && *p != '\t')) {
            *p++ = '?';
        } else {
            p += n;
        }
    }
}
