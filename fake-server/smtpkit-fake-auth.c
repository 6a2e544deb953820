/* smtpkit-fake-auth.c: the server side of SASL, checking credentials
 *
 * PLAIN, LOGIN and CRAM-MD5 are checked here; every other mechanism
 * (SCRAM-SHA-256, SCRAM-SHA-1, DIGEST-MD5, ...) by Cyrus SASL's server
 * side against a sasldb of the process's own. Each mechanism is a step
 * function: a client response in, a challenge or a verdict out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <sasl/sasl.h>

#include "smtpkit-fake-server-private.h"

#define CYRUS_MECHANISMS "SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"

typedef enum
{
  MECH_PLAIN,
  MECH_LOGIN,
  MECH_CRAM_MD5,
  MECH_CYRUS,
} Mechanism;

struct _SmtpkitFakeAuth
{
  Mechanism mechanism;
  char *name;
  GHashTable *users;   /* user name → password */
  gboolean any;        /* any user, any password (not for Cyrus) */
  char *authenticated; /* the user verified */
  guint step;        /* responses taken so far */
  char *login_user;  /* LOGIN: the user name given */
  char *challenge;   /* CRAM-MD5 */
  sasl_conn_t *sasl; /* Cyrus */
};

/* Cyrus SASL keeps global state, and its sasldb is a Berkeley DB file:
 * every call goes through this lock. */
static GMutex cyrus_lock;
static char *sasldb_path;

/* ---- base64 ------------------------------------------------------------ */

/* Strict: only what g_base64_encode() would write, or NULL. */
GBytes *
smtpkit_fake_auth_decode_base64 (const char *text)
{
  gsize len = 0;
  guint8 *data = *text != '\0' ? g_base64_decode (text, &len) : NULL;
  g_autofree char *again = g_base64_encode (data, len);

  if (strcmp (again, text) != 0)
    {
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

/* ---- Cyrus SASL ------------------------------------------------------- */

static int
cyrus_getopt (void        *context,
              const char  *plugin_name,
              const char  *option,
              const char **result,
              unsigned    *len)
{
  if (strcmp (option, "sasldb_path") == 0)
    *result = sasldb_path;
  else if (strcmp (option, "mech_list") == 0)
    *result = CYRUS_MECHANISMS;
  else if (strcmp (option, "pwcheck_method") == 0)
    *result = "auxprop";
  else if (strcmp (option, "auxprop_plugin") == 0)
    *result = "sasldb";
  else
    return SASL_FAIL;
  if (len != NULL)
    *len = strlen (*result);
  return SASL_OK;
}

/* Not to syslog: a failed check is reported as a mismatch. */
static int
cyrus_log (void       *context,
           int         level,
           const char *message)
{
  g_debug ("Cyrus SASL: %s", message);
  return SASL_OK;
}

static const sasl_callback_t cyrus_callbacks[] = {
  { SASL_CB_GETOPT, (int (*) (void)) cyrus_getopt, NULL },
  { SASL_CB_LOG, (int (*) (void)) cyrus_log, NULL },
  { SASL_CB_LIST_END, NULL, NULL },
};

static gpointer
cyrus_init (gpointer data)
{
  GError *error = NULL;
  const char *dir = smtpkit_fake_server_private_dir (&error);
  int ret;

  if (dir == NULL)
    return error;
  sasldb_path = g_build_filename (dir, "sasldb2", NULL);
  ret = sasl_server_init (cyrus_callbacks, "smtpkit-fake-server");
  if (ret != SASL_OK)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "Cyrus SASL's server side is unavailable: sasl_server_init failed: %s",
                        sasl_errstring (ret, NULL, NULL));
  return NULL;
}

static gboolean
cyrus_ready (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  const GError *failure = g_once (&once, cyrus_init, NULL);

  if (failure != NULL)
    g_propagate_error (error, g_error_copy (failure));
  return failure == NULL;
}

/* A connection whose realm holds only this user, so that servers playing
 * in parallel never share an entry of the sasldb. */
static sasl_conn_t *
cyrus_new (const char  *mechanism,
           GHashTable  *users,
           GError     **error)
{
  static gint serial;
  g_autofree char *realm = g_strdup_printf ("r%d.fake.test", g_atomic_int_add (&serial, 1));
  g_autofree char *word = g_strdup_printf (" %s ", mechanism);
  g_autoptr (GMutexLocker) locker = NULL;
  const char *mechanisms = NULL;
  sasl_conn_t *sasl = NULL;
  int ret;

  if (!cyrus_ready (error))
    return NULL;

  locker = g_mutex_locker_new (&cyrus_lock);
  ret = sasl_server_new ("smtp", "fake.test", realm, NULL, NULL, NULL, 0, &sasl);
  if (ret == SASL_OK)
    ret = sasl_listmech (sasl, NULL, " ", " ", " ", &mechanisms, NULL, NULL);
  if (ret == SASL_OK && strstr (mechanisms, word) == NULL)
    ret = SASL_NOMECH;
  if (ret == SASL_OK)
    {
      GHashTableIter iter;
      gpointer user, password;

      g_hash_table_iter_init (&iter, users);
      while (ret == SASL_OK && g_hash_table_iter_next (&iter, &user, &password))
        ret = sasl_setpass (sasl, user, password, strlen (password), NULL, 0, SASL_SET_CREATE);
      if (ret == SASL_OK)
        return sasl;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               ret == SASL_NOMECH ? "Cyrus SASL's server side does not offer %s (offered:%s)"
                                  : "Cyrus SASL cannot check %s: %s",
               mechanism, ret == SASL_NOMECH ? (mechanisms != NULL ? mechanisms : " none")
                                             : sasl != NULL ? sasl_errdetail (sasl)
                                                            : sasl_errstring (ret, NULL, NULL));
  sasl_dispose (&sasl);
  return NULL;
}

static SmtpkitFakeAuthResult
cyrus_step (SmtpkitFakeAuth  *auth,
            GBytes           *response,
            GBytes          **challenge,
            char            **message)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cyrus_lock);
  gsize len = 0;
  const char *in = response != NULL ? g_bytes_get_data (response, &len) : NULL;
  const char *out = NULL;
  unsigned out_len = 0;
  int ret;

  if (auth->step == 0)
    ret = sasl_server_start (auth->sasl, auth->name, in, len, &out, &out_len);
  else
    ret = sasl_server_step (auth->sasl, in != NULL ? in : "", len, &out, &out_len);

  switch (ret)
    {
    case SASL_CONTINUE:
      *challenge = g_bytes_new (out, out_len);
      return SMTPKIT_FAKE_AUTH_CONTINUE;
    case SASL_OK:
      {
        const void *user = NULL;

        sasl_getprop (auth->sasl, SASL_USERNAME, &user);
        auth->authenticated = g_strdup (user);
        return SMTPKIT_FAKE_AUTH_OK;
      }
    case SASL_BADPROT:
    case SASL_BADPARAM:
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
    case SASL_NOMECH:
      *message = g_strdup_printf ("Cyrus SASL (%s): %s", auth->name, sasl_errdetail (auth->sasl));
      return SMTPKIT_FAKE_AUTH_ERROR;
    default:
      *message = g_strdup_printf ("Cyrus SASL (%s): %s", auth->name, sasl_errdetail (auth->sasl));
      return SMTPKIT_FAKE_AUTH_FAILED;
    }
}

/**
 * smtpkit_fake_server_supports_auth:
 * @mechanism: a SASL mechanism name, such as `SCRAM-SHA-256`
 * @error: return location for a #GError
 *
 * Whether the `expect-auth` step of scenarios can check @mechanism.
 * PLAIN, LOGIN and CRAM-MD5 are checked by the fake server itself; other
 * mechanisms need Cyrus SASL's server side with its sasldb and mechanism
 * plugins (Debian: libsasl2-modules-db, libsasl2-modules), initialised
 * here once per process. A test skips when this fails, with the message.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_NOT_SUPPORTED
 */
gboolean
smtpkit_fake_server_supports_auth (const char  *mechanism,
                                   GError     **error)
{
  g_autoptr (SmtpkitFakeAuth) auth = NULL;

  g_return_val_if_fail (mechanism != NULL, FALSE);

  auth = smtpkit_fake_auth_new (mechanism, "probe", "probe", error);
  return auth != NULL;
}

/* ---- PLAIN, LOGIN, CRAM-MD5 ------------------------------------------- */

static char *
escaped (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return smtpkit_scenario_escape (data, len);
}

/* The text of @bytes, or NULL when it holds a NUL. */
static char *
text_of (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return memchr (data, '\0', len) == NULL ? g_strndup (data, len) : NULL;
}

/* With one user, who was expected: for messages. */
static const char *
only_user (SmtpkitFakeAuth *auth)
{
  GHashTableIter iter;
  gpointer user = NULL;

  g_hash_table_iter_init (&iter, auth->users);
  if (g_hash_table_size (auth->users) != 1 || !g_hash_table_iter_next (&iter, &user, NULL))
    return NULL;
  return user;
}

static SmtpkitFakeAuthResult
unknown_user (SmtpkitFakeAuth  *auth,
              const char       *user,
              char            **message)
{
  const char *expected = only_user (auth);

  *message = expected != NULL ? g_strdup_printf ("user '%s' is not '%s'", user, expected)
                              : g_strdup_printf ("no user '%s'", user);
  return SMTPKIT_FAKE_AUTH_FAILED;
}

static SmtpkitFakeAuthResult
verified (SmtpkitFakeAuth *auth,
          const char      *user)
{
  auth->authenticated = g_strdup (user);
  return SMTPKIT_FAKE_AUTH_OK;
}

static SmtpkitFakeAuthResult
check_credentials (SmtpkitFakeAuth  *auth,
                   const char       *user,
                   const char       *password,
                   char            **message)
{
  const char *expected = g_hash_table_lookup (auth->users, user);

  if (auth->any)
    return verified (auth, user);
  if (expected == NULL)
    return unknown_user (auth, user, message);
  if (strcmp (password, expected) != 0)
    {
      *message = g_strdup_printf ("wrong password for '%s'", user);
      return SMTPKIT_FAKE_AUTH_FAILED;
    }
  return verified (auth, user);
}

/* RFC 4616: authzid NUL authcid NUL passwd. */
static SmtpkitFakeAuthResult
plain_step (SmtpkitFakeAuth  *auth,
            GBytes           *response,
            GBytes          **challenge,
            char            **message)
{
  gsize len;
  const char *data;
  const char *nul1, *nul2;
  g_autofree char *authzid = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;

  if (response == NULL)
    {
      *challenge = g_bytes_new (NULL, 0);
      return SMTPKIT_FAKE_AUTH_CONTINUE;
    }
  data = g_bytes_get_data (response, &len);
  nul1 = memchr (data, '\0', len);
  nul2 = nul1 != NULL ? memchr (nul1 + 1, '\0', data + len - nul1 - 1) : NULL;
  if (nul2 == NULL || memchr (nul2 + 1, '\0', data + len - nul2 - 1) != NULL)
    {
      g_autofree char *text = escaped (response);

      *message = g_strdup_printf ("a PLAIN response is authzid\\0user\\0password, "
                                  "the client sent '%s'", text);
      return SMTPKIT_FAKE_AUTH_ERROR;
    }
  authzid = g_strndup (data, nul1 - data);
  user = g_strndup (nul1 + 1, nul2 - nul1 - 1);
  password = g_strndup (nul2 + 1, data + len - nul2 - 1);
  /* No acting for another user: the fake server has no authorization. */
  if (*authzid != '\0' && strcmp (authzid, user) != 0)
    {
      *message = g_strdup_printf ("authorization identity '%s' is neither empty nor '%s'",
                                  authzid, user);
      return SMTPKIT_FAKE_AUTH_FAILED;
    }
  return check_credentials (auth, user, password, message);
}

/* draft-murchison-sasl-login: "Username:", "Password:"; the user name may
 * come as the initial response. */
static SmtpkitFakeAuthResult
login_step (SmtpkitFakeAuth  *auth,
            GBytes           *response,
            GBytes          **challenge,
            char            **message)
{
  g_autofree char *text = response != NULL ? text_of (response) : NULL;

  if (response != NULL && text == NULL)
    {
      g_autofree char *shown = escaped (response);

      *message = g_strdup_printf ("a LOGIN response holds a NUL: '%s'", shown);
      return SMTPKIT_FAKE_AUTH_ERROR;
    }
  if (auth->login_user == NULL && response == NULL)
    {
      *challenge = g_bytes_new_static ("Username:", 9);
      return SMTPKIT_FAKE_AUTH_CONTINUE;
    }
  if (auth->login_user == NULL)
    {
      auth->login_user = g_steal_pointer (&text);
      *challenge = g_bytes_new_static ("Password:", 9);
      return SMTPKIT_FAKE_AUTH_CONTINUE;
    }
  return check_credentials (auth, auth->login_user, text, message);
}

/* RFC 2195: the challenge, then "user hex(HMAC-MD5(password, challenge))". */
static SmtpkitFakeAuthResult
cram_md5_step (SmtpkitFakeAuth  *auth,
               GBytes           *response,
               GBytes          **challenge,
               char            **message)
{
  g_autofree char *text = NULL;
  g_autofree char *digest = NULL;
  const char *password;
  char *space;

  if (auth->challenge == NULL)
    {
      if (response != NULL)
        {
          *message = g_strdup ("CRAM-MD5 takes no initial response");
          return SMTPKIT_FAKE_AUTH_ERROR;
        }
      auth->challenge = g_strdup_printf ("<%u.%" G_GINT64_FORMAT "@fake.test>",
                                         g_random_int_range (10000, 100000),
                                         g_get_real_time () / G_USEC_PER_SEC);
      *challenge = g_bytes_new (auth->challenge, strlen (auth->challenge));
      return SMTPKIT_FAKE_AUTH_CONTINUE;
    }

  text = text_of (response);
  space = text != NULL ? strrchr (text, ' ') : NULL;
  if (space == NULL)
    {
      g_autofree char *shown = escaped (response);

      *message = g_strdup_printf ("a CRAM-MD5 response is 'user digest', the client sent '%s'",
                                  shown);
      return SMTPKIT_FAKE_AUTH_ERROR;
    }
  *space = '\0';
  password = g_hash_table_lookup (auth->users, text);
  if (auth->any)
    return verified (auth, text);
  if (password == NULL)
    return unknown_user (auth, text, message);
  digest = g_compute_hmac_for_string (G_CHECKSUM_MD5, (const guint8 *) password,
                                      strlen (password), auth->challenge, -1);
  if (strcmp (space + 1, digest) != 0)
    {
      *message = g_strdup_printf ("wrong digest for '%s' (the password is wrong): '%s', expected '%s'",
                                  text, space + 1, digest);
      return SMTPKIT_FAKE_AUTH_FAILED;
    }
  return verified (auth, text);
}

/* ---- the exchange ----------------------------------------------------- */

/* A new exchange that accepts the @users (user name → password), or with
 * @any every user with any password. %NULL when the mechanism cannot be
 * checked: Cyrus's mechanisms need the passwords, so not @any. */
SmtpkitFakeAuth *
smtpkit_fake_auth_new_for_users (const char  *mechanism,
                                 GHashTable  *users,
                                 gboolean     any,
                                 GError     **error)
{
  static const char *const builtin[] = { "PLAIN", "LOGIN", "CRAM-MD5" };
  g_autoptr (SmtpkitFakeAuth) auth = g_new0 (SmtpkitFakeAuth, 1);

  auth->name = g_ascii_strup (mechanism, -1);
  auth->users = g_hash_table_ref (users);
  auth->any = any;
  auth->mechanism = MECH_CYRUS;
  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++)
    if (strcmp (auth->name, builtin[i]) == 0)
      auth->mechanism = i;
  if (auth->mechanism == MECH_CYRUS && any)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s cannot accept any credentials: the server side needs the password "
                   "(give the users and their passwords)", auth->name);
      return NULL;
    }
  if (auth->mechanism == MECH_CYRUS)
    {
      auth->sasl = cyrus_new (auth->name, users, error);
      if (auth->sasl == NULL)
        return NULL;
    }
  return g_steal_pointer (&auth);
}

/* A new exchange that accepts @user with @password only. */
SmtpkitFakeAuth *
smtpkit_fake_auth_new (const char  *mechanism,
                       const char  *user,
                       const char  *password,
                       GError     **error)
{
  g_autoptr (GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (users, g_strdup (user), g_strdup (password));
  return smtpkit_fake_auth_new_for_users (mechanism, users, FALSE, error);
}

/* The user the exchange verified, once it is OK. */
const char *
smtpkit_fake_auth_get_user (SmtpkitFakeAuth *auth)
{
  return auth->authenticated;
}

/* Strict base64 of a response; in an initial response "=" stands for
 * none, and the empty string is invalid (RFC 4954 §4). */
GBytes *
smtpkit_fake_auth_decode_response (const char *text,
                                   gboolean    initial)
{
  if (initial && strcmp (text, "=") == 0)
    return g_bytes_new (NULL, 0);
  if (initial && *text == '\0')
    return NULL;
  return smtpkit_fake_auth_decode_base64 (text);
}

/*
 * Takes the client's next response (%NULL: the exchange starts without an
 * initial response). CONTINUE sets @challenge (raw, not base64); FAILED
 * and ERROR set @message.
 */
SmtpkitFakeAuthResult
smtpkit_fake_auth_step (SmtpkitFakeAuth  *auth,
                        GBytes           *response,
                        GBytes          **challenge,
                        char            **message)
{
  SmtpkitFakeAuthResult (*step[]) (SmtpkitFakeAuth *, GBytes *, GBytes **, char **) = {
    [MECH_PLAIN] = plain_step,
    [MECH_LOGIN] = login_step,
    [MECH_CRAM_MD5] = cram_md5_step,
    [MECH_CYRUS] = cyrus_step,
  };
  SmtpkitFakeAuthResult result;

  *challenge = NULL;
  *message = NULL;
  result = step[auth->mechanism](auth, response, challenge, message);
  auth->step++;
  return result;
}

void
smtpkit_fake_auth_free (SmtpkitFakeAuth *auth)
{
  if (auth->sasl != NULL)
    {
      g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cyrus_lock);

      sasl_dispose (&auth->sasl);
    }
  g_free (auth->name);
  g_hash_table_unref (auth->users);
  g_free (auth->authenticated);
  g_free (auth->login_user);
  g_free (auth->challenge);
  g_free (auth);
}
