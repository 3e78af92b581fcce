/* Authorization and dispatch for POST /1/upload and POST
 * /talon/notifications. Credentials are only compared, never kept; records
 * go to the producer with the account name, request id, index and receive
 * time as headers. No I/O and no payload logging here. */
#include "producer/ingest_routes.h"

#include "common/log.h"
#include "config/config.h"
#include "producer/ingest_auth.h"
#include "producer/ingest_producer.h"
#include "producer/ingest_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long now_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int deny(struct tcb_ingest_answer *answer, unsigned int status, const char *error)
{
    answer->status = status;
    answer->error = error;
    return -1;
}

enum tcb_ingest_route tcb_ingest_route_match(const char *path)
{
    if (strcmp(path, "/1/upload") == 0) {
        return TCB_ROUTE_UPLOAD;
    }
    if (strcmp(path, "/talon/notifications") == 0) {
        return TCB_ROUTE_NOTIFICATIONS;
    }
    return TCB_ROUTE_NONE;
}

static int notification_authorized(const struct tcb_config *cfg,
                                   const struct tcb_ingest_headers *headers)
{
    char password[512];
    int have_basic =
        tcb_ingest_basic_password(headers->authorization, password, sizeof(password)) == 0;
    int ok = tcb_ingest_auth_notification(cfg, headers->secret, have_basic ? password : NULL);
    explicit_bzero(password, sizeof(password));
    return ok;
}

/* The request id: a sane request-id header, else a sane X-UUID, else the
 * body's hash (at dispatch) when opted in, else a random UUID. */
static void choose_request_id(struct tcb_ingest_request *request,
                              const struct tcb_ingest_headers *headers)
{
    const struct tcb_config *cfg = request->cfg;
    const char *id = NULL;
    if (cfg->ingest.request_id_header != NULL &&
        tcb_ingest_request_id_acceptable(headers->request_id)) {
        id = headers->request_id;
    } else if (tcb_ingest_request_id_acceptable(headers->x_uuid)) {
        id = headers->x_uuid;
    }
    request->id_from_body = id == NULL && cfg->ingest.request_id_from_body;
    if (id != NULL) {
        snprintf(request->request_id, sizeof(request->request_id), "%s", id);
    } else if (!request->id_from_body) {
        tcb_ingest_request_id_new(request->request_id);
    }
}

int tcb_ingest_route_authorize(struct tcb_ingest_request *request,
                               const struct tcb_ingest_headers *headers,
                               struct tcb_ingest_answer *answer)
{
    const struct tcb_config *cfg = request->cfg;
    if (request->route == TCB_ROUTE_UPLOAD) {
        const struct tcb_account *account =
            tcb_ingest_auth_account(cfg, headers->account_id, headers->passcode);
        if (account == NULL) {
            return deny(answer, 401, "Account ID or passcode is not valid");
        }
        request->account_name = account->name;
    } else {
        if (cfg->ingest.notification_secret == NULL || cfg->ingest.notification_secret[0] == 0) {
            return deny(answer, 404, "Notifications are not enabled");
        }
        if (!notification_authorized(cfg, headers)) {
            return deny(answer, 401, "Notification secret is not valid");
        }
        request->account_name = cfg->ingest.notification_account;
    }
    choose_request_id(request, headers);
    request->received_at_ms = now_epoch_ms();
    return 0;
}

/* Queues one record; counts it as pending first so that an acknowledgement
 * racing with this loop never sees the count reach zero early. Returns
 * tcb_ingest_producer_send's result. */
static int queue_record(struct tcb_ingest_request *request, const void *value, size_t value_len,
                        const void *key, size_t key_len, long index)
{
    const struct tcb_ingest_message message = {
        .value = value,
        .value_len = value_len,
        .key = key ? key : request->request_id,
        .key_len = key ? key_len : strlen(request->request_id),
        .account = request->account_name,
        .request_id = request->request_id,
        .record_index = index,
        .received_at_ms = request->received_at_ms,
    };
    atomic_fetch_add(&request->pending, 1);
    int rc = tcb_ingest_producer_send(request->producer, &message, request);
    if (rc == 0) {
        return 0;
    }
    atomic_fetch_sub(&request->pending, 1);
    if (rc == TCB_INGEST_SEND_TOO_LARGE) {
        request->oversized = 1; /* a retry cannot help: 413, not 503 */
    } else {
        atomic_store(&request->failed, 1);
    }
    return rc;
}

/* Queues the parsed records, or denies the request after a parse failure. */
static int upload_records(struct tcb_ingest_request *request,
                          const struct tcb_ingest_upload *upload, int parsed,
                          struct tcb_ingest_answer *answer)
{
    switch (parsed) {
    case TCB_INGEST_PARSE_OK:
        break;
    case TCB_INGEST_PARSE_NOT_JSON:
        return deny(answer, 400, "Request body is not valid JSON");
    case TCB_INGEST_PARSE_NOT_UPLOAD:
        return deny(answer, 400, "Request body has no d array");
    case TCB_INGEST_PARSE_TOO_MANY:
        return deny(answer, 413, "More than 1000 records in one request");
    default:
        return deny(answer, 400, TCB_INGEST_TOO_DEEP);
    }
    request->record_count = upload->count;
    if (request->record_count == 0) {
        return deny(answer, 200, NULL);
    }
    size_t queued = 0;
    for (size_t i = 0; i < upload->count; i++) {
        const struct tcb_ingest_record *record = &upload->records[i];
        int rc = queue_record(request, record->value, record->value_len, record->key.data,
                              record->key.len, (long)i);
        if (rc == TCB_INGEST_SEND_TOO_LARGE) {
            continue;
        }
        if (rc != 0) {
            break;
        }
        queued++;
    }
    if (queued > 0) {
        return 0;
    }
    if (atomic_load(&request->failed)) {
        return deny(answer, 503, "Kafka queue is full");
    }
    return deny(answer, 413, TCB_INGEST_RECORD_TOO_LARGE);
}

static int dispatch_upload(struct tcb_ingest_request *request, struct tcb_ingest_answer *answer)
{
    struct tcb_ingest_upload upload;
    int parsed = tcb_ingest_upload_parse(request->body.data, request->body.len, &upload);
    int rc = upload_records(request, &upload, parsed, answer);
    tcb_ingest_upload_free(&upload);
    return rc;
}

static int dispatch_notification(struct tcb_ingest_request *request,
                                 struct tcb_ingest_answer *answer)
{
    struct tcb_ingest_key key;
    int rc = tcb_ingest_notification_key(request->body.data, request->body.len, &key);
    if (rc == TCB_INGEST_PARSE_TOO_DEEP) {
        return deny(answer, 400, TCB_INGEST_TOO_DEEP);
    }
    if (rc != TCB_INGEST_PARSE_OK) {
        return deny(answer, 400, "Request body is not a JSON object");
    }
    request->record_count = 1;
    rc = queue_record(request, request->body.data, request->body.len, key.data, key.len, 0);
    tcb_ingest_key_free(&key);
    if (rc == TCB_INGEST_SEND_TOO_LARGE) {
        return deny(answer, 413, TCB_INGEST_RECORD_TOO_LARGE);
    }
    if (rc != 0) {
        return deny(answer, 503, "Kafka queue is full");
    }
    return 0;
}

int tcb_ingest_route_dispatch(struct tcb_ingest_request *request, struct tcb_ingest_answer *answer)
{
    atomic_store(&request->pending, 1);
    atomic_store(&request->failed, 0);
    request->oversized = 0;
    clock_gettime(CLOCK_MONOTONIC, &request->started);
    if (request->id_from_body) {
        tcb_ingest_request_id_hash(request->route == TCB_ROUTE_UPLOAD ? "upload" : "notifications",
                                   request->account_name, request->body.data, request->body.len,
                                   request->request_id);
    }
    int rc = request->route == TCB_ROUTE_UPLOAD ? dispatch_upload(request, answer)
                                                : dispatch_notification(request, answer);
    tcb_buf_free(&request->body, 0); /* librdkafka copied every record it took */
    return rc;
}

struct tcb_ingest_answer tcb_ingest_route_finish(const struct tcb_ingest_request *request)
{
    if (atomic_load(&request->failed)) {
        return (struct tcb_ingest_answer){503, "Kafka did not acknowledge the records in time"};
    }
    if (request->oversized) { /* the others are on Kafka; this one never can be */
        return (struct tcb_ingest_answer){413, TCB_INGEST_RECORD_TOO_LARGE};
    }
    return (struct tcb_ingest_answer){200, NULL};
}

void tcb_ingest_request_reset(struct tcb_ingest_request *request)
{
    const struct tcb_config *cfg = request->cfg;
    struct tcb_ingest_producer *producer = request->producer;
    tcb_buf_free(&request->body, 0);
    memset(request, 0, sizeof(*request));
    request->cfg = cfg;
    request->producer = producer;
    tcb_buf_init(&request->body, cfg ? (size_t)cfg->ingest.max_body_bytes : 0);
}
