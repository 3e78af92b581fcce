/* `clevertap-sink --transform FILE|-`: feeds each input line to
 * tcb_transform_message as one Kafka message value and prints one
 * {"records":[...],"dead_letters":[...]} line for it ("skipped",
 * "values_truncated" and "values_dropped" follow only when non-empty). No
 * Kafka, no network.
 * Knobs (transforms/MAPPINGS.md): TCB_TRANSFORM_NOW=<epoch s> fixes "now";
 * TCB_TRANSFORM_HEADERS=<JSON object> gives every line the same headers. */
#include "consumer/transform_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "transforms/transform.h"
#include "util/alloc.h"

/* Per-line ceiling: one byte more than a message value may have, so that
 * longer lines are still recognised (and dead-lettered) as too large. */
#define LINE_CAP (TCB_TRANSFORM_MAX_INPUT_BYTES + 1)

struct cli_headers {
    json_t *root; /* owns the strings below */
    struct tcb_transform_input in;
};

/* A header value as an integer: a JSON integer or a decimal string. */
static int64_t header_int(const json_t *root, const char *name)
{
    const json_t *v = json_object_get(root, name);
    char *end;
    long long n;
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (!json_is_string(v)) {
        return -1;
    }
    errno = 0;
    n = strtoll(json_string_value(v), &end, 10);
    return errno != 0 || *end != '\0' || end == json_string_value(v) ? -1 : n;
}

/* Reads the environment knobs; 0, or -1 when one is malformed. */
static int read_env(struct cli_headers *h)
{
    const char *now = getenv("TCB_TRANSFORM_NOW");
    const char *headers = getenv("TCB_TRANSFORM_HEADERS");
    json_error_t err;
    memset(h, 0, sizeof(*h));
    h->in.record_index = -1;
    h->in.received_at_ms = -1;
    h->in.kafka_timestamp_ms = -1;
    h->in.now_s = (int64_t)time(NULL);
    if (now != NULL && *now != '\0') {
        char *end;
        errno = 0;
        h->in.now_s = strtoll(now, &end, 10);
        if (errno != 0 || *end != '\0' || h->in.now_s <= 0) {
            TCB_ERROR("transform.env", "TCB_TRANSFORM_NOW is not epoch seconds");
            return -1;
        }
    }
    if (headers == NULL || *headers == '\0') {
        return 0;
    }
    h->root = json_loads(headers, 0, &err);
    if (!json_is_object(h->root)) {
        TCB_ERROR("transform.env", "TCB_TRANSFORM_HEADERS is not a JSON object");
        return -1;
    }
    h->in.account_header = json_string_value(json_object_get(h->root, "clevertap-account"));
    h->in.request_id = json_string_value(json_object_get(h->root, "request-id"));
    h->in.record_index = (long)header_int(h->root, "record-index");
    h->in.received_at_ms = header_int(h->root, "received-at");
    h->in.kafka_timestamp_ms = header_int(h->root, "kafka-timestamp");
    return 0;
}

/* Reads one line (without its '\n' and a trailing '\r') into buf (LINE_CAP
 * bytes). *len is the line's full length even when only LINE_CAP bytes were
 * kept. Returns 1 for a line, 0 at the end of input. */
static int read_line(FILE *in, char *buf, size_t *len)
{
    size_t n = 0;
    int c = EOF;
    while ((c = getc(in)) != EOF && c != '\n') {
        if (n < LINE_CAP) {
            buf[n] = (char)c;
        }
        n++;
    }
    if (c == EOF && n == 0) {
        return 0;
    }
    if (n > 0 && n <= LINE_CAP && buf[n - 1] == '\r') {
        n--;
    }
    *len = n;
    return 1;
}

static void print_dead_letter(FILE *out, const struct tcb_transform_dead_letter *dl)
{
    json_t *obj = json_pack("{s:I,s:s,s:i,s:s}", "index", (json_int_t)dl->index, "stage", dl->stage,
                            "code", dl->code, "reason", dl->reason);
    if (obj == NULL || json_dumpf(obj, out, JSON_COMPACT) != 0) {
        fprintf(out, "{\"index\":%zu,\"stage\":\"%s\",\"code\":%d,\"reason\":\"?\"}", dl->index,
                dl->stage, dl->code);
    }
    json_decref(obj);
}

static void print_result(FILE *out, const struct tcb_transform_result *res)
{
    fputs("{\"records\":[", out);
    for (size_t i = 0; i < res->record_count; i++) {
        if (i > 0) {
            fputc(',', out);
        }
        fwrite(res->records[i].json, 1, res->records[i].json_len, out);
    }
    fputs("],\"dead_letters\":[", out);
    for (size_t i = 0; i < res->dead_letter_count; i++) {
        if (i > 0) {
            fputc(',', out);
        }
        print_dead_letter(out, &res->dead_letters[i]);
    }
    fputc(']', out);
    /* Only when there is something to say, so that the common line keeps
     * the two keys the design names. Reasons are static identifiers. */
    if (res->skip_count > 0) {
        fputs(",\"skipped\":[", out);
        for (size_t i = 0; i < res->skip_count; i++) {
            fprintf(out, "%s{\"index\":%zu,\"reason\":\"%s\"}", i > 0 ? "," : "",
                    res->skips[i].index, res->skips[i].reason);
        }
        fputc(']', out);
    }
    if (res->values_truncated > 0) {
        fprintf(out, ",\"values_truncated\":%zu", res->values_truncated);
    }
    if (res->values_dropped > 0) {
        fprintf(out, ",\"values_dropped\":%zu", res->values_dropped);
    }
    fputs("}\n", out);
}

int tcb_transform_cli_run(const struct tcb_config *cfg, const char *path, FILE *out)
{
    struct cli_headers h;
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len;
    int rc = 1;
    if (in == NULL) {
        TCB_ERROR("transform.open", "cannot open %s: %s", path, strerror(errno));
        return 1;
    }
    if (read_env(&h) != 0) {
        goto out;
    }
    buf = tcb_xmalloc(LINE_CAP);
    while (read_line(in, buf, &len)) {
        struct tcb_transform_result res;
        struct tcb_transform_input msg = h.in;
        msg.value = buf;
        msg.len = len; /* beyond LINE_CAP only the length is looked at */
        if (tcb_transform_message(cfg, &msg, &res) != 0) {
            fputs("{\"records\":[],\"dead_letters\":[{\"index\":0,\"stage\":\"transform\","
                  "\"code\":0,\"reason\":\"out of memory\"}]}\n",
                  out);
            continue;
        }
        print_result(out, &res);
        tcb_transform_result_free(&res);
    }
    if (ferror(in)) {
        TCB_ERROR("transform.read", "cannot read %s", path);
    } else if (fflush(out) != 0 || ferror(out)) {
        /* Disk full, closed pipe: results are missing, so the run failed. */
        TCB_ERROR("transform.write", "cannot write the results: %s", strerror(errno));
    } else {
        rc = 0;
    }
out:
    free(buf);
    json_decref(h.root);
    if (in != stdin) {
        fclose(in);
    }
    return rc;
}
