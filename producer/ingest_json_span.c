/* A minimal scanner over already-validated JSON text: it skips strings,
 * containers and scalars to find element boundaries. It never validates
 * (the caller parsed the text first) and never allocates. */
#include "producer/ingest_json_span.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
    }
    return i;
}

/* i is at the opening quote; returns the index after the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

/* i is at the first byte of a value; returns the index after its last byte. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i >= n) {
        return n;
    }
    if (s[i] == '"') {
        return skip_string(s, n, i);
    }
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return n;
    }
    while (i < n && strchr(",]} \t\r\n", s[i]) == NULL) {
        i++;
    }
    return i;
}

/* i is at '['; records element spans; returns the count, -2 past max, and
 * sets *end to the index after ']'. */
static long scan_array(const char *s, size_t n, size_t i, struct tcb_json_span *spans,
                       size_t max_spans, size_t *end)
{
    long count = 0;
    i = skip_ws(s, n, i + 1);
    if (i < n && s[i] == ']') {
        *end = i + 1;
        return 0;
    }
    while (i < n) {
        size_t stop = skip_value(s, n, i);
        if ((size_t)count >= max_spans) {
            return -2;
        }
        spans[count].offset = i;
        spans[count].length = stop - i;
        count++;
        i = skip_ws(s, n, stop);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
            continue;
        }
        *end = i < n ? i + 1 : n;
        return count;
    }
    *end = n;
    return count;
}

long tcb_json_member_array_spans(const char *text, size_t len, const char *name,
                                 struct tcb_json_span *spans, size_t max_spans)
{
    size_t name_len = strlen(name);
    long found = -1;
    size_t i = skip_ws(text, len, 0);
    if (i >= len || text[i] != '{') {
        return -1;
    }
    i = skip_ws(text, len, i + 1);
    while (i < len && text[i] == '"') {
        size_t key_end = skip_string(text, len, i);
        /* An escaped key may spell name too, and a parser keeps the last of
         * duplicate keys: which array it took cannot be told from raw bytes. */
        if (memchr(text + i, '\\', key_end - i) != NULL) {
            return -1;
        }
        int match = key_end - i == name_len + 2 && memcmp(text + i + 1, name, name_len) == 0;
        i = skip_ws(text, len, key_end);
        if (i >= len || text[i] != ':') {
            return -1;
        }
        i = skip_ws(text, len, i + 1);
        if (match && i < len && text[i] == '[') {
            size_t end = len;
            found = scan_array(text, len, i, spans, max_spans, &end);
            if (found == -2) {
                return -2;
            }
            i = end;
        } else {
            i = skip_value(text, len, i);
        }
        i = skip_ws(text, len, i);
        if (i < len && text[i] == ',') {
            i = skip_ws(text, len, i + 1);
        }
    }
    return found;
}
