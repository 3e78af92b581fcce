/* One Kafka message through clevertap-sink: transform, drop duplicates, hand
 * the records to the uploader all at once (or park the message while there is
 * no room), dead-letter what can never be sent, and count every record until
 * it is final: the uploader's outcomes and the DLQ's acknowledgements close
 * them, and only then does the partition's watermark move past the message. */
#include "consumer/sink_state.h"

#include "common/json_arena.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "consumer/upload_client.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A message ready to be taken: borrowed views of a fresh or a parked one. */
struct work {
    int64_t offset;
    const char *value; /* the original value */
    size_t value_len;
    struct tcb_transform_result *res;
    struct tcb_sink_meta *meta; /* taken by take_work on success */
};

static void count_done(struct tcb_sink *sink, struct tcb_sink_partition *part, int64_t offset,
                       uint32_t n)
{
    if (tcb_offset_tracker_done(&part->tracker, offset, n) != 0) {
        TCB_WARN("sink.tracker", "partition %d offset %lld: %u unexpected final outcomes ignored",
                 (int)part->id, (long long)offset, (unsigned)n);
        return;
    }
    part->pending -= n;
    sink->pending_records -= n;
}

/* Writes one dead letter of a message (its meta borrowed) and counts it. */
static void dead_letter(struct tcb_sink *sink, struct tcb_sink_partition *part, int64_t offset,
                        const struct tcb_sink_meta *meta, struct tcb_dead_letter *dl)
{
    dl->source_topic = sink->cfg->kafka.topic;
    dl->source_partition = part->id;
    dl->source_offset = offset;
    dl->cookie = part->generation;
    if (meta) {
        dl->key = meta->key;
        dl->key_len = meta->key_len;
        dl->headers = meta->headers;
        dl->header_count = meta->header_count;
    }
    tcb_dlq_writer_write(sink->dlq, dl);
    char code[16];
    snprintf(code, sizeof(code), "%d", dl->code);
    const char *labels[] = {dl->stage, code};
    tcb_counter_add(sink->m.dead_letters, labels, 1);
    TCB_DEBUG("sink.dead_letter", "partition %d offset %lld output %zu: %s (%d) %s", (int)part->id,
              (long long)offset, dl->output_index, dl->stage, dl->code, dl->reason);
}

/* The ordering key of a record: its user key (identity, objectId, FBID or
 * GPID), which is also the Kafka key talon-ingest gives each message, so one
 * profile's records reach CleverTap in offset order, within an envelope or a
 * notification too; else the message's key. */
static uint64_t order_key(const struct tcb_sink_meta *meta, const struct tcb_transform_record *rec)
{
    if (rec->user_key) {
        return rec->user_key;
    }
    return meta->key ? tcb_upload_key_hash(meta->key, meta->key_len) : 0;
}

enum verdict { V_SEND = 0, V_DUPLICATE, V_TOO_LARGE };

#define SMALL 8 /* records per message handled without allocating */

static void scratch_free(struct tcb_upload_item *items, unsigned char *verdict, uint64_t *ids,
                         size_t n)
{
    if (n > SMALL) {
        free(items);
        free(verdict);
        free(ids);
    }
}

/* Hands the message's records to the uploader (all or none), writes its dead
 * letters and records it in the watermark. Returns 1 when taken, 0 when there
 * is no room now (nothing was done: park it). */
static int take_work(struct tcb_sink *sink, struct tcb_sink_partition *part, struct work *w)
{
    const struct tcb_transform_result *res = w->res;
    size_t n = res->record_count;
    /* Most messages carry one record: no allocation for those. */
    struct tcb_upload_item items_small[SMALL];
    unsigned char verdict_small[SMALL] = {0};
    uint64_t ids_small[SMALL];
    struct tcb_upload_item *items = n <= SMALL ? items_small : tcb_xcalloc(n, sizeof(*items));
    unsigned char *verdict = n <= SMALL ? verdict_small : tcb_xcalloc(n, 1);
    uint64_t *ids = n <= SMALL ? ids_small : tcb_xcalloc(n, sizeof(*ids));
    size_t sending = 0, duplicates = 0, too_large = 0, stale = 0;
    int dedup = !w->meta->replayed && w->meta->request_id && part->dedup.size > 0;
    for (size_t i = 0; i < n; i++) {
        const struct tcb_transform_record *rec = &res->records[i];
        if (dedup) {
            ids[i] = tcb_dedup_identity(w->meta->request_id, strlen(w->meta->request_id),
                                        w->meta->record_index, rec->index);
            if (tcb_dedup_window_seen(&part->dedup, ids[i])) {
                verdict[i] = V_DUPLICATE;
                duplicates++;
                continue;
            }
        }
        if (rec->json_len > tcb_uploader_max_record_bytes(sink->up)) {
            verdict[i] = V_TOO_LARGE;
            too_large++;
            continue;
        }
        struct tcb_upload_item *item = &items[sending++];
        item->account = rec->account;
        item->json = rec->json;
        item->len = rec->json_len;
        item->key = order_key(w->meta, rec);
        item->tag.partition = part->id;
        item->tag.offset = w->offset;
        item->tag.sub_index = (int32_t)rec->index;
        stale += rec->stale ? 1 : 0;
    }
    int rc = sending > 0 ? tcb_uploader_submit_all(sink->up, items, sending) : 0;
    if (rc != 0 && rc != TCB_UPLOAD_FULL) {
        /* Cannot happen: sizes were checked, accounts come from the config. */
        TCB_ERROR("sink.submit", "partition %d offset %lld: the uploader refused a record (%d)",
                  (int)part->id, (long long)w->offset, rc);
        sink->fatal = 1;
    }
    if (rc != 0) {
        scratch_free(items, verdict, ids, n);
        return 0;
    }
    uint32_t outstanding = (uint32_t)(sending + too_large + res->dead_letter_count);
    part->pending += outstanding;
    sink->pending_records += outstanding;
    struct tcb_sink_meta *meta = w->meta;
    w->meta = NULL;
    tcb_offset_tracker_add(&part->tracker, w->offset, outstanding, meta);
    for (size_t i = 0; i < n; i++) {
        const struct tcb_transform_record *rec = &res->records[i];
        if (verdict[i] == V_SEND && dedup) {
            tcb_dedup_window_add(&part->dedup, ids[i]);
        } else if (verdict[i] == V_TOO_LARGE) {
            char reason[128];
            snprintf(reason, sizeof(reason),
                     "record of %zu bytes is larger than one upload "
                     "request may carry (sink.batch.max_bytes)",
                     rec->json_len);
            struct tcb_dead_letter dl = {.output_index = rec->index,
                                         .stage = "validation",
                                         .reason = reason,
                                         .account = rec->account->name,
                                         .value = rec->json,
                                         .value_len = rec->json_len};
            dead_letter(sink, part, w->offset, meta, &dl);
        }
    }
    for (size_t i = 0; i < res->dead_letter_count; i++) {
        const struct tcb_transform_dead_letter *d = &res->dead_letters[i];
        struct tcb_dead_letter dl = {.output_index = d->index,
                                     .stage = d->stage,
                                     .code = d->code,
                                     .reason = d->reason,
                                     .value = d->json ? d->json : w->value,
                                     .value_len = d->json ? d->json_len : w->value_len};
        dead_letter(sink, part, w->offset, meta, &dl);
    }
    scratch_free(items, verdict, ids, n);
    for (size_t i = 0; i < res->skip_count; i++) {
        const char *labels[] = {res->skips[i].reason};
        tcb_counter_add(sink->m.skipped, labels, 1);
        TCB_DEBUG("sink.skipped", "partition %d offset %lld output %zu skipped: %s", (int)part->id,
                  (long long)w->offset, res->skips[i].index, res->skips[i].reason);
    }
    tcb_counter_add(sink->m.long_values, (const char *[]){"truncated"},
                    (double)res->values_truncated);
    tcb_counter_add(sink->m.long_values, (const char *[]){"dropped"}, (double)res->values_dropped);
    tcb_counter_add(sink->m.records, NULL, (double)sending);
    tcb_counter_add(sink->m.duplicates, NULL, (double)duplicates);
    tcb_counter_add(sink->m.stale, NULL, (double)stale);
    return 1;
}

/* Whether a partition may take a message now (its parked ones come first). */
static int room_for(const struct tcb_sink *sink, const struct tcb_sink_partition *part)
{
    return !sink->stopping && tcb_sink_now_ms() >= sink->rebalancing_until_ms &&
           tcb_dlq_writer_backlog(sink->dlq) == 0 && !tcb_offset_tracker_full(&part->tracker);
}

static void park(struct tcb_sink *sink, struct tcb_sink_partition *part, const struct work *w,
                 struct tcb_transform_result *res)
{
    struct tcb_sink_parked *parked = tcb_xcalloc(1, sizeof(*parked));
    parked->offset = w->offset;
    parked->value = tcb_xstrndup(w->value ? w->value : "", w->value ? w->value_len : 0);
    parked->value_len = w->value ? w->value_len : 0;
    parked->res = *res; /* taken */
    memset(res, 0, sizeof(*res));
    parked->meta = w->meta;
    tcb_sink_partition_park(sink, part, parked);
}

void tcb_sink_take_message(struct tcb_sink *sink, const rd_kafka_message_t *rkm)
{
    struct tcb_sink_partition *part = tcb_sink_partition(sink, rkm->partition);
    if (!part) {
        TCB_DEBUG("sink.unassigned", "message for unassigned partition %d ignored",
                  (int)rkm->partition);
        return;
    }
    if (rkm->offset < part->next_offset) {
        /* Fetched again (a pause raced a fetch): it is taken or parked already. */
        TCB_DEBUG("sink.redelivered", "partition %d offset %lld seen already", (int)part->id,
                  (long long)rkm->offset);
        return;
    }
    part->next_offset = rkm->offset + 1;
    tcb_counter_add(sink->m.messages, NULL, 1);
    struct tcb_sink_meta *meta = tcb_sink_meta_new(rkm);
    struct tcb_transform_input in = {
        .value = rkm->payload,
        .len = rkm->payload ? rkm->len : 0,
        .account_header = meta->account,
        .request_id = meta->request_id,
        .record_index = meta->record_index,
        .received_at_ms = meta->received_at_ms,
        .kafka_timestamp_ms = rd_kafka_message_timestamp(rkm, NULL),
        .now_s = (int64_t)time(NULL),
    };
    struct tcb_transform_result res;
    /* The parse tree lives and dies inside the transform; its results are
     * plain malloc'd text, so jansson may allocate from the arena. */
    tcb_json_arena_begin();
    int transformed = tcb_transform_message(sink->cfg, &in, &res);
    tcb_json_arena_end();
    if (transformed != 0) {
        tcb_out_of_memory(); /* only jansson running out of memory returns -1 */
    }
    struct work w = {.offset = rkm->offset,
                     .value = rkm->payload,
                     .value_len = in.len,
                     .res = &res,
                     .meta = meta};
    if (part->parked_head || !room_for(sink, part) || !take_work(sink, part, &w)) {
        park(sink, part, &w, &res);
        return;
    }
    tcb_sink_meta_free(w.meta); /* NULL when taken */
    tcb_transform_result_free(&res);
}

void tcb_sink_drain_parked(struct tcb_sink *sink)
{
    for (int32_t id = 0; id < sink->part_cap; id++) {
        struct tcb_sink_partition *part = sink->parts[id];
        if (!part || !part->parked_head) {
            continue;
        }
        while (part->parked_head && room_for(sink, part)) {
            struct tcb_sink_parked *parked = part->parked_head;
            struct work w = {.offset = parked->offset,
                             .value = parked->value,
                             .value_len = parked->value_len,
                             .res = &parked->res,
                             .meta = parked->meta};
            if (!take_work(sink, part, &w)) {
                break;
            }
            parked->meta = NULL; /* taken */
            part->parked_head = parked->next;
            if (!part->parked_head) {
                part->parked_tail = NULL;
            }
            tcb_sink_parked_free(parked);
        }
        if (!part->parked_head) {
            tcb_sink_partition_pause(sink, part, 0);
        }
    }
}

void tcb_sink_on_outcome(void *ctx, const struct tcb_upload_tag *tag,
                         const struct tcb_upload_outcome *outcome)
{
    struct tcb_sink *sink = ctx;
    struct tcb_sink_partition *part = tcb_sink_partition(sink, tag->partition);
    if (!part || outcome->result == TCB_UPLOAD_ABANDONED) {
        return; /* not final: nothing moves; the partition's next owner sends it again */
    }
    if (outcome->result == TCB_UPLOAD_ACCEPTED) {
        count_done(sink, part, tag->offset, 1);
        return;
    }
    /* Rejected or exhausted: final once the DLQ acknowledges it. */
    struct tcb_dead_letter dl = {
        .output_index = (size_t)tag->sub_index,
        .stage = outcome->result == TCB_UPLOAD_EXHAUSTED ? "exhausted" : "rejected",
        .code = outcome->code,
        .reason = outcome->text,
        .http_status = outcome->http_status,
        .attempts = outcome->attempts,
        .account = outcome->account ? outcome->account->name : NULL,
        .value = outcome->json,
        .value_len = outcome->json_len,
    };
    dead_letter(sink, part, tag->offset, tcb_offset_tracker_payload(&part->tracker, tag->offset),
                &dl);
}

void tcb_sink_on_dlq_acked(void *ctx, int32_t partition, int64_t offset, uint64_t cookie)
{
    struct tcb_sink *sink = ctx;
    struct tcb_sink_partition *part = tcb_sink_partition(sink, partition);
    if (!part || part->generation != cookie) {
        return; /* an earlier assignment's dead letter: that offset was never committed by us */
    }
    count_done(sink, part, offset, 1);
}

void tcb_sink_settle(struct tcb_sink *sink, const int32_t *partitions, size_t count,
                     int deadline_ms)
{
    int64_t end = tcb_sink_now_ms() + (deadline_ms > 0 ? deadline_ms : 0);
    size_t abandoned =
        count == 0 ? tcb_uploader_flush(sink->up, deadline_ms)
                   : tcb_uploader_flush_partitions(sink->up, deadline_ms, partitions, count);
    int64_t left = end - tcb_sink_now_ms();
    size_t unacked = tcb_dlq_writer_flush(sink->dlq, left > 0 ? (int)left : 0);
    if (abandoned > 0 || unacked > 0) {
        TCB_WARN("sink.settle",
                 "deadline of %d ms: %zu records not uploaded, %zu dead letters not acknowledged; "
                 "their offsets stay uncommitted and they will be consumed again",
                 deadline_ms, abandoned, unacked);
    }
}
