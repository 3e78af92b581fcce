/* Internal: the key table that drives loading, defaults, freeing and the
 * example-file test. One row per key: type, where it lands (offsetof into
 * its section struct), default, bounds, one-line description. */
#ifndef TCB_CONFIG_CONFIG_KEYS_H
#define TCB_CONFIG_CONFIG_KEYS_H

#include <stddef.h>

enum tcb_key_type {
    TCB_KEY_STRING,      /* char *; choices optional */
    TCB_KEY_INT,         /* int within [min, max] */
    TCB_KEY_LONG,        /* long within [min, max] */
    TCB_KEY_BOOL,        /* int 0/1 */
    TCB_KEY_ENUM,        /* int index into choices */
    TCB_KEY_MAP,         /* struct tcb_kv_list (string -> string) */
    TCB_KEY_LIST,        /* struct tcb_str_list */
    TCB_KEY_SECTION,     /* nested mapping stored inline, fields per sub */
    TCB_KEY_OBJECT_LIST, /* array of sub items: pointer at offset, size_t at count_offset */
};

struct tcb_schema;

struct tcb_key {
    const char *name;
    enum tcb_key_type type;
    size_t offset;
    const char *default_value; /* textual default; NULL = unset */
    long min;
    long max;
    const char *const *choices;   /* NULL-terminated, for STRING (optional) and ENUM */
    const struct tcb_schema *sub; /* SECTION and OBJECT_LIST */
    size_t count_offset;          /* OBJECT_LIST */
    size_t max_items;             /* OBJECT_LIST, LIST, MAP */
    int required;
    int secret;       /* value never printed; wiped on free */
    int has_presence; /* when 1, presence_offset gets int 1 when given */
    size_t presence_offset;
    const char *description;
};

struct tcb_schema {
    const char *name; /* for messages: "kafka", "account", ... */
    const struct tcb_key *keys;
    size_t key_count;
    size_t item_size; /* OBJECT_LIST item size */
};

/* The root schema (struct tcb_config). */
const struct tcb_schema *tcb_config_root_schema(void);

/* Region codes accepted by clevertap.accounts[].region, NULL-terminated. */
extern const char *const tcb_config_regions[];

#endif
