/* A bump arena for jansson while one Kafka message is transformed. Parsing a
 * record and serialising its CleverTap form makes about fifty small jansson
 * allocations (nodes, hashtables, strings), all freed when the tree goes: in
 * a scope they come from one reusable chunk and go in one step. jansson's
 * allocator is process-wide, so the arena is per thread and only a thread
 * inside tcb_json_arena_begin/end draws from it; every other jansson
 * allocation (other threads, outside a scope, or what does not fit in the
 * chunk) is tcb_xmalloc/free as before. The rule for callers: nothing
 * jansson allocates inside a scope may be used after its end (under ASan the
 * chunk is poisoned at the end, so a use is reported). */
#ifndef TCB_COMMON_JSON_ARENA_H
#define TCB_COMMON_JSON_ARENA_H

#include <stddef.h>

/* The arena's chunk per thread (allocated at the first scope, kept after). */
#define TCB_JSON_ARENA_BYTES (256 * 1024)

/* Makes jansson allocate through the arena (outside a scope: tcb_xmalloc and
 * free, so out of memory aborts: util/alloc.h). Call once, before threads. */
void tcb_json_arena_install(void);

/* Starts a scope on this thread (scopes do not nest). */
void tcb_json_arena_begin(void);
/* Ends it: everything jansson allocated in it is released at once. */
void tcb_json_arena_end(void);

/* 1 when ptr lies in this thread's chunk (for tests). */
int tcb_json_arena_owns(const void *ptr);

#endif
