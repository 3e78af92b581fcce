/* config/example.yaml must document every key of the loader's key table with
 * its default value, and must itself load cleanly: when someone adds a key
 * or changes a default without updating the example, this test fails. Keys of
 * list entries (routes, transforms) may be spread over several entries. */
#include "config/config.h"
#include "config/config_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <cmocka.h>

#define EXAMPLE "config/example.yaml"

static yaml_document_t doc;
static int problems;

static const yaml_node_t *child(const yaml_node_t *map, const char *name)
{
    if (!map || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, name) == 0) {
            return yaml_document_get_node(&doc, p->value);
        }
    }
    return NULL;
}

#define MAX_MAPS 64

/* Checks schema against maps[0..count): the mappings that document it (one
 * for a section, every entry for a list of objects). Each key must appear in
 * at least one of them, and a key with a default must show it in at least
 * one, so a list's entries can show realistic values (a route that matches
 * real input) while every key and default is still documented. */
static void check_schema(const struct tcb_schema *schema, const yaml_node_t *const *maps,
                         size_t count, const char *prefix)
{
    for (size_t i = 0; i < schema->key_count; i++) {
        const struct tcb_key *key = &schema->keys[i];
        const yaml_node_t *found[MAX_MAPS];
        size_t n = 0;
        int shows_default = 0;
        char path[256];
        snprintf(path, sizeof(path), "%s%s", prefix, key->name);
        for (size_t m = 0; m < count; m++) {
            const yaml_node_t *node = child(maps[m], key->name);
            if (node && n < MAX_MAPS) {
                found[n++] = node;
            }
        }
        if (n == 0) {
            print_error("%s: key %s is not documented\n", EXAMPLE, path);
            problems++;
            continue;
        }
        if (key->type == TCB_KEY_SECTION) {
            char sub[300];
            snprintf(sub, sizeof(sub), "%s.", path);
            check_schema(key->sub, found, n, sub);
        } else if (key->type == TCB_KEY_OBJECT_LIST) {
            const yaml_node_t *entries[MAX_MAPS];
            size_t entry_count = 0;
            char sub[300];
            snprintf(sub, sizeof(sub), "%s[].", path);
            for (size_t f = 0; f < n; f++) {
                if (found[f]->type != YAML_SEQUENCE_NODE) {
                    continue;
                }
                for (yaml_node_item_t *it = found[f]->data.sequence.items.start;
                     it < found[f]->data.sequence.items.top && entry_count < MAX_MAPS; it++) {
                    entries[entry_count++] = yaml_document_get_node(&doc, *it);
                }
            }
            if (entry_count == 0) {
                print_error("%s: %s needs one example entry\n", EXAMPLE, path);
                problems++;
                continue;
            }
            check_schema(key->sub, entries, entry_count, sub);
        } else if (key->default_value) {
            for (size_t f = 0; f < n; f++) {
                const char *shown = found[f]->type == YAML_SCALAR_NODE
                                        ? (const char *)found[f]->data.scalar.value
                                        : "";
                shows_default |= strcmp(shown, key->default_value) == 0;
            }
            if (!shows_default) {
                print_error("%s: %s never shows its default '%s'\n", EXAMPLE, path,
                            key->default_value);
                problems++;
            }
        }
    }
}

static void test_example_documents_every_key_with_its_default(void **state)
{
    (void)state;
    FILE *f = fopen(EXAMPLE, "rb");
    assert_non_null(f);
    yaml_parser_t parser;
    assert_true(yaml_parser_initialize(&parser));
    yaml_parser_set_input_file(&parser, f);
    assert_true(yaml_parser_load(&parser, &doc));
    problems = 0;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    check_schema(tcb_config_root_schema(), &root, 1, "");
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    assert_int_equal(problems, 0);
}

static void test_example_loads(void **state)
{
    (void)state;
    setenv("CLEVERTAP_PASSCODE_SHOP_EU", "from-the-environment", 1);
    setenv("TALON_NOTIFICATION_SECRET", "notification-secret", 1);
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_file(EXAMPLE, &diag);
    for (size_t i = 0; i < diag.count; i++) {
        print_error("%s\n", diag.lines[i]);
    }
    assert_non_null(cfg);
    assert_int_equal(cfg->clevertap.account_count, 1);
    assert_string_equal(cfg->clevertap.accounts[0].passcode, "from-the-environment");
    tcb_config_destroy(cfg);
}

/* The shipped file carries no fallback secret: without the variables it does
 * not load, and the errors name the keys. */
static void test_example_ships_no_secret(void **state)
{
    (void)state;
    unsetenv("CLEVERTAP_PASSCODE_SHOP_EU");
    unsetenv("TALON_NOTIFICATION_SECRET");
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_file(EXAMPLE, &diag);
    assert_null(cfg);
    int passcode = 0, secret = 0;
    for (size_t i = 0; i < diag.count; i++) {
        passcode |= strstr(diag.lines[i], "CLEVERTAP_PASSCODE_SHOP_EU") != NULL;
        secret |= strstr(diag.lines[i], "TALON_NOTIFICATION_SECRET") != NULL;
    }
    tcb_config_diag_free(&diag);
    assert_true(passcode);
    assert_true(secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_documents_every_key_with_its_default),
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_example_ships_no_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
