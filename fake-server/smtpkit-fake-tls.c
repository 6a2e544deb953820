/* smtpkit-fake-tls.c: the test CA and the server certificates
 *
 * Generated with GnuTLS the first time they are needed, once per process:
 * no key is ever committed, and the CA is trusted only by the tests that
 * load its file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

#include "smtpkit-fake-server-private.h"

#define HOUR 3600
#define DAY (24 * HOUR)

static const struct
{
  gint64 not_before; /* seconds from now */
  gint64 not_after;
  gboolean self_signed;
  gboolean other_name; /* SAN DNS:other.example only */
} specs[SMTPKIT_N_CERTS] = {
  [SMTPKIT_CERT_GOOD] = { -HOUR, DAY },
  [SMTPKIT_CERT_EXPIRED] = { -2 * DAY, -DAY },
  [SMTPKIT_CERT_WRONG_NAME] = { -HOUR, DAY, FALSE, TRUE },
  [SMTPKIT_CERT_UNTRUSTED] = { -HOUR, DAY, TRUE },
};

typedef struct
{
  GError *error;
  char *ca_file;
  GTlsCertificate *certificates[SMTPKIT_N_CERTS];
} Certificates;

static gboolean
check (int          ret,
       const char  *what,
       GError     **error)
{
  if (ret >= 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "GnuTLS %s: %s", what, gnutls_strerror (ret));
  return FALSE;
}

/* Appends @crt or @key as PEM to @out. */
static gboolean
append_pem (GString                *out,
            gnutls_x509_crt_t       crt,
            gnutls_x509_privkey_t   key,
            GError                **error)
{
  gnutls_datum_t pem = { NULL, 0 };
  int ret = crt != NULL ? gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &pem)
                        : gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                             GNUTLS_PKCS_PLAIN, &pem);

  if (!check (ret, "export", error))
    return FALSE;
  g_string_append_len (out, (const char *) pem.data, pem.size);
  gnutls_free (pem.data);
  return TRUE;
}

static gboolean
add_names (gnutls_x509_crt_t   crt,
           gboolean            other_name,
           GError            **error)
{
  static const char *const dns[] = { "localhost", "fake.test" };
  static const guint8 ipv4[4] = { 127, 0, 0, 1 };
  static const guint8 ipv6[16] = { [15] = 1 };

  if (other_name)
    return check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, "other.example",
                                                        strlen ("other.example"), GNUTLS_FSAN_APPEND),
                  "SAN", error);
  for (guint i = 0; i < G_N_ELEMENTS (dns); i++)
    if (!check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, dns[i],
                                                      strlen (dns[i]), GNUTLS_FSAN_APPEND),
                "SAN", error))
      return FALSE;
  return check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, ipv4, sizeof ipv4,
                                                      GNUTLS_FSAN_APPEND), "SAN", error) &&
         check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, ipv6, sizeof ipv6,
                                                      GNUTLS_FSAN_APPEND), "SAN", error);
}

/* A certificate for @key, valid from @not_before to @not_after (absolute
 * times), signed by @issuer (itself when NULL). Without @cn it is the CA. */
static gboolean
make_certificate (gnutls_x509_crt_t      *crt,
                  gnutls_x509_privkey_t   key,
                  const char             *cn,
                  gint64                  not_before,
                  gint64                  not_after,
                  gboolean                other_name,
                  gnutls_x509_crt_t       issuer,
                  gnutls_x509_privkey_t   issuer_key,
                  GError                **error)
{
  g_autofree char *dn = g_strdup_printf ("CN=%s,O=smtpkit fake server",
                                         cn != NULL ? cn : "smtpkit test CA");
  guint8 serial[16], key_id[64];
  size_t key_id_size = sizeof key_id;
  gboolean ca = cn == NULL;

  for (guint i = 0; i < sizeof serial; i++)
    serial[i] = g_random_int_range (0, 256);
  serial[0] &= 0x7f; /* positive */

  return check (gnutls_x509_crt_init (crt), "init", error) &&
         check (gnutls_x509_crt_set_version (*crt, 3), "version", error) &&
         check (gnutls_x509_crt_set_serial (*crt, serial, sizeof serial), "serial", error) &&
         check (gnutls_x509_crt_set_activation_time (*crt, not_before), "validity", error) &&
         check (gnutls_x509_crt_set_expiration_time (*crt, not_after), "validity", error) &&
         check (gnutls_x509_crt_set_dn (*crt, dn, NULL), "DN", error) &&
         check (gnutls_x509_crt_set_key (*crt, key), "key", error) &&
         check (gnutls_x509_crt_set_basic_constraints (*crt, ca, -1), "basic constraints", error) &&
         check (gnutls_x509_crt_set_key_usage (*crt, ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                                        : GNUTLS_KEY_DIGITAL_SIGNATURE),
                "key usage", error) &&
         (ca || check (gnutls_x509_crt_set_key_purpose_oid (*crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                       "key purpose", error)) &&
         (ca || add_names (*crt, other_name, error)) &&
         check (gnutls_x509_crt_get_key_id (*crt, 0, key_id, &key_id_size), "key id", error) &&
         check (gnutls_x509_crt_set_subject_key_id (*crt, key_id, key_id_size), "key id", error) &&
         check (gnutls_x509_crt_sign2 (*crt, issuer != NULL ? issuer : *crt,
                                       issuer_key != NULL ? issuer_key : key,
                                       GNUTLS_DIG_SHA256, 0),
                "sign", error);
}

/* ECDSA P-256: a key takes well under a millisecond. */
static gboolean
make_key (gnutls_x509_privkey_t  *key,
          GError                **error)
{
  return check (gnutls_x509_privkey_init (key), "key", error) &&
         check (gnutls_x509_privkey_generate (*key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0),
                "key", error);
}

static gboolean
make_all (Certificates  *c,
          GError       **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gnutls_x509_privkey_t ca_key = NULL;
  gnutls_x509_crt_t ca = NULL;
  g_autoptr (GString) ca_pem = g_string_new (NULL);
  const char *dir = smtpkit_fake_server_private_dir (error);
  gboolean ok;

  ok = dir != NULL && make_key (&ca_key, error) &&
       make_certificate (&ca, ca_key, NULL, now - 7 * DAY, now + 7 * DAY, FALSE, NULL, NULL, error) &&
       append_pem (ca_pem, ca, NULL, error);
  for (guint i = 0; ok && i < SMTPKIT_N_CERTS; i++)
    {
      g_autofree char *cn = g_strdup_printf ("%s.fake.test", smtpkit_cert_kind_names[i]);
      g_autoptr (GString) pem = g_string_new (NULL);
      gnutls_x509_privkey_t key = NULL;
      gnutls_x509_crt_t crt = NULL;

      ok = make_key (&key, error) &&
           make_certificate (&crt, key, cn, now + specs[i].not_before, now + specs[i].not_after,
                             specs[i].other_name, specs[i].self_signed ? NULL : ca,
                             specs[i].self_signed ? NULL : ca_key, error) &&
           append_pem (pem, crt, NULL, error) && append_pem (pem, NULL, key, error) &&
           (c->certificates[i] = g_tls_certificate_new_from_pem (pem->str, pem->len, error)) != NULL;
      if (crt != NULL)
        gnutls_x509_crt_deinit (crt);
      if (key != NULL)
        gnutls_x509_privkey_deinit (key);
    }
  if (ok)
    {
      c->ca_file = g_build_filename (dir, "ca.pem", NULL);
      ok = g_file_set_contents (c->ca_file, ca_pem->str, ca_pem->len, error);
    }
  if (ca != NULL)
    gnutls_x509_crt_deinit (ca);
  if (ca_key != NULL)
    gnutls_x509_privkey_deinit (ca_key);
  return ok;
}

static gpointer
make_certificates (gpointer data)
{
  Certificates *c = g_new0 (Certificates, 1);

  if (!make_all (c, &c->error))
    {
      g_prefix_error (&c->error, "cannot make the test certificates: ");
      g_clear_pointer (&c->ca_file, g_free);
      for (guint i = 0; i < SMTPKIT_N_CERTS; i++)
        g_clear_object (&c->certificates[i]);
    }
  return c;
}

static const Certificates *
get_certificates (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, make_certificates, NULL);
}

/* For the player and the sink: the certificate of @kind, or NULL with the
 * reason. */
GTlsCertificate *
smtpkit_fake_tls_get_certificate (SmtpkitCertKind   kind,
                                  GError          **error)
{
  const Certificates *c = get_certificates ();

  if (c->error != NULL)
    g_propagate_error (error, g_error_copy (c->error));
  return c->certificates[kind];
}

/**
 * smtpkit_fake_server_get_ca_file:
 *
 * The test CA that issued the fake server's certificates, as a PEM file,
 * for a client to trust with g_tls_file_database_new(). The CA and the
 * certificates are generated the first time they are asked for, once per
 * process, in a private temporary directory removed at exit.
 *
 * Returns: (transfer none) (type filename) (nullable): the path, or %NULL
 *   (with a warning) when the certificates cannot be made
 */
const char *
smtpkit_fake_server_get_ca_file (void)
{
  const Certificates *c = get_certificates ();

  if (c->error != NULL)
    g_warning ("smtpkit-fake-server: %s", c->error->message);
  return c->ca_file;
}

/**
 * smtpkit_fake_server_get_certificate:
 * @kind: `good`, `expired`, `wrong-name` or `untrusted`
 *
 * A server certificate with its private key. `good` is issued by the CA
 * of [func@FakeServer.get_ca_file] for `localhost`, `fake.test`,
 * `127.0.0.1` and `::1`, valid from an hour ago for a day; `expired` is the
 * same but expired yesterday; `wrong-name` names only `other.example`;
 * `untrusted` is like `good` but self-signed. For
 * [property@FakeServer:tls-certificate], or for a test's own server.
 *
 * Returns: (transfer none) (nullable): the certificate, kept for the life
 *   of the process; %NULL (with a warning) when the certificates cannot
 *   be made
 */
GTlsCertificate *
smtpkit_fake_server_get_certificate (const char *kind)
{
  int k = smtpkit_cert_kind_from_name (kind);
  const Certificates *c;

  g_return_val_if_fail (k >= 0, NULL);

  c = get_certificates ();
  if (c->error != NULL)
    g_warning ("smtpkit-fake-server: %s", c->error->message);
  return c->certificates[k];
}
