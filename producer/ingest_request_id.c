/* UUIDv4 generation from getrandom(2), with a counter-and-clock fallback
 * when the kernel cannot supply randomness; header value checks; SHA-256
 * content ids (GnuTLS). No state beyond the fallback counter. */
#include "producer/ingest_request_id.h"

#include "util/alloc.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static atomic_uint_fast64_t fallback_counter;

static void fill_random(unsigned char bytes[16])
{
    if (getrandom(bytes, 16, 0) == 16) {
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t a = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    uint64_t b = atomic_fetch_add(&fallback_counter, 1);
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
}

void tcb_ingest_request_id_new(char out[37])
{
    unsigned char b[16];
    fill_random(b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

int tcb_ingest_request_id_acceptable(const char *text)
{
    if (text == NULL || text[0] == '\0') {
        return 0;
    }
    for (size_t i = 0; text[i] != '\0'; i++) {
        char c = text[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (i >= TCB_REQUEST_ID_MAX || !ok) {
            return 0;
        }
    }
    return 1;
}

void tcb_ingest_request_id_hash(const char *route, const char *account, const void *body,
                                size_t len, char out[TCB_REQUEST_ID_HASH_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[32];
    gnutls_hash_hd_t hash;
    int rc = gnutls_hash_init(&hash, GNUTLS_DIG_SHA256);
    if (rc == GNUTLS_E_MEMORY_ERROR) {
        tcb_out_of_memory(); /* the OOM policy of util/alloc.h */
    }
    if (rc != 0) {                      /* SHA-256 refused by a system policy */
        tcb_ingest_request_id_new(out); /* never one id for all: a random one instead */
        return;
    }
    /* NUL-separated fields: ("a", "bc") and ("ab", "c") differ. */
    gnutls_hash(hash, route, strlen(route) + 1);
    gnutls_hash(hash, account ? account : "", account ? strlen(account) + 1 : 1);
    if (len > 0) {
        gnutls_hash(hash, body, len);
    }
    gnutls_hash_deinit(hash, digest);
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < 16; i++) {
        out[7 + 2 * i] = hex[digest[i] >> 4];
        out[8 + 2 * i] = hex[digest[i] & 15];
    }
    out[TCB_REQUEST_ID_HASH_LEN] = '\0';
}
