/* test-send-config.c: smtpkit-send's accounts file, passwords and queue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Compiles tools/send/send-config.c (and its siblings) directly. Each test
 * runs with its own XDG directories (G_TEST_OPTION_ISOLATE_DIRS), so the
 * default accounts file is the test's own.
 */

#include "config.h"

#include "send-config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------- */

static char *
default_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "smtpkit", "accounts.conf", NULL);
}

/* Writes @text to @path, making its directory; returns @path. */
static char *
write_file (char       *path,
            const char *text)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* A file in the test's own config directory; returns its path. */
static char *
write_test_file (const char *name,
                 const char *text)
{
  return write_file (g_build_filename (g_get_user_config_dir (), name, NULL), text);
}

/* Writes @text as the default accounts file; returns its path. */
static char *
write_config (const char *text)
{
  return write_file (default_config_path (), text);
}

static SendAccount *
load_text (const char *text,
           const char *name,
           GError    **error)
{
  g_autofree char *path = write_config (text);

  return send_account_load (NULL, name, error);
}

/* Asserts that @error is a SEND_CONFIG_ERROR_CONFIG that starts with
 * "PATH:LINE: " and holds @fragment. */
static void
assert_config_error_at (const GError *error,
                        guint         line,
                        const char   *fragment)
{
  g_autofree char *path = default_config_path ();
  g_autofree char *prefix = g_strdup_printf ("%s:%u: ", path, line);

  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG);
  if (!g_str_has_prefix (error->message, prefix) || !strstr (error->message, fragment))
    g_error ("expected \"%s...%s...\", got \"%s\"", prefix, fragment, error->message);
}

static SendAccount *
finished_account (const char *server)
{
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (account);
  send_account_set (account, "server", server, &error);
  g_assert_no_error (error);
  send_account_finish (account, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

/* ---- server URIs ------------------------------------------------------- */

typedef struct
{
  const char *test;
  const char *server;
  const char *host;
  guint16 port;
  const char *socket_path;
  gboolean lmtp;
  SmtpkitTlsMode tls_mode;
} UriCase;

static const UriCase uri_cases[] = {
  { "smtp-submission", "smtp://mail.example.org:587", "mail.example.org", 587, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "smtp-no-port", "smtp://mail.example.org", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "smtp-slash", "smtp://mail.example.org/", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "smtp-localhost", "smtp://localhost:2525", "localhost", 2525, NULL, FALSE, SMTPKIT_TLS_MODE_NONE },
  { "smtp-127", "smtp://127.0.0.1:25", "127.0.0.1", 25, NULL, FALSE, SMTPKIT_TLS_MODE_NONE },
  { "smtp-127-8", "smtp://127.8.9.10", "127.8.9.10", 0, NULL, FALSE, SMTPKIT_TLS_MODE_NONE },
  { "smtp-ipv6-loopback", "smtp://[::1]:25", "::1", 25, NULL, FALSE, SMTPKIT_TLS_MODE_NONE },
  { "smtp-ipv6", "smtp://[2001:db8::1]", "2001:db8::1", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "smtp-upper-scheme", "SMTP://mail.example.org", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "bare-host-port", "127.0.0.1:2525", "127.0.0.1", 2525, NULL, FALSE, SMTPKIT_TLS_MODE_NONE },
  { "bare-host", "mail.example.org", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
  { "smtp-465", "smtp://mail.example.org:465", "mail.example.org", 465, NULL, FALSE, SMTPKIT_TLS_MODE_IMPLICIT },
  { "smtp-465-loopback", "127.0.0.1:465", "127.0.0.1", 465, NULL, FALSE, SMTPKIT_TLS_MODE_IMPLICIT },
  { "smtps", "smtps://mail.example.org", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_IMPLICIT },
  { "smtps-loopback", "smtps://localhost:4650", "localhost", 4650, NULL, FALSE, SMTPKIT_TLS_MODE_IMPLICIT },
  { "lmtp-unix", "lmtp:///run/dovecot/lmtp", NULL, 0, "/run/dovecot/lmtp", TRUE, SMTPKIT_TLS_MODE_NONE },
  { "lmtp-tcp", "lmtp://mx.example.org:24", "mx.example.org", 24, NULL, TRUE, SMTPKIT_TLS_MODE_STARTTLS },
  { "lmtp-tcp-loopback", "lmtp://127.0.0.1:24", "127.0.0.1", 24, NULL, TRUE, SMTPKIT_TLS_MODE_NONE },
  { "user-in-uri", "smtp://alice@mail.example.org", "mail.example.org", 0, NULL, FALSE, SMTPKIT_TLS_MODE_STARTTLS },
};

static void
test_uri (gconstpointer data)
{
  const UriCase *c = data;
  g_autoptr (SendAccount) account = finished_account (c->server);

  g_assert_cmpstr (account->host, ==, c->host);
  g_assert_cmpuint (account->port, ==, c->port);
  g_assert_cmpstr (account->socket_path, ==, c->socket_path);
  g_assert_cmpint (account->lmtp, ==, c->lmtp);
  g_assert_cmpint (account->tls_mode, ==, c->tls_mode);
  /* The Secret Service attribute: always a URI. */
  g_assert_true (strstr (account->server, "://") != NULL);
}

static void
test_uri_user (void)
{
  g_autoptr (SendAccount) account = finished_account ("smtp://alice@mail.example.org");

  g_assert_cmpstr (account->user, ==, "alice");
}

typedef struct
{
  const char *test;
  const char *server;
  const char *why;
} BadUriCase;

static const BadUriCase bad_uri_cases[] = {
  { "ftp", "ftp://mail.example.org", "scheme is not one of smtp, smtps, lmtp" },
  { "http", "http://mail.example.org", "scheme is not one of smtp, smtps, lmtp" },
  { "smtp-path", "smtp://mail.example.org/inbox", "has no path" },
  { "smtps-path", "smtps://mail.example.org/x", "has no path" },
  { "lmtp-tcp-path", "lmtp://mx.example.org/x", "has no path" },
  { "password", "smtp://alice:s3cret@mail.example.org", "a password does not belong in the URI" },
  { "smtp-no-host", "smtp:///run/socket", "needs a host" },
  { "lmtp-no-path", "lmtp://", "absolute path" },
  { "lmtp-root", "lmtp:///", "absolute path" },
  { "query", "smtp://mail.example.org?x=1", "no query or fragment" },
  { "fragment", "smtp://mail.example.org#x", "no query or fragment" },
  { "port-zero", "smtp://mail.example.org:0", "port 0" },
  { "port-junk", "smtp://mail.example.org:25x", "is not a URI" },
  { "port-too-big", "smtp://mail.example.org:70000", "is not a URI" },
  { "space", "smtp://mail example.org", "space" },
  { "empty", "", "empty" },
};

static void
test_bad_uri (gconstpointer data)
{
  const BadUriCase *c = data;
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (send_account_set (account, "server", c->server, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
  g_assert_true (g_str_has_prefix (error->message, "server: "));
  if (!strstr (error->message, c->why))
    g_error ("expected \"%s\" in \"%s\"", c->why, error->message);
  g_assert_null (account->server);
}

/* ---- TLS --------------------------------------------------------------- */

static void
test_tls_explicit (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("[a]\nserver=smtp://localhost\ntls=starttls\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (send_account_finish (account, &error));
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_STARTTLS);
  g_clear_pointer (&account, send_account_free);

  account = load_text ("[a]\nserver=smtp://mail.example.org\ntls=none\n", NULL, &error);
  g_assert_true (send_account_finish (account, &error));
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_NONE);
  g_clear_pointer (&account, send_account_free);

  account = load_text ("[a]\nserver=smtp://mail.example.org\ntls=opportunistic\n", NULL, &error);
  g_assert_true (send_account_finish (account, &error));
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC);
  g_clear_pointer (&account, send_account_free);

  account = load_text ("[a]\nserver=lmtp:///run/lmtp\ntls=implicit\n", NULL, &error);
  g_assert_true (send_account_finish (account, &error));
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_IMPLICIT);
  g_assert_no_error (error);
}

static void
test_tls_smtps_contradiction (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("# accounts\n[a]\nserver=smtps://mail.example.org\ntls=starttls\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (send_account_finish (account, &error));
  assert_config_error_at (error, 2, "tls can only be implicit");
}

/* ---- every key --------------------------------------------------------- */

static void
test_keys_valid (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ca = write_test_file ("ca.pem", "not checked here\n");
  g_autofree char *pw = write_test_file ("pw", "s3cret\n");
  g_autofree char *text = NULL;

  text = g_strdup_printf ("[work]\n"
                          "server = smtp://mail.example.org:587\n"
                          "tls = opportunistic\n"
                          "ca-file = %s\n"
                          "user = alice\n"
                          "password-command = pass show mail\n"
                          "password-file = %s\n"
                          "from = alice@example.org\n"
                          "auth = scram-sha-256, PLAIN;LOGIN\n"
                          "timeout = 2.5\n"
                          "dsn-notify = success,failure delay\n"
                          "dsn-return = hdrs\n"
                          "queue = ~/queue\n"
                          "helo = client.example.org\n",
                          ca, pw);
  account = load_text (text, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (send_account_finish (account, &error));

  g_assert_cmpstr (account->name, ==, "work");
  g_assert_cmpstr (account->server, ==, "smtp://mail.example.org:587");
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC);
  g_assert_cmpstr (account->ca_file, ==, ca);
  g_assert_cmpstr (account->user, ==, "alice");
  g_assert_cmpstr (account->password_command, ==, "pass show mail");
  g_assert_cmpstr (account->password_file, ==, pw);
  g_assert_cmpstr (account->from, ==, "alice@example.org");
  g_assert_cmpstrv (account->auth, ((const char *const[]){ "SCRAM-SHA-256", "PLAIN", "LOGIN", NULL }));
  g_assert_cmpfloat (account->timeout, ==, 2.5);
  g_assert_cmpint (account->dsn_notify, ==,
                   SMTPKIT_DSN_NOTIFY_SUCCESS | SMTPKIT_DSN_NOTIFY_FAILURE | SMTPKIT_DSN_NOTIFY_DELAY);
  g_assert_cmpint (account->dsn_return, ==, SMTPKIT_DSN_RET_HDRS);
  g_assert_true (g_str_has_prefix (account->queue, g_get_home_dir ()));
  g_assert_true (g_str_has_suffix (account->queue, "/queue"));
  g_assert_cmpstr (account->local_hostname, ==, "client.example.org");
}

static void
test_keys_unset (void)
{
  g_autoptr (SendAccount) account = load_text ("[a]\nserver=smtp://localhost\n", NULL, NULL);

  g_assert_nonnull (account);
  g_assert_null (account->user);
  g_assert_null (account->auth);
  g_assert_cmpfloat (account->timeout, <, 0);
  g_assert_cmpint (account->dsn_notify, ==, SMTPKIT_DSN_NOTIFY_UNSET);
  g_assert_cmpint (account->dsn_return, ==, SMTPKIT_DSN_RET_UNSET);
  g_assert_null (account->queue);
  g_assert_false (account->tls_mode_set);
}

static void
test_dsn_never (void)
{
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (send_account_set (account, "dsn-notify", "never", &error));
  g_assert_no_error (error);
  g_assert_cmpint (account->dsn_notify, ==, SMTPKIT_DSN_NOTIFY_NEVER);
  g_assert_true (send_account_set (account, "dsn-return", "full", &error));
  g_assert_cmpint (account->dsn_return, ==, SMTPKIT_DSN_RET_FULL);
  g_assert_true (send_account_set (account, "helo", "[192.0.2.1]", &error));
  g_assert_cmpstr (account->local_hostname, ==, "[192.0.2.1]");
}

typedef struct
{
  const char *test;
  const char *key;
  const char *value;
  const char *why;
} BadValueCase;

static const BadValueCase bad_value_cases[] = {
  { "server", "server", "ftp://mail.example.org", "\"ftp://mail.example.org\": the scheme is not one of smtp, smtps, lmtp" },
  { "tls", "tls", "startls", "\"startls\" is not one of starttls, implicit, opportunistic, none" },
  { "tls-empty", "tls", "", "\"\" is not one of starttls" },
  { "ca-file", "ca-file", "/nonexistent/ca.pem", "/nonexistent/ca.pem is not a file" },
  { "user", "user", "", "the value is empty" },
  { "password-command", "password-command", "", "the value is empty" },
  { "password-file", "password-file", "/nonexistent/pw", "/nonexistent/pw is not a file" },
  { "from", "from", "alice smith@example.org", "holds a space" },
  { "from-brackets", "from", "<alice@example.org>", "angle bracket" },
  { "auth", "auth", "PL@IN", "\"PL@IN\" is not a SASL mechanism name" },
  { "auth-long", "auth", "ABCDEFGHIJKLMNOPQRSTU", "longer than a SASL mechanism name" },
  { "auth-empty", "auth", ", ;", "no mechanism is named" },
  { "timeout-zero", "timeout", "0", "\"0\" is not a positive number of seconds" },
  { "timeout-negative", "timeout", "-5", "is not a positive number" },
  { "timeout-junk", "timeout", "30s", "is not a positive number" },
  { "timeout-nan", "timeout", "nan", "is not a positive number" },
  { "timeout-inf", "timeout", "inf", "is not a positive number" },
  { "dsn-notify", "dsn-notify", "sometimes", "\"sometimes\" is not one of never, success, failure, delay" },
  { "dsn-notify-never-and", "dsn-notify", "never,success", "never goes alone" },
  { "dsn-notify-empty", "dsn-notify", "", "empty" },
  { "dsn-return", "dsn-return", "headers", "\"headers\" is not one of full, hdrs" },
  { "queue", "queue", "", "the value is empty" },
  { "helo", "helo", "bad_host", "\"bad_host\" is not a host name" },
  { "helo-literal", "helo", "[192.0.2.1", "ends with ]" },
};

/* In the file: FILE:LINE: KEY: why, a configuration error. */
static void
test_bad_value_in_file (gconstpointer data)
{
  const BadValueCase *c = data;
  g_autofree char *text = g_strdup_printf ("# line 1\n"
                                           "[defaults]\n"
                                           "from = a@example.org\n"
                                           "\n"
                                           "[acct]\n"
                                           "server = smtp://mail.example.org\n"
                                           "%s = %s\n"
                                           "# the end\n",
                                           c->key, c->value);
  g_autoptr (GError) error = NULL;
  g_autofree char *key = g_strdup_printf (":7: %s: ", c->key);
  SendAccount *account = load_text (text, NULL, &error);

  g_assert_null (account);
  assert_config_error_at (error, 7, c->why);
  g_assert_nonnull (strstr (error->message, key));
}

/* On the command line: KEY: why, a usage error. */
static void
test_bad_value_set (gconstpointer data)
{
  const BadValueCase *c = data;
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("%s: ", c->key);

  g_assert_false (send_account_set (account, c->key, c->value, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
  g_assert_true (g_str_has_prefix (error->message, expected));
  if (!strstr (error->message, c->why))
    g_error ("expected \"%s\" in \"%s\"", c->why, error->message);
}

static void
test_unknown_key_in_file (void)
{
  g_autoptr (GError) error = NULL;
  SendAccount *account;

  /* Even in an account that is not the one in use. */
  account = load_text ("[defaults]\naccount=a\n[a]\nserver=smtp://localhost\n"
                       "[b]\nserver=smtp://localhost\n\n  passwrd-file = /x\n",
                       NULL, &error);
  g_assert_null (account);
  assert_config_error_at (error, 8, "unknown key \"passwrd-file\" in [b]; the keys are server, tls,");
}

static void
test_unknown_key_account_outside_defaults (void)
{
  g_autoptr (GError) error = NULL;
  SendAccount *account;

  account = load_text ("[a]\naccount=b\n", NULL, &error);
  g_assert_null (account);
  assert_config_error_at (error, 2, "unknown key \"account\" in [a]");
}

static void
test_unknown_key_set (void)
{
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (send_account_set (account, "tsl", "none", &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
  g_assert_true (g_str_has_prefix (error->message, "unknown key \"tsl\""));
}

static void
test_parse_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();
  g_autofree char *prefix = g_strconcat (path, ": ", NULL);
  SendAccount *account;

  account = load_text ("[a]\nserver=smtp://localhost\nthis is not a key file line\n", NULL, &error);
  g_assert_null (account);
  assert_config_error_at (error, 3, "this is not a key file line");

  /* A message that quotes no line still names the file. */
  g_clear_error (&error);
  account = load_text ("server=smtp://localhost\n", NULL, &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, prefix));
}

static void
test_bad_escape (void)
{
  g_autoptr (GError) error = NULL;
  SendAccount *account;

  account = load_text ("[a]\nserver=smtp://localhost\nuser=al\\ice\n", NULL, &error);
  g_assert_null (account);
  assert_config_error_at (error, 3, "user: ");
}

/* ---- groups and inheritance -------------------------------------------- */

static void
test_inherit_defaults (void)
{
  const char *text = "[defaults]\n"
                     "account = b\n"
                     "from = everyone@example.org\n"
                     "timeout = 10\n"
                     "tls = none\n"
                     "\n"
                     "[a]\n"
                     "server = smtp://a.example.org\n"
                     "\n"
                     "[b]\n"
                     "server = smtp://b.example.org\n"
                     "timeout = 20\n";
  g_autoptr (SendAccount) b = NULL;
  g_autoptr (SendAccount) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();
  g_autofree char *origin = g_strdup_printf ("%s:10", path);

  b = load_text (text, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b->name, ==, "b");
  g_assert_cmpstr (b->origin, ==, origin);
  g_assert_cmpstr (b->server, ==, "smtp://b.example.org");
  g_assert_cmpstr (b->from, ==, "everyone@example.org");
  g_assert_cmpfloat (b->timeout, ==, 20);
  g_assert_true (send_account_finish (b, &error));
  g_assert_cmpint (b->tls_mode, ==, SMTPKIT_TLS_MODE_NONE);

  a = send_account_load (NULL, "a", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->server, ==, "smtp://a.example.org");
  g_assert_cmpstr (a->from, ==, "everyone@example.org");
  g_assert_cmpfloat (a->timeout, ==, 10);
}

static void
test_only_account (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("[defaults]\nfrom=a@example.org\n[solo]\nserver=smtp://localhost\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->name, ==, "solo");
  g_assert_cmpstr (account->from, ==, "a@example.org");
}

static void
test_defaults_alone (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("[defaults]\nserver=smtp://localhost\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (account->name);
  g_assert_cmpstr (account->server, ==, "smtp://localhost");
}

static void
test_ambiguous_account (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();
  SendAccount *account;

  account = load_text ("[a]\nserver=smtp://localhost\n[b]\nserver=smtp://localhost\n", NULL, &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "2 accounts (a, b) and no [defaults] account=NAME"));
}

static void
test_default_account_missing (void)
{
  g_autoptr (GError) error = NULL;
  SendAccount *account;

  account = load_text ("[defaults]\n\naccount=c\n[a]\nserver=smtp://localhost\n", NULL, &error);
  g_assert_null (account);
  assert_config_error_at (error, 3, "account: there is no account [c]");
}

static void
test_named_account_missing (void)
{
  g_autoptr (GError) error = NULL;
  SendAccount *account;

  account = load_text ("[a]\nserver=smtp://localhost\n", "nope", &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
  g_assert_nonnull (strstr (error->message, "no account [nope]"));

  g_clear_error (&error);
  account = send_account_load (NULL, "defaults", &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
}

/* ---- which file -------------------------------------------------------- */

static void
test_default_file_missing (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  account = send_account_load (NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);
  g_assert_null (account->name);
  g_assert_null (account->origin);
  g_assert_null (account->server);
  g_assert_cmpfloat (account->timeout, <, 0);
}

/* --account NAME needs the file that has it. */
static void
test_default_file_missing_named (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();
  SendAccount *account;

  account = send_account_load (NULL, "work", &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_config_file_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "elsewhere.conf", NULL);
  SendAccount *account;

  account = send_account_load (path, NULL, &error);
  g_assert_null (account);
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_config_file_given (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_test_file ("elsewhere.conf", "\n[x]\nserver=smtp://x.example.org\n");
  g_autoptr (SendAccount) account = NULL;
  g_autofree char *origin = g_strdup_printf ("%s:2", path);

  /* The default file is there too, and not read. */
  g_free (write_config ("[other]\nserver=smtp://other.example.org\n"));
  account = send_account_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->server, ==, "smtp://x.example.org");
  g_assert_cmpstr (account->origin, ==, origin);
}

/* ---- finishing --------------------------------------------------------- */

static void
test_finish_no_server_cli (void)
{
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (send_account_finish (account, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
  g_assert_nonnull (strstr (error->message, "--server"));
}

static void
test_finish_no_server_file (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("\n\n[a]\nuser=alice\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (send_account_finish (account, &error));
  assert_config_error_at (error, 3, "[a] has no server");
}

static void
test_finish_password_without_user (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("[a]\nserver=smtp://localhost\npassword-command=echo x\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (send_account_finish (account, &error));
  assert_config_error_at (error, 1, "has a password-command but no user");
}

static void
test_set_overrides_file (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;

  account = load_text ("[a]\nserver=smtp://mail.example.org\ntls=none\n", NULL, &error);
  g_assert_true (send_account_set (account, "server", "lmtp:///run/lmtp", &error));
  g_assert_no_error (error);
  g_assert_null (account->host);
  g_assert_cmpstr (account->socket_path, ==, "/run/lmtp");
  g_assert_true (account->lmtp);
  g_assert_true (send_account_set (account, "tls", "starttls", &error));
  g_assert_true (send_account_finish (account, &error));
  g_assert_cmpint (account->tls_mode, ==, SMTPKIT_TLS_MODE_STARTTLS);
}

/* ---- passwords --------------------------------------------------------- */

/* An account with a user and, unless @key is NULL, @key=@value. */
static SendAccount *
password_account (const char *key,
                  const char *value)
{
  g_autoptr (SendAccount) account = send_account_load (NULL, NULL, NULL);
  g_autoptr (GError) error = NULL;

  send_account_set (account, "server", "smtp://mail.example.org:587", &error);
  g_assert_no_error (error);
  send_account_set (account, "user", "alice", &error);
  g_assert_no_error (error);
  if (key != NULL)
    send_account_set (account, key, value, &error);
  g_assert_no_error (error);
  send_account_finish (account, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

static char *
write_password_file (const char *text,
                     int         mode)
{
  char *path = write_test_file ("password", text);

  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
assert_password (const SendAccount *account,
                 const char        *expected)
{
  g_autoptr (GError) error = NULL;
  char *password = send_account_get_password (account, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, expected);
  send_password_free (password);
}

static void
assert_password_error (const SendAccount *account,
                       int                code,
                       const char        *fragment)
{
  g_autoptr (GError) error = NULL;
  char *password = send_account_get_password (account, &error);

  g_assert_null (password);
  g_assert_error (error, SEND_CONFIG_ERROR, code);
  if (!strstr (error->message, fragment))
    g_error ("expected \"%s\" in \"%s\"", fragment, error->message);
}

static void
test_password_file_private (void)
{
  g_autofree char *path = write_password_file ("s3cret pass\nnot this\n", 0600);
  g_autoptr (SendAccount) account = password_account ("password-file", path);

  assert_password (account, "s3cret pass");
}

static void
test_password_file_crlf (void)
{
  g_autofree char *path = write_password_file ("s3cret\r\n", 0400);
  g_autoptr (SendAccount) account = password_account ("password-file", path);

  assert_password (account, "s3cret");
}

static void
test_password_file_open_to_others (void)
{
  g_autofree char *path = write_password_file ("s3cret\n", 0644);
  g_autoptr (SendAccount) account = password_account ("password-file", path);
  g_autofree char *fix = g_strdup_printf ("chmod 600 %s", path);

  assert_password_error (account, SEND_CONFIG_ERROR_UNSAFE, "open to group or others (mode 0644)");
  assert_password_error (account, SEND_CONFIG_ERROR_UNSAFE, fix);
}

static void
test_password_file_open_to_group (void)
{
  g_autofree char *path = write_password_file ("s3cret\n", 0640);
  g_autoptr (SendAccount) account = password_account ("password-file", path);

  assert_password_error (account, SEND_CONFIG_ERROR_UNSAFE, "(mode 0640)");
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  assert_password (account, "s3cret");
}

static void
test_password_file_empty (void)
{
  g_autofree char *path = write_password_file ("\nsecond line\n", 0600);
  g_autoptr (SendAccount) account = password_account ("password-file", path);

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "has no password on its first line");
}

static void
test_password_file_gone (void)
{
  g_autofree char *path = write_password_file ("s3cret\n", 0600);
  g_autoptr (SendAccount) account = password_account ("password-file", path);

  g_assert_cmpint (g_unlink (path), ==, 0);
  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "cannot open password-file");
}

static void
test_password_command (void)
{
  g_autoptr (SendAccount) account = password_account ("password-command",
                                                      "printf 's3cret pass\\nnot this\\n'");

  assert_password (account, "s3cret pass");
}

static void
test_password_command_failing (void)
{
  g_autoptr (SendAccount) account = password_account ("password-command",
                                                      "echo s3cret; echo 'no such entry' >&2; exit 3");

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "exited with status 3: no such entry");
}

static void
test_password_command_killed (void)
{
  g_autoptr (SendAccount) account = password_account ("password-command", "kill -TERM $$");

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "was killed by signal 15");
}

static void
test_password_command_silent (void)
{
  g_autoptr (SendAccount) account = password_account ("password-command", "true");

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "printed no password");
}

/* The command's stdin is /dev/null: cat ends at once, with nothing. */
static void
test_password_command_no_stdin (void)
{
  g_autoptr (SendAccount) account = password_account ("password-command", "cat");

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "printed no password");
}

static void
test_password_command_first (void)
{
  g_autofree char *path = write_password_file ("from the file\n", 0600);
  g_autoptr (SendAccount) account = password_account ("password-file", path);
  g_autoptr (GError) error = NULL;

  send_account_set (account, "password-command", "echo from the command", &error);
  g_assert_no_error (error);
  assert_password (account, "from the command");
}

static void
test_password_error_names_account (void)
{
  g_autoptr (SendAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = default_config_path ();
  g_autofree char *prefix = g_strdup_printf ("%s:2: [work] password-command \"exit 1\"", path);

  account = load_text ("\n[work]\nserver=smtp://localhost\nuser=alice\npassword-command=exit 1\n",
                       NULL, &error);
  g_assert_no_error (error);
  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, prefix);
}

static void
test_password_no_user (void)
{
  g_autoptr (SendAccount) account = finished_account ("smtp://localhost");

  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "no user is set");
}

/* With no session bus the Secret Service is not there: an error that says
 * so, at once, rather than a hang or an attempt to start a bus. */
static void
test_password_no_session_bus (void)
{
  g_autoptr (SendAccount) account = password_account (NULL, NULL);
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  assert_password_error (account, SEND_CONFIG_ERROR_PASSWORD, "there is no D-Bus session bus");
  g_assert_false (send_password_store (account, "s3cret", &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_PASSWORD);
  g_assert_nonnull (strstr (error->message, "DBUS_SESSION_BUS_ADDRESS is unset"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_password_store_needs_user (void)
{
  g_autoptr (SendAccount) account = finished_account ("smtp://localhost");
  g_autoptr (GError) error = NULL;

  g_assert_false (send_password_store (account, "s3cret", &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_USAGE);
}

/* ---- the Secret Service (through tests/run-with-keyring.sh) ------------ */

/* What secret-tool, the man page's command, finds for @server and @user. */
static char *
secret_tool_lookup (const char *server,
                    const char *user)
{
  const char *argv[] = { "secret-tool", "lookup", "xdg:schema", "org.gnome.Smtpkit.Account",
                         "server", server, "user", user, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    return NULL;
  return g_strdup (g_strchomp (out));
}

static void
secret_tool_store (const char *server,
                   const char *user,
                   const char *password)
{
  g_autofree char *command = g_strdup_printf ("printf %%s '%s' | secret-tool store --label=test "
                                              "xdg:schema org.gnome.Smtpkit.Account server '%s' user '%s'",
                                              password, server, user);
  const char *argv[] = { "/bin/sh", "-c", command, NULL };
  g_autoptr (GError) error = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
test_secret_store_lookup (void)
{
  g_autoptr (SendAccount) account = password_account (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *found = NULL;

  g_assert_true (send_password_store (account, "s3cret pass", &error));
  g_assert_no_error (error);
  assert_password (account, "s3cret pass");
  found = secret_tool_lookup ("smtp://mail.example.org:587", "alice");
  g_assert_cmpstr (found, ==, "s3cret pass");
}

static void
test_secret_replace (void)
{
  g_autoptr (SendAccount) account = password_account (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *found = NULL;

  g_assert_true (send_password_store (account, "first", &error));
  g_assert_true (send_password_store (account, "second", &error));
  g_assert_no_error (error);
  assert_password (account, "second");
  found = secret_tool_lookup ("smtp://mail.example.org:587", "alice");
  g_assert_cmpstr (found, ==, "second");
}

static void
test_secret_other_user (void)
{
  g_autoptr (SendAccount) alice = password_account (NULL, NULL);
  g_autoptr (SendAccount) bob = password_account ("user", "bob");
  g_autoptr (GError) error = NULL;

  g_assert_true (send_password_store (alice, "alice's", &error));
  g_assert_no_error (error);
  assert_password_error (bob, SEND_CONFIG_ERROR_PASSWORD,
                         "the Secret Service has no password for bob at smtp://mail.example.org:587");
  assert_password_error (bob, SEND_CONFIG_ERROR_PASSWORD, "--store-password");
}

/* A password stored by hand as the man page says is found. */
static void
test_secret_stored_by_secret_tool (void)
{
  g_autoptr (SendAccount) account = password_account ("user", "carol");

  secret_tool_store ("smtp://mail.example.org:587", "carol", "by hand");
  assert_password (account, "by hand");
}

static void
add_password_tests (void)
{
  g_test_add_func ("/send-config/password/file-private", test_password_file_private);
  g_test_add_func ("/send-config/password/file-crlf", test_password_file_crlf);
  g_test_add_func ("/send-config/password/file-open-to-others", test_password_file_open_to_others);
  g_test_add_func ("/send-config/password/file-open-to-group", test_password_file_open_to_group);
  g_test_add_func ("/send-config/password/file-empty", test_password_file_empty);
  g_test_add_func ("/send-config/password/file-gone", test_password_file_gone);
  g_test_add_func ("/send-config/password/command", test_password_command);
  g_test_add_func ("/send-config/password/command-failing", test_password_command_failing);
  g_test_add_func ("/send-config/password/command-killed", test_password_command_killed);
  g_test_add_func ("/send-config/password/command-silent", test_password_command_silent);
  g_test_add_func ("/send-config/password/command-no-stdin", test_password_command_no_stdin);
  g_test_add_func ("/send-config/password/command-first", test_password_command_first);
  g_test_add_func ("/send-config/password/error-names-account", test_password_error_names_account);
  g_test_add_func ("/send-config/password/no-user", test_password_no_user);
  g_test_add_func ("/send-config/password/store-needs-user", test_password_store_needs_user);
  /* Under run-with-keyring.sh there is a bus; this one needs none. */
  if (g_getenv ("SMTPKIT_TEST_SECRET_SERVICE") == NULL)
    g_test_add_func ("/send-config/password/no-session-bus", test_password_no_session_bus);
}

/* Only with a Secret Service of the test's own: never the user's. */
static void
add_secret_service_tests (void)
{
  if (g_getenv ("SMTPKIT_TEST_SECRET_SERVICE") == NULL)
    return;
  g_test_add_func ("/send-config/secret-service/store-lookup", test_secret_store_lookup);
  g_test_add_func ("/send-config/secret-service/replace", test_secret_replace);
  g_test_add_func ("/send-config/secret-service/other-user", test_secret_other_user);
  g_test_add_func ("/send-config/secret-service/stored-by-secret-tool", test_secret_stored_by_secret_tool);
}

/* ---- the queue --------------------------------------------------------- */

static char *
queue_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "smtpkit", "queue", NULL);
}

static SendQueueEntry *
new_entry (const char *sender,
           const char *text)
{
  SendQueueEntry *entry = g_new0 (SendQueueEntry, 1);
  const char *recipients[] = { "bob@example.net", "carol;semi@example.net", NULL };
  const char *rcpt_options[] = { "NOTIFY=FAILURE", NULL };
  const char *mail_options[] = { "SMTPUTF8", "RET=HDRS", NULL };

  entry->sender = g_strdup (sender);
  entry->recipients = g_strdupv ((char **) recipients);
  entry->mail_options = g_strdupv ((char **) mail_options);
  entry->rcpt_options = g_strdupv ((char **) rcpt_options);
  entry->account = g_strdup ("work");
  entry->reason = g_strdup ("451 4.3.0 try again\nlater");
  entry->message = g_bytes_new (text, strlen (text));
  return entry;
}

static char *
store (const char *dir,
       const char *sender)
{
  g_autoptr (SendQueueEntry) entry = new_entry (sender, "Subject: hi\r\n\r\n.dot\r\n");
  g_autoptr (GError) error = NULL;
  char *path = send_queue_store (dir, entry, &error);

  g_assert_no_error (error);
  g_assert_nonnull (path);
  return path;
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      if (g_ascii_isdigit (name[0]))
        n++;
    }
  return n;
}

static char *
read_text (const char *dir,
           const char *name,
           const char *file)
{
  g_autofree char *path = g_build_filename (dir, name, file, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
assert_mode (const char *path,
             guint       mode)
{
  GStatBuf info;

  g_assert_cmpint (g_stat (path, &info), ==, 0);
  g_assert_cmpuint (info.st_mode & 0777, ==, mode);
}

/* The deliver callback: each entry's sender says what to answer, and
 * what it saw is kept. */
typedef struct
{
  GPtrArray *senders;
  SendQueueEntry *last;
  const char *dir;
  gboolean nested_flush_failed;
} Delivery;

static int
deliver (const SendQueueEntry *entry,
         char                **reason,
         gpointer              user_data)
{
  Delivery *delivery = user_data;

  g_ptr_array_add (delivery->senders, g_strdup (entry->sender));
  g_clear_pointer (&delivery->last, send_queue_entry_free);
  delivery->last = g_new0 (SendQueueEntry, 1);
  delivery->last->sender = g_strdup (entry->sender);
  delivery->last->recipients = g_strdupv (entry->recipients);
  delivery->last->mail_options = g_strdupv (entry->mail_options);
  delivery->last->rcpt_options = g_strdupv (entry->rcpt_options);
  delivery->last->account = g_strdup (entry->account);
  delivery->last->reason = g_strdup (entry->reason);
  delivery->last->message = g_bytes_ref (entry->message);

  if (g_str_has_prefix (entry->sender, "temp"))
    {
      *reason = g_strdup_printf ("421 4.4.2 %s timed out", entry->sender);
      return 1;
    }
  if (g_str_has_prefix (entry->sender, "perm"))
    {
      *reason = g_strdup_printf ("550 5.1.1 %s: no such user", entry->sender);
      return -1;
    }
  if (g_str_has_prefix (entry->sender, "nested"))
    {
      g_autoptr (GError) error = NULL;

      delivery->nested_flush_failed = !send_queue_flush (delivery->dir, deliver, delivery,
                                                         NULL, NULL, NULL, &error);
      g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE);
    }
  return 0;
}

static void
delivery_clear (Delivery *delivery)
{
  g_clear_pointer (&delivery->senders, g_ptr_array_unref);
  g_clear_pointer (&delivery->last, send_queue_entry_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Delivery, delivery_clear)

static void
flush_expecting (const char *dir,
                 Delivery   *delivery,
                 guint       delivered,
                 guint       kept,
                 guint       buried)
{
  g_autoptr (GError) error = NULL;
  guint n_delivered = 99, n_kept = 99, n_buried = 99;

  if (delivery->senders == NULL)
    delivery->senders = g_ptr_array_new_with_free_func (g_free);
  delivery->dir = dir;
  g_assert_true (send_queue_flush (dir, deliver, delivery, &n_delivered, &n_kept, &n_buried, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_delivered, ==, delivered);
  g_assert_cmpuint (n_kept, ==, kept);
  g_assert_cmpuint (n_buried, ==, buried);
}

static void
test_queue_store (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "alice@example.org");
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *envelope = g_build_filename (entry_dir, "envelope", NULL);
  g_autofree char *tmp = g_build_filename (dir, "tmp", NULL);
  g_autofree char *text = NULL;

  g_file_get_contents (path, &text, NULL, NULL);
  g_assert_cmpstr (text, ==, "Subject: hi\r\n\r\n.dot\r\n");
  assert_mode (dir, 0700);
  assert_mode (entry_dir, 0700);
  assert_mode (path, 0600);
  assert_mode (envelope, 0600);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_cmpuint (count_entries (tmp), ==, 0);
}

/* Every field comes back as it was stored, separators and line breaks
 * included. */
static void
test_queue_round_trip (void)
{
  g_autofree char *dir = queue_dir ();
  g_autoptr (SendQueueEntry) entry = new_entry ("", "body\0with a NUL");
  g_auto (Delivery) delivery = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  g_clear_pointer (&entry->message, g_bytes_unref);
  entry->message = g_bytes_new ("body\0with a NUL", 15);
  path = send_queue_store (dir, entry, &error);
  g_assert_no_error (error);
  flush_expecting (dir, &delivery, 1, 0, 0);
  g_assert_cmpstr (delivery.last->sender, ==, "");
  g_assert_cmpstrv (delivery.last->recipients, entry->recipients);
  g_assert_cmpstrv (delivery.last->mail_options, entry->mail_options);
  g_assert_cmpstrv (delivery.last->rcpt_options, entry->rcpt_options);
  g_assert_cmpstr (delivery.last->account, ==, "work");
  g_assert_cmpstr (delivery.last->reason, ==, "451 4.3.0 try again\nlater");
  g_assert_true (g_bytes_equal (delivery.last->message, entry->message));
}

static void
test_queue_minimal_entry (void)
{
  g_autofree char *dir = queue_dir ();
  g_autoptr (SendQueueEntry) entry = g_new0 (SendQueueEntry, 1);
  g_auto (Delivery) delivery = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  entry->sender = g_strdup ("a@example.org");
  entry->recipients = g_strsplit ("b@example.org", " ", -1);
  entry->message = g_bytes_new_static ("x\r\n", 3);
  path = send_queue_store (dir, entry, &error);
  g_assert_no_error (error);
  flush_expecting (dir, &delivery, 1, 0, 0);
  g_assert_null (delivery.last->mail_options);
  g_assert_null (delivery.last->rcpt_options);
  g_assert_null (delivery.last->account);
  g_assert_null (delivery.last->reason);
}

static void
test_queue_oldest_first (void)
{
  g_autofree char *dir = queue_dir ();
  const char *senders[] = { "a@example.org", "b@example.org", "c@example.org", "d@example.org", NULL };
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_auto (Delivery) delivery = { 0 };
  guint i;

  for (i = 0; senders[i] != NULL; i++)
    g_ptr_array_add (paths, store (dir, senders[i]));
  for (i = 1; i < paths->len; i++)
    g_assert_cmpstr (g_ptr_array_index (paths, i - 1), <, g_ptr_array_index (paths, i));
  flush_expecting (dir, &delivery, 4, 0, 0);
  g_ptr_array_add (delivery.senders, NULL);
  g_assert_cmpstrv ((char **) delivery.senders->pdata, senders);
}

static void
test_queue_delivered_removed (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "ok@example.org");
  g_auto (Delivery) delivery = { 0 };
  g_autofree char *tmp = g_build_filename (dir, "tmp", NULL);

  flush_expecting (dir, &delivery, 1, 0, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (dir), ==, 0);
  g_assert_cmpuint (count_entries (tmp), ==, 0);
  /* Sent once: the next flush has nothing. */
  flush_expecting (dir, &delivery, 0, 0, 0);
  g_assert_cmpuint (delivery.senders->len, ==, 1);
}

static void
test_queue_temporary_kept (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "temp@example.org");
  g_auto (Delivery) delivery = { 0 };

  flush_expecting (dir, &delivery, 0, 1, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (dir), ==, 1);
  /* The next try sees the reason of the last. */
  flush_expecting (dir, &delivery, 0, 1, 0);
  g_assert_cmpstr (delivery.last->reason, ==, "421 4.4.2 temp@example.org timed out");
}

static void
test_queue_permanent_buried (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "perm@example.org");
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (entry_dir);
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_autofree char *reason = NULL;
  g_autofree char *message = NULL;
  g_auto (Delivery) delivery = { 0 };

  flush_expecting (dir, &delivery, 0, 0, 1);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (dir), ==, 0);
  g_assert_cmpuint (count_entries (dead), ==, 1);
  reason = read_text (dead, name, "reason");
  g_assert_cmpstr (reason, ==, "550 5.1.1 perm@example.org: no such user\n");
  message = read_text (dead, name, "message");
  g_assert_cmpstr (message, ==, "Subject: hi\r\n\r\n.dot\r\n");
  /* Buried, not retried. */
  flush_expecting (dir, &delivery, 0, 0, 0);
}

static void
test_queue_mixed (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_auto (Delivery) delivery = { 0 };

  g_free (store (dir, "temp1@example.org"));
  g_free (store (dir, "ok1@example.org"));
  g_free (store (dir, "perm1@example.org"));
  g_free (store (dir, "ok2@example.org"));
  flush_expecting (dir, &delivery, 2, 1, 1);
  g_assert_cmpuint (count_entries (dir), ==, 1);
  g_assert_cmpuint (count_entries (dead), ==, 1);
}

static void
assert_buried_unreadable (const char *dir,
                          const char *path)
{
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (entry_dir);
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_autofree char *reason = NULL;
  g_auto (Delivery) delivery = { 0 };

  flush_expecting (dir, &delivery, 0, 0, 1);
  g_assert_cmpuint (delivery.senders->len, ==, 0);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  reason = read_text (dead, name, "reason");
  g_assert_true (g_str_has_prefix (reason, "unreadable: "));
}

static void
test_queue_corrupt_envelope (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "a@example.org");
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *envelope = g_build_filename (entry_dir, "envelope", NULL);

  g_assert_true (g_file_set_contents (envelope, "garbage, not a key file\n", -1, NULL));
  assert_buried_unreadable (dir, path);
}

static void
test_queue_no_recipients (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "a@example.org");
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *envelope = g_build_filename (entry_dir, "envelope", NULL);

  g_assert_true (g_file_set_contents (envelope, "[envelope]\nsender=a@example.org\n", -1, NULL));
  assert_buried_unreadable (dir, path);
}

static void
test_queue_message_missing (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "a@example.org");

  g_assert_cmpint (g_unlink (path), ==, 0);
  assert_buried_unreadable (dir, path);
}

static void
test_queue_lock (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "a@example.org");
  g_autofree char *lock_path = g_build_filename (dir, ".lock", NULL);
  g_auto (Delivery) delivery = { 0 };
  g_autoptr (GError) error = NULL;
  int lock = open (lock_path, O_RDWR | O_CREAT, 0600);

  /* Another open file description of the lock: another flush. */
  g_assert_cmpint (lock, >=, 0);
  g_assert_cmpint (flock (lock, LOCK_EX), ==, 0);
  delivery.senders = g_ptr_array_new_with_free_func (g_free);
  g_assert_false (send_queue_flush (dir, deliver, &delivery, NULL, NULL, NULL, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE);
  g_assert_nonnull (strstr (error->message, "being flushed by another smtpkit-send"));
  g_assert_cmpuint (delivery.senders->len, ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  close (lock);
  flush_expecting (dir, &delivery, 1, 0, 0);
}

/* A flush started while one runs sends nothing. */
static void
test_queue_flush_in_flush (void)
{
  g_autofree char *dir = queue_dir ();
  g_auto (Delivery) delivery = { 0 };

  g_free (store (dir, "nested@example.org"));
  g_free (store (dir, "b@example.org"));
  flush_expecting (dir, &delivery, 2, 0, 0);
  g_assert_true (delivery.nested_flush_failed);
  g_assert_cmpuint (delivery.senders->len, ==, 2);
}

static void
test_queue_missing_dir (void)
{
  g_autofree char *dir = queue_dir ();
  g_auto (Delivery) delivery = { 0 };

  flush_expecting (dir, &delivery, 0, 0, 0);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_queue_not_a_dir (void)
{
  g_autofree char *dir = write_test_file ("not-a-queue", "x");
  g_autoptr (SendQueueEntry) entry = new_entry ("a@example.org", "x");
  g_auto (Delivery) delivery = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *below = g_build_filename (dir, "queue", NULL);

  g_assert_false (send_queue_flush (dir, deliver, &delivery, NULL, NULL, NULL, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE);
  g_clear_error (&error);
  g_assert_null (send_queue_store (below, entry, &error));
  g_assert_error (error, SEND_CONFIG_ERROR, SEND_CONFIG_ERROR_QUEUE);
  g_assert_nonnull (strstr (error->message, below));
}

static void
test_queue_strangers_left_alone (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *notes = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *odd = g_build_filename (dir, "00000000000000000001.0000000001.000001", NULL);
  g_auto (Delivery) delivery = { 0 };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (notes, "mine", -1, NULL));
  g_assert_true (g_file_set_contents (odd, "a file with an entry's name", -1, NULL));
  flush_expecting (dir, &delivery, 0, 0, 0);
  g_assert_true (g_file_test (notes, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (odd, G_FILE_TEST_EXISTS));
}

static void
test_queue_bury_direct (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_autoptr (SendQueueEntry) entry = new_entry ("a@example.org", "direct\r\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *message = NULL;
  const char *name;

  g_assert_true (send_queue_bury (dir, NULL, entry, "554 5.7.1 rejected", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 0);
  g_assert_cmpuint (count_entries (dead), ==, 1);
  listing = g_dir_open (dead, 0, NULL);
  name = g_dir_read_name (listing);
  reason = read_text (dead, name, "reason");
  g_assert_cmpstr (reason, ==, "554 5.7.1 rejected\n");
  message = read_text (dead, name, "message");
  g_assert_cmpstr (message, ==, "direct\r\n");
}

static void
test_queue_bury_queued (void)
{
  g_autofree char *dir = queue_dir ();
  g_autofree char *path = store (dir, "a@example.org");
  g_autofree char *entry_dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (entry_dir);
  g_autofree char *dead = g_build_filename (dir, "dead.letter", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;

  g_assert_true (send_queue_bury (dir, path, NULL, "given up", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (entry_dir, G_FILE_TEST_EXISTS));
  reason = read_text (dead, name, "reason");
  g_assert_cmpstr (reason, ==, "given up\n");
}

static void
add_queue_tests (void)
{
  g_test_add_func ("/send-config/queue/store", test_queue_store);
  g_test_add_func ("/send-config/queue/round-trip", test_queue_round_trip);
  g_test_add_func ("/send-config/queue/minimal-entry", test_queue_minimal_entry);
  g_test_add_func ("/send-config/queue/oldest-first", test_queue_oldest_first);
  g_test_add_func ("/send-config/queue/delivered-removed", test_queue_delivered_removed);
  g_test_add_func ("/send-config/queue/temporary-kept", test_queue_temporary_kept);
  g_test_add_func ("/send-config/queue/permanent-buried", test_queue_permanent_buried);
  g_test_add_func ("/send-config/queue/mixed", test_queue_mixed);
  g_test_add_func ("/send-config/queue/corrupt-envelope", test_queue_corrupt_envelope);
  g_test_add_func ("/send-config/queue/no-recipients", test_queue_no_recipients);
  g_test_add_func ("/send-config/queue/message-missing", test_queue_message_missing);
  g_test_add_func ("/send-config/queue/lock", test_queue_lock);
  g_test_add_func ("/send-config/queue/flush-in-flush", test_queue_flush_in_flush);
  g_test_add_func ("/send-config/queue/missing-dir", test_queue_missing_dir);
  g_test_add_func ("/send-config/queue/not-a-dir", test_queue_not_a_dir);
  g_test_add_func ("/send-config/queue/strangers-left-alone", test_queue_strangers_left_alone);
  g_test_add_func ("/send-config/queue/bury-direct", test_queue_bury_direct);
  g_test_add_func ("/send-config/queue/bury-queued", test_queue_bury_queued);
}

/* ---- main -------------------------------------------------------------- */

static void
add_config_tests (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (uri_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/send-config/uri/%s", uri_cases[i].test);
      g_test_add_data_func (path, &uri_cases[i], test_uri);
    }
  g_test_add_func ("/send-config/uri/user", test_uri_user);
  for (i = 0; i < G_N_ELEMENTS (bad_uri_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/send-config/uri/bad/%s", bad_uri_cases[i].test);
      g_test_add_data_func (path, &bad_uri_cases[i], test_bad_uri);
    }
  g_test_add_func ("/send-config/tls/explicit", test_tls_explicit);
  g_test_add_func ("/send-config/tls/smtps-contradiction", test_tls_smtps_contradiction);
  g_test_add_func ("/send-config/keys/valid", test_keys_valid);
  g_test_add_func ("/send-config/keys/unset", test_keys_unset);
  g_test_add_func ("/send-config/keys/dsn-never", test_dsn_never);
  for (i = 0; i < G_N_ELEMENTS (bad_value_cases); i++)
    {
      g_autofree char *in_file = g_strdup_printf ("/send-config/keys/bad-in-file/%s", bad_value_cases[i].test);
      g_autofree char *set = g_strdup_printf ("/send-config/keys/bad-set/%s", bad_value_cases[i].test);

      g_test_add_data_func (in_file, &bad_value_cases[i], test_bad_value_in_file);
      g_test_add_data_func (set, &bad_value_cases[i], test_bad_value_set);
    }
  g_test_add_func ("/send-config/keys/unknown-in-file", test_unknown_key_in_file);
  g_test_add_func ("/send-config/keys/account-outside-defaults", test_unknown_key_account_outside_defaults);
  g_test_add_func ("/send-config/keys/unknown-set", test_unknown_key_set);
  g_test_add_func ("/send-config/file/parse-error", test_parse_error);
  g_test_add_func ("/send-config/file/bad-escape", test_bad_escape);
  g_test_add_func ("/send-config/file/default-missing", test_default_file_missing);
  g_test_add_func ("/send-config/file/default-missing-named", test_default_file_missing_named);
  g_test_add_func ("/send-config/file/config-missing", test_config_file_missing);
  g_test_add_func ("/send-config/file/config-given", test_config_file_given);
  g_test_add_func ("/send-config/groups/inherit-defaults", test_inherit_defaults);
  g_test_add_func ("/send-config/groups/only-account", test_only_account);
  g_test_add_func ("/send-config/groups/defaults-alone", test_defaults_alone);
  g_test_add_func ("/send-config/groups/ambiguous", test_ambiguous_account);
  g_test_add_func ("/send-config/groups/default-account-missing", test_default_account_missing);
  g_test_add_func ("/send-config/groups/named-account-missing", test_named_account_missing);
  g_test_add_func ("/send-config/finish/no-server-cli", test_finish_no_server_cli);
  g_test_add_func ("/send-config/finish/no-server-file", test_finish_no_server_file);
  g_test_add_func ("/send-config/finish/password-without-user", test_finish_password_without_user);
  g_test_add_func ("/send-config/finish/set-overrides-file", test_set_overrides_file);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  add_config_tests ();
  add_password_tests ();
  add_queue_tests ();
  add_secret_service_tests ();
  status = g_test_run ();
  /* libsecret keeps its connection to the service for the process. */
  secret_service_disconnect ();
  return status;
}
