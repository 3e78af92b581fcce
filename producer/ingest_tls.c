/* GnuTLS server credentials with a reference count per loaded generation,
 * so a reload swaps what new sessions get while old sessions finish on
 * theirs; sessions are non-blocking and never touch the socket's life. */
#include "producer/ingest_tls.h"

#include "util/alloc.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* TLS 1.2 and 1.3 with GnuTLS's default ("NORMAL") ciphers. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* One loaded certificate and key, shared by the sessions made with it. */
struct creds {
    gnutls_certificate_credentials_t cred;
    atomic_int refs;
};

struct tcb_tls {
    const char *cert_file;
    const char *key_file;
    gnutls_priority_t priorities;
    pthread_mutex_t lock; /* guards current */
    struct creds *current;
};

struct tcb_tls_session {
    gnutls_session_t session;
    struct creds *creds;
};

static void creds_release(struct creds *creds)
{
    if (creds != NULL && atomic_fetch_sub(&creds->refs, 1) == 1) {
        gnutls_certificate_free_credentials(creds->cred);
        free(creds);
    }
}

/* Reads and checks a certificate chain and its key into cred. Parsed here
 * rather than by gnutls_certificate_set_x509_key_file2, which leaks on its
 * error paths (GnuTLS 3.7.9): a failed reload must cost nothing. */
static int load_pair(gnutls_certificate_credentials_t cred, const char *cert_file,
                     const char *key_file, char *err, size_t err_len)
{
    gnutls_datum_t cert_pem = {NULL, 0};
    gnutls_datum_t key_pem = {NULL, 0};
    gnutls_x509_crt_t *chain = NULL;
    unsigned int chain_len = 0;
    gnutls_x509_privkey_t key = NULL;
    const char *what = "tls_cert_file";
    int rc = gnutls_load_file(cert_file, &cert_pem);
    if (rc >= 0) {
        rc = gnutls_x509_crt_list_import2(&chain, &chain_len, &cert_pem, GNUTLS_X509_FMT_PEM, 0);
    }
    if (rc >= 0 && chain_len > 0 && gnutls_x509_crt_get_expiration_time(chain[0]) < time(NULL)) {
        snprintf(err, err_len, "tls_cert_file: the certificate has expired");
        rc = -1;
        goto out;
    }
    if (rc >= 0) {
        what = "tls_key_file";
        rc = gnutls_load_file(key_file, &key_pem);
    }
    if (rc >= 0) {
        rc = gnutls_x509_privkey_init(&key);
    }
    if (rc >= 0) {
        rc = gnutls_x509_privkey_import2(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (rc >= 0) {
        what = "tls_cert_file / tls_key_file";
        rc = gnutls_certificate_set_x509_key(cred, chain, chain_len, key); /* copies */
    }
    if (rc < 0) {
        snprintf(err, err_len, "%s cannot be used: %s", what, gnutls_strerror(rc));
    }
out:
    for (unsigned int i = 0; i < chain_len; i++) {
        gnutls_x509_crt_deinit(chain[i]);
    }
    gnutls_free(chain);
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key);
    }
    gnutls_free(cert_pem.data);
    if (key_pem.data != NULL) {
        explicit_bzero(key_pem.data, key_pem.size); /* the private key */
        gnutls_free(key_pem.data);
    }
    return rc < 0 ? -1 : 0;
}

static struct creds *creds_load(const char *cert_file, const char *key_file, char *err,
                                size_t err_len)
{
    struct creds *creds = tcb_xcalloc(1, sizeof(*creds));
    if (gnutls_certificate_allocate_credentials(&creds->cred) < 0) {
        tcb_out_of_memory(); /* its only failure; the OOM policy of util/alloc.h */
    }
    if (load_pair(creds->cred, cert_file, key_file, err, err_len) != 0) {
        gnutls_certificate_free_credentials(creds->cred);
        free(creds);
        return NULL;
    }
    atomic_store(&creds->refs, 1); /* the holder's reference */
    return creds;
}

struct tcb_tls *tcb_tls_create(const char *cert_file, const char *key_file, char *err,
                               size_t err_len)
{
    struct tcb_tls *tls = tcb_xcalloc(1, sizeof(*tls));
    tls->cert_file = cert_file;
    tls->key_file = key_file;
    pthread_mutex_init(&tls->lock, NULL);
    int rc = gnutls_priority_init(&tls->priorities, TLS_PRIORITIES, NULL);
    if (rc < 0) {
        snprintf(err, err_len, "TLS priorities: %s", gnutls_strerror(rc));
        tls->priorities = NULL;
        tcb_tls_destroy(tls);
        return NULL;
    }
    tls->current = creds_load(cert_file, key_file, err, err_len);
    if (tls->current == NULL) {
        tcb_tls_destroy(tls);
        return NULL;
    }
    return tls;
}

int tcb_tls_reload(struct tcb_tls *tls, char *err, size_t err_len)
{
    struct creds *fresh = creds_load(tls->cert_file, tls->key_file, err, err_len);
    if (fresh == NULL) {
        return -1;
    }
    pthread_mutex_lock(&tls->lock);
    struct creds *old = tls->current;
    tls->current = fresh;
    pthread_mutex_unlock(&tls->lock);
    creds_release(old); /* freed once its last session closes */
    return 0;
}

void tcb_tls_destroy(struct tcb_tls *tls)
{
    if (tls == NULL) {
        return;
    }
    creds_release(tls->current);
    if (tls->priorities != NULL) {
        gnutls_priority_deinit(tls->priorities);
    }
    pthread_mutex_destroy(&tls->lock);
    free(tls);
}

struct tcb_tls_session *tcb_tls_session_new(struct tcb_tls *tls, int fd)
{
    struct tcb_tls_session *s = tcb_xcalloc(1, sizeof(*s));
    int rc = gnutls_init(&s->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
    if (rc == GNUTLS_E_MEMORY_ERROR) {
        tcb_out_of_memory(); /* the OOM policy of util/alloc.h */
    }
    if (rc < 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&tls->lock);
    s->creds = tls->current;
    atomic_fetch_add(&s->creds->refs, 1);
    pthread_mutex_unlock(&tls->lock);
    if (gnutls_priority_set(s->session, tls->priorities) < 0 ||
        gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, s->creds->cred) < 0) {
        tcb_tls_session_close(s);
        return NULL;
    }
    gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_IGNORE);
    gnutls_handshake_set_timeout(s->session, 0); /* the server's head deadline bounds it */
    gnutls_transport_set_int(s->session, fd);
    return s;
}

int tcb_tls_handshake(struct tcb_tls_session *session)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        int rc = gnutls_handshake(session->session);
        if (rc == GNUTLS_E_SUCCESS) {
            return 0;
        }
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
            return TCB_TLS_AGAIN;
        }
        if (gnutls_error_is_fatal(rc)) {
            return -1;
        }
        /* a warning alert: the handshake goes on */
    }
    return -1;
}

ssize_t tcb_tls_recv(struct tcb_tls_session *session, void *buf, size_t len)
{
    ssize_t n = gnutls_record_recv(session->session, buf, len);
    if (n >= 0) {
        return n;
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        return TCB_TLS_AGAIN;
    }
    if (n == GNUTLS_E_PREMATURE_TERMINATION) {
        return 0; /* closed without close_notify: the same to us */
    }
    return -1;
}

ssize_t tcb_tls_send(struct tcb_tls_session *session, const void *buf, size_t len)
{
    ssize_t n = gnutls_record_send(session->session, buf, len);
    if (n >= 0) {
        return n;
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        return TCB_TLS_AGAIN;
    }
    return -1;
}

int tcb_tls_wants_write(const struct tcb_tls_session *session)
{
    return gnutls_record_get_direction(session->session) == 1;
}

void tcb_tls_session_close(struct tcb_tls_session *session)
{
    if (session == NULL) {
        return;
    }
    gnutls_bye(session->session, GNUTLS_SHUT_WR); /* non-blocking: best effort */
    gnutls_deinit(session->session);
    creds_release(session->creds);
    free(session);
}
