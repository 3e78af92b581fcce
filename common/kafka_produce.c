/* tcb_kafka_produce: the produceva vector for one message. Nothing else. */
#include "common/kafka_produce.h"

rd_kafka_resp_err_t tcb_kafka_produce(rd_kafka_t *rk, const struct tcb_kafka_message *m)
{
    rd_kafka_vu_t vus[7];
    size_t n = 0;
    if (m->rkt) {
        vus[n].vtype = RD_KAFKA_VTYPE_RKT;
        vus[n++].u.rkt = m->rkt;
    } else {
        vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
        vus[n++].u.cstr = m->topic;
    }
    vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vus[n++].u.i32 = m->partition;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = (void *)m->value;
    vus[n++].u.mem.size = m->value ? m->value_len : 0;
    vus[n].vtype = RD_KAFKA_VTYPE_KEY;
    vus[n].u.mem.ptr = (void *)m->key;
    vus[n++].u.mem.size = m->key ? m->key_len : 0;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = m->flags;
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n++].u.ptr = m->opaque;
    if (m->headers) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = m->headers;
    }
    rd_kafka_error_t *error = rd_kafka_produceva(rk, vus, n);
    if (!error) {
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_resp_err_t err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return err;
}
