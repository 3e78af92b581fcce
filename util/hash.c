/* FNV-1a over bytes; the only hash function in the project. */
#include "util/hash.h"

uint64_t tcb_hash64_add(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t tcb_hash64(const void *bytes, size_t len)
{
    uint64_t h = tcb_hash64_add(TCB_HASH64_INIT, bytes, len);
    return h ? h : 1;
}
