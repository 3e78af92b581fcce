/* Bounded growable buffer: doubling growth up to a caller-set ceiling. No
 * other state; never logs. */
#include "util/buf.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tcb_buf_init(struct tcb_buf *buf, size_t limit)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->limit = limit;
    buf->overflow = 0;
}

static int reserve(struct tcb_buf *buf, size_t extra)
{
    if (extra > buf->limit || buf->len > buf->limit - extra) {
        buf->overflow = 1;
        return -1;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap) {
        return 0;
    }
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > buf->limit + 1) {
        cap = buf->limit + 1;
    }
    buf->data = tcb_xrealloc(buf->data, cap);
    buf->cap = cap;
    return 0;
}

int tcb_buf_append(struct tcb_buf *buf, const void *bytes, size_t n)
{
    if (reserve(buf, n) != 0) {
        return -1;
    }
    if (n) {
        memcpy(buf->data + buf->len, bytes, n);
    }
    buf->len += n;
    buf->data[buf->len] = '\0';
    return 0;
}

int tcb_buf_append_str(struct tcb_buf *buf, const char *text)
{
    return tcb_buf_append(buf, text, strlen(text));
}

int tcb_buf_printf(struct tcb_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf->overflow = 1;
        return -1;
    }
    if (reserve(buf, (size_t)n) != 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

void tcb_buf_reset(struct tcb_buf *buf)
{
    buf->len = 0;
    buf->overflow = 0;
    if (buf->data) {
        buf->data[0] = '\0';
    }
}

char *tcb_buf_take(struct tcb_buf *buf, size_t *len)
{
    char *data = buf->data ? buf->data : tcb_xstrdup("");
    if (len) {
        *len = buf->len;
    }
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

void tcb_buf_free(struct tcb_buf *buf, int wipe)
{
    if (buf->data && wipe) {
        memset(buf->data, 0, buf->cap);
    }
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
