/* Aborting allocation wrappers (the out-of-memory policy of util/alloc.h).
 * Nothing else: no pools, no accounting. */
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void tcb_out_of_memory(void)
{
    static const char msg[] = "fatal: out of memory\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)ignored;
    abort();
}

void *tcb_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        tcb_out_of_memory();
    }
    return p;
}

void *tcb_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        tcb_out_of_memory();
    }
    return p;
}

void *tcb_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) {
        tcb_out_of_memory();
    }
    return p;
}

char *tcb_xstrndup(const char *bytes, size_t len)
{
    char *copy = tcb_xmalloc(len + 1);
    if (len) {
        memcpy(copy, bytes, len);
    }
    copy[len] = '\0';
    return copy;
}

char *tcb_xstrdup(const char *text)
{
    return text ? tcb_xstrndup(text, strlen(text)) : NULL;
}
