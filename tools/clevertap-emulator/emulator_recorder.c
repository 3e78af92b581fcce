/* Appends accepted records to the --record NDJSON file with write(2) on an
 * O_APPEND descriptor: no stdio buffer, so every answered line is on disk.
 * Builds lines in a bounded buffer, flushed in chunks of at most 1 MiB. */
#include "tools/clevertap-emulator/emulator_recorder.h"
#include "util/json_text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/clevertap-emulator/emulator_json.h"
#include "util/alloc.h"
#include "util/buf.h"

#define CHUNK_BYTES    (1024 * 1024)
#define LINE_MAX_BYTES (64 * 1024 * 1024)

struct tcb_emu_recorder {
    int fd;
    unsigned long long max_bytes;
    unsigned long long written;
    pthread_mutex_t lock;
};

struct tcb_emu_recorder *tcb_emu_recorder_open(const char *path, unsigned long long max_bytes,
                                               char *err, size_t err_len)
{
    struct tcb_emu_recorder *recorder = tcb_xcalloc(1, sizeof(*recorder));
    recorder->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (recorder->fd < 0) {
        snprintf(err, err_len, "cannot open record file %s: %s", path, strerror(errno));
        free(recorder);
        return NULL;
    }
    recorder->max_bytes = max_bytes;
    pthread_mutex_init(&recorder->lock, NULL);
    return recorder;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the pending chunk if it fits under the cap. Returns 0 or -1. */
static int flush_chunk(struct tcb_emu_recorder *recorder, struct tcb_buf *chunk)
{
    int rc = 0;
    if (chunk->len == 0) {
        return 0;
    }
    int over = recorder->max_bytes && recorder->written + chunk->len > recorder->max_bytes;
    if (over || write_all(recorder->fd, chunk->data, chunk->len) != 0) {
        rc = -1;
    } else {
        recorder->written += chunk->len;
    }
    tcb_buf_reset(chunk);
    return rc;
}

static int append_line(struct tcb_buf *chunk, const char *account_id, const json_t *record)
{
    char *compact = json_dumps(record, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!compact) {
        return -1;
    }
    tcb_buf_append_str(chunk, "{\"account\":");
    tcb_buf_append_json_string(chunk, account_id, strlen(account_id));
    tcb_buf_append_str(chunk, ",\"record\":");
    tcb_buf_append_str(chunk, compact);
    tcb_buf_append_str(chunk, "}\n");
    free(compact);
    return chunk->overflow ? -1 : 0;
}

int tcb_emu_recorder_write(struct tcb_emu_recorder *recorder, const char *account_id,
                           const json_t *records, const unsigned char *accepted, size_t count)
{
    int lines = 0;
    int pending = 0;
    struct tcb_buf chunk;
    if (!recorder) {
        for (size_t i = 0; i < count; i++) {
            lines += accepted[i] ? 1 : 0;
        }
        return lines;
    }
    tcb_buf_init(&chunk, LINE_MAX_BYTES);
    pthread_mutex_lock(&recorder->lock);
    for (size_t i = 0; i < count; i++) {
        if (!accepted[i]) {
            continue;
        }
        if (append_line(&chunk, account_id, json_array_get(records, i)) != 0) {
            tcb_buf_reset(&chunk);
            pending = 0;
            continue;
        }
        pending++;
        if (chunk.len >= CHUNK_BYTES) {
            lines += flush_chunk(recorder, &chunk) == 0 ? pending : 0;
            pending = 0;
        }
    }
    lines += flush_chunk(recorder, &chunk) == 0 ? pending : 0;
    pthread_mutex_unlock(&recorder->lock);
    tcb_buf_free(&chunk, 0);
    return lines;
}

void tcb_emu_recorder_close(struct tcb_emu_recorder *recorder)
{
    if (!recorder) {
        return;
    }
    if (recorder->fd >= 0) {
        close(recorder->fd);
    }
    pthread_mutex_destroy(&recorder->lock);
    free(recorder);
}
