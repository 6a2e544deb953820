/* test-auth-mechanisms.c: the SASL mechanisms' step functions
 *
 * Every mechanism of the auth-basic plugin, byte for byte against the
 * RFCs' examples and the providers' documented formats, and its error
 * cases; the mechanism registry (order, names); and the auth-cyrus
 * plugin's SCRAM driven against Cyrus SASL's own server side, in this
 * process, with a throw-away sasldb.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <string.h>

#include <glib/gstdio.h>
#include <sasl/sasl.h>

/* ---- helpers ---------------------------------------------------------------- */

/* Whether Cyrus SASL's SCRAM plugin is installed, as its server side says:
 * then the auth-cyrus plugin must offer SCRAM, and a failure to is a bug
 * rather than a reason to skip. */
static gboolean cyrus_scram_installed;

static SmtpkitAuthMechanism *
new_mechanism (const char *name,
               const char *first_property,
               ...)
{
  g_autoptr (GError) error = NULL;
  SmtpkitAuthMechanism *mechanism = smtpkit_auth_mechanism_new_for_name (name, &error);
  va_list args;

  g_assert_no_error (error);
  g_assert_nonnull (mechanism);
  va_start (args, first_property);
  g_object_set_valist (G_OBJECT (mechanism), first_property, args);
  va_end (args);
  return mechanism;
}

/* One step that must succeed; @challenge NULL asks for the initial
 * response. */
static GBytes *
step (SmtpkitAuthMechanism *mechanism,
      const char           *challenge,
      gsize                 challenge_len)
{
  g_autoptr (GBytes) bytes = challenge ? g_bytes_new (challenge, challenge_len) : NULL;
  g_autoptr (GError) error = NULL;
  GBytes *response = NULL;
  gboolean ok;

  ok = smtpkit_auth_mechanism_step (mechanism, bytes, &response, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return response;
}

#define STEP_STR(mechanism, challenge) step ((mechanism), (challenge), strlen (challenge))

/* A step that must fail with @code. */
static void
step_fails (SmtpkitAuthMechanism *mechanism,
            const char           *challenge,
            gint                  code,
            const char           *message_part)
{
  g_autoptr (GBytes) bytes = challenge ? g_bytes_new (challenge, strlen (challenge)) : NULL;
  g_autoptr (GError) error = NULL;
  GBytes *response = NULL;

  g_assert_false (smtpkit_auth_mechanism_step (mechanism, bytes, &response, &error));
  g_assert_error (error, SMTPKIT_ERROR, code);
  g_assert_null (response);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("error “%s” does not mention “%s”", error->message, message_part);
}

static void
assert_bytes (GBytes     *bytes,
              const char *expected,
              gsize       expected_len)
{
  gconstpointer data;
  gsize len;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  g_assert_cmpmem (data, len, expected, expected_len);
}

/* Compares and frees. */
static void
check_bytes (GBytes     *bytes,
             const char *expected,
             gsize       expected_len)
{
  assert_bytes (bytes, expected, expected_len);
  g_bytes_unref (bytes);
}

#define CHECK_LITERAL(bytes, literal) check_bytes ((bytes), (literal), sizeof (literal) - 1)

static gboolean
uses_password (SmtpkitAuthMechanism *mechanism)
{
  return smtpkit_auth_mechanism_uses_password (mechanism);
}

/* ---- PLAIN ------------------------------------------------------------------- */

static void
test_plain_initial_response (void)
{
  g_autoptr (SmtpkitAuthMechanism) plain =
    new_mechanism ("PLAIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  /* RFC 4616 §4, the first example. */
  g_assert_true (uses_password (plain));
  CHECK_LITERAL (step (plain, NULL, 0), "\0tim\0tanstaaftanstaaf");
}

static void
test_plain_no_initial_response (void)
{
  g_autoptr (SmtpkitAuthMechanism) plain =
    new_mechanism ("PLAIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  /* AUTH PLAIN alone: the server's empty 334 asks for the message. */
  CHECK_LITERAL (step (plain, "", 0), "\0tim\0tanstaaftanstaaf");
  step_fails (plain, "", SMTPKIT_ERROR_AUTHENTICATION, "PLAIN");
}

static void
test_plain_extra_step (void)
{
  g_autoptr (SmtpkitAuthMechanism) plain =
    new_mechanism ("PLAIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  CHECK_LITERAL (step (plain, NULL, 0), "\0tim\0tanstaaftanstaaf");
  step_fails (plain, "", SMTPKIT_ERROR_AUTHENTICATION, "last message");
  step_fails (plain, "more?", SMTPKIT_ERROR_AUTHENTICATION, "PLAIN");
}

static void
test_plain_utf8 (void)
{
  g_autoptr (SmtpkitAuthMechanism) plain =
    new_mechanism ("PLAIN", "username", "jürgen", "password", "pässwörd", NULL);

  CHECK_LITERAL (step (plain, NULL, 0), "\0j\xc3\xbcrgen\0p\xc3\xa4ssw\xc3\xb6rd");
}

static void
test_plain_missing_credentials (void)
{
  g_autoptr (SmtpkitAuthMechanism) no_password =
    new_mechanism ("PLAIN", "username", "tim", NULL);
  g_autoptr (SmtpkitAuthMechanism) empty_password =
    new_mechanism ("PLAIN", "username", "tim", "password", "", NULL);
  g_autoptr (SmtpkitAuthMechanism) no_username =
    new_mechanism ("PLAIN", "password", "tanstaaftanstaaf", NULL);

  step_fails (no_password, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
  step_fails (empty_password, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
  step_fails (no_username, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "user name");
  step_fails (no_username, "", SMTPKIT_ERROR_INVALID_ARGUMENT, "user name");
}

static void
test_plain_invalid_utf8 (void)
{
  g_autoptr (SmtpkitAuthMechanism) bad_password =
    new_mechanism ("PLAIN", "username", "tim", "password", "p\xe4sswort", NULL);
  g_autoptr (SmtpkitAuthMechanism) bad_username =
    new_mechanism ("PLAIN", "username", "j\xfcrgen", "password", "secret", NULL);

  step_fails (bad_password, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "UTF-8");
  step_fails (bad_username, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "UTF-8");
}

/* ---- LOGIN ------------------------------------------------------------------- */

static void
test_login_initial_response (void)
{
  g_autoptr (SmtpkitAuthMechanism) login =
    new_mechanism ("LOGIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  g_assert_true (uses_password (login));
  /* As smtplib with initial_response_ok: AUTH LOGIN dGlt, then the
   * password for the one prompt. */
  CHECK_LITERAL (step (login, NULL, 0), "tim");
  CHECK_LITERAL (STEP_STR (login, "Password:"), "tanstaaftanstaaf");
  step_fails (login, "Password:", SMTPKIT_ERROR_AUTHENTICATION, "LOGIN");
}

static void
test_login_challenges (void)
{
  g_autoptr (SmtpkitAuthMechanism) login =
    new_mechanism ("LOGIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  /* By position, whatever the prompts say. */
  CHECK_LITERAL (STEP_STR (login, "Benutzername:"), "tim");
  CHECK_LITERAL (STEP_STR (login, "Username:"), "tanstaaftanstaaf");
  step_fails (login, "Password:", SMTPKIT_ERROR_AUTHENTICATION, "last message");
}

static void
test_login_initial_response_twice (void)
{
  g_autoptr (SmtpkitAuthMechanism) login =
    new_mechanism ("LOGIN", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  CHECK_LITERAL (STEP_STR (login, "Username:"), "tim");
  /* The initial response only comes first. */
  step_fails (login, NULL, SMTPKIT_ERROR_FAILED, "initial response");
}

static void
test_login_missing_password (void)
{
  g_autoptr (SmtpkitAuthMechanism) login = new_mechanism ("LOGIN", "username", "tim", NULL);

  step_fails (login, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
  step_fails (login, "Username:", SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
}

/* ---- CRAM-MD5 ---------------------------------------------------------------- */

#define RFC2195_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

static void
test_cram_md5_rfc2195 (void)
{
  g_autoptr (SmtpkitAuthMechanism) cram =
    new_mechanism ("CRAM-MD5", "username", "tim", "password", "tanstaaftanstaaf", NULL);

  g_assert_true (uses_password (cram));
  /* Server first: no initial response. */
  g_assert_null (step (cram, NULL, 0));
  CHECK_LITERAL (STEP_STR (cram, RFC2195_CHALLENGE), "tim b913a602c7eda7a495b4e6e7334d3890");
  step_fails (cram, "", SMTPKIT_ERROR_AUTHENTICATION, "CRAM-MD5");
}

static void
test_cram_md5_utf8 (void)
{
  g_autoptr (SmtpkitAuthMechanism) cram =
    new_mechanism ("CRAM-MD5", "username", "jürgen", "password", "pässwörd", NULL);

  /* HMAC-MD5 keyed with the password's UTF-8 bytes (Python's hmac). */
  CHECK_LITERAL (STEP_STR (cram, RFC2195_CHALLENGE),
                 "j\xc3\xbcrgen f0692d58d0df0a979496fd681ed9ef2b");
}

static void
test_cram_md5_errors (void)
{
  g_autoptr (SmtpkitAuthMechanism) cram =
    new_mechanism ("CRAM-MD5", "username", "tim", "password", "tanstaaftanstaaf", NULL);
  g_autoptr (SmtpkitAuthMechanism) no_password =
    new_mechanism ("CRAM-MD5", "username", "tim", NULL);

  step_fails (cram, "", SMTPKIT_ERROR_AUTHENTICATION, "empty challenge");
  /* Reported before AUTH is sent, when the client asks for the initial
   * response. */
  step_fails (no_password, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
}

/* ---- XOAUTH2 ---------------------------------------------------------------- */

#define GOOGLE_TOKEN "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
#define GOOGLE_ERROR                                                                               \
  "{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.google.com/\"}"

static void
test_xoauth2 (void)
{
  g_autoptr (SmtpkitAuthMechanism) xoauth2 = new_mechanism (
    "XOAUTH2", "username", "someuser@example.com", "password", GOOGLE_TOKEN, NULL);

  g_assert_false (uses_password (xoauth2));
  /* Google's documented example of the initial client response. */
  CHECK_LITERAL (step (xoauth2, NULL, 0),
                 "user=someuser@example.com\001auth=Bearer " GOOGLE_TOKEN "\001\001");
  /* The error challenge is answered with an empty response. */
  CHECK_LITERAL (STEP_STR (xoauth2, GOOGLE_ERROR), "");
  step_fails (xoauth2, "", SMTPKIT_ERROR_AUTHENTICATION, "XOAUTH2");
}

static void
test_xoauth2_no_initial_response (void)
{
  g_autoptr (SmtpkitAuthMechanism) xoauth2 = new_mechanism (
    "XOAUTH2", "username", "someuser@example.com", "password", GOOGLE_TOKEN, NULL);

  CHECK_LITERAL (STEP_STR (xoauth2, ""),
                 "user=someuser@example.com\001auth=Bearer " GOOGLE_TOKEN "\001\001");
}

static void
test_xoauth2_errors (void)
{
  g_autoptr (SmtpkitAuthMechanism) no_token =
    new_mechanism ("XOAUTH2", "username", "someuser@example.com", NULL);
  g_autoptr (SmtpkitAuthMechanism) no_user = new_mechanism ("XOAUTH2", "password", "token", NULL);
  g_autoptr (SmtpkitAuthMechanism) forged = new_mechanism (
    "XOAUTH2", "username", "someuser@example.com", "password", "tok\001auth=Bearer x", NULL);

  step_fails (no_token, NULL, SMTPKIT_ERROR_AUTHENTICATION, "no OAuth token");
  step_fails (no_user, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "user name");
  step_fails (forged, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "U+0001");
}

/* ---- OAUTHBEARER --------------------------------------------------------------- */

#define RFC7628_TOKEN "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
#define RFC7628_ERROR                                                                              \
  "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","                                     \
  "\"openid-configuration\":\"https://example.com/.well-known/openid-configuration\"}"

static void
test_oauthbearer_host (void)
{
  g_autoptr (SmtpkitAuthMechanism) bearer =
    new_mechanism ("OAUTHBEARER", "username", "user@example.com", "password", RFC7628_TOKEN,
                   "server-name", "server.example.com", NULL);

  g_assert_false (uses_password (bearer));
  /* RFC 7628 §4.1, with no port known: no "port=". */
  CHECK_LITERAL (step (bearer, NULL, 0), "n,a=user@example.com,\001host=server.example.com\001"
                                         "auth=Bearer " RFC7628_TOKEN "\001\001");
  /* §3.2.3: the error challenge is answered with a lone ^A. */
  CHECK_LITERAL (STEP_STR (bearer, RFC7628_ERROR), "\001");
  step_fails (bearer, "", SMTPKIT_ERROR_AUTHENTICATION, "OAUTHBEARER");
}

static void
test_oauthbearer_host_port (void)
{
  g_autoptr (SmtpkitAuthMechanism) bearer =
    new_mechanism ("OAUTHBEARER", "username", "user@example.com", "password", RFC7628_TOKEN,
                   "server-name", "server.example.com", "server-port", 587, NULL);

  /* RFC 7628 §4.1's example, for SMTP's submission port. */
  CHECK_LITERAL (step (bearer, NULL, 0), "n,a=user@example.com,\001host=server.example.com\001"
                                         "port=587\001auth=Bearer " RFC7628_TOKEN "\001\001");
}

static void
test_oauthbearer_no_host (void)
{
  g_autoptr (SmtpkitAuthMechanism) bearer = new_mechanism (
    "OAUTHBEARER", "username", "user@example.com", "password", RFC7628_TOKEN, NULL);

  CHECK_LITERAL (step (bearer, NULL, 0),
                 "n,a=user@example.com,\001auth=Bearer " RFC7628_TOKEN "\001\001");
}

static void
test_oauthbearer_saslname (void)
{
  g_autoptr (SmtpkitAuthMechanism) escaped =
    new_mechanism ("OAUTHBEARER", "username", "a=b,c", "password", "t", NULL);
  g_autoptr (SmtpkitAuthMechanism) anonymous =
    new_mechanism ("OAUTHBEARER", "password", "t", "server-name", "mx.example.org", NULL);

  /* RFC 5801 saslname: '=' and ',' escaped. */
  CHECK_LITERAL (step (escaped, NULL, 0), "n,a=a=3Db=2Cc,\001auth=Bearer t\001\001");
  /* The authzid is optional: the token names the user. */
  CHECK_LITERAL (step (anonymous, NULL, 0),
                 "n,,\001host=mx.example.org\001auth=Bearer t\001\001");
}

static void
test_oauthbearer_errors (void)
{
  g_autoptr (SmtpkitAuthMechanism) no_token =
    new_mechanism ("OAUTHBEARER", "username", "user@example.com", NULL);
  g_autoptr (SmtpkitAuthMechanism) bad_host =
    new_mechanism ("OAUTHBEARER", "username", "user@example.com", "password", "t", "server-name",
                   "evil\001auth=Bearer x", NULL);
  g_autoptr (SmtpkitAuthMechanism) bad_user =
    new_mechanism ("OAUTHBEARER", "username", "us\xe9r", "password", "t", NULL);

  step_fails (no_token, NULL, SMTPKIT_ERROR_AUTHENTICATION, "no OAuth token");
  step_fails (bad_host, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "server name");
  step_fails (bad_user, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "UTF-8");
}

/* ---- the registry -------------------------------------------------------------- */

static gint
strength_of (const char *name)
{
  GIOExtensionPoint *point;
  GIOExtension *extension;

  point = g_io_extension_point_lookup (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME);
  extension = g_io_extension_point_get_extension_by_name (point, name);

  g_assert_nonnull (extension);
  return g_io_extension_get_priority (extension);
}

static gint
index_of (char      **names,
          const char *name)
{
  gint found = -1;

  for (gint i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      {
        /* Each mechanism once: the native ones are not also Cyrus's. */
        g_assert_cmpint (found, ==, -1);
        found = i;
      }
  if (found < 0)
    g_error ("mechanism %s is not listed", name);
  return found;
}

static void
check_order (char             **names,
             const char *const *expected_order,
             gsize              n)
{
  for (gsize i = 1; i < n; i++)
    g_assert_cmpint (index_of (names, expected_order[i - 1]), <,
                     index_of (names, expected_order[i]));
}

typedef struct
{
  const char *name;
  gint strength;
} Strength;

static void
check_strengths (const Strength *strengths,
                 gsize           n)
{
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (strength_of (strengths[i].name), ==, strengths[i].strength);
}

static void
test_list_order (void)
{
  g_auto (GStrv) names = smtpkit_auth_mechanism_list ();
  const char *expected_order[] = { "CRAM-MD5", "PLAIN", "LOGIN", "XOAUTH2" };
  const Strength strengths[] = {
    { "CRAM-MD5", 30 }, { "PLAIN", 20 }, { "LOGIN", 10 }, { "XOAUTH2", 5 }, { "OAUTHBEARER", 5 },
  };

  g_assert_nonnull (names);
  g_assert_cmpuint (g_strv_length (names), >=, G_N_ELEMENTS (strengths));

  /* Strongest first, all through the list, whatever Cyrus adds. */
  for (guint i = 1; names[i] != NULL; i++)
    g_assert_cmpint (strength_of (names[i - 1]), >=, strength_of (names[i]));
  check_order (names, expected_order, G_N_ELEMENTS (expected_order));
  check_strengths (strengths, G_N_ELEMENTS (strengths));
  index_of (names, "OAUTHBEARER");

  /* Nothing for submission in these. */
  g_assert_false (g_strv_contains ((const char *const *) names, "ANONYMOUS"));
  g_assert_false (g_strv_contains ((const char *const *) names, "EXTERNAL"));
}

static void
test_list_order_cyrus (void)
{
  g_auto (GStrv) names = NULL;
  const char *expected_order[] = {
    "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN",
  };
  const Strength strengths[] = {
    { "SCRAM-SHA-256-PLUS", 100 },
    { "SCRAM-SHA-1-PLUS", 90 },
    { "SCRAM-SHA-256", 80 },
    { "SCRAM-SHA-1", 70 },
  };

  if (!cyrus_scram_installed)
    {
      g_test_skip ("Cyrus SASL has no SCRAM plugin (Debian: libsasl2-modules)");
      return;
    }
  /* Cyrus's SCRAM, offered through the auth-cyrus plugin, above the
   * native mechanisms; Cyrus's PLAIN, LOGIN and CRAM-MD5 are not offered
   * a second time (index_of() checks each name is listed once). */
  names = smtpkit_auth_mechanism_list ();
  check_order (names, expected_order, G_N_ELEMENTS (expected_order));
  check_strengths (strengths, G_N_ELEMENTS (strengths));
  index_of (names, "LOGIN");
}

static void
test_new_for_name_case (void)
{
  const char *names[][2] = {
    { "plain", "PLAIN" },
    { "Cram-Md5", "CRAM-MD5" },
    { "xoauth2", "XOAUTH2" },
    { "OAuthBearer", "OAUTHBEARER" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SmtpkitAuthMechanism) mechanism =
        smtpkit_auth_mechanism_new_for_name (names[i][0], &error);

      g_assert_no_error (error);
      g_assert_nonnull (mechanism);
      g_assert_cmpstr (smtpkit_auth_mechanism_get_name (mechanism), ==, names[i][1]);
    }
}

static void
test_new_for_name_unknown (void)
{
  g_autoptr (GError) error = NULL;
  SmtpkitAuthMechanism *mechanism = smtpkit_auth_mechanism_new_for_name ("X-NO-SUCH", &error);

  g_assert_null (mechanism);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "X-NO-SUCH"));
}

static void
test_cyrus_types (void)
{
  g_autoptr (SmtpkitAuthMechanism) sha1 = NULL;
  g_autoptr (SmtpkitAuthMechanism) sha256 = NULL;
  g_autoptr (SmtpkitAuthMechanism) plus = NULL;

  if (!cyrus_scram_installed)
    {
      g_test_skip ("Cyrus SASL has no SCRAM plugin (Debian: libsasl2-modules)");
      return;
    }
  sha1 = new_mechanism ("SCRAM-SHA-1", NULL);
  sha256 = new_mechanism ("scram-sha-256", NULL);
  plus = new_mechanism ("SCRAM-SHA-256-PLUS", NULL);
  g_assert_cmpstr (smtpkit_auth_mechanism_get_name (sha256), ==, "SCRAM-SHA-256");

  /* GIO files an extension under its type, so each name has its own. */
  g_assert_cmpuint (G_OBJECT_TYPE (sha1), !=, G_OBJECT_TYPE (sha256));
  g_assert_cmpuint (G_OBJECT_TYPE (sha256), !=, G_OBJECT_TYPE (plus));
  g_assert_true (uses_password (sha256));
  g_assert_true (uses_password (plus));
}

/* ---- SCRAM against Cyrus SASL's server ---------------------------------------- */

#define SCRAM_USER "alice"
#define SCRAM_PASSWORD "s3cret"
#define SCRAM_UTF8_USER "jürgen"
#define SCRAM_UTF8_PASSWORD "pässwörd"
#define BINDING_TYPE "tls-unique"
#define BINDING_DATA "\x11\x22\x33\x44 channel binding \x00\xff"

static char *sasl_dir;
static char *sasldb_path;
static const char *scram_skip_reason;

static int
server_getopt (void        *context,
               const char  *plugin_name,
               const char  *option,
               const char **result,
               unsigned    *len)
{
  if (g_str_equal (option, "sasldb_path"))
    *result = sasldb_path;
  else if (g_str_equal (option, "mech_list"))
    *result = "SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5";
  else if (g_str_equal (option, "pwcheck_method"))
    *result = "auxprop";
  else if (g_str_equal (option, "auxprop_plugin"))
    *result = "sasldb";
  else
    return SASL_FAIL;
  if (len != NULL)
    *len = strlen (*result);
  return SASL_OK;
}

static const sasl_callback_t server_callbacks[] = {
  { SASL_CB_GETOPT, (int (*) (void)) server_getopt, NULL },
  { SASL_CB_LIST_END, NULL, NULL },
};

static sasl_conn_t *
new_server (const char *binding,
            gsize       binding_len)
{
  static sasl_channel_binding_t channel_binding;
  sasl_conn_t *server = NULL;

  g_assert_cmpint (sasl_server_new ("smtp", "localhost", NULL, NULL, NULL, NULL, 0, &server), ==,
                   SASL_OK);
  if (binding != NULL)
    {
      channel_binding.name = BINDING_TYPE;
      channel_binding.critical = 0;
      channel_binding.data = (const unsigned char *) binding;
      channel_binding.len = binding_len;
      g_assert_cmpint (sasl_setprop (server, SASL_CHANNEL_BINDING, &channel_binding), ==,
                       SASL_OK);
    }
  return server;
}

/* Sets up Cyrus's server side with a sasldb of its own, or says why it
 * cannot. */
static void
scram_server_init (void)
{
  g_autoptr (GError) error = NULL;
  const char *mechanisms = NULL;
  sasl_conn_t *server;
  int result;

  sasl_dir = g_dir_make_tmp ("smtpkit-sasl-XXXXXX", &error);
  g_assert_no_error (error);
  sasldb_path = g_build_filename (sasl_dir, "sasldb", NULL);
  result = sasl_server_init (server_callbacks, "smtpkit-test");
  g_assert_cmpint (result, ==, SASL_OK);

  server = new_server (NULL, 0);
  result = sasl_listmech (server, NULL, "", " ", "", &mechanisms, NULL, NULL);
  if (result != SASL_OK || strstr (mechanisms, "SCRAM-SHA-256") == NULL)
    {
      scram_skip_reason = "Cyrus SASL has no SCRAM plugin (Debian: libsasl2-modules)";
      sasl_dispose (&server);
      return;
    }
  cyrus_scram_installed = TRUE;
  result = sasl_setpass (server, SCRAM_USER, SCRAM_PASSWORD, strlen (SCRAM_PASSWORD), NULL, 0,
                         SASL_SET_CREATE);
  if (result == SASL_OK)
    result = sasl_setpass (server, SCRAM_UTF8_USER, SCRAM_UTF8_PASSWORD,
                           strlen (SCRAM_UTF8_PASSWORD), NULL, 0, SASL_SET_CREATE);
  if (result != SASL_OK)
    {
      g_test_message ("sasl_setpass: %s", sasl_errdetail (server));
      scram_skip_reason = "Cyrus SASL cannot create users in a sasldb: install its sasldb "
                          "plugin (Debian: libsasl2-modules-db)";
    }
  sasl_dispose (&server);
}

static void
scram_server_done (void)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (sasl_dir == NULL)
    return;
  sasl_server_done ();
  dir = g_dir_open (sasl_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (sasl_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (sasl_dir);
  g_clear_pointer (&sasl_dir, g_free);
  g_clear_pointer (&sasldb_path, g_free);
}

static gboolean
scram_skip (void)
{
  if (scram_skip_reason == NULL)
    return FALSE;
  g_test_skip (scram_skip_reason);
  return TRUE;
}

/* Whether both the auth-cyrus plugin and Cyrus's server side offer
 * @name. */
static gboolean
cyrus_has (const char *name)
{
  g_auto (GStrv) client_mechanisms = smtpkit_auth_mechanism_list ();
  const char *server_mechanisms = NULL;
  sasl_conn_t *server = new_server (NULL, 0);
  gboolean found;

  found = g_strv_contains ((const char *const *) client_mechanisms, name) &&
          sasl_listmech (server, NULL, " ", " ", " ", &server_mechanisms, NULL, NULL) == SASL_OK;
  if (found)
    {
      g_autofree char *needle = g_strdup_printf (" %s ", name);
      found = strstr (server_mechanisms, needle) != NULL;
    }
  sasl_dispose (&server);
  return found;
}

static SmtpkitAuthMechanism *
new_scram (const char *name,
           const char *username,
           const char *password)
{
  return new_mechanism (name, "username", username, "password", password, "server-name",
                        "localhost", "secure", TRUE, NULL);
}

static void
set_binding (SmtpkitAuthMechanism *mechanism,
             const char           *data,
             gsize                 len)
{
  g_autoptr (GBytes) binding = g_bytes_new (data, len);

  g_object_set (mechanism, "channel-binding", binding, "channel-binding-type", BINDING_TYPE,
                NULL);
}

/* Runs the whole exchange as the SMTP client would carry it, and returns
 * the server's verdict. @first_message, if not NULL, receives the client's
 * first message. */
static int
run_exchange (SmtpkitAuthMechanism *mechanism,
              sasl_conn_t          *server,
              gboolean              initial_response,
              GBytes              **first_message)
{
  g_autoptr (GBytes) response = NULL;
  const char *name = smtpkit_auth_mechanism_get_name (mechanism);
  const char *out = NULL;
  unsigned outlen = 0;
  int result;

  /* A server-first mechanism has no initial response even when asked. */
  if (initial_response)
    response = step (mechanism, NULL, 0);
  if (response != NULL)
    {
      if (first_message != NULL)
        *first_message = g_bytes_ref (response);
      result = sasl_server_start (server, name, g_bytes_get_data (response, NULL),
                                  g_bytes_get_size (response), &out, &outlen);
    }
  else
    {
      result = sasl_server_start (server, name, NULL, 0, &out, &outlen);
    }

  /* Each challenge goes to the client, each response back, as over 334. */
  while (result == SASL_CONTINUE)
    {
      g_clear_pointer (&response, g_bytes_unref);
      response = step (mechanism, out, outlen);
      g_assert_nonnull (response);
      if (first_message != NULL && *first_message == NULL)
        *first_message = g_bytes_ref (response);
      result = sasl_server_step (server, g_bytes_get_data (response, NULL),
                                 g_bytes_get_size (response), &out, &outlen);
    }
  return result;
}

static void
assert_prefix (GBytes     *bytes,
               const char *prefix)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_test_message ("first message: %.*s", (int) len, data);
  g_assert_cmpuint (len, >, strlen (prefix));
  g_assert_cmpmem (data, strlen (prefix), prefix, strlen (prefix));
}

static void
test_scram_success (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) first = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (scram, server, TRUE, &first), ==, SASL_OK);
  /* No channel binding, no authzid. */
  assert_prefix (first, "n,,n=" SCRAM_USER ",r=");
  /* Complete: nothing more to answer. */
  step_fails (scram, "", SMTPKIT_ERROR_AUTHENTICATION, "complete");
  sasl_dispose (&server);
}


/* Mutual authentication: the client is complete only once it has checked
 * the server's final message (its signature), which the client asks of a
 * server that says 235 (smtpkit_auth_mechanism_is_complete()). */
static void
test_scram_mutual (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) response = NULL;
  const char *out = NULL;
  unsigned outlen = 0;
  sasl_conn_t *server;
  int result;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_false (smtpkit_auth_mechanism_is_complete (scram));
  response = step (scram, NULL, 0);
  result = sasl_server_start (server, "SCRAM-SHA-256", g_bytes_get_data (response, NULL),
                              g_bytes_get_size (response), &out, &outlen);
  g_assert_cmpint (result, ==, SASL_CONTINUE);
  g_clear_pointer (&response, g_bytes_unref);
  response = step (scram, out, outlen);
  result = sasl_server_step (server, g_bytes_get_data (response, NULL),
                             g_bytes_get_size (response), &out, &outlen);
  /* The server's final message, its proof, comes as a challenge: a
   * server that said 235 here instead would not be believed. */
  g_assert_cmpint (result, ==, SASL_CONTINUE);
  g_assert_cmpmem (out, 2, "v=", 2);
  g_assert_false (smtpkit_auth_mechanism_is_complete (scram));
  g_clear_pointer (&response, g_bytes_unref);
  response = step (scram, out, outlen);
  g_assert_cmpuint (g_bytes_get_size (response), ==, 0);
  g_assert_true (smtpkit_auth_mechanism_is_complete (scram));
  g_assert_cmpint (sasl_server_step (server, "", 0, &out, &outlen), ==, SASL_OK);
  sasl_dispose (&server);

  /* Mechanisms without a server proof are complete by default. */
  {
    g_autoptr (SmtpkitAuthMechanism) plain = new_mechanism ("PLAIN", "username", "u",
                                                            "password", "p", NULL);
    g_assert_true (smtpkit_auth_mechanism_is_complete (plain));
  }
}

static void
test_scram_no_initial_response (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) first = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (scram, server, FALSE, &first), ==, SASL_OK);
  assert_prefix (first, "n,,n=" SCRAM_USER ",r=");
  sasl_dispose (&server);
}

static void
test_digest_md5 (void)
{
  g_autoptr (SmtpkitAuthMechanism) digest = NULL;
  g_autoptr (SmtpkitAuthMechanism) no_server = NULL;
  g_autoptr (SmtpkitAuthMechanism) probe = NULL;
  g_autoptr (GBytes) first = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  if (!cyrus_has ("DIGEST-MD5"))
    {
      g_test_skip ("Cyrus SASL has no DIGEST-MD5 plugin (Debian: libsasl2-modules)");
      return;
    }
  /* Server first: no initial response, and the first message answers the
   * server's challenge. */
  probe = new_scram ("DIGEST-MD5", SCRAM_USER, SCRAM_PASSWORD);
  g_assert_null (step (probe, NULL, 0));
  digest = new_scram ("DIGEST-MD5", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (digest, server, TRUE, &first), ==, SASL_OK);
  assert_prefix (first, "username=\"" SCRAM_USER "\",realm=\"localhost\",nonce=");
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (first, NULL), g_bytes_get_size (first),
                                  "digest-uri=\"smtp/localhost\""));
  sasl_dispose (&server);

  /* Its digest-uri names the server. */
  no_server = new_mechanism ("DIGEST-MD5", "username", SCRAM_USER, "password", SCRAM_PASSWORD,
                             NULL);
  step_fails (no_server, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "server-name");
}

static void
test_scram_sha1 (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-1", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (scram, server, TRUE, NULL), ==, SASL_OK);
  sasl_dispose (&server);
}

static void
test_scram_utf8 (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_UTF8_USER, SCRAM_UTF8_PASSWORD);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (scram, server, TRUE, NULL), ==, SASL_OK);
  sasl_dispose (&server);
}

static void
test_scram_wrong_password (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  sasl_conn_t *server;
  int result;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, "not-the-password");
  server = new_server (NULL, 0);
  result = run_exchange (scram, server, TRUE, NULL);
  g_assert_cmpint (result, !=, SASL_OK);
  g_assert_cmpint (result, <, 0);
  sasl_dispose (&server);
}

static void
test_scram_forged_server (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) final = NULL;
  g_autofree char *forged = NULL;
  const char *out;
  unsigned outlen;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD);
  server = new_server (NULL, 0);

  first = step (scram, NULL, 0);
  g_assert_cmpint (sasl_server_start (server, "SCRAM-SHA-256", g_bytes_get_data (first, NULL),
                                      g_bytes_get_size (first), &out, &outlen),
                   ==, SASL_CONTINUE);
  final = step (scram, out, outlen);
  g_assert_cmpint (sasl_server_step (server, g_bytes_get_data (final, NULL),
                                     g_bytes_get_size (final), &out, &outlen),
                   ==, SASL_CONTINUE);
  g_assert_cmpmem (out, 2, "v=", 2);

  /* A server that does not know the password cannot prove it does:
   * mutual authentication fails on the client's side. */
  forged = g_strndup (out, outlen);
  forged[2] = forged[2] == 'A' ? 'B' : 'A';
  step_fails (scram, forged, SMTPKIT_ERROR_AUTHENTICATION, "SCRAM-SHA-256");
  /* And the exchange is over. */
  step_fails (scram, "", SMTPKIT_ERROR_FAILED, "already failed");
  sasl_dispose (&server);
}

static void
test_scram_missing_password (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (SmtpkitAuthMechanism) bad_utf8 = NULL;

  if (scram_skip ())
    return;
  scram = new_mechanism ("SCRAM-SHA-256", "username", SCRAM_USER, NULL);
  step_fails (scram, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "password");
  bad_utf8 = new_scram ("SCRAM-SHA-256", SCRAM_USER, "p\xe4sswort");
  step_fails (bad_utf8, NULL, SMTPKIT_ERROR_INVALID_ARGUMENT, "UTF-8");
}

static void
test_scram_plus_success (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) first = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256-PLUS", SCRAM_USER, SCRAM_PASSWORD);
  set_binding (scram, BINDING_DATA, sizeof (BINDING_DATA) - 1);
  server = new_server (BINDING_DATA, sizeof (BINDING_DATA) - 1);
  g_assert_cmpint (run_exchange (scram, server, TRUE, &first), ==, SASL_OK);
  assert_prefix (first, "p=" BINDING_TYPE ",,n=" SCRAM_USER ",r=");
  sasl_dispose (&server);
}

static void
test_scram_plus_mismatch (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  const char other[] = "a different TLS channel";
  sasl_conn_t *server;
  int result;

  if (scram_skip ())
    return;
  /* What a man in the middle sees: two TLS channels, two bindings. */
  scram = new_scram ("SCRAM-SHA-256-PLUS", SCRAM_USER, SCRAM_PASSWORD);
  set_binding (scram, BINDING_DATA, sizeof (BINDING_DATA) - 1);
  server = new_server (other, sizeof (other) - 1);
  result = run_exchange (scram, server, TRUE, NULL);
  g_assert_cmpint (result, <, 0);
  sasl_dispose (&server);
}

static void
test_scram_plus_no_binding (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;

  if (scram_skip ())
    return;
  scram = new_scram ("SCRAM-SHA-256-PLUS", SCRAM_USER, SCRAM_PASSWORD);
  step_fails (scram, NULL, SMTPKIT_ERROR_NOT_SUPPORTED, "channel binding");
}

static void
test_scram_binding_without_plus (void)
{
  g_autoptr (SmtpkitAuthMechanism) scram = NULL;
  g_autoptr (GBytes) first = NULL;
  sasl_conn_t *server;

  if (scram_skip ())
    return;
  /* Binding data without -PLUS: the plain mechanism, unbound ("n"): a
   * critical binding would make Cyrus send "p=" under the plain name. */
  scram = new_scram ("SCRAM-SHA-256", SCRAM_USER, SCRAM_PASSWORD);
  set_binding (scram, BINDING_DATA, sizeof (BINDING_DATA) - 1);
  server = new_server (NULL, 0);
  g_assert_cmpint (run_exchange (scram, server, TRUE, &first), ==, SASL_OK);
  assert_prefix (first, "n,,n=" SCRAM_USER ",r=");
  sasl_dispose (&server);
}


/* ---- an OAuth token given by the application at each authentication ---- */

static char *
next_token (SmtpkitAuthMechanism  *mechanism,
            gpointer               user_data,
            GError               **error)
{
  guint *calls = user_data;

  (*calls)++;
  return g_strdup_printf ("token-%u", *calls);
}

static void
test_oauth_token_func (void)
{
  const char *names[] = { "XOAUTH2", "OAUTHBEARER" };

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      guint calls = 0;

      for (guint round = 1; round <= 2; round++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (SmtpkitAuthMechanism) mechanism = smtpkit_auth_mechanism_new_for_name (names[n], &error);
          g_autoptr (GBytes) initial = NULL;
          g_autofree char *expected = g_strdup_printf ("auth=Bearer token-%u\001\001", round);
          gsize size;
          const char *data;

          g_assert_no_error (error);
          g_object_set (mechanism, "username", "me@example.org", "password", "stale", NULL);
          smtpkit_auth_mechanism_set_token_func (mechanism, next_token, &calls, NULL);
          g_assert_true (smtpkit_auth_mechanism_step (mechanism, NULL, &initial, &error));
          g_assert_no_error (error);
          data = g_bytes_get_data (initial, &size);
          /* A fresh token each time, never the stale one. */
          g_assert_true (size > strlen (expected));
          g_assert_cmpmem (data + size - strlen (expected), strlen (expected), expected, strlen (expected));
          g_assert_cmpuint (calls, ==, round);
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  int result;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/auth/plain/initial-response", test_plain_initial_response);
  g_test_add_func ("/auth/oauth/token-func", test_oauth_token_func);
  g_test_add_func ("/auth/oauthbearer/host-port", test_oauthbearer_host_port);
  g_test_add_func ("/auth/plain/no-initial-response", test_plain_no_initial_response);
  g_test_add_func ("/auth/plain/extra-step", test_plain_extra_step);
  g_test_add_func ("/auth/plain/utf8", test_plain_utf8);
  g_test_add_func ("/auth/plain/missing-credentials", test_plain_missing_credentials);
  g_test_add_func ("/auth/plain/invalid-utf8", test_plain_invalid_utf8);
  g_test_add_func ("/auth/login/initial-response", test_login_initial_response);
  g_test_add_func ("/auth/login/challenges", test_login_challenges);
  g_test_add_func ("/auth/login/initial-response-twice", test_login_initial_response_twice);
  g_test_add_func ("/auth/login/missing-password", test_login_missing_password);
  g_test_add_func ("/auth/cram-md5/rfc2195", test_cram_md5_rfc2195);
  g_test_add_func ("/auth/cram-md5/utf8", test_cram_md5_utf8);
  g_test_add_func ("/auth/cram-md5/errors", test_cram_md5_errors);
  g_test_add_func ("/auth/xoauth2/initial-response", test_xoauth2);
  g_test_add_func ("/auth/xoauth2/no-initial-response", test_xoauth2_no_initial_response);
  g_test_add_func ("/auth/xoauth2/errors", test_xoauth2_errors);
  g_test_add_func ("/auth/oauthbearer/host", test_oauthbearer_host);
  g_test_add_func ("/auth/oauthbearer/no-host", test_oauthbearer_no_host);
  g_test_add_func ("/auth/oauthbearer/saslname", test_oauthbearer_saslname);
  g_test_add_func ("/auth/oauthbearer/errors", test_oauthbearer_errors);
  g_test_add_func ("/auth/registry/list-order", test_list_order);
  g_test_add_func ("/auth/registry/list-order-cyrus", test_list_order_cyrus);
  g_test_add_func ("/auth/registry/new-for-name-case", test_new_for_name_case);
  g_test_add_func ("/auth/registry/new-for-name-unknown", test_new_for_name_unknown);
  g_test_add_func ("/auth/registry/cyrus-types", test_cyrus_types);
  g_test_add_func ("/auth/cyrus/scram-sha-256/success", test_scram_success);
  g_test_add_func ("/auth/cyrus/scram-sha-256/mutual", test_scram_mutual);
  g_test_add_func ("/auth/cyrus/scram-sha-256/no-initial-response",
                   test_scram_no_initial_response);
  g_test_add_func ("/auth/cyrus/scram-sha-256/utf8", test_scram_utf8);
  g_test_add_func ("/auth/cyrus/scram-sha-256/wrong-password", test_scram_wrong_password);
  g_test_add_func ("/auth/cyrus/scram-sha-256/forged-server", test_scram_forged_server);
  g_test_add_func ("/auth/cyrus/scram-sha-256/missing-password", test_scram_missing_password);
  g_test_add_func ("/auth/cyrus/scram-sha-256/binding-without-plus",
                   test_scram_binding_without_plus);
  g_test_add_func ("/auth/cyrus/scram-sha-1/success", test_scram_sha1);
  g_test_add_func ("/auth/cyrus/digest-md5/success", test_digest_md5);
  g_test_add_func ("/auth/cyrus/scram-sha-256-plus/success", test_scram_plus_success);
  g_test_add_func ("/auth/cyrus/scram-sha-256-plus/mismatch", test_scram_plus_mismatch);
  g_test_add_func ("/auth/cyrus/scram-sha-256-plus/no-binding", test_scram_plus_no_binding);

  scram_server_init ();
  result = g_test_run ();
  scram_server_done ();
  return result;
}
