/* Bounded growable buffer: doubling growth capped at the buffer's ceiling.
 * It never logs and never aborts on a full buffer. */
#include "tools/clevertap-emulator/emulator_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tcb_emu_buf_init(struct tcb_emu_buf *buf, size_t max)
{
    memset(buf, 0, sizeof(*buf));
    buf->max = max;
}

static int reserve(struct tcb_emu_buf *buf, size_t n)
{
    if (n > buf->max - buf->len) {
        buf->overflow = 1;
        return -1;
    }
    size_t need = buf->len + n + 1;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > buf->max + 1)
        cap = buf->max + 1;
    char *data = realloc(buf->data, cap);
    if (!data) {
        buf->overflow = 1;
        return -1;
    }
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int tcb_emu_buf_append(struct tcb_emu_buf *buf, const char *bytes, size_t n)
{
    if (reserve(buf, n) != 0)
        return -1;
    if (n)
        memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return 0;
}

int tcb_emu_buf_puts(struct tcb_emu_buf *buf, const char *text)
{
    return tcb_emu_buf_append(buf, text, strlen(text));
}

int tcb_emu_buf_printf(struct tcb_emu_buf *buf, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf->overflow = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return tcb_emu_buf_append(buf, small, (size_t)n);
    if (reserve(buf, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

void tcb_emu_buf_reset(struct tcb_emu_buf *buf)
{
    buf->len = 0;
    buf->overflow = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

char *tcb_emu_buf_take(struct tcb_emu_buf *buf, size_t *len)
{
    char *data = buf->data;
    if (len)
        *len = buf->len;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

void tcb_emu_buf_free(struct tcb_emu_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
