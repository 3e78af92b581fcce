/* curl easy-handle setup for one CleverTap upload and the bounded capture of its
 * answer. Keep-alive comes from the multi handle's connection cache. Never logs
 * (the headers carry the passcode) and never decides what an answer means. */
#include "consumer/upload_transfer.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct tcb_upload_xfer *xfer = userp;
    size_t n = size * nmemb;
    size_t room = xfer->resp.limit - xfer->resp.len;
    size_t take = n < room ? n : room;
    if (take < n) {
        xfer->resp_truncated = 1;
    }
    tcb_buf_append(&xfer->resp, data, take); /* fits: take is within the limit */
    return n;                                /* keep reading so the connection stays reusable */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct tcb_upload_xfer *xfer = userp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        size_t i = sizeof(name) - 1;
        size_t out = 0;
        for (; i < n && out + 1 < sizeof(xfer->retry_after); i++) {
            if (data[i] != '\r' && data[i] != '\n') {
                xfer->retry_after[out++] = data[i];
            }
        }
        xfer->retry_after[out] = '\0';
    }
    return n;
}

struct tcb_upload_xfer *tcb_upload_xfer_new(size_t resp_max)
{
    struct tcb_upload_xfer *xfer = tcb_xcalloc(1, sizeof(*xfer));
    tcb_buf_init(&xfer->resp, resp_max);
    xfer->easy = curl_easy_init();
    if (!xfer->easy) {
        tcb_upload_xfer_free(xfer);
        return NULL;
    }
    return xfer;
}

void tcb_upload_xfer_free(struct tcb_upload_xfer *xfer)
{
    if (!xfer) {
        return;
    }
    if (xfer->easy) {
        curl_easy_cleanup(xfer->easy);
    }
    tcb_buf_free(&xfer->resp, 0);
    free(xfer);
}

int tcb_upload_xfer_prepare(struct tcb_upload_xfer *xfer, const struct tcb_upload_request *req)
{
    CURL *easy = xfer->easy;
    tcb_buf_reset(&xfer->resp);
    xfer->resp_truncated = 0;
    xfer->retry_after[0] = '\0';
    xfer->errbuf[0] = '\0';
    CURLcode rc = CURLE_OK;
    /* One chain instead of many ifs; the first failure sticks. */
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_URL, req->url);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_POST, 1L);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_WRITEDATA, xfer);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_HEADERDATA, xfer);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_PRIVATE, xfer);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    /* The peer and its name are always verified (curl's defaults, stated). */
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file) {
        rc = rc ? rc : curl_easy_setopt(easy, CURLOPT_CAINFO, req->ca_file);
    }
    /* Expect: 100-continue costs a round trip on every large body. */
    return rc == CURLE_OK ? 0 : -1;
}

enum tcb_transport tcb_upload_xfer_transport(CURLcode result)
{
    if (result == CURLE_OK) {
        return TCB_TRANSPORT_OK;
    }
    return result == CURLE_OPERATION_TIMEDOUT ? TCB_TRANSPORT_TIMEOUT : TCB_TRANSPORT_ERROR;
}

int tcb_upload_xfer_status(struct tcb_upload_xfer *xfer)
{
    long status = 0;
    if (curl_easy_getinfo(xfer->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        return 0;
    }
    return (int)status;
}
