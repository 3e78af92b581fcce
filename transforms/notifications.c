/* The table of built-in Talon.One notification mappings (see
 * notifications.h and MAPPINGS.md). Field names follow Talon.One's OpenAPI
 * notification schemas, casing included. Data only; no logic beyond lookup. */
#include "transforms/notifications.h"

#include <string.h>

#define LIST(a)                                                                                    \
    {                                                                                              \
        (a), sizeof(a) / sizeof((a)[0])                                                            \
    }

static struct tcb_kv coupon_rename[] = {
    {"value", "CouponCode"},          {"id", "CouponID"},
    {"campaignId", "CampaignID"},     {"ApplicationId", "ApplicationID"},
    {"startDate", "StartDate"},       {"expiryDate", "ExpiryDate"},
    {"usageLimit", "UsageLimit"},     {"discountLimit", "DiscountLimit"},
    {"usageCounter", "UsageCounter"}, {"batchId", "BatchID"},
    {"attributes", "Attributes"},
};
static char *coupon_include[] = {"value",        "id",         "campaignId", "ApplicationId",
                                 "startDate",    "expiryDate", "usageLimit", "discountLimit",
                                 "usageCounter", "batchId",    "attributes"};
static char *coupon_dates[] = {"startDate", "expiryDate"};

static struct tcb_kv expiring_rename[] = {
    {"CouponValue", "CouponCode"},
    {"CampaignId", "CampaignID"},
    {"BatchId", "BatchID"},
};
static char *expiring_include[] = {"CouponValue",  "CampaignId",  "ValidFrom",
                                   "ValidUntil",   "CreatedDate", "UsageLimit",
                                   "UsageCounter", "BatchId",     "Attributes"};
static char *expiring_dates[] = {"ValidFrom", "ValidUntil", "CreatedDate"};

static struct tcb_kv no_rename[] = {{"", ""}};

static char *points_include[] = {
    "Amount",       "LoyaltyProgramID", "SubledgerID", "Reason",          "Operation",
    "TypeOfChange", "StartDate",        "ExpiryDate",  "TransactionUUID", "SessionIntegrationID"};
static char *card_points_include[] = {
    "Amount",     "CardIdentifier",  "LoyaltyProgramID",    "SubledgerID",
    "Reason",     "Operation",       "TypeOfChange",        "StartDate",
    "ExpiryDate", "TransactionUUID", "SessionIntegrationID"};
static char *balance_include[] = {"Amount",        "Operation",           "Reason",
                                  "StartDate",     "ExpiryDate",          "TransactionUUID",
                                  "CurrentPoints", "LoyaltyProgramID",    "SubledgerID",
                                  "TypeOfChange",  "SessionIntegrationID"};
static char *card_balance_include[] = {"Amount",        "Operation",      "Reason",
                                       "StartDate",     "ExpiryDate",     "TransactionUUID",
                                       "CurrentPoints", "CardIdentifier", "LoyaltyProgramID",
                                       "SubledgerID",   "TypeOfChange",   "SessionIntegrationID"};
static char *points_dates[] = {"StartDate", "ExpiryDate"};

static char *expiring_points_include[] = {"AmountOfExpiringPoints", "ExpiryDate",
                                          "LoyaltyProgramID", "SubledgerID"};
static char *expiring_card_include[] = {"AmountOfExpiringPoints", "ExpiryDate", "CardIdentifier",
                                        "LoyaltyProgramID", "SubledgerID"};
static char *expiry_dates[] = {"ExpiryDate"};

static char *pending_include[] = {"Points",           "ActiveOn",    "ExpireOn",
                                  "LoyaltyProgramID", "SubledgerID", "SessionIntegrationID"};
static char *pending_dates[] = {"ActiveOn", "ExpireOn"};

static char *tier_include[] = {"CurrentTier",
                               "OldTier",
                               "NextTier",
                               "CurrentPoints",
                               "PointsRequiredToTheNextTier",
                               "PointsRequiredToRemain",
                               "LoyaltyProgramID",
                               "SubledgerID",
                               "TierExpirationDate",
                               "TimestampOfTierChange"};
static char *tier_dates[] = {"TierExpirationDate", "TimestampOfTierChange"};

#define NO_RENAME                                                                                  \
    {                                                                                              \
        no_rename, 0                                                                               \
    }
#define COUPON(type, event)                                                                        \
    {                                                                                              \
        type, event, "data", "recipientIntegrationId", LIST(coupon_rename), LIST(coupon_include),  \
            LIST(coupon_dates), NULL                                                               \
    }
#define TIER(type, event)                                                                          \
    {                                                                                              \
        type, event, "data", "CustomerProfileID", NO_RENAME, LIST(tier_include), LIST(tier_dates), \
            NULL                                                                                   \
    }
#define REFUSED(type)                                                                              \
    {                                                                                              \
        type, NULL, NULL, NULL, NO_RENAME, {NULL, 0}, {NULL, 0},                                   \
            "this NotificationType carries no customer profile"                                    \
    }

static const struct tcb_notification_map maps[] = {
    COUPON("CouponCreated", "Coupon Created"),
    COUPON("CouponUpdated", "Coupon Updated"),
    COUPON("CouponDeleted", "Coupon Deleted"),
    {"CouponCodeExpiring", "Coupon Code Expiring", "data", "CustomerProfileId",
     LIST(expiring_rename), LIST(expiring_include), LIST(expiring_dates), NULL},
    {"LoyaltyPointsAdded", "Loyalty Points Added", NULL, "ProfileIntegrationID", NO_RENAME,
     LIST(points_include), LIST(points_dates), NULL},
    {"LoyaltyPointsDeducted", "Loyalty Points Deducted", NULL, "ProfileIntegrationID", NO_RENAME,
     LIST(points_include), LIST(points_dates), NULL},
    {"LoyaltyCardPointsAdded", "Loyalty Card Points Added", NULL, "ProfileIntegrationIDs",
     NO_RENAME, LIST(card_points_include), LIST(points_dates), NULL},
    {"LoyaltyCardPointsDeducted", "Loyalty Card Points Deducted", NULL, "ProfileIntegrationIDs",
     NO_RENAME, LIST(card_points_include), LIST(points_dates), NULL},
    {"LoyaltyAddedDeductedPointsBalances", "Loyalty Points Changed", "Actions",
     "ProfileIntegrationID", NO_RENAME, LIST(balance_include), LIST(points_dates), NULL},
    {"LoyaltyCardAddedDeductedPointsBalances", "Loyalty Card Points Changed", "Actions",
     "ProfileIntegrationIDs", NO_RENAME, LIST(card_balance_include), LIST(points_dates), NULL},
    {"LoyaltyPointsExpiring", "Loyalty Points Expiring", "data", "CustomerProfileID", NO_RENAME,
     LIST(expiring_points_include), LIST(expiry_dates), NULL},
    {"LoyaltyCardPointsExpiring", "Loyalty Card Points Expiring", "data", "Profiles", NO_RENAME,
     LIST(expiring_card_include), LIST(expiry_dates), NULL},
    {"LoyaltyPointsPendingToActive", "Loyalty Points Activated", "data", "CustomerProfileID",
     NO_RENAME, LIST(pending_include), LIST(pending_dates), NULL},
    TIER("TierUpgrade", "Tier Upgrade"),
    TIER("TierDowngrade", "Tier Downgrade"),
    TIER("TierWillDowngrade", "Tier Will Downgrade"),
    REFUSED("CouponsDeleted"),
    REFUSED("CouponsUpdated"),
    REFUSED("AsyncCouponsCreated"),
    REFUSED("CampaignNotification"),
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
