/* The built-in mappings from Talon.One notifications (NotificationType) to
 * CleverTap events; transforms/MAPPINGS.md documents each one. A table only:
 * the transform applies it (transform.c) with mapping.c. */
#ifndef TCB_TRANSFORMS_NOTIFICATIONS_H
#define TCB_TRANSFORMS_NOTIFICATIONS_H

#include "config/config_model.h"

struct tcb_notification_map {
    const char *type;       /* NotificationType */
    const char *event_name; /* CleverTap evtName */
    /* The array holding one object per event ("data" matches data and Data);
     * NULL: the notification itself is the one item. */
    const char *items;
    /* Dotted path (item first, then the notification) to the identity; when
     * it names an array, one event per non-empty entry. */
    const char *identity_field;
    struct tcb_kv_list rename;
    struct tcb_str_list include;
    struct tcb_str_list date_fields;
    /* Non-NULL: this type carries no customer profile; it becomes a dead
     * letter with this reason unless a route gives it a transform. */
    const char *refusal;
};

/* The built-in mapping for a NotificationType, or NULL when unknown.
 * Returns a pointer into a static table. */
const struct tcb_notification_map *tcb_notification_find(const char *type);

#endif
