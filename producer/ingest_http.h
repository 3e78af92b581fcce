/* HTTP/1.1 request framing for talon-ingest, parsed strictly (RFC 9112) so
 * that no request can mean one thing here and another to a proxy in front:
 * the request head (request line, fields, Content-Length / Transfer-Encoding
 * / Host rules) and chunked bodies. Pure functions over caller buffers: no
 * I/O, no allocation beyond the caller's tcb_buf, no logging. */
#ifndef TCB_PRODUCER_INGEST_HTTP_H
#define TCB_PRODUCER_INGEST_HTTP_H

#include <stddef.h>

struct tcb_buf;

#define TCB_HTTP_HEAD_MAX   16384 /* request line and fields together */
#define TCB_HTTP_FIELDS_MAX 64

struct tcb_http_field {
    const char *name; /* NUL-terminated, inside the parsed buffer */
    const char *value;
};

struct tcb_http_head {
    const char *method;
    const char *path; /* the target's path: query dropped, absolute-form reduced */
    int minor;        /* HTTP/1.<minor>: 0 or 1 */
    struct tcb_http_field fields[TCB_HTTP_FIELDS_MAX];
    size_t field_count;
    size_t length;            /* bytes of the head, final CRLF CRLF included */
    long long content_length; /* -1 when there is none (and not chunked: no body) */
    int chunked;              /* Transfer-Encoding: chunked */
    int keep_alive;           /* the connection may carry another request */
    int expect_continue;      /* Expect: 100-continue (HTTP/1.1) */
};

/* Where the head ends: the length of buf[0..len) up to and including the
 * first empty line, or 0 when it has not arrived yet. *scanned remembers how
 * far earlier calls looked (start it at 0), so a head trickling in byte by
 * byte is scanned once, not once per byte. */
size_t tcb_http_head_end(const char *buf, size_t len, size_t *scanned);

/* Parses the complete head buf[0..head_len) (head_len from
 * tcb_http_head_end) in place: it writes NULs into buf, and head's strings
 * point into it. Returns 0 with head filled, or the HTTP status to refuse it
 * with (400 malformed or ambiguous framing, 413 Content-Length beyond any
 * size, 417 unknown expectation, 431 too many fields, 505 HTTP version) and
 * a fixed reason in *why. Refused: anything but CRLF line ends, obs-fold,
 * white space before a colon, more than one Content-Length, Transfer-Encoding
 * or Host, Content-Length with Transfer-Encoding, a Transfer-Encoding other
 * than chunked, HTTP/1.1 without Host. */
int tcb_http_head_parse(char *buf, size_t head_len, struct tcb_http_head *head, const char **why);

/* The status for a buffer holding len bytes without a complete head, when
 * no more may come (len reached TCB_HTTP_HEAD_MAX): 414 when even the request
 * line is incomplete, else 431. */
int tcb_http_head_too_large(const char *buf, size_t len);

/* The first field named name (case-insensitive), or NULL. Borrowed. */
const char *tcb_http_field(const struct tcb_http_head *head, const char *name);

/* 1 when the comma-separated list value holds token (case-insensitive). */
int tcb_http_list_has(const char *value, const char *token);

/* A chunked body decoder; zero it to start. */
struct tcb_http_chunked {
    int state;
    unsigned long long remaining; /* data bytes left in the current chunk */
    size_t digits;                /* hex digits of the current size */
    int after_digits;             /* white space followed the digits */
    size_t line_bytes;            /* bytes of the current size or trailer line */
    size_t trailer_bytes;
};

/* Feeds in[0..len): appends the data bytes to body (whose limit is the
 * largest body allowed) and sets *consumed to the input bytes used. Returns
 * 1 when the body is complete (bytes after *consumed belong to the next
 * request), 0 when more input is needed (all of it was consumed), 400 for a
 * malformed encoding or 413 when the body outgrows body's limit (*why set). */
int tcb_http_chunked_feed(struct tcb_http_chunked *chunked, const char *in, size_t len,
                          struct tcb_buf *body, size_t *consumed, const char **why);

#endif
