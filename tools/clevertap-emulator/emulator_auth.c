/* Account table and constant-time credential comparison. Owns the passcodes;
 * never logs, never prints them, never copies them out. */
#include "tools/clevertap-emulator/emulator_auth.h"

#include "util/secret.h"

#include <stdio.h>
#include <string.h>

int tcb_emu_accounts_add(struct tcb_emu_accounts *accounts, const char *spec, char *err,
                         size_t err_len)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec || colon[1] == '\0') {
        snprintf(err, err_len, "--account needs ID:PASSCODE (both non-empty)");
        return -1;
    }
    size_t id_len = (size_t)(colon - spec);
    size_t pass_len = strlen(colon + 1);
    if (id_len > TCB_EMU_MAX_ID_LEN || pass_len > TCB_EMU_MAX_PASSCODE_LEN) {
        snprintf(err, err_len, "--account: ID at most %d and passcode at most %d characters",
                 TCB_EMU_MAX_ID_LEN, TCB_EMU_MAX_PASSCODE_LEN);
        return -1;
    }
    if (accounts->count >= TCB_EMU_MAX_ACCOUNTS) {
        snprintf(err, err_len, "at most %d --account options", TCB_EMU_MAX_ACCOUNTS);
        return -1;
    }
    struct tcb_emu_account *account = &accounts->items[accounts->count];
    memcpy(account->id, spec, id_len);
    account->id[id_len] = '\0';
    for (int i = 0; i < accounts->count; i++) {
        if (strcmp(accounts->items[i].id, account->id) == 0) {
            snprintf(err, err_len, "--account %s given twice", account->id);
            return -1;
        }
    }
    memcpy(account->passcode, colon + 1, pass_len + 1);
    accounts->count++;
    return 0;
}

int tcb_emu_accounts_check(const struct tcb_emu_accounts *accounts, const char *id,
                           const char *passcode)
{
    int found = -1;
    for (int i = 0; i < accounts->count; i++) {
        const struct tcb_emu_account *account = &accounts->items[i];
        int id_ok = tcb_secret_equal(account->id, id);
        int pass_ok = tcb_secret_equal(account->passcode, passcode);
        if (id_ok & pass_ok) {
            found = i;
        }
    }
    return found;
}
