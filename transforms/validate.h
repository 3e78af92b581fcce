/* CleverTap's per-record rules for the Upload API (shared/clevertap-api.md):
 * the one implementation the sink's validation stage and the emulator share.
 * Pure: no I/O, no globals. */
#ifndef TCB_TRANSFORMS_VALIDATE_H
#define TCB_TRANSFORMS_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

struct tcb_validation_limits {
    int max_properties; /* per event / profile; CleverTap's default is 100 */
};

/* Checks one upload record (borrowed) as CleverTap would. Returns 0 when
 * CleverTap would accept it, else CleverTap's per-record code (509-528) with
 * CleverTap-style error text (without "Skipped record number") in reason. */
int tcb_validate_record(const json_t *record, const struct tcb_validation_limits *limits,
                        char *reason, size_t reason_len);

#endif
