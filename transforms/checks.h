/* Checks on a finished CleverTap record that go beyond what CleverTap itself
 * refuses, so that what reaches a customer is what the marketer meant: no
 * unrendered Talon.One template, no missing required property, and the
 * long-value policy instead of losing the whole event. Pure: no I/O. */
#ifndef TCB_TRANSFORMS_CHECKS_H
#define TCB_TRANSFORMS_CHECKS_H

#include <jansson.h>
#include <stddef.h>

#include "config/config_model.h"

#define TCB_VALUE_MAX_BYTES 512 /* CleverTap's limit on a property value */

/* Applies policy to every string value above TCB_VALUE_MAX_BYTES directly
 * in record's evtData / profileData (borrowed, modified): truncate cuts it to
 * at most 512 bytes on a UTF-8 boundary, drop removes the property,
 * dead_letter leaves it for validation (code 512). Adds what it did to
 * *truncated / *dropped. Returns 0, or -1 on allocation failure. */
int tcb_check_long_values(json_t *record, enum tcb_long_value_policy policy, size_t *truncated,
                          size_t *dropped);

/* 1 when a string anywhere in record (borrowed) holds an unrendered
 * Talon.One template ("${$CouponCode}", "${ $Profile.Attributes.name }"),
 * with a reason naming where; 0 when there is none. */
int tcb_check_templates(const json_t *record, char *reason, size_t reason_len);

/* 1 when one of required (event property names) is absent from the event's
 * evtData, null, or an empty or blank string, with a reason naming it and
 * route_name; 0 otherwise (and for profiles, which required never covers). */
int tcb_check_required(const json_t *record, const struct tcb_str_list *required,
                       const char *route_name, char *reason, size_t reason_len);

#endif
