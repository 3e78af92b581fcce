/* Field selection, renaming, nested-value handling, date conversion and
 * constants for one mapping (see mapping.h). Builds new JSON; never modifies
 * its inputs except the objects it is told to fill. */
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

static int str_list_has(const struct tcb_str_list *list, const char *s)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], s) == 0) {
            return 1;
        }
    }
    return 0;
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
    if (spec == NULL) {
        return;
    }
    if (spec->event_name != NULL) {
        m->event_name = spec->event_name;
    }
    if (spec->identity_field != NULL) {
        m->identity_field = spec->identity_field;
    }
    m->rename = &spec->rename;
    m->include = &spec->include;
    m->exclude = &spec->exclude;
    m->constants = &spec->constants;
    m->date_fields = &spec->date_fields;
    m->nested = spec->nested;
}

static const json_t *lookup_in(const json_t *obj, const char *path)
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

/* One source field -> zero or more properties. */
static int add_field(const struct tcb_mapping *m, json_t *props, const char *source,
                     const json_t *v)
{
    const char *target = kv_get(m->rename, source);
    char key[KEY_BUF];
    if (v == NULL || json_is_null(v) || str_list_has(m->exclude, source)) {
        return 0;
    }
    tcb_utf8_prefix(target != NULL ? target : source, key, sizeof(key));
    if (target == NULL) {
        for (char *p = key; *p != '\0'; p++) {
            *p = *p == '.' ? '_' : *p; /* a dotted include path names a flat key */
        }
    }
    if (str_list_has(m->date_fields, source)) {
        json_t *date;
        if (json_is_string(v) && json_string_length(v) == 0) {
            return 0; /* "no date" */
        }
        if (tcb_date_value(v, &date) != 0) {
            return -1;
        }
        if (date != NULL) {
            return put(props, key, date);
        }
    }
    if (!json_is_object(v) && !json_is_array(v)) {
        return put(props, key, json_deep_copy(v));
    }
    if (is_empty_container(v) || m->nested == TCB_NESTED_DROP) {
        return 0;
    }
    if (m->nested == TCB_NESTED_FLATTEN && flatten_fits(props, v)) {
        return flatten(props, key, strlen(key), v, 0);
    }
    return put(props, key, stringify(v));
}

json_t *tcb_mapping_properties(const struct tcb_mapping *m, const json_t *item,
                               const json_t *parent)
{
    json_t *props = json_object();
    int rc = 0;
    if (props == NULL) {
        return NULL;
    }
    if (m->include->count > 0) {
        for (size_t i = 0; rc == 0 && i < m->include->count; i++) {
            const char *name = m->include->items[i];
            rc = add_field(m, props, name, tcb_mapping_lookup(item, parent, name));
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

int tcb_mapping_add_constants(const struct tcb_mapping *m, json_t *record, json_t *props)
{
    for (size_t i = 0; i < m->constants->count; i++) {
        const struct tcb_kv *kv = &m->constants->items[i];
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
