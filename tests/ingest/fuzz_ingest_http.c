/* libFuzzer target for talon-ingest's raw HTTP input: any bytes as a request
 * head (boundary search, strict parse, framing rules) and what follows it as
 * a chunked body; never a crash, a leak or a read past the input, and every
 * accepted head is self-consistent (one framing, a path, bounded fields). */
#include "producer/ingest_http.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_head(const struct tcb_http_head *head, size_t head_len)
{
    if (head->path == NULL || head->path[0] != '/' || head->method == NULL ||
        head->field_count > TCB_HTTP_FIELDS_MAX || head->length != head_len ||
        (head->chunked && head->content_length >= 0) || head->content_length < -1 ||
        (head->minor != 0 && head->minor != 1)) {
        abort();
    }
}

static void feed_chunked(const char *in, size_t len)
{
    struct tcb_http_chunked chunked = {0};
    struct tcb_buf body;
    tcb_buf_init(&body, 1 << 16);
    const char *why = NULL;
    size_t consumed = 0;
    int rc = tcb_http_chunked_feed(&chunked, in, len, &body, &consumed, &why);
    if (consumed > len || (rc == 0 && consumed != len) || (rc > 1 && why == NULL) ||
        body.len > consumed) {
        abort();
    }
    tcb_buf_free(&body, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so any read past the input is caught. */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t len = size < TCB_HTTP_HEAD_MAX ? size : TCB_HTTP_HEAD_MAX;
    size_t scanned = 0;
    size_t head_len = tcb_http_head_end(buf, len, &scanned);
    if (head_len == 0) {
        if (len > 0 && tcb_http_head_too_large(buf, len) < 400) {
            abort();
        }
        feed_chunked(buf, size);
    } else {
        struct tcb_http_head head;
        const char *why = NULL;
        int rc = tcb_http_head_parse(buf, head_len, &head, &why);
        if (rc == 0) {
            check_head(&head, head_len);
            if (head.chunked) {
                feed_chunked(buf + head_len, size - head_len);
            }
        } else if (rc < 400 || rc > 505 || why == NULL) {
            abort();
        }
    }
    free(buf);
    return 0;
}
