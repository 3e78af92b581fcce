/* The per-thread bump arena behind jansson's allocator: 16-byte aligned bumps
 * inside a scope, free() of a chunk pointer is a no-op, anything else goes to
 * the heap. */
#include "common/json_arena.h"

#include "util/alloc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ARENA_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_POISON(p, n)   ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_ALIGN 16

struct json_arena {
    char *chunk; /* TCB_JSON_ARENA_BYTES, or NULL before the first scope */
    size_t used;
    int in_scope;
};

static _Thread_local struct json_arena arena;

int tcb_json_arena_owns(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    uintptr_t base = (uintptr_t)arena.chunk;
    return arena.chunk != NULL && p >= base && p < base + TCB_JSON_ARENA_BYTES;
}

static void *arena_malloc(size_t size)
{
    if (arena.in_scope) {
        size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (rounded >= size && rounded <= TCB_JSON_ARENA_BYTES - arena.used) {
            void *p = arena.chunk + arena.used;
            arena.used += rounded;
            ARENA_UNPOISON(p, size);
            return p;
        }
    }
    return tcb_xmalloc(size);
}

static void arena_free(void *ptr)
{
    if (!tcb_json_arena_owns(ptr)) {
        free(ptr);
    }
}

void tcb_json_arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void tcb_json_arena_begin(void)
{
    if (arena.chunk == NULL) {
        /* Not through jansson's functions: the chunk is ours, freed never. */
        arena.chunk = tcb_xmalloc(TCB_JSON_ARENA_BYTES);
        ARENA_POISON(arena.chunk, TCB_JSON_ARENA_BYTES);
    }
    arena.used = 0;
    arena.in_scope = 1;
}

void tcb_json_arena_end(void)
{
    ARENA_POISON(arena.chunk, arena.used);
    arena.used = 0;
    arena.in_scope = 0;
}
