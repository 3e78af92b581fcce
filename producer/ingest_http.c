/* Strict HTTP/1.1 request-head parsing and chunked decoding. Every rule
 * that lets two parsers disagree about where a request ends is a refusal
 * here, never a guess; limits are fixed (TCB_HTTP_HEAD_MAX, chunk line and
 * trailer sizes). */
#include "producer/ingest_http.h"

#include "util/buf.h"
#include "util/hex.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#define CHUNK_LINE_MAX     1024 /* a chunk-size line with its extensions */
#define CHUNK_DIGITS_MAX   15   /* hex digits of a chunk size */
#define CHUNK_TRAILERS_MAX 8192

size_t tcb_http_head_end(const char *buf, size_t len, size_t *scanned)
{
    /* Resume three bytes back: the terminator may straddle two calls. */
    size_t i = *scanned > 3 ? *scanned - 3 : 0;
    for (; i + 3 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            return i + 4;
        }
    }
    *scanned = len;
    return 0;
}

int tcb_http_head_too_large(const char *buf, size_t len)
{
    return memchr(buf, '\n', len) == NULL ? 414 : 431;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: visible ASCII, space, tab, obs-text. */
static int is_value_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int refuse(const char **why, const char *reason, int status)
{
    *why = reason;
    return status;
}

/* Ends the line starting at buf[at] (within head_len): writes a NUL over its
 * CR and returns the offset after the LF; 0 when a bare CR or LF, or a NUL,
 * comes first. */
static size_t take_line(char *buf, size_t head_len, size_t at)
{
    for (size_t i = at; i + 1 < head_len; i++) {
        if (buf[i] == '\r') {
            if (buf[i + 1] != '\n') {
                return 0;
            }
            buf[i] = '\0';
            return i + 2;
        }
        if (buf[i] == '\n' || buf[i] == '\0') {
            return 0;
        }
    }
    return 0;
}

/* origin-form "/..." or absolute-form "http(s)://authority/..."; the query
 * is cut off. Returns the path or NULL. */
static const char *target_path(char *target)
{
    char *path = target;
    if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
        path = strchr(strchr(target, ':') + 3, '/');
        if (path == NULL) {
            return "/";
        }
    }
    if (path[0] != '/') {
        return NULL;
    }
    char *query = strchr(path, '?');
    if (query != NULL) {
        *query = '\0';
    }
    return path;
}

static int parse_request_line(char *line, struct tcb_http_head *head, const char **why)
{
    char *p = line;
    head->method = p;
    while (is_tchar((unsigned char)*p)) {
        p++;
    }
    if (p == line || *p != ' ') {
        return refuse(why, "Malformed request line", 400);
    }
    *p++ = '\0';
    char *target = p;
    while ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) {
        p++;
    }
    if (p == target || *p != ' ') {
        return refuse(why, "Malformed request line", 400);
    }
    *p++ = '\0';
    if (strncmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
        p[7] > '9' || p[8] != '\0') {
        return refuse(why, "Malformed request line", 400);
    }
    if (p[5] != '1' || p[7] > '1') {
        return refuse(why, "Only HTTP/1.0 and HTTP/1.1 are supported", 505);
    }
    head->minor = p[7] - '0';
    head->path = target_path(target);
    if (head->path == NULL) {
        return refuse(why, "Malformed request target", 400);
    }
    return 0;
}

/* name ":" OWS value OWS, with the name's end and the value's trailing
 * white space overwritten by NULs. */
static int parse_field(char *line, struct tcb_http_field *field, const char **why)
{
    char *p = line;
    if (*p == ' ' || *p == '\t') {
        return refuse(why, "Folded header lines are not accepted", 400);
    }
    while (is_tchar((unsigned char)*p)) {
        p++;
    }
    if (p == line || *p != ':') {
        return refuse(why, "Malformed header line", 400);
    }
    *p++ = '\0';
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    char *value = p;
    char *end = p;
    for (; *p != '\0'; p++) {
        if (!is_value_byte((unsigned char)*p)) {
            return refuse(why, "Malformed header value", 400);
        }
        if (*p != ' ' && *p != '\t') {
            end = p + 1;
        }
    }
    *end = '\0';
    field->name = line;
    field->value = value;
    return 0;
}

/* Content-Length: 1*DIGIT, nothing else. */
static int parse_length(const char *value, long long *length, const char **why)
{
    long long n = 0;
    if (*value == '\0') {
        return refuse(why, "Content-Length is not a number", 400);
    }
    for (const char *p = value; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return refuse(why, "Content-Length is not a number", 400);
        }
        if (n > (LLONG_MAX - (*p - '0')) / 10) {
            return refuse(why, "Request body is too large", 413);
        }
        n = n * 10 + (*p - '0');
    }
    *length = n;
    return 0;
}

int tcb_http_list_has(const char *value, const char *token)
{
    size_t token_len = strlen(token);
    const char *p = value;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        const char *end = p;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }
        if ((size_t)(last - p) == token_len && strncasecmp(p, token, token_len) == 0) {
            return 1;
        }
        p = end;
    }
    return 0;
}

const char *tcb_http_field(const struct tcb_http_head *head, const char *name)
{
    for (size_t i = 0; i < head->field_count; i++) {
        if (strcasecmp(head->fields[i].name, name) == 0) {
            return head->fields[i].value;
        }
    }
    return NULL;
}

static size_t field_count(const struct tcb_http_head *head, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < head->field_count; i++) {
        n += strcasecmp(head->fields[i].name, name) == 0;
    }
    return n;
}

/* The framing rules: how long the body is, whether the connection stays. */
static int check_framing(struct tcb_http_head *head, const char **why)
{
    size_t hosts = field_count(head, "Host");
    size_t lengths = field_count(head, "Content-Length");
    size_t encodings = field_count(head, "Transfer-Encoding");
    if (hosts > 1) {
        return refuse(why, "More than one Host header", 400);
    }
    if (hosts == 0 && head->minor == 1) {
        return refuse(why, "HTTP/1.1 request without a Host header", 400);
    }
    if (lengths > 1) {
        return refuse(why, "More than one Content-Length header", 400);
    }
    if (encodings > 1) {
        return refuse(why, "More than one Transfer-Encoding header", 400);
    }
    if (lengths > 0 && encodings > 0) {
        return refuse(why, "Both Content-Length and Transfer-Encoding", 400);
    }
    head->content_length = -1;
    if (encodings > 0) {
        if (head->minor == 0 ||
            strcasecmp(tcb_http_field(head, "Transfer-Encoding"), "chunked") != 0) {
            return refuse(why, "Transfer-Encoding other than chunked", 400);
        }
        head->chunked = 1;
    }
    if (lengths > 0) {
        int rc = parse_length(tcb_http_field(head, "Content-Length"), &head->content_length, why);
        if (rc != 0) {
            return rc;
        }
    }
    const char *expect = tcb_http_field(head, "Expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0) {
            return refuse(why, "Unknown expectation", 417);
        }
        head->expect_continue = head->minor == 1;
    }
    const char *connection = tcb_http_field(head, "Connection");
    head->keep_alive = head->minor == 1;
    if (connection != NULL && tcb_http_list_has(connection, "close")) {
        head->keep_alive = 0;
    } else if (connection != NULL && tcb_http_list_has(connection, "keep-alive")) {
        head->keep_alive = 1;
    }
    return 0;
}

int tcb_http_head_parse(char *buf, size_t head_len, struct tcb_http_head *head, const char **why)
{
    memset(head, 0, sizeof(*head));
    head->length = head_len;
    head->content_length = -1;
    size_t at = 0;
    while (at + 1 < head_len && buf[at] == '\r' && buf[at + 1] == '\n') {
        at += 2; /* empty lines before the request line are ignored (RFC 9112 2.2) */
    }
    size_t next = take_line(buf, head_len, at);
    if (next == 0) {
        return refuse(why, "Malformed request line", 400);
    }
    int rc = parse_request_line(buf + at, head, why);
    if (rc != 0) {
        return rc;
    }
    for (at = next; at + 2 < head_len; at = next) {
        next = take_line(buf, head_len, at);
        if (next == 0) {
            return refuse(why, "Malformed header line", 400);
        }
        if (head->field_count == TCB_HTTP_FIELDS_MAX) {
            return refuse(why, "Too many header fields", 431);
        }
        rc = parse_field(buf + at, &head->fields[head->field_count], why);
        if (rc != 0) {
            return rc;
        }
        head->field_count++;
    }
    return check_framing(head, why);
}

enum chunk_state {
    CHUNK_SIZE = 0, /* hex digits */
    CHUNK_EXT,      /* after the digits: extensions up to CR */
    CHUNK_SIZE_LF,  /* CR seen, LF due */
    CHUNK_DATA,     /* remaining data bytes */
    CHUNK_DATA_CR,  /* CRLF after the data */
    CHUNK_DATA_LF,
    CHUNK_TRAILER, /* a trailer line, or the final empty line */
    CHUNK_TRAILER_LF,
    CHUNK_DONE,
};

/* One byte of the size line (CHUNK_SIZE, CHUNK_EXT, CHUNK_SIZE_LF). */
static int size_line_byte(struct tcb_http_chunked *c, char byte, const struct tcb_buf *body,
                          const char **why)
{
    if (++c->line_bytes > CHUNK_LINE_MAX) {
        return refuse(why, "Chunk size line too long", 400);
    }
    if (c->state == CHUNK_SIZE_LF) {
        if (byte != '\n') {
            return refuse(why, "Malformed chunked encoding", 400);
        }
        c->line_bytes = 0;
        c->digits = 0;
        c->after_digits = 0;
        c->state = c->remaining == 0 ? CHUNK_TRAILER : CHUNK_DATA;
        return 0;
    }
    if (c->state == CHUNK_SIZE && !c->after_digits && tcb_hex_digit(byte) >= 0) {
        if (++c->digits > CHUNK_DIGITS_MAX) {
            return refuse(why, "Request body is too large", 413);
        }
        c->remaining = c->remaining * 16 + (unsigned long long)tcb_hex_digit(byte);
        if (c->remaining > body->limit - body->len) {
            return refuse(why, "Request body is too large", 413);
        }
        return 0;
    }
    if (c->digits == 0) {
        return refuse(why, "Malformed chunked encoding", 400);
    }
    if (byte == '\r') {
        c->state = CHUNK_SIZE_LF;
        return 0;
    }
    if (c->state == CHUNK_SIZE) { /* BWS, then ";" starts the extensions */
        if (byte == ' ' || byte == '\t') {
            c->after_digits = 1;
            return 0;
        }
        if (byte != ';') {
            return refuse(why, "Malformed chunked encoding", 400);
        }
        c->state = CHUNK_EXT; /* extensions are ignored */
        return 0;
    }
    if (!is_value_byte((unsigned char)byte)) {
        return refuse(why, "Malformed chunked encoding", 400);
    }
    return 0;
}

/* One byte after the data or of a trailer line. */
static int framing_byte(struct tcb_http_chunked *c, char byte, const char **why)
{
    switch (c->state) {
    case CHUNK_DATA_CR:
        c->state = CHUNK_DATA_LF;
        return byte == '\r' ? 0 : refuse(why, "Malformed chunked encoding", 400);
    case CHUNK_DATA_LF:
        c->state = CHUNK_SIZE;
        return byte == '\n' ? 0 : refuse(why, "Malformed chunked encoding", 400);
    case CHUNK_TRAILER:
        if (++c->trailer_bytes > CHUNK_TRAILERS_MAX) {
            return refuse(why, "Chunked trailers too long", 400);
        }
        if (byte == '\r') {
            c->state = CHUNK_TRAILER_LF;
            return 0;
        }
        if (!is_value_byte((unsigned char)byte)) {
            return refuse(why, "Malformed chunked trailer", 400);
        }
        c->line_bytes++;
        return 0;
    default: /* CHUNK_TRAILER_LF */
        if (byte != '\n') {
            return refuse(why, "Malformed chunked trailer", 400);
        }
        c->state = c->line_bytes == 0 ? CHUNK_DONE : CHUNK_TRAILER;
        c->line_bytes = 0;
        return 0;
    }
}

int tcb_http_chunked_feed(struct tcb_http_chunked *chunked, const char *in, size_t len,
                          struct tcb_buf *body, size_t *consumed, const char **why)
{
    size_t i = 0;
    while (i < len && chunked->state != CHUNK_DONE) {
        int rc;
        if (chunked->state == CHUNK_DATA) {
            size_t take = len - i;
            if (take > chunked->remaining) {
                take = (size_t)chunked->remaining;
            }
            if (tcb_buf_append(body, in + i, take) != 0) {
                *consumed = i;
                return refuse(why, "Request body is too large", 413);
            }
            i += take;
            chunked->remaining -= take;
            if (chunked->remaining == 0) {
                chunked->state = CHUNK_DATA_CR;
            }
            continue;
        }
        if (chunked->state <= CHUNK_SIZE_LF) {
            rc = size_line_byte(chunked, in[i], body, why);
        } else {
            rc = framing_byte(chunked, in[i], why);
        }
        if (rc != 0) {
            *consumed = i;
            return rc;
        }
        i++;
    }
    *consumed = i;
    return chunked->state == CHUNK_DONE ? 1 : 0;
}
