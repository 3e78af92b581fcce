/* The table of built-in Talon.One notification mappings (see
 * notifications.h and MAPPINGS.md). Field names follow Talon.One's OpenAPI
 * notification schemas, casing included. Data only; no logic beyond lookup. */
#include "transforms/notifications.h"

#include <string.h>

#define LIST(a)                                                                                    \
    {                                                                                              \
        (a), sizeof(a) / sizeof((a)[0])                                                            \
    }

static const struct tcb_pair coupon_rename[] = {
    {"value", "CouponCode"},          {"id", "CouponID"},
    {"campaignId", "CampaignID"},     {"ApplicationId", "ApplicationID"},
    {"startDate", "StartDate"},       {"expiryDate", "ExpiryDate"},
    {"usageLimit", "UsageLimit"},     {"discountLimit", "DiscountLimit"},
    {"usageCounter", "UsageCounter"}, {"batchId", "BatchID"},
    {"attributes", "Attributes"},
};
static const char *const coupon_include[] = {
    "value",        "id",         "campaignId", "ApplicationId",
    "startDate",    "expiryDate", "usageLimit", "discountLimit",
    "usageCounter", "batchId",    "attributes"};
static const char *const coupon_dates[] = {"startDate", "expiryDate"};

static const struct tcb_pair expiring_rename[] = {
    {"CouponValue", "CouponCode"},
    {"CampaignId", "CampaignID"},
    {"BatchId", "BatchID"},
};
static const char *const expiring_include[] = {"CouponValue",  "CampaignId",  "ValidFrom",
                                               "ValidUntil",   "CreatedDate", "UsageLimit",
                                               "UsageCounter", "BatchId",     "Attributes"};
static const char *const expiring_dates[] = {"ValidFrom", "ValidUntil", "CreatedDate"};

static const char *const points_include[] = {
    "Amount",       "LoyaltyProgramID", "SubledgerID", "Reason",          "Operation",
    "TypeOfChange", "StartDate",        "ExpiryDate",  "TransactionUUID", "SessionIntegrationID"};
static const char *const card_points_include[] = {
    "Amount",     "CardIdentifier",  "LoyaltyProgramID",    "SubledgerID",
    "Reason",     "Operation",       "TypeOfChange",        "StartDate",
    "ExpiryDate", "TransactionUUID", "SessionIntegrationID"};
static const char *const balance_include[] = {
    "Amount",        "Operation",           "Reason",
    "StartDate",     "ExpiryDate",          "TransactionUUID",
    "CurrentPoints", "LoyaltyProgramID",    "SubledgerID",
    "TypeOfChange",  "SessionIntegrationID"};
static const char *const card_balance_include[] = {
    "Amount",           "Operation",       "Reason",        "StartDate",
    "ExpiryDate",       "TransactionUUID", "CurrentPoints", "CardIdentifier",
    "LoyaltyProgramID", "SubledgerID",     "TypeOfChange",  "SessionIntegrationID"};
static const char *const points_dates[] = {"StartDate", "ExpiryDate"};

static const char *const expiring_points_include[] = {"AmountOfExpiringPoints", "ExpiryDate",
                                                      "LoyaltyProgramID", "SubledgerID"};
static const char *const expiring_card_include[] = {
    "AmountOfExpiringPoints", "ExpiryDate", "CardIdentifier", "LoyaltyProgramID", "SubledgerID"};
static const char *const expiry_dates[] = {"ExpiryDate"};

static const char *const pending_include[] = {
    "Points", "ActiveOn", "ExpireOn", "LoyaltyProgramID", "SubledgerID", "SessionIntegrationID"};
static const char *const pending_dates[] = {"ActiveOn", "ExpireOn"};

static const char *const tier_include[] = {"CurrentTier",
                                           "OldTier",
                                           "NextTier",
                                           "CurrentPoints",
                                           "PointsRequiredToTheNextTier",
                                           "PointsRequiredToRemain",
                                           "LoyaltyProgramID",
                                           "SubledgerID",
                                           "TierExpirationDate",
                                           "TimestampOfTierChange"};
static const char *const tier_dates[] = {"TierExpirationDate", "TimestampOfTierChange"};

/* Default profile properties (transforms with `profile: also | only` and no
 * profile_fields): what a marketer segments on after a tier or balance change. */
static const struct tcb_pair tier_profile[] = {
    {"CurrentTier", "Loyalty Tier"},
    {"CurrentPoints", "Loyalty Points"},
    {"TierExpirationDate", "Loyalty Tier Expiry"},
};
static const struct tcb_pair balance_profile[] = {{"CurrentPoints", "Loyalty Points"}};
static const struct tcb_pair card_balance_profile[] = {{"CurrentPoints", "Loyalty Card Points"}};

#define NONE                                                                                       \
    {                                                                                              \
        NULL, 0                                                                                    \
    }
#define COUPON(type, event, batch_only)                                                            \
    {                                                                                              \
        type, event, "data", "recipientIntegrationId", LIST(coupon_rename), LIST(coupon_include),  \
            LIST(coupon_dates), NONE, batch_only, NULL                                             \
    }
#define TIER(type, event)                                                                          \
    {                                                                                              \
        type, event, "data", "CustomerProfileID", NONE, LIST(tier_include), LIST(tier_dates),      \
            LIST(tier_profile), 0, NULL                                                            \
    }
#define REFUSED(type)                                                                              \
    {                                                                                              \
        type, NULL, NULL, NULL, NONE, NONE, NONE, NONE, 0,                                         \
            "this NotificationType carries no customer profile"                                    \
    }

static const struct tcb_notification_map maps[] = {
    COUPON("CouponCreated", "Coupon Created", 1),
    COUPON("CouponUpdated", "Coupon Updated", 0),
    COUPON("CouponDeleted", "Coupon Deleted", 0),
    {"CouponCodeExpiring", "Coupon Code Expiring", "data", "CustomerProfileId",
     LIST(expiring_rename), LIST(expiring_include), LIST(expiring_dates), NONE, 0, NULL},
    {"LoyaltyPointsAdded", "Loyalty Points Added", NULL, "ProfileIntegrationID", NONE,
     LIST(points_include), LIST(points_dates), NONE, 0, NULL},
    {"LoyaltyPointsDeducted", "Loyalty Points Deducted", NULL, "ProfileIntegrationID", NONE,
     LIST(points_include), LIST(points_dates), NONE, 0, NULL},
    {"LoyaltyCardPointsAdded", "Loyalty Card Points Added", NULL, "ProfileIntegrationIDs", NONE,
     LIST(card_points_include), LIST(points_dates), NONE, 0, NULL},
    {"LoyaltyCardPointsDeducted", "Loyalty Card Points Deducted", NULL, "ProfileIntegrationIDs",
     NONE, LIST(card_points_include), LIST(points_dates), NONE, 0, NULL},
    {"LoyaltyAddedDeductedPointsBalances", "Loyalty Points Changed", "Actions",
     "ProfileIntegrationID", NONE, LIST(balance_include), LIST(points_dates), LIST(balance_profile),
     0, NULL},
    {"LoyaltyCardAddedDeductedPointsBalances", "Loyalty Card Points Changed", "Actions",
     "ProfileIntegrationIDs", NONE, LIST(card_balance_include), LIST(points_dates),
     LIST(card_balance_profile), 0, NULL},
    {"LoyaltyPointsExpiring", "Loyalty Points Expiring", "data", "CustomerProfileID", NONE,
     LIST(expiring_points_include), LIST(expiry_dates), NONE, 0, NULL},
    {"LoyaltyCardPointsExpiring", "Loyalty Card Points Expiring", "data", "Profiles", NONE,
     LIST(expiring_card_include), LIST(expiry_dates), NONE, 0, NULL},
    /* Sent on a schedule before the pending points become active (ActiveOn
     * says when): the name must not say they already are. */
    {"LoyaltyPointsPendingToActive", "Loyalty Points Becoming Active", "data", "CustomerProfileID",
     NONE, LIST(pending_include), LIST(pending_dates), NONE, 0, NULL},
    TIER("TierUpgrade", "Tier Upgrade"),
    TIER("TierDowngrade", "Tier Downgrade"),
    TIER("TierWillDowngrade", "Tier Will Downgrade"),
    REFUSED("CouponsDeleted"),
    REFUSED("CouponsUpdated"),
    REFUSED("AsyncCouponsCreated"),
    REFUSED("CampaignNotification"),
    REFUSED("CampaignEvaluationTreeChanged"),
    REFUSED("StrikethroughPrice"),
};

const struct tcb_notification_map *tcb_notification_find(const char *type)
{
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        if (strcmp(maps[i].type, type) == 0) {
            return &maps[i];
        }
    }
    return NULL;
}
