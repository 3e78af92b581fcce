/* Authorization and dispatch for POST /1/upload and POST
 * /talon/notifications. Credentials are only compared, never copied; records
 * go to the producer with the account name, request id, index and receive
 * time as headers. No HTTP library calls and no payload logging here. */
#include "producer/ingest_routes.h"

#include "common/log.h"
#include "config/config.h"
#include "producer/ingest_auth.h"
#include "producer/ingest_producer.h"

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
        if (!tcb_ingest_auth_notification(cfg, headers->secret, headers->basic_password)) {
            return deny(answer, 401, "Notification secret is not valid");
        }
        request->account_name = cfg->ingest.notification_account;
    }
    if (tcb_ingest_request_id_acceptable(headers->x_uuid)) {
        snprintf(request->request_id, sizeof(request->request_id), "%s", headers->x_uuid);
    } else {
        tcb_ingest_request_id_new(request->request_id);
    }
    request->received_at_ms = now_epoch_ms();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    request->body_deadline = now.tv_sec + cfg->ingest.connection_timeout_s;
    return 0;
}

int tcb_ingest_request_append(struct tcb_ingest_request *request, const char *data, size_t size)
{
    size_t max = (size_t)request->cfg->ingest.max_body_bytes;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > request->body_deadline) {
        TCB_INFO("ingest.slow_client", "body still arriving after %d s; closing",
                 request->cfg->ingest.connection_timeout_s);
        return -1;
    }
    if (request->too_large || size > max - request->body.len) {
        request->too_large = 1;
        return 0;
    }
    return tcb_buf_append(&request->body, data, size) == 0 ? 0 : -1;
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

static int dispatch_upload(struct tcb_ingest_request *request, struct tcb_ingest_answer *answer)
{
    switch (tcb_ingest_upload_parse(request->body.data, request->body.len, &request->upload)) {
    case TCB_INGEST_PARSE_OK:
        break;
    case TCB_INGEST_PARSE_NOT_JSON:
        return deny(answer, 400, "Request body is not valid JSON");
    case TCB_INGEST_PARSE_NOT_UPLOAD:
        return deny(answer, 400, "Request body has no d array");
    case TCB_INGEST_PARSE_TOO_MANY:
        return deny(answer, 413, "More than 1000 records in one request");
    default:
        return deny(answer, 503, "Out of memory");
    }
    request->record_count = request->upload.count;
    if (request->record_count == 0) {
        return deny(answer, 200, NULL);
    }
    size_t queued = 0;
    for (size_t i = 0; i < request->upload.count; i++) {
        const struct tcb_ingest_record *record = &request->upload.records[i];
        int rc = queue_record(request, record->value, record->value_len, record->key,
                              record->key_len, (long)i);
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

static int dispatch_notification(struct tcb_ingest_request *request,
                                 struct tcb_ingest_answer *answer)
{
    char *key = NULL;
    int rc = tcb_ingest_notification_key(request->body.data, request->body.len, &key);
    if (rc == TCB_INGEST_PARSE_NOT_JSON) {
        return deny(answer, 400, "Request body is not a JSON object");
    }
    if (rc != TCB_INGEST_PARSE_OK) {
        return deny(answer, 503, "Out of memory");
    }
    request->record_count = 1;
    rc =
        queue_record(request, request->body.data, request->body.len, key, key ? strlen(key) : 0, 0);
    free(key);
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
    if (request->too_large) {
        return deny(answer, 413, "Request body is too large");
    }
    atomic_store(&request->pending, 1);
    atomic_store(&request->failed, 0);
    request->oversized = 0;
    clock_gettime(CLOCK_MONOTONIC, &request->started);
    if (request->route == TCB_ROUTE_UPLOAD) {
        return dispatch_upload(request, answer);
    }
    return dispatch_notification(request, answer);
}

void tcb_ingest_request_free(struct tcb_ingest_request *request)
{
    if (request == NULL) {
        return;
    }
    tcb_ingest_upload_free(&request->upload);
    tcb_buf_free(&request->body, 0);
    free(request);
}
