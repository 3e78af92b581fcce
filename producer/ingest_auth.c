/* Constant-time credential checks for talon-ingest. Account ids are not
 * secret and are matched plainly; passcodes and the notification secret are
 * compared without early exit. Nothing here logs. */
#include "producer/ingest_auth.h"

#include "config/config.h"
#include "util/secret.h"

#include <string.h>
#include <strings.h>

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

static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    return c == '/' ? 63 : -1;
}

/* Decodes base64 (padding optional) into out; returns the length or -1. */
static long base64_decode(const char *in, char *out, size_t out_len)
{
    size_t n = 0;
    unsigned long bits = 0;
    int have = 0;
    const char *p = in;
    for (; *p != '\0' && *p != '='; p++) {
        int v = base64_value(*p);
        if (v < 0) {
            return -1;
        }
        bits = (bits << 6) | (unsigned long)v;
        have += 6;
        if (have >= 8) {
            have -= 8;
            if (n + 1 >= out_len) {
                return -1;
            }
            out[n++] = (char)((bits >> have) & 0xff);
        }
    }
    while (*p == '=') {
        p++;
    }
    return *p == '\0' ? (long)n : -1;
}

int tcb_ingest_basic_password(const char *authorization, char *out, size_t out_len)
{
    if (authorization == NULL || out_len == 0 || strncasecmp(authorization, "basic", 5) != 0 ||
        (authorization[5] != ' ' && authorization[5] != '\t')) {
        return -1;
    }
    const char *token = authorization + 5;
    while (*token == ' ' || *token == '\t') {
        token++;
    }
    char decoded[1024];
    long len = base64_decode(token, decoded, sizeof(decoded));
    const char *colon = len > 0 ? memchr(decoded, ':', (size_t)len) : NULL;
    int ok = colon != NULL && memchr(decoded, '\0', (size_t)len) == NULL &&
             (size_t)(decoded + len - colon - 1) < out_len;
    if (ok) {
        size_t password_len = (size_t)(decoded + len - colon - 1);
        memcpy(out, colon + 1, password_len);
        out[password_len] = '\0';
    }
    explicit_bzero(decoded, sizeof(decoded));
    return ok ? 0 : -1;
}
