/* A strict, allocation-free JSON validator (RFC 8259, UTF-8, depth-bounded)
 * and offset-based navigation over text it accepted. The validator is an
 * explicit state machine with a bit stack for container kinds, so neither
 * the stack nor the heap grows with the input. */
#include "producer/ingest_json.h"

#include "util/hex.h"

#include <stdint.h>
#include <string.h>

/* The validator's position; s is unsigned for byte classes. */
struct scan {
    const unsigned char *s;
    size_t n;
    size_t i;
};

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(struct scan *sc)
{
    while (sc->i < sc->n && is_ws(sc->s[sc->i])) {
        sc->i++;
    }
}

/* Reads "XXXX" after "\u" at s[i]; -1 when not four hex digits. */
static long hex4(const unsigned char *s, size_t n, size_t i)
{
    if (n - i < 4) {
        return -1;
    }
    long value = 0;
    for (size_t k = 0; k < 4; k++) {
        int digit = tcb_hex_digit(s[i + k]);
        if (digit < 0) {
            return -1;
        }
        value = value * 16 + digit;
    }
    return value;
}

/* Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or
 * 0 when it is not one (overlong forms, surrogates and values past U+10FFFF
 * are refused). */
static size_t utf8_length(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    size_t need;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n - i <= need) {
        return 0;
    }
    if (s[i + 1] < lo || s[i + 1] > hi) {
        return 0;
    }
    for (size_t k = 2; k <= need; k++) {
        if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
            return 0;
        }
    }
    return need + 1;
}

/* sc->i is at the opening quote; on success it is past the closing one. */
static int scan_string(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t i = sc->i + 1;
    while (i < sc->n) {
        unsigned char c = s[i];
        if (c == '"') {
            sc->i = i + 1;
            return 0;
        }
        if (c < 0x20) {
            return -1;
        }
        if (c >= 0x80) {
            size_t step = utf8_length(s, sc->n, i);
            if (step == 0) {
                return -1;
            }
            i += step;
            continue;
        }
        if (c != '\\') {
            i++;
            continue;
        }
        if (++i >= sc->n) {
            return -1;
        }
        c = s[i];
        if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
            i++;
            continue;
        }
        if (c != 'u') {
            return -1;
        }
        long unit = hex4(s, sc->n, i + 1);
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
            return -1; /* not hex, or a low surrogate alone */
        }
        i += 5;
        if (unit >= 0xD800 && unit <= 0xDBFF) { /* a high surrogate needs its low half */
            if (sc->n - i < 6 || s[i] != '\\' || s[i + 1] != 'u') {
                return -1;
            }
            long low = hex4(s, sc->n, i + 2);
            if (low < 0xDC00 || low > 0xDFFF) {
                return -1;
            }
            i += 6;
        }
    }
    return -1;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int scan_number(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t n = sc->n;
    size_t i = sc->i;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i >= n || !is_digit(s[i])) {
        return -1;
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i < n && s[i] == '.') {
        if (++i >= n || !is_digit(s[i])) {
            return -1;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= n || !is_digit(s[i])) {
            return -1;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    sc->i = i;
    return 0;
}

static int scan_literal(struct scan *sc, const char *word)
{
    size_t len = strlen(word);
    if (sc->n - sc->i < len || memcmp(sc->s + sc->i, word, len) != 0) {
        return -1;
    }
    sc->i += len;
    return 0;
}

/* One bit per open container: 1 = object, 0 = array. */
struct kinds {
    uint64_t bits[TCB_JSON_MAX_DEPTH / 64];
    size_t depth;
};

static int push(struct kinds *k, int object)
{
    if (k->depth >= TCB_JSON_MAX_DEPTH) {
        return -1;
    }
    uint64_t mask = (uint64_t)1 << (k->depth % 64);
    if (object) {
        k->bits[k->depth / 64] |= mask;
    } else {
        k->bits[k->depth / 64] &= ~mask;
    }
    k->depth++;
    return 0;
}

static int top_is_object(const struct kinds *k)
{
    size_t d = k->depth - 1;
    return (k->bits[d / 64] >> (d % 64)) & 1;
}

/* A member key and its colon; sc->i ends at the member's value. */
static int scan_key(struct scan *sc)
{
    skip_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != '"' || scan_string(sc) != 0) {
        return -1;
    }
    skip_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != ':') {
        return -1;
    }
    sc->i++;
    skip_ws(sc);
    return 0;
}

/* A scalar at sc->i; -1 when there is none. */
static int scan_scalar(struct scan *sc)
{
    switch (sc->s[sc->i]) {
    case '"':
        return scan_string(sc);
    case 't':
        return scan_literal(sc, "true");
    case 'f':
        return scan_literal(sc, "false");
    case 'n':
        return scan_literal(sc, "null");
    default:
        return scan_number(sc);
    }
}

int tcb_json_validate(const char *text, size_t len)
{
    struct scan sc = {(const unsigned char *)text, text ? len : 0, 0};
    struct kinds kinds;
    kinds.depth = 0;
    skip_ws(&sc);
    for (;;) {
        /* A value starts at sc.i. */
        if (sc.i >= sc.n) {
            return TCB_JSON_INVALID;
        }
        unsigned char c = sc.s[sc.i];
        if (c == '{' || c == '[') {
            if (push(&kinds, c == '{') != 0) {
                return TCB_JSON_TOO_DEEP;
            }
            sc.i++;
            skip_ws(&sc);
            if (sc.i < sc.n && sc.s[sc.i] == (c == '{' ? '}' : ']')) {
                sc.i++;
                kinds.depth--;
            } else {
                if (c == '{' && scan_key(&sc) != 0) {
                    return TCB_JSON_INVALID;
                }
                continue;
            }
        } else if (scan_scalar(&sc) != 0) {
            return TCB_JSON_INVALID;
        }
        /* After a value: close containers, or go on to the next value. */
        for (;;) {
            skip_ws(&sc);
            if (kinds.depth == 0) {
                return sc.i == sc.n ? TCB_JSON_VALID : TCB_JSON_INVALID;
            }
            if (sc.i >= sc.n) {
                return TCB_JSON_INVALID;
            }
            int object = top_is_object(&kinds);
            c = sc.s[sc.i++];
            if (c == (object ? '}' : ']')) {
                kinds.depth--;
                continue;
            }
            if (c != ',') {
                return TCB_JSON_INVALID;
            }
            skip_ws(&sc);
            if (object && scan_key(&sc) != 0) {
                return TCB_JSON_INVALID;
            }
            break;
        }
    }
}

size_t tcb_json_skip_ws(const char *text, size_t len, size_t at)
{
    while (at < len && is_ws((unsigned char)text[at])) {
        at++;
    }
    return at;
}

/* Past the closing quote of the (validated) string at at. */
static size_t string_end(const char *text, size_t len, size_t at)
{
    for (size_t i = at + 1; i < len; i++) {
        if (text[i] == '\\') {
            i++;
        } else if (text[i] == '"') {
            return i + 1;
        }
    }
    return len;
}

size_t tcb_json_value_end(const char *text, size_t len, size_t at)
{
    if (at >= len) {
        return len;
    }
    if (text[at] == '"') {
        return string_end(text, len, at);
    }
    if (text[at] == '{' || text[at] == '[') {
        size_t depth = 0;
        for (size_t i = at; i < len; i++) {
            char c = text[i];
            if (c == '"') {
                i = string_end(text, len, i) - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return len;
    }
    size_t i = at;
    while (i < len && strchr(",]} \t\r\n", text[i]) == NULL) {
        i++;
    }
    return i;
}

#define MATCH_NAME_MAX 32 /* longest name tcb_json_member matches through escapes */

/* 1 when the raw key contents (escapes not decoded) decode to name. */
static int key_equals(const char *raw, size_t raw_len, const char *name)
{
    size_t name_len = strlen(name);
    if (memchr(raw, '\\', raw_len) == NULL) {
        return raw_len == name_len && memcmp(raw, name, name_len) == 0;
    }
    /* An escape shrinks at most 6 bytes to 1: a longer raw key cannot match. */
    char decoded[6 * MATCH_NAME_MAX];
    if (name_len >= MATCH_NAME_MAX || raw_len > 6 * name_len) {
        return 0;
    }
    size_t n = tcb_json_string_decode(raw, raw_len, decoded);
    return n == name_len && memcmp(decoded, name, name_len) == 0;
}

int tcb_json_member(const char *text, size_t len, size_t at, const char *name, size_t *value_at)
{
    if (at >= len || text[at] != '{') {
        return 0;
    }
    int found = 0;
    size_t i = tcb_json_skip_ws(text, len, at + 1);
    while (i < len && text[i] == '"') {
        size_t key_end = string_end(text, len, i);
        int match = key_equals(text + i + 1, key_end - i - 2, name);
        i = tcb_json_skip_ws(text, len, key_end);
        i = tcb_json_skip_ws(text, len, i + 1); /* past ':' */
        if (match) {
            *value_at = i;
            found = 1;
        }
        i = tcb_json_skip_ws(text, len, tcb_json_value_end(text, len, i));
        if (i < len && text[i] == ',') {
            i = tcb_json_skip_ws(text, len, i + 1);
        }
    }
    return found;
}

long tcb_json_elements(const char *text, size_t len, size_t at, struct tcb_json_span *spans,
                       size_t max)
{
    if (at >= len || text[at] != '[') {
        return -1;
    }
    long count = 0;
    size_t i = tcb_json_skip_ws(text, len, at + 1);
    while (i < len && text[i] != ']') {
        size_t end = tcb_json_value_end(text, len, i);
        if ((size_t)count >= max) {
            return -2;
        }
        spans[count].offset = i;
        spans[count].length = end - i;
        count++;
        i = tcb_json_skip_ws(text, len, end);
        if (i < len && text[i] == ',') {
            i = tcb_json_skip_ws(text, len, i + 1);
        }
    }
    return count;
}

int tcb_json_string_raw(const char *text, size_t len, size_t at, struct tcb_json_span *raw)
{
    if (at >= len || text[at] != '"') {
        return 0;
    }
    raw->offset = at + 1;
    raw->length = string_end(text, len, at) - at - 2;
    return 1;
}

/* Writes code point cp as UTF-8; returns the bytes written. */
static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t tcb_json_string_decode(const char *raw, size_t raw_len, char *out)
{
    const unsigned char *s = (const unsigned char *)raw;
    size_t o = 0;
    for (size_t i = 0; i < raw_len; i++) {
        if (s[i] != '\\' || i + 1 >= raw_len) {
            out[o++] = (char)s[i];
            continue;
        }
        char c = raw[++i];
        static const char plain[] = "\"\\/bfnrt";
        static const char decoded[] = "\"\\/\b\f\n\r\t";
        const char *found = c != 'u' && c != '\0' ? strchr(plain, c) : NULL;
        if (found != NULL) {
            out[o++] = decoded[found - plain];
            continue;
        }
        long unit = hex4(s, raw_len, i + 1);
        i += 4;
        unsigned long cp = unit < 0 ? 0xFFFD : (unsigned long)unit;
        if (cp >= 0xD800 && cp <= 0xDBFF && raw_len - i > 6 && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
            long low = hex4(s, raw_len, i + 3);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)low - 0xDC00);
                i += 6;
            }
        }
        o += put_utf8(out + o, cp);
    }
    return o;
}

int tcb_json_integer_text(const char *text, size_t len, size_t at, struct tcb_json_span *number)
{
    if (at >= len || (text[at] != '-' && !is_digit((unsigned char)text[at]))) {
        return 0;
    }
    size_t end = tcb_json_value_end(text, len, at);
    for (size_t i = at; i < end; i++) {
        if (text[i] == '.' || text[i] == 'e' || text[i] == 'E') {
            return 0;
        }
    }
    number->offset = at;
    number->length = end - at;
    return 1;
}
