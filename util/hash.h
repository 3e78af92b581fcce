/* One 64-bit hash for the whole project (FNV-1a): ordering keys, dedup
 * identities, anything that needs a stable, seedless digest of bytes. Not
 * cryptographic: never use it where an attacker's collision would matter. */
#ifndef TCB_UTIL_HASH_H
#define TCB_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TCB_HASH64_INIT 0xcbf29ce484222325ULL

/* Continues hash h over bytes[0..len) (start with TCB_HASH64_INIT). */
uint64_t tcb_hash64_add(uint64_t h, const void *bytes, size_t len);
/* The hash of bytes[0..len), never 0 (0 means "none" to callers). */
uint64_t tcb_hash64(const void *bytes, size_t len);

#endif
