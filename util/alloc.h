/* The project's one out-of-memory policy: allocation never fails for the
 * caller. These wrappers abort the process with a short message when the
 * system is out of memory (style.md: offsets are committed only after
 * success, so a crash means redelivery, never loss). Code never checks their
 * results for NULL, and no function reports "out of memory" as an error. */
#ifndef TCB_UTIL_ALLOC_H
#define TCB_UTIL_ALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc that never return NULL (size 0 gives a unique pointer). */
void *tcb_xmalloc(size_t size);
void *tcb_xcalloc(size_t count, size_t size);
void *tcb_xrealloc(void *ptr, size_t size);
/* New NUL-terminated copy of text (NULL in, NULL out). */
char *tcb_xstrdup(const char *text);
/* New NUL-terminated copy of bytes[0..len). */
char *tcb_xstrndup(const char *bytes, size_t len);

/* Writes "out of memory" to stderr with a single write and aborts. */
_Noreturn void tcb_out_of_memory(void);

#endif
