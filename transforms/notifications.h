/* The built-in mappings from Talon.One notifications (NotificationType) to
 * CleverTap events; transforms/MAPPINGS.md documents each one. A table only:
 * the transform applies it (notify.c) with mapping.c. */
#ifndef TCB_TRANSFORMS_NOTIFICATIONS_H
#define TCB_TRANSFORMS_NOTIFICATIONS_H

#include "transforms/mapping.h"

struct tcb_notification_map {
    const char *type;       /* NotificationType */
    const char *event_name; /* CleverTap evtName */
    /* The array holding one object per event ("data" matches data and Data);
     * NULL: the notification itself is the one item. */
    const char *items;
    /* Path (item first, then the notification) to the identity; when it
     * names an array, one event per non-empty entry. */
    const char *identity_field;
    struct tcb_pair_view rename;
    struct tcb_name_view include;
    struct tcb_name_view date_fields;
    /* Profile properties written when a transform asks for profile records
     * without listing profile_fields (source -> profile key). */
    struct tcb_pair_view profile;
    /* 1: without its item array but with a BatchID, the notification lists
     * no coupon (Talon.One sends only the BatchID above 1000 coupons): a
     * skip under sink.no_user_policy, not a malformed message. */
    int batch_only;
    /* Non-NULL: this type carries no customer profile; it becomes a dead
     * letter with this reason unless a route gives it a transform. */
    const char *refusal;
};

/* The built-in mapping for a NotificationType, or NULL when unknown.
 * Returns a pointer into a static table. */
const struct tcb_notification_map *tcb_notification_find(const char *type);

#endif
