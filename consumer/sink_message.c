/* Copying a Kafka message's key and headers into one owned block, and reading
 * the record contract's headers from it. No I/O, no logging. */
#include "consumer/sink_message.h"

#include "util/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct header_view {
    const char *name;
    const void *value;
    size_t len;
};

/* The headers kept: the first TCB_SINK_MAX_HEADERS within the byte cap. */
static size_t collect(const rd_kafka_message_t *rkm, struct header_view *views, size_t *bytes)
{
    rd_kafka_headers_t *hdrs = NULL;
    size_t n = 0;
    *bytes = 0;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    const char *name = NULL;
    const void *value = NULL;
    size_t len = 0;
    for (size_t i = 0;
         n < TCB_SINK_MAX_HEADERS &&
         rd_kafka_header_get_all(hdrs, i, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        size_t need = strlen(name) + 1 + (value ? len : 0) + 1;
        if (*bytes + need > TCB_SINK_MAX_HEADER_BYTES) {
            break;
        }
        views[n].name = name;
        views[n].value = value;
        views[n].len = value ? len : 0;
        *bytes += need;
        n++;
    }
    return n;
}

static long long number_or(const char *text, long long fallback)
{
    if (!text || !*text) {
        return fallback;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0' && v >= 0 ? v : fallback;
}

struct tcb_sink_meta *tcb_sink_meta_new(const rd_kafka_message_t *rkm)
{
    struct tcb_sink_meta *meta = tcb_xcalloc(1, sizeof(*meta));
    meta->record_index = -1;
    meta->received_at_ms = -1;
    if (rkm->key) {
        meta->key = tcb_xstrndup(rkm->key, rkm->key_len);
        meta->key_len = rkm->key_len;
    }
    struct header_view views[TCB_SINK_MAX_HEADERS];
    size_t bytes = 0;
    size_t n = collect(rkm, views, &bytes);
    if (n == 0) {
        return meta;
    }
    meta->headers = tcb_xcalloc(n, sizeof(*meta->headers));
    meta->blob = tcb_xmalloc(bytes);
    char *p = meta->blob;
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strlen(views[i].name);
        memcpy(p, views[i].name, name_len + 1);
        meta->headers[i].name = p;
        p += name_len + 1;
        if (views[i].len) {
            memcpy(p, views[i].value, views[i].len);
        }
        p[views[i].len] = '\0';
        meta->headers[i].value = p;
        meta->headers[i].len = views[i].len;
        const char *value = p;
        p += views[i].len + 1;
        if (strcmp(views[i].name, TCB_H_ACCOUNT) == 0) {
            meta->account = value;
        } else if (strcmp(views[i].name, TCB_H_REQUEST_ID) == 0) {
            meta->request_id = value;
        } else if (strcmp(views[i].name, TCB_H_RECORD_INDEX) == 0) {
            meta->record_index = (long)number_or(value, -1);
        } else if (strcmp(views[i].name, TCB_H_RECEIVED_AT) == 0) {
            meta->received_at_ms = number_or(value, -1);
        } else if (strcmp(views[i].name, TCB_H_REPLAYED_FROM) == 0) {
            meta->replayed = 1;
        }
    }
    meta->header_count = n;
    return meta;
}

void tcb_sink_meta_free(void *ptr)
{
    struct tcb_sink_meta *meta = ptr;
    if (!meta) {
        return;
    }
    free(meta->key);
    free(meta->headers);
    free(meta->blob);
    free(meta);
}
