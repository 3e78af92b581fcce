/* Look-ups over a loaded configuration: accounts by name or id, transforms by
 * name, and each region's Upload API host. Pure data access; no YAML, no I/O. */
#include "config/config_model.h"

#include <string.h>

static const struct {
    const char *region;
    const char *base_url;
} region_hosts[] = {
    {"in1", "https://in1.api.clevertap.com"},   {"sg1", "https://sg1.api.clevertap.com"},
    {"us1", "https://us1.api.clevertap.com"},   {"aps3", "https://aps3.api.clevertap.com"},
    {"mec1", "https://mec1.api.clevertap.com"}, {"eu1", "https://api.clevertap.com"},
};

const char *tcb_region_base_url(const char *region)
{
    for (size_t i = 0; region && i < sizeof(region_hosts) / sizeof(region_hosts[0]); i++) {
        if (strcmp(region_hosts[i].region, region) == 0) {
            return region_hosts[i].base_url;
        }
    }
    return NULL;
}

const char *tcb_account_base_url(const struct tcb_account *account)
{
    if (account->endpoint && account->endpoint[0]) {
        return account->endpoint;
    }
    return tcb_region_base_url(account->region);
}

const struct tcb_account *tcb_config_find_account(const struct tcb_config *cfg, const char *key)
{
    for (size_t i = 0; key && i < cfg->clevertap.account_count; i++) {
        const struct tcb_account *a = &cfg->clevertap.accounts[i];
        if ((a->name && strcmp(a->name, key) == 0) ||
            (a->account_id && strcmp(a->account_id, key) == 0)) {
            return a;
        }
    }
    return NULL;
}

const struct tcb_transform_spec *tcb_config_find_transform(const struct tcb_config *cfg,
                                                           const char *name)
{
    for (size_t i = 0; name && i < cfg->transform_count; i++) {
        if (cfg->transforms[i].name && strcmp(cfg->transforms[i].name, name) == 0) {
            return &cfg->transforms[i];
        }
    }
    return NULL;
}
