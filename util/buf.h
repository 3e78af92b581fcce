/* A growable byte buffer with a hard ceiling, for building request bodies,
 * JSON text and metrics output. It never grows past its limit: an append that
 * would is refused and the buffer stays as it was. */
#ifndef TCB_UTIL_BUF_H
#define TCB_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct tcb_buf {
    char *data; /* NUL-terminated once anything was appended; owned */
    size_t len;
    size_t cap;
    size_t limit; /* most bytes it may hold, excluding the NUL */
    int overflow; /* latched: some append was refused */
};

/* Starts an empty buffer that may hold up to limit bytes. Allocates nothing. */
void tcb_buf_init(struct tcb_buf *buf, size_t limit);
/* Appends n bytes. Returns 0, or -1 over the limit (the buffer keeps what it
 * had and overflow is set). Out of memory aborts (util/alloc.h). */
int tcb_buf_append(struct tcb_buf *buf, const void *bytes, size_t n);
/* Appends a NUL-terminated string. Returns 0 or -1 as tcb_buf_append. */
int tcb_buf_append_str(struct tcb_buf *buf, const char *text);
/* Appends printf output. Returns 0 or -1 as tcb_buf_append. */
int tcb_buf_printf(struct tcb_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets the contents and the overflow mark, keeps the memory. */
void tcb_buf_reset(struct tcb_buf *buf);
/* Hands the data to the caller (new NUL-terminated string, "" when empty;
 * never NULL), its length in *len when len is not NULL, and leaves the
 * buffer empty. */
char *tcb_buf_take(struct tcb_buf *buf, size_t *len);
/* Frees the data (wiping it first when wipe is set, for secrets). */
void tcb_buf_free(struct tcb_buf *buf, int wipe);

#endif
