/* Applying one mapping (a built-in notification mapping, a configured
 * `transforms` entry, or the built-in extended by a configured one) to a
 * source object: which fields become CleverTap properties (event or profile),
 * under which names, and how nested values and dates are written. Pure;
 * never validates (validate.c does). */
#ifndef TCB_TRANSFORMS_MAPPING_H
#define TCB_TRANSFORMS_MAPPING_H

#include <jansson.h>

#include "config/config_model.h"

/* How the transform stage serialises JSON: compact, and reals with 15
 * significant digits (DBL_DIG: every decimal of up to 15 digits a producer
 * wrote comes back unchanged; 17 would print 23.51 as 23.510000000000002). */
#define TCB_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Read-only lists: the static tables of notifications.c and the lists of a
 * loaded configuration are both seen through these (borrowed) views. */
struct tcb_name_view {
    const char *const *items;
    size_t count;
};
struct tcb_pair {
    const char *from; /* source field */
    const char *to;   /* CleverTap property */
};
struct tcb_pair_view {
    const struct tcb_pair *items;
    size_t count;
};

/* A view of a configuration list (borrowed from list). */
struct tcb_name_view tcb_names_of(const struct tcb_str_list *list);

/* The effective mapping; every pointer borrowed (from cfg or static tables). */
struct tcb_mapping {
    const char *event_name;     /* NULL: keep the record's / the built-in name */
    const char *identity_field; /* path; NULL: keep the record's identity */
    /* The built-in part: empty for CleverTap records, and emptied by a
     * transform with `builtin: replace`. */
    struct tcb_pair_view builtin_rename;
    struct tcb_name_view builtin_include;
    struct tcb_name_view builtin_dates;
    struct tcb_pair_view builtin_profile; /* default profile fields */
    /* The configured transform, NULL when none. */
    const struct tcb_transform_spec *spec;
};

/* Puts a configured transform (borrowed, NULL = none) over m: its event_name
 * and identity_field replace m's when set; with `builtin: replace` the
 * built-in field lists are dropped, else the transform's lists extend them
 * (tcb_mapping_properties says how). */
void tcb_mapping_overlay(struct tcb_mapping *m, const struct tcb_transform_spec *spec);

/* The value at a path in item, else in parent (either may be NULL). A path
 * is a JSON pointer when it starts with '/' ("/data/0/value", ~0 and ~1
 * escapes), else dotted ("a.b.c"). Returns a borrowed reference or NULL. */
const json_t *tcb_mapping_lookup(const json_t *item, const json_t *parent, const char *path);

/* The CleverTap event properties for item. Fields: the built-in list then
 * the transform's `include` entries not already in it; without a built-in
 * list, the transform's `include`; without either, every field of item (in
 * order). Each looked up in item, then parent. A field is left out when
 * absent or null, or when `exclude` names it (by source, built-in or final
 * name). Its name: the transform's rename of the source, else its rename of
 * the built-in name, else the built-in name, else the source (with '.' and
 * '/' as '_'). Date fields (built-in and configured) become "$D_<epoch>";
 * empty objects/arrays are left out; other objects/arrays are stringified,
 * flattened (key_sub, key_0) or dropped as the transform's `nested` says.
 * Returns a new object, or NULL on allocation failure. */
json_t *tcb_mapping_properties(const struct tcb_mapping *m, const json_t *item,
                               const json_t *parent);

/* The profile properties for item: the transform's profile_fields, else the
 * built-in ones (source -> profile key), converted as above. Returns a new
 * object (empty when no field is found), or NULL on allocation failure. */
json_t *tcb_mapping_profile(const struct tcb_mapping *m, const json_t *item, const json_t *parent);

/* Adds the transform's constants: keys starting with '$' onto record, the
 * others into props (both borrowed, modified). Returns 0 or -1 on allocation
 * failure. */
int tcb_mapping_add_constants(const struct tcb_mapping *m, json_t *record, json_t *props);

/* A string identity from an identity value (string as is, integer printed).
 * Returns 0 with *out a new reference, or with *out NULL when v is not usable
 * (absent, empty, other types); -1 on allocation failure. */
int tcb_mapping_identity(const json_t *v, json_t **out);

/* 1 when v is absent, null or "": "no user" rather than a malformed one. */
int tcb_mapping_is_blank(const json_t *v);

#endif
