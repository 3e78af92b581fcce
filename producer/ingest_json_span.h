/* Locates the raw bytes of each element of a top-level JSON array member
 * (the "d" of an upload envelope) so records reach Kafka byte for byte as the
 * client sent them. It only scans text jansson already accepted; it never
 * allocates and never interprets values. */
#ifndef TCB_PRODUCER_INGEST_JSON_SPAN_H
#define TCB_PRODUCER_INGEST_JSON_SPAN_H

#include <stddef.h>

struct tcb_json_span {
    size_t offset; /* first byte of the element in the scanned text */
    size_t length;
};

/* Scans text (a JSON object already validated by a parser) for the member
 * whose raw key equals name (no escapes) and whose value is an array, the
 * last one when the key repeats. Writes the element spans into
 * spans[0..max_spans). Returns the element count (0..max_spans), -1 when no
 * such member exists, the text is not an object, or a member key holds an
 * escape (it might spell name), -2 when the array has more than max_spans
 * elements. */
long tcb_json_member_array_spans(const char *text, size_t len, const char *name,
                                 struct tcb_json_span *spans, size_t max_spans);

#endif
