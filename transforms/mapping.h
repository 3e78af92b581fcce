/* Applying one mapping (a configured `transforms` entry, a built-in
 * notification mapping, or both merged) to a source object: which fields
 * become CleverTap properties, under which names, and how nested values and
 * dates are written. Pure; never validates (validate.c does). */
#ifndef TCB_TRANSFORMS_MAPPING_H
#define TCB_TRANSFORMS_MAPPING_H

#include <jansson.h>

#include "config/config_model.h"

/* How the transform stage serialises JSON: compact, and reals with 15
 * significant digits (DBL_DIG: every decimal of up to 15 digits a producer
 * wrote comes back unchanged; 17 would print 23.51 as 23.510000000000002). */
#define TCB_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The effective mapping; every pointer borrowed (from cfg or static tables),
 * lists never NULL (point at an empty list instead). */
struct tcb_mapping {
    const char *event_name;     /* NULL: keep the record's / the built-in name */
    const char *identity_field; /* dotted path; NULL: keep the record's identity */
    const struct tcb_kv_list *rename;
    const struct tcb_str_list *include; /* empty: every field of the item */
    const struct tcb_str_list *exclude;
    const struct tcb_kv_list *constants;
    enum tcb_nested_policy nested;
    const struct tcb_str_list *date_fields;
};

/* Puts a configured transform (borrowed, NULL = none) over the defaults in m:
 * event_name and identity_field replace m's when the spec sets them; the
 * field lists, constants and nested policy always come from the spec (a
 * configured transform replaces a built-in field selection entirely). */
void tcb_mapping_overlay(struct tcb_mapping *m, const struct tcb_transform_spec *spec);

/* The value at a dotted path ("a.b.c") in item, else in parent (either may be
 * NULL). Returns a borrowed reference or NULL. */
const json_t *tcb_mapping_lookup(const json_t *item, const json_t *parent, const char *path);

/* The CleverTap properties for item: the include list in order (looked up in
 * item, then parent), or every field of item in order; minus exclude; renamed;
 * date fields as "$D_<epoch>"; null values and empty objects/arrays dropped;
 * other objects/arrays stringified, flattened (key_sub, key_0) or dropped as
 * m->nested says. Returns a new object, or NULL on allocation failure. */
json_t *tcb_mapping_properties(const struct tcb_mapping *m, const json_t *item,
                               const json_t *parent);

/* Adds m's constants: keys starting with '$' onto record, the others into
 * props (both borrowed, modified). Returns 0 or -1 on allocation failure. */
int tcb_mapping_add_constants(const struct tcb_mapping *m, json_t *record, json_t *props);

/* A string identity from an identity value (string as is, integer printed).
 * Returns 0 with *out a new reference, or with *out NULL when v is not usable
 * (absent, empty, other types); -1 on allocation failure. */
int tcb_mapping_identity(const json_t *v, json_t **out);

#endif
