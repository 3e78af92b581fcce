/* Field selection, renaming, nested-value handling, date conversion,
 * profile fields and constants for one mapping (see mapping.h). Builds new
 * JSON; never modifies its inputs except the objects it is told to fill. */
#include "transforms/mapping.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "transforms/dates.h"
#include "transforms/text.h"

#define FLATTEN_MAX_DEPTH 32
/* Properties flatten writes into one object at most: more than any account's
 * max_properties (<= 1024) allows, so such a record is refused anyway, but a
 * 1 MiB array of tiny values under a long key no longer becomes hundreds of
 * MiB of keys. A value that would go beyond it is stringified instead. */
#define FLATTEN_MAX_PROPS 1025
#define KEY_BUF           512

struct tcb_name_view tcb_names_of(const struct tcb_str_list *list)
{
    /* Adding const to both levels is a qualification conversion C does not
     * make implicitly; the strings are never written through the view. */
    struct tcb_name_view view = {(const char *const *)list->items, list->count};
    return view;
}

static int names_has(struct tcb_name_view names, const char *s)
{
    for (size_t i = 0; i < names.count; i++) {
        if (strcmp(names.items[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *pair_get(struct tcb_pair_view pairs, const char *from)
{
    for (size_t i = 0; i < pairs.count; i++) {
        if (strcmp(pairs.items[i].from, from) == 0) {
            return pairs.items[i].to;
        }
    }
    return NULL;
}

static const char *kv_get(const struct tcb_kv_list *list, const char *key)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].key, key) == 0) {
            return list->items[i].value;
        }
    }
    return NULL;
}

void tcb_mapping_overlay(struct tcb_mapping *m, const struct tcb_transform_spec *spec)
{
    static const struct tcb_pair_view no_pairs = {NULL, 0};
    static const struct tcb_name_view no_names = {NULL, 0};
    m->spec = spec;
    if (spec == NULL) {
        return;
    }
    if (spec->event_name != NULL) {
        m->event_name = spec->event_name;
    }
    if (spec->identity_field != NULL) {
        m->identity_field = spec->identity_field;
    }
    if (spec->builtin == TCB_BUILTIN_REPLACE) {
        m->builtin_rename = no_pairs;
        m->builtin_include = no_names;
        m->builtin_dates = no_names;
        m->builtin_profile = no_pairs;
    }
}

static const json_t *dotted_in(const json_t *obj, const char *path)
{
    const char *dot;
    char part[KEY_BUF];
    while (obj != NULL && (dot = strchr(path, '.')) != NULL) {
        size_t len = (size_t)(dot - path);
        if (len >= sizeof(part)) {
            return NULL;
        }
        memcpy(part, path, len);
        part[len] = '\0';
        obj = json_object_get(obj, part);
        path = dot + 1;
    }
    return obj != NULL ? json_object_get(obj, path) : NULL;
}

/* An array index token: "0" or digits without a leading zero. */
static int array_index(const char *token, size_t *index)
{
    size_t n = 0;
    if (token[0] == '\0' || (token[0] == '0' && token[1] != '\0')) {
        return -1;
    }
    for (const char *p = token; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || n > (SIZE_MAX - 9) / 10) {
            return -1;
        }
        n = n * 10 + (size_t)(*p - '0');
    }
    *index = n;
    return 0;
}

/* RFC 6901: "/a/0/b", with ~1 for '/' and ~0 for '~' inside a token. */
static const json_t *pointer_in(const json_t *v, const char *ptr)
{
    char token[KEY_BUF];
    while (v != NULL && *ptr == '/') {
        size_t n = 0, index;
        for (ptr++; *ptr != '\0' && *ptr != '/'; ptr++) {
            char c = *ptr;
            if (c == '~') {
                if (ptr[1] != '0' && ptr[1] != '1') {
                    return NULL;
                }
                c = *++ptr == '1' ? '/' : '~';
            }
            if (n + 1 >= sizeof(token)) {
                return NULL;
            }
            token[n++] = c;
        }
        token[n] = '\0';
        if (json_is_object(v)) {
            v = json_object_get(v, token);
        } else if (json_is_array(v) && array_index(token, &index) == 0) {
            v = json_array_get(v, index);
        } else {
            return NULL;
        }
    }
    return v;
}

static const json_t *lookup_in(const json_t *obj, const char *path)
{
    return path[0] == '/' ? pointer_in(obj, path) : dotted_in(obj, path);
}

const json_t *tcb_mapping_lookup(const json_t *item, const json_t *parent, const char *path)
{
    const json_t *v = lookup_in(item, path);
    return v != NULL || parent == item ? v : lookup_in(parent, path);
}

static void jansson_free(void *p)
{
    json_malloc_t malloc_fn;
    json_free_t free_fn;
    json_get_alloc_funcs(&malloc_fn, &free_fn);
    free_fn(p);
}

static int is_empty_container(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

/* Sets props[key] = value (value stolen, also on failure). */
static int put(json_t *props, const char *key, json_t *value)
{
    return value == NULL || json_object_set_new(props, key, value) != 0 ? -1 : 0;
}

static json_t *stringify(const json_t *v)
{
    char *text = json_dumps(v, TCB_JSON_FLAGS);
    json_t *s;
    if (text == NULL) {
        return NULL;
    }
    s = json_string(text);
    jansson_free(text);
    return s;
}

/* Writes v under key (key_sub / key_N for containers). */
static int flatten(json_t *props, char *key, size_t key_len, const json_t *v, int depth)
{
    if (json_is_null(v) || is_empty_container(v)) {
        return 0;
    }
    if (!json_is_object(v) && !json_is_array(v)) {
        return put(props, key, json_deep_copy(v));
    }
    if (depth >= FLATTEN_MAX_DEPTH) {
        return put(props, key, stringify(v));
    }
    if (json_is_object(v)) {
        const char *sub;
        json_t *child;
        json_object_foreach ((json_t *)v, sub, child) {
            snprintf(key + key_len, KEY_BUF - key_len, "_%s", sub);
            tcb_utf8_clip(key);
            if (flatten(props, key, strlen(key), child, depth + 1) != 0) {
                return -1;
            }
        }
    } else {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            snprintf(key + key_len, KEY_BUF - key_len, "_%zu", i);
            if (flatten(props, key, strlen(key), child, depth + 1) != 0) {
                return -1;
            }
        }
    }
    key[key_len] = '\0';
    return 0;
}

/* How many properties flatten would write for v, counting no further than
 * just past limit. */
static size_t flat_count(const json_t *v, size_t limit, int depth)
{
    size_t n = 0, i;
    const char *sub;
    json_t *child;
    if (json_is_null(v) || is_empty_container(v)) {
        return 0;
    }
    if ((!json_is_object(v) && !json_is_array(v)) || depth >= FLATTEN_MAX_DEPTH) {
        return 1;
    }
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, sub, child) {
            if ((n += flat_count(child, limit - n, depth + 1)) > limit) {
                return n;
            }
        }
    } else {
        json_array_foreach (v, i, child) {
            if ((n += flat_count(child, limit - n, depth + 1)) > limit) {
                return n;
            }
        }
    }
    return n;
}

/* 1 when flattening v keeps props within FLATTEN_MAX_PROPS. */
static int flatten_fits(const json_t *props, const json_t *v)
{
    size_t have = json_object_size(props);
    return have <= FLATTEN_MAX_PROPS &&
           flat_count(v, FLATTEN_MAX_PROPS - have, 0) <= FLATTEN_MAX_PROPS - have;
}

static enum tcb_nested_policy nested_policy(const struct tcb_mapping *m)
{
    return m->spec != NULL ? m->spec->nested : TCB_NESTED_STRINGIFY;
}

static int is_date_field(const struct tcb_mapping *m, const char *source)
{
    return names_has(m->builtin_dates, source) ||
           (m->spec != NULL && names_has(tcb_names_of(&m->spec->date_fields), source));
}

/* Writes v (borrowed) as key into props: a date, a scalar, or a container
 * handled by the nested policy. */
static int put_value(const struct tcb_mapping *m, json_t *props, const char *key, const json_t *v,
                     int date)
{
    char buf[KEY_BUF];
    enum tcb_nested_policy nested = nested_policy(m);
    if (date) {
        json_t *value;
        if (json_is_string(v) && json_string_length(v) == 0) {
            return 0; /* "no date" */
        }
        if (tcb_date_value(v, &value) != 0) {
            return -1;
        }
        if (value != NULL) {
            return put(props, key, value);
        }
    }
    if (!json_is_object(v) && !json_is_array(v)) {
        return put(props, key, json_deep_copy(v));
    }
    if (is_empty_container(v) || nested == TCB_NESTED_DROP) {
        return 0;
    }
    if (nested == TCB_NESTED_FLATTEN && flatten_fits(props, v)) {
        tcb_utf8_prefix(key, buf, sizeof(buf));
        return flatten(props, buf, strlen(buf), v, 0);
    }
    return put(props, key, stringify(v));
}

/* 1 when the transform's exclude list names any of the field's names. */
static int excluded(const struct tcb_mapping *m, const char *source, const char *builtin_name,
                    const char *target)
{
    struct tcb_name_view exclude;
    if (m->spec == NULL || m->spec->exclude.count == 0) {
        return 0;
    }
    exclude = tcb_names_of(&m->spec->exclude);
    return names_has(exclude, source) ||
           (builtin_name != NULL && names_has(exclude, builtin_name)) ||
           (target != NULL && names_has(exclude, target));
}

/* One source field -> zero or more properties. */
static int add_field(const struct tcb_mapping *m, json_t *props, const char *source,
                     const json_t *v)
{
    const char *builtin_name, *target = NULL;
    char key[KEY_BUF];
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    builtin_name = pair_get(m->builtin_rename, source);
    if (m->spec != NULL && m->spec->rename.count > 0) {
        target = kv_get(&m->spec->rename, source);
        if (target == NULL && builtin_name != NULL) {
            target = kv_get(&m->spec->rename, builtin_name);
        }
    }
    if (target == NULL) {
        target = builtin_name;
    }
    if (excluded(m, source, builtin_name, target)) {
        return 0;
    }
    if (target != NULL) {
        tcb_utf8_prefix(target, key, sizeof(key));
    } else {
        /* A path names a flat key: "attributes.tier" / "/attributes/tier"
         * become attributes_tier (CleverTap forbids '.'). */
        tcb_utf8_prefix(source + (source[0] == '/'), key, sizeof(key));
        for (char *p = key; *p != '\0'; p++) {
            *p = *p == '.' || *p == '/' ? '_' : *p;
        }
    }
    return put_value(m, props, key, v, is_date_field(m, source));
}

json_t *tcb_mapping_properties(const struct tcb_mapping *m, const json_t *item,
                               const json_t *parent)
{
    struct tcb_name_view include = {NULL, 0};
    json_t *props = json_object();
    int rc = 0;
    if (props == NULL) {
        return NULL;
    }
    if (m->spec != NULL) {
        include = tcb_names_of(&m->spec->include);
    }
    if (m->builtin_include.count > 0) {
        for (size_t i = 0; rc == 0 && i < m->builtin_include.count; i++) {
            const char *name = m->builtin_include.items[i];
            rc = add_field(m, props, name, tcb_mapping_lookup(item, parent, name));
        }
        for (size_t i = 0; rc == 0 && i < include.count; i++) {
            const char *name = include.items[i];
            if (!names_has(m->builtin_include, name)) {
                rc = add_field(m, props, name, tcb_mapping_lookup(item, parent, name));
            }
        }
    } else if (include.count > 0) {
        for (size_t i = 0; rc == 0 && i < include.count; i++) {
            rc = add_field(m, props, include.items[i],
                           tcb_mapping_lookup(item, parent, include.items[i]));
        }
    } else if (json_is_object(item)) {
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)item, key, v) {
            if (rc == 0) {
                rc = add_field(m, props, key, v);
            }
        }
    }
    if (rc != 0) {
        json_decref(props);
        return NULL;
    }
    return props;
}

json_t *tcb_mapping_profile(const struct tcb_mapping *m, const json_t *item, const json_t *parent)
{
    json_t *props = json_object();
    int rc = 0;
    if (props == NULL) {
        return NULL;
    }
    if (m->spec != NULL && m->spec->profile_fields.count > 0) {
        for (size_t i = 0; rc == 0 && i < m->spec->profile_fields.count; i++) {
            const struct tcb_kv *kv = &m->spec->profile_fields.items[i];
            const json_t *v = tcb_mapping_lookup(item, parent, kv->key);
            if (v != NULL && !json_is_null(v)) {
                rc = put_value(m, props, kv->value, v, is_date_field(m, kv->key));
            }
        }
    } else {
        for (size_t i = 0; rc == 0 && i < m->builtin_profile.count; i++) {
            const struct tcb_pair *pair = &m->builtin_profile.items[i];
            const json_t *v = tcb_mapping_lookup(item, parent, pair->from);
            if (v != NULL && !json_is_null(v)) {
                rc = put_value(m, props, pair->to, v, is_date_field(m, pair->from));
            }
        }
    }
    if (rc != 0) {
        json_decref(props);
        return NULL;
    }
    return props;
}

int tcb_mapping_add_constants(const struct tcb_mapping *m, json_t *record, json_t *props)
{
    for (size_t i = 0; m->spec != NULL && i < m->spec->constants.count; i++) {
        const struct tcb_kv *kv = &m->spec->constants.items[i];
        json_t *target = kv->key[0] == '$' ? record : props;
        if (json_object_set_new(target, kv->key, json_string(kv->value)) != 0) {
            return -1;
        }
    }
    return 0;
}

int tcb_mapping_identity(const json_t *v, json_t **out)
{
    char buf[32];
    *out = NULL;
    if (json_is_string(v) && json_string_length(v) > 0) {
        *out = json_incref((json_t *)v);
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if ((*out = json_string(buf)) == NULL) {
            return -1;
        }
    }
    return 0;
}

int tcb_mapping_is_blank(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}
