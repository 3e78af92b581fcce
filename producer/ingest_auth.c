/* Constant-time credential checks for talon-ingest. Account ids are not
 * secret and are matched plainly; passcodes and the notification secret are
 * compared without early exit. Nothing here logs. */
#include "producer/ingest_auth.h"

#include "config/config.h"
#include "util/secret.h"

#include <string.h>

const struct tcb_account *tcb_ingest_auth_account(const struct tcb_config *cfg,
                                                  const char *account_id, const char *passcode)
{
    if (account_id == NULL || passcode == NULL) {
        return NULL;
    }
    const struct tcb_account *found = NULL;
    for (size_t i = 0; i < cfg->clevertap.account_count; i++) {
        const struct tcb_account *account = &cfg->clevertap.accounts[i];
        if (account->account_id != NULL && strcmp(account->account_id, account_id) == 0 &&
            tcb_secret_equal(account->passcode, passcode)) {
            found = account;
        }
    }
    return found;
}

int tcb_ingest_auth_notification(const struct tcb_config *cfg, const char *header_value,
                                 const char *basic_password)
{
    const char *secret = cfg->ingest.notification_secret;
    if (secret == NULL || secret[0] == '\0') {
        return 0;
    }
    int header_ok = tcb_secret_equal(secret, header_value);
    int basic_ok = tcb_secret_equal(secret, basic_password);
    return header_ok | basic_ok;
}
