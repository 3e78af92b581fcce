/* A growable byte buffer with a hard ceiling, used to build response bodies
 * and record lines. It never grows past its ceiling: appends then fail and the
 * buffer remembers that it overflowed. */
#ifndef TCB_EMULATOR_BUF_H
#define TCB_EMULATOR_BUF_H

#include <stddef.h>

struct tcb_emu_buf {
    char *data; /* NUL-terminated when not NULL; owned */
    size_t len;
    size_t cap;
    size_t max; /* ceiling on len */
    int overflow;
};

/* Starts an empty buffer that may hold up to max bytes. Allocates nothing. */
void tcb_emu_buf_init(struct tcb_emu_buf *buf, size_t max);
/* Appends n bytes. Returns 0, or -1 (ceiling reached or out of memory; the
 * buffer keeps what it had and overflow is set). */
int tcb_emu_buf_append(struct tcb_emu_buf *buf, const char *bytes, size_t n);
/* Appends a NUL-terminated string. Same results as tcb_emu_buf_append. */
int tcb_emu_buf_puts(struct tcb_emu_buf *buf, const char *text);
/* Appends printf-formatted text. Same results as tcb_emu_buf_append. */
int tcb_emu_buf_printf(struct tcb_emu_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void tcb_emu_buf_reset(struct tcb_emu_buf *buf);
/* Hands the data (NUL-terminated, caller frees; NULL when empty) to the caller
 * and leaves the buffer empty. */
char *tcb_emu_buf_take(struct tcb_emu_buf *buf, size_t *len);
/* Frees the data; accepts NULL and never-used buffers. */
void tcb_emu_buf_free(struct tcb_emu_buf *buf);

#endif
