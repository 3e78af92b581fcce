/* The table-driven YAML walker: applies defaults, loads a libyaml document
 * node by node into the config struct, reports every problem with its
 * position, and frees what it built. Secret values never enter a message. */
#include "config/config_internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(base, offset, type) ((type *)((char *)(base) + (offset)))

static void wipe_free(char *s, int secret)
{
    if (s && secret) {
        memset(s, 0, strlen(s));
    }
    free(s);
}

static void free_kv_list(struct tcb_kv_list *list, int secret_values)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].key);
        wipe_free(list->items[i].value, secret_values);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void free_str_list(struct tcb_str_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void tcb_config_free_fields(const struct tcb_schema *schema, void *base)
{
    for (size_t k = 0; k < schema->key_count; k++) {
        const struct tcb_key *key = &schema->keys[k];
        switch (key->type) {
        case TCB_KEY_STRING: {
            char **slot = FIELD(base, key->offset, char *);
            wipe_free(*slot, key->secret);
            *slot = NULL;
            break;
        }
        case TCB_KEY_MAP:
            free_kv_list(FIELD(base, key->offset, struct tcb_kv_list), 1);
            break;
        case TCB_KEY_LIST:
            free_str_list(FIELD(base, key->offset, struct tcb_str_list));
            break;
        case TCB_KEY_SECTION:
            tcb_config_free_fields(key->sub, (char *)base + key->offset);
            break;
        case TCB_KEY_OBJECT_LIST: {
            char **items = FIELD(base, key->offset, char *);
            size_t *count = FIELD(base, key->count_offset, size_t);
            for (size_t i = 0; *items && i < *count; i++) {
                tcb_config_free_fields(key->sub, *items + i * key->sub->item_size);
            }
            free(*items);
            *items = NULL;
            *count = 0;
            break;
        }
        default:
            break;
        }
    }
}

static int choice_index(const char *const *choices, const char *text)
{
    for (int i = 0; choices && choices[i]; i++) {
        if (strcmp(choices[i], text) == 0) {
            return i;
        }
    }
    return -1;
}

static void describe_choices(const char *const *choices, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; choices[i] && len + 1 < cap; i++) {
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", choices[i]);
    }
}

static int parse_bool(const char *text, int *value)
{
    static const char *const yes[] = {"true", "yes", "on", "True", "TRUE", NULL};
    static const char *const no[] = {"false", "no", "off", "False", "FALSE", NULL};
    if (choice_index(yes, text) >= 0) {
        *value = 1;
    } else if (choice_index(no, text) >= 0) {
        *value = 0;
    } else {
        return -1;
    }
    return 0;
}

/* Stores a scalar's text into a STRING/INT/LONG/BOOL/ENUM field. Returns 0, or
 * -1 with a message in err. Messages show the value only as shown, which the
 * caller got from tcb_config_describe_value (or, for a built-in default, the
 * default itself): text may come from ${...} and must never be quoted. */
static int store_scalar(const struct tcb_key *key, void *base, const char *text, const char *shown,
                        char *err, size_t err_len)
{
    char allowed[128];
    switch (key->type) {
    case TCB_KEY_STRING: {
        if (key->choices && choice_index(key->choices, text) < 0) {
            describe_choices(key->choices, allowed, sizeof(allowed));
            snprintf(err, err_len, "%s is not one of: %s", shown, allowed);
            return -1;
        }
        char *copy = tcb_xstrdup(text);
        char **slot = FIELD(base, key->offset, char *);
        wipe_free(*slot, key->secret);
        *slot = copy;
        return 0;
    }
    case TCB_KEY_INT:
    case TCB_KEY_LONG: {
        char *end = NULL;
        errno = 0;
        long value = strtol(text, &end, 10);
        if (errno || end == text || *end != '\0') {
            snprintf(err, err_len, "expected an integer, got %s", shown);
            return -1;
        }
        if (value < key->min || value > key->max) {
            if (shown[0] == '\'') { /* a literal: the number itself reads better */
                snprintf(err, err_len, "%ld is out of range [%ld, %ld]", value, key->min, key->max);
            } else {
                snprintf(err, err_len, "%s is out of range [%ld, %ld]", shown, key->min, key->max);
            }
            return -1;
        }
        if (key->type == TCB_KEY_INT) {
            *FIELD(base, key->offset, int) = (int)value;
        } else {
            *FIELD(base, key->offset, long) = value;
        }
        return 0;
    }
    case TCB_KEY_BOOL:
        if (parse_bool(text, FIELD(base, key->offset, int)) != 0) {
            snprintf(err, err_len, "expected true or false, got %s", shown);
            return -1;
        }
        return 0;
    case TCB_KEY_ENUM: {
        int index = choice_index(key->choices, text);
        if (index < 0) {
            describe_choices(key->choices, allowed, sizeof(allowed));
            snprintf(err, err_len, "%s is not one of: %s", shown, allowed);
            return -1;
        }
        *FIELD(base, key->offset, int) = index;
        return 0;
    }
    default:
        snprintf(err, err_len, "internal: not a scalar key");
        return -1;
    }
}

int tcb_config_apply_defaults(const struct tcb_schema *schema, void *base)
{
    char err[256];
    for (size_t k = 0; k < schema->key_count; k++) {
        const struct tcb_key *key = &schema->keys[k];
        if (key->type == TCB_KEY_SECTION) {
            if (tcb_config_apply_defaults(key->sub, (char *)base + key->offset) != 0) {
                return -1;
            }
        } else if (key->default_value && store_scalar(key, base, key->default_value,
                                                      key->default_value, err, sizeof(err)) != 0) {
            return -1;
        }
    }
    return 0;
}

static const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty";
    }
}

/* A scalar's text after ${...} substitution: new string, or NULL after
 * reporting. Secret keys' errors keep to the variable or file name. */
static char *scalar_text(struct tcb_config_loader *loader, const yaml_node_t *node,
                         const char *what)
{
    char err[512];
    char *text = NULL;
    if (node->type != YAML_SCALAR_NODE) {
        tcb_config_error_at(loader, node, "%s: expected a scalar, got %s", what, node_kind(node));
        return NULL;
    }
    if (tcb_config_substitute((const char *)node->data.scalar.value, &text, err, sizeof(err)) !=
        0) {
        tcb_config_error_at(loader, node, "%s: %s", what, err);
        return NULL;
    }
    return text;
}

/* Checks a collection node's type and size and allocates room for its items.
 * Returns the new zeroed array (at least one slot) and its size in *count, or
 * NULL after reporting. */
static void *collection_items(struct tcb_config_loader *loader, const yaml_node_t *node,
                              const struct tcb_key *key, yaml_node_type_t expected,
                              size_t item_size, size_t *count)
{
    if (node->type != expected) {
        tcb_config_error_at(loader, node, "%s: expected %s, got %s", key->name,
                            expected == YAML_MAPPING_NODE ? "a mapping" : "a list",
                            node_kind(node));
        return NULL;
    }
    size_t n = expected == YAML_MAPPING_NODE
                   ? (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start)
                   : (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n > key->max_items) {
        tcb_config_error_at(loader, node, "%s: more than %zu entries", key->name, key->max_items);
        return NULL;
    }
    *count = n;
    return tcb_xcalloc(n ? n : 1, item_size);
}

static void load_kv_list(struct tcb_config_loader *loader, const yaml_node_t *node,
                         const struct tcb_key *key, struct tcb_kv_list *list)
{
    size_t n;
    struct tcb_kv *items =
        collection_items(loader, node, key, YAML_MAPPING_NODE, sizeof(*items), &n);
    if (!items) {
        return;
    }
    free_kv_list(list, 1);
    list->items = items;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(loader->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(loader->doc, pair->value);
        if (k->type != YAML_SCALAR_NODE) {
            tcb_config_error_at(loader, k, "%s: keys must be scalars", key->name);
            continue;
        }
        const char *name = (const char *)k->data.scalar.value;
        for (size_t i = 0; i < list->count; i++) {
            if (strcmp(list->items[i].key, name) == 0) {
                tcb_config_error_at(loader, k, "%s: duplicate key '%s'", key->name, name);
            }
        }
        char *value = scalar_text(loader, v, name);
        char *copy = tcb_xstrdup(name);
        if (!value) {
            free(copy);
            continue;
        }
        list->items[list->count].key = copy;
        list->items[list->count].value = value;
        list->count++;
    }
}

static void load_str_list(struct tcb_config_loader *loader, const yaml_node_t *node,
                          const struct tcb_key *key, struct tcb_str_list *list)
{
    size_t n;
    char **items = collection_items(loader, node, key, YAML_SEQUENCE_NODE, sizeof(*items), &n);
    if (!items) {
        return;
    }
    free_str_list(list);
    list->items = items;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(loader->doc, node->data.sequence.items.start[i]);
        char *text = scalar_text(loader, item, key->name);
        if (text) {
            list->items[list->count++] = text;
        }
    }
}

static void load_object_list(struct tcb_config_loader *loader, const yaml_node_t *node,
                             const struct tcb_key *key, void *base)
{
    char **items = FIELD(base, key->offset, char *);
    size_t *count = FIELD(base, key->count_offset, size_t);
    size_t n;
    *items = collection_items(loader, node, key, YAML_SEQUENCE_NODE, key->sub->item_size, &n);
    if (!*items) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        void *item = *items + i * key->sub->item_size;
        tcb_config_apply_defaults(key->sub, item);
        *count = i + 1;
        yaml_node_t *child =
            yaml_document_get_node(loader->doc, node->data.sequence.items.start[i]);
        tcb_config_load_mapping(loader, child, key->sub, item);
    }
}

static void load_value(struct tcb_config_loader *loader, const yaml_node_t *node,
                       const struct tcb_key *key, void *base)
{
    char err[512];
    switch (key->type) {
    case TCB_KEY_SECTION:
        tcb_config_load_mapping(loader, node, key->sub, (char *)base + key->offset);
        break;
    case TCB_KEY_OBJECT_LIST:
        load_object_list(loader, node, key, base);
        break;
    case TCB_KEY_MAP:
        load_kv_list(loader, node, key, FIELD(base, key->offset, struct tcb_kv_list));
        break;
    case TCB_KEY_LIST:
        load_str_list(loader, node, key, FIELD(base, key->offset, struct tcb_str_list));
        break;
    default: {
        char *text = scalar_text(loader, node, key->name);
        if (!text) {
            return;
        }
        char shown[80];
        const struct tcb_config_shown value = {node, key->secret};
        tcb_config_describe_value(&value, shown, sizeof(shown));
        if (store_scalar(key, base, text, shown, err, sizeof(err)) != 0) {
            tcb_config_error_at(loader, node, "%s: %s", key->name, err);
        } else if (key->has_presence) {
            *FIELD(base, key->presence_offset, int) = 1;
        }
        wipe_free(text, key->secret);
    }
    }
}

static const struct tcb_key *find_key(const struct tcb_schema *schema, const char *name)
{
    for (size_t k = 0; k < schema->key_count; k++) {
        if (strcmp(schema->keys[k].name, name) == 0) {
            return &schema->keys[k];
        }
    }
    return NULL;
}

/* The key of schema closest to name by edit distance, for "did you mean". */
static const char *closest_key(const struct tcb_schema *schema, const char *name)
{
    const char *best = NULL;
    size_t best_distance = 3; /* suggest only close matches */
    size_t name_len = strlen(name);
    if (name_len > 63) {
        return NULL;
    }
    for (size_t k = 0; k < schema->key_count; k++) {
        const char *cand = schema->keys[k].name;
        size_t cand_len = strlen(cand);
        size_t row[64];
        if (cand_len > 63) {
            continue;
        }
        for (size_t j = 0; j <= cand_len; j++) {
            row[j] = j;
        }
        for (size_t i = 1; i <= name_len; i++) {
            size_t diag = row[0];
            row[0] = i;
            for (size_t j = 1; j <= cand_len; j++) {
                size_t up = row[j];
                size_t cost = name[i - 1] == cand[j - 1] ? 0 : 1;
                size_t best_here = diag + cost;
                if (up + 1 < best_here) {
                    best_here = up + 1;
                }
                if (row[j - 1] + 1 < best_here) {
                    best_here = row[j - 1] + 1;
                }
                row[j] = best_here;
                diag = up;
            }
        }
        if (row[cand_len] < best_distance) {
            best_distance = row[cand_len];
            best = cand;
        }
    }
    return best;
}

void tcb_config_load_mapping(struct tcb_config_loader *loader, const yaml_node_t *node,
                             const struct tcb_schema *schema, void *base)
{
    unsigned long long seen = 0; /* bit k: key k given */
    if (node->type != YAML_MAPPING_NODE) {
        tcb_config_error_at(loader, node, "%s: expected a mapping, got %s", schema->name,
                            node_kind(node));
        return;
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(loader->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(loader->doc, pair->value);
        if (k->type != YAML_SCALAR_NODE) {
            tcb_config_error_at(loader, k, "%s: keys must be scalars", schema->name);
            continue;
        }
        const char *name = (const char *)k->data.scalar.value;
        const struct tcb_key *key = find_key(schema, name);
        if (!key) {
            const char *hint = closest_key(schema, name);
            tcb_config_error_at(loader, k, "unknown key '%s' in %s%s%s%s", name, schema->name,
                                hint ? " (did you mean '" : "", hint ? hint : "",
                                hint ? "'?)" : "");
            continue;
        }
        unsigned long long bit = 1ULL << (size_t)(key - schema->keys);
        if (seen & bit) {
            tcb_config_error_at(loader, k, "duplicate key '%s' in %s", name, schema->name);
            continue;
        }
        seen |= bit;
        if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
            v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            /* "key:" with nothing after it (YAML null) keeps the default */
            if (key->required) {
                tcb_config_error_at(loader, v, "%s: must not be empty", name);
            }
            continue;
        }
        load_value(loader, v, key, base);
    }
    for (size_t k = 0; k < schema->key_count; k++) {
        if (schema->keys[k].required && !(seen & (1ULL << k))) {
            tcb_config_error_at(loader, node, "%s is missing required key '%s'", schema->name,
                                schema->keys[k].name);
        }
    }
}

const yaml_node_t *tcb_config_node_at(struct tcb_config_loader *loader, const char *const *path)
{
    if (!loader->doc) {
        return NULL;
    }
    const yaml_node_t *node = yaml_document_get_root_node(loader->doc);
    for (size_t i = 0; node && path[i]; i++) {
        const char *step = path[i];
        const yaml_node_t *next = NULL;
        if (step[0] == '#' && node->type == YAML_SEQUENCE_NODE) {
            long index = strtol(step + 1, NULL, 10);
            long n = node->data.sequence.items.top - node->data.sequence.items.start;
            if (index >= 0 && index < n) {
                next = yaml_document_get_node(loader->doc, node->data.sequence.items.start[index]);
            }
        } else if (node->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
                 pair < node->data.mapping.pairs.top; pair++) {
                yaml_node_t *k = yaml_document_get_node(loader->doc, pair->key);
                if (k->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)k->data.scalar.value, step) == 0) {
                    next = yaml_document_get_node(loader->doc, pair->value);
                }
            }
        }
        node = next;
    }
    return node;
}
