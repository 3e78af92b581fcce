/* The emulator's accounts ("ID:PASSCODE" from the command line) and the
 * constant-time credential check. Passcodes never leave this module: no
 * logging, no accessor. */
#ifndef TCB_EMULATOR_AUTH_H
#define TCB_EMULATOR_AUTH_H

#include <stddef.h>

#define TCB_EMU_MAX_ACCOUNTS     64
#define TCB_EMU_MAX_ID_LEN       128
#define TCB_EMU_MAX_PASSCODE_LEN 256

struct tcb_emu_account {
    char id[TCB_EMU_MAX_ID_LEN + 1];
    char passcode[TCB_EMU_MAX_PASSCODE_LEN + 1]; /* secret */
};

struct tcb_emu_accounts {
    struct tcb_emu_account items[TCB_EMU_MAX_ACCOUNTS];
    int count;
};

/* Adds "ID:PASSCODE" (split at the first ':'; both parts non-empty). Returns
 * 0, or -1 with a message in err that never contains the passcode. */
int tcb_emu_accounts_add(struct tcb_emu_accounts *accounts, const char *spec, char *err,
                         size_t err_len);

/* Finds the account whose ID and passcode both equal the given ones (either may
 * be NULL = header missing). Every account is compared in full, in time that
 * does not depend on where the strings differ. Returns the account's index, or
 * -1 when none matches. */
int tcb_emu_accounts_check(const struct tcb_emu_accounts *accounts, const char *id,
                           const char *passcode);

#endif
