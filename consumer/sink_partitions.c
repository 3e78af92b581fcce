/* Per-partition state of clevertap-sink: the table indexed by partition id,
 * each partition's tracker, de-duplication window and parked messages, and
 * pausing or resuming its fetching. Never decides what to do with a message. */
#include "consumer/sink_state.h"

#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unfinished messages one partition may hold before it is paused. */
#define TRACKER_MAX_ENTRIES 100000

struct tcb_sink_partition *tcb_sink_partition(struct tcb_sink *sink, int32_t id)
{
    return id >= 0 && id < sink->part_cap ? sink->parts[id] : NULL;
}

void tcb_sink_parked_free(struct tcb_sink_parked *parked)
{
    if (!parked) {
        return;
    }
    free(parked->value);
    tcb_transform_result_free(&parked->res);
    tcb_sink_meta_free(parked->meta);
    free(parked);
}

struct tcb_sink_partition *tcb_sink_partition_add(struct tcb_sink *sink, int32_t id)
{
    if (id >= sink->part_cap) {
        int32_t cap = sink->part_cap ? sink->part_cap : 16;
        while (cap <= id) {
            cap *= 2;
        }
        sink->parts = tcb_xrealloc(sink->parts, (size_t)cap * sizeof(struct tcb_sink_partition *));
        memset(sink->parts + sink->part_cap, 0,
               (size_t)(cap - sink->part_cap) * sizeof(struct tcb_sink_partition *));
        sink->part_cap = cap;
    }
    tcb_sink_partition_remove(sink, id);
    struct tcb_sink_partition *part = tcb_xcalloc(1, sizeof(*part));
    part->id = id;
    part->generation = ++sink->generations;
    part->committed = -1;
    part->commit_sent = -1;
    part->next_offset = -1;
    snprintf(part->label, sizeof(part->label), "%d", (int)id);
    tcb_offset_tracker_init(&part->tracker, TRACKER_MAX_ENTRIES, tcb_sink_meta_free);
    tcb_dedup_window_init(&part->dedup, (size_t)sink->cfg->sink.dedup_window);
    sink->parts[id] = part;
    sink->assigned++;
    return part;
}

void tcb_sink_partition_remove(struct tcb_sink *sink, int32_t id)
{
    struct tcb_sink_partition *part = tcb_sink_partition(sink, id);
    if (!part) {
        return;
    }
    while (part->parked_head) {
        struct tcb_sink_parked *parked = part->parked_head;
        part->parked_head = parked->next;
        tcb_sink_parked_free(parked);
    }
    part->parked_tail = NULL;
    sink->pending_records -= part->pending; /* abandoned: redelivered to the next owner */
    tcb_gauge_set(sink->m.pending_records, NULL, (double)sink->pending_records);
    if (part->paused) {
        sink->paused--;
    }
    tcb_offset_tracker_clear(&part->tracker);
    tcb_dedup_window_clear(&part->dedup);
    free(part);
    sink->parts[id] = NULL;
    sink->assigned--;
    tcb_gauge_set(sink->m.paused, NULL, sink->paused);
}

void tcb_sink_partition_pause(struct tcb_sink *sink, struct tcb_sink_partition *part, int pause)
{
    if (part->paused == pause) {
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, sink->cfg->kafka.topic, part->id);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(sink->rk, list)
                                    : rd_kafka_resume_partitions(sink->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TCB_WARN("sink.pause", "partition %d: %s failed: %s", (int)part->id,
                 pause ? "pause" : "resume", rd_kafka_err2str(err));
        return;
    }
    part->paused = pause;
    sink->paused += pause ? 1 : -1;
    tcb_gauge_set(sink->m.paused, NULL, sink->paused);
    TCB_DEBUG("sink.pause", "partition %d %s", (int)part->id, pause ? "paused" : "resumed");
}

void tcb_sink_partition_park(struct tcb_sink *sink, struct tcb_sink_partition *part,
                             struct tcb_sink_parked *parked)
{
    parked->next = NULL;
    if (part->parked_tail) {
        part->parked_tail->next = parked;
    } else {
        part->parked_head = parked;
    }
    part->parked_tail = parked;
    tcb_sink_partition_pause(sink, part, 1);
}
