/* fuzz-sasl.c: every SASL mechanism against a server's challenges
 *
 * The input is pieces separated by NUL bytes. The first is the name of a
 * mechanism (one that is not available picks one from the list by its
 * bytes), optionally followed by a space and one byte of flags; each
 * other piece is a decoded 334 challenge, as the engine hands it over,
 * where "%0" stands for a NUL byte, "%%" for '%' and "%r" for the nonce
 * of the client's last "r=" (SCRAM's server-first message must repeat
 * the client's random nonce, which no input can know).
 * The mechanisms are those of the plugins in the build tree: auth-basic
 * (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER) and auth-cyrus (what
 * the installed Cyrus SASL client plugins offer: SCRAM-*, DIGEST-MD5,
 * NTLM...).
 *
 * Cyrus SASL's DIGEST-MD5 client crashes on a first challenge of
 * "rspauth=" (a NULL strcmp() inside libdigestmd5.so, reproducer
 * "DIGEST-MD5\0rspauth="), so it is left out unless FUZZ_SASL_ALL=1 is
 * set: it would stop every run at once.
 *
 * Whatever the server sends, a step must either answer (a response,
 * except for a missing initial response) or fail with an SMTPKIT_ERROR
 * and a message; once one has failed, the exchange stays failed or
 * answers again, without crashing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <smtpkit.h>

#include "fuzz-common.h"

#define FLAG_SECURE          (1 << 0) /* the connection has TLS */
#define FLAG_CHANNEL_BINDING (1 << 1) /* ... with channel binding data */
#define FLAG_NO_INITIAL      (1 << 2) /* AUTH without an initial response */
#define FLAG_NO_USERNAME     (1 << 3) /* (OAUTHBEARER's authzid is optional) */

static char **mechanisms;
static guint n_mechanisms;

static SmtpkitAuthMechanism *
new_mechanism (GBytes *head,
               guint  *flags)
{
  gsize len;
  const char *text = g_bytes_get_data (head, &len);
  const char *space = len > 0 ? memchr (text, ' ', len) : NULL;
  g_autofree char *name = g_strndup (len > 0 ? text : "", space != NULL ? (gsize) (space - text) : len);
  static const guint8 binding[] = "tls-exporter channel binding data";
  g_autoptr (GBytes) binding_bytes = g_bytes_new_static (binding, sizeof binding - 1);
  SmtpkitAuthMechanism *mechanism = NULL;
  guint sum = 0;

  *flags = space != NULL && space + 1 < text + len ? (guint8) space[1] : 0;

  for (guint i = 0; i < n_mechanisms && mechanism == NULL; i++)
    if (strcmp (mechanisms[i], name) == 0)
      mechanism = smtpkit_auth_mechanism_new_for_name (name, NULL);
  if (mechanism == NULL)
    {
      for (gsize i = 0; i < len; i++)
        sum += (guint8) text[i];
      mechanism = smtpkit_auth_mechanism_new_for_name (mechanisms[sum % n_mechanisms], NULL);
    }
  fuzz_check (mechanism != NULL);

  g_object_set (mechanism, "username", *flags & FLAG_NO_USERNAME ? NULL : "user@example.org",
                "password", "pencil", "server-name", "mx.example.org", "server-port", 587,
                "secure", (gboolean) (*flags & FLAG_SECURE), NULL);
  if (*flags & FLAG_CHANNEL_BINDING)
    g_object_set (mechanism, "channel-binding", binding_bytes, "channel-binding-type",
                  "tls-exporter", NULL);

  return mechanism;
}

/* The challenge @piece stands for, with the client's last @nonce. */
static GBytes *
expand_challenge (GBytes     *piece,
                  const char *nonce)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (piece, &len);
  GByteArray *out = g_byte_array_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (p[i] != '%' || i + 1 == len)
        g_byte_array_append (out, p + i, 1);
      else if (p[++i] == '0')
        g_byte_array_append (out, (const guint8 *) "", 1);
      else if (p[i] == 'r')
        g_byte_array_append (out, (const guint8 *) nonce, strlen (nonce));
      else
        g_byte_array_append (out, p + i, 1);
    }
  return g_byte_array_free_to_bytes (out);
}

/* Takes the value of "r=" in @response, if any, as the nonce. */
static void
remember_nonce (GBytes  *response,
                char   **nonce)
{
  gsize len;
  const char *p = response != NULL ? g_bytes_get_data (response, &len) : NULL;

  for (gsize i = 0; p != NULL && i + 2 <= len; i++)
    {
      if ((i == 0 || p[i - 1] == ',') && p[i] == 'r' && p[i + 1] == '=')
        {
          gsize end = i + 2;

          while (end < len && p[end] != ',' && p[end] != '\0')
            end++;
          g_free (*nonce);
          *nonce = g_strndup (p + i + 2, end - i - 2);
          return;
        }
    }
}

/* One step; FALSE when it failed (cleanly). */
static gboolean
step (SmtpkitAuthMechanism  *mechanism,
      GBytes                *piece,
      char                 **nonce)
{
  g_autoptr (GBytes) challenge = piece != NULL ? expand_challenge (piece, *nonce) : NULL;
  g_autoptr (GBytes) response = NULL;
  g_autoptr (GError) error = NULL;

  if (!smtpkit_auth_mechanism_step (mechanism, challenge, &response, &error))
    {
      if (fuzz_verbose && error != NULL)
        g_printerr ("fuzz-sasl: %s\n", error->message);
      fuzz_check (error != NULL);
      fuzz_check (error->domain == SMTPKIT_ERROR);
      fuzz_check (error->message != NULL && error->message[0] != '\0');
      fuzz_check (response == NULL);
      return FALSE;
    }
  fuzz_check (error == NULL);
  /* Only the initial response may be missing. */
  fuzz_check (response != NULL || challenge == NULL);
  remember_nonce (response, nonce);
  return TRUE;
}

static void
run_exchange (const guint8 *data,
              gsize         size)
{
  g_autoptr (GPtrArray) pieces = fuzz_split (data, size);
  g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
  g_autofree char *nonce = g_strdup ("");
  gboolean failed = FALSE;
  guint flags;

  mechanism = new_mechanism (pieces->pdata[0], &flags);
  if (!(flags & FLAG_NO_INITIAL))
    failed = !step (mechanism, NULL, &nonce);
  for (guint i = 1; i < pieces->len && !failed; i++)
    failed = !step (mechanism, pieces->pdata[i], &nonce);
  /* A client that goes on after a failure, or after the end. */
  if (pieces->len > 1)
    step (mechanism, pieces->pdata[pieces->len - 1], &nonce);
  (void) smtpkit_auth_mechanism_is_complete (mechanism);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_environment ();
  mechanisms = smtpkit_auth_mechanism_list ();
  n_mechanisms = 0;
  for (guint i = 0; mechanisms[i] != NULL; i++)
    {
      if (g_getenv ("FUZZ_SASL_ALL") == NULL && strcmp (mechanisms[i], "DIGEST-MD5") == 0)
        g_free (mechanisms[i]);
      else
        mechanisms[n_mechanisms++] = mechanisms[i];
    }
  mechanisms[n_mechanisms] = NULL;
  fuzz_check (n_mechanisms > 0);

  /* What the mechanisms set up once per process (Cyrus's plugins, their
   * crypto libraries) is set up here, outside LeakSanitizer's count. */
  for (guint i = 0; i < n_mechanisms; i++)
    {
      static const char challenge[] = "r=%rabc,s=c2FsdA==,i=4096";
      g_autofree char *input = g_strdup_printf ("%s%c%s", mechanisms[i], FUZZ_SEPARATOR,
                                                challenge);

      run_exchange ((const guint8 *) input, strlen (mechanisms[i]) + 1 + strlen (challenge));
    }
  fuzz_initialized ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  run_exchange (data, size);
  return 0;
}
