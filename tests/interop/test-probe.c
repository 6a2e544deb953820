/* test-probe.c: smtpkit-harness probe against the private Postfix and Dovecot
 *
 *   test-probe --harness PATH [GTEST OPTION…]
 *   test-probe --harness PATH --compatibility DIR
 *
 * Each test starts a server with the interop fixtures, runs the probe on
 * it as a subprocess and reads its TAP: every check must pass or be
 * skipped, and the checks the server's extensions call for must have
 * passed, not been skipped. With --compatibility, the three probes run
 * once and their TAP is written to DIR/postfix-starttls.tap,
 * DIR/postfix-smtps.tap and DIR/dovecot.tap, for
 * build-aux/compatibility.sh, which makes docs/compatibility.md of them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "interop-server.h"

#define ADDRESS(user) user "@" INTEROP_DOMAIN

static const char *harness;

typedef struct
{
  InteropServer *server;
  char *dir;                    /* the password file's */
} Fixture;

static void
setup (Fixture       *fixture,
       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  gboolean dovecot = GPOINTER_TO_INT (data);

  fixture->server = dovecot ? interop_dovecot_start (&error) : interop_postfix_start (&error);
  if (fixture->server == NULL)
    interop_server_unavailable (dovecot ? "Dovecot" : "Postfix", error);
  fixture->dir = g_dir_make_tmp ("smtpkit-probe-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *password = g_build_filename (fixture->dir, "password", NULL);

  g_unlink (password);
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_clear_pointer (&fixture->server, interop_server_stop);
}

/* The probe's command line for one of the three servers' probes. */
static GPtrArray *
probe_args (InteropServer *server,
            const char    *which,
            const char    *dir)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (args, g_strdup (harness));
  g_ptr_array_add (args, g_strdup ("probe"));
  g_ptr_array_add (args, g_strdup ("--format=tap"));
  if (g_str_equal (which, "dovecot"))
    {
      g_ptr_array_add (args, g_strdup_printf ("lmtp://%s", interop_dovecot_get_socket (server)));
      g_ptr_array_add (args, g_strdup ("--send"));
      g_ptr_array_add (args, g_strdup ("--to=" ADDRESS ("bob")));
      g_ptr_array_add (args, g_strdup ("--to=" ADDRESS ("carol")));
      g_ptr_array_add (args, g_strdup ("--to=" ADDRESS ("dave")));
      g_ptr_array_add (args, g_strdup ("--from=" ADDRESS ("probe")));
    }
  else
    {
      g_autofree char *password = g_build_filename (dir, "password", NULL);
      g_autoptr (GError) error = NULL;

      g_assert_true (g_file_set_contents (password, INTEROP_SASL_PASSWORD "\n", -1, &error));
      if (g_str_equal (which, "postfix-starttls"))
        {
          g_ptr_array_add (args, g_strdup_printf ("smtp://127.0.0.1:%u",
                                                  interop_postfix_get_port (server)));
          g_ptr_array_add (args, g_strdup ("--starttls"));
          g_ptr_array_add (args, g_strdup ("--send"));
          g_ptr_array_add (args, g_strdup ("--to=" ADDRESS ("bob")));
          g_ptr_array_add (args, g_strdup ("--to=" ADDRESS ("carol")));
        }
      else
        g_ptr_array_add (args, g_strdup_printf ("smtps://127.0.0.1:%u",
                                                interop_postfix_get_tls_port (server)));
      g_ptr_array_add (args, g_strdup_printf ("--ca-file=%s", interop_postfix_get_ca_file (server)));
      g_ptr_array_add (args, g_strdup ("--user=" INTEROP_SASL_USER));
      g_ptr_array_add (args, g_strdup_printf ("--password-file=%s", password));
      g_ptr_array_add (args, g_strdup ("--from=" ADDRESS ("alice")));
    }
  g_ptr_array_add (args, NULL);
  return args;
}

/* Runs the probe; its TAP, and its exit status in *@status. */
static char *
run_probe (InteropServer *server,
           const char    *which,
           const char    *dir,
           int           *status)
{
  g_autoptr (GPtrArray) args = probe_args (server, which, dir);
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  int wait_status = 0;

  g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &wait_status, &error);
  g_assert_no_error (error);
  if (err && err[0])
    g_test_message ("the probe's standard error:\n%s", err);
  *status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return out;
}

/* "ok", "skip" or "not ok" for check @id in @tap; NULL when absent. */
static const char *
tap_status (const char *tap,
            const char *id)
{
  g_auto (GStrv) lines = g_strsplit (tap, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    {
      const char *rest = lines[i];
      gboolean ok = g_str_has_prefix (rest, "ok ");
      const char *dash;

      if (!ok && !g_str_has_prefix (rest, "not ok "))
        continue;
      dash = strstr (rest, " - ");
      if (dash == NULL)
        continue;
      rest = dash + 3;
      if (!g_str_has_prefix (rest, id) || (rest[strlen (id)] != '\0' && rest[strlen (id)] != ' '))
        continue;
      if (!ok)
        return "not ok";
      return strstr (rest, " # SKIP") ? "skip" : "ok";
    }
  return NULL;
}

static void
assert_probe (Fixture            *fixture,
              const char         *which,
              const char *const  *passed)
{
  int status;
  g_autofree char *tap = NULL;

  if (fixture->server == NULL)
    return;
  tap = run_probe (fixture->server, which, fixture->dir, &status);
  g_test_message ("the probe's TAP:\n%s", tap);
  g_assert_null (strstr (tap, "\nnot ok "));
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; passed[i]; i++)
    g_assert_cmpstr (tap_status (tap, passed[i]), ==, "ok");
}

static void
test_postfix_starttls (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *const passed[] = {
    "rfc5321/greeting", "rfc5321/ehlo", "rfc5321/helo", "rfc5321/noop", "rfc5321/rset",
    "rfc5321/vrfy", "rfc5321/expn", "rfc5321/help", "rfc5321/syntax-error",
    "rfc5321/rcpt-before-mail", "rfc5321/data-without-rcpt", "rfc5321/rset-clears",
    "rfc5321/unknown-parameter", "rfc5321/long-line", "rfc1870/size", "rfc2920/pipelining",
    "rfc3030/bdat-without-mail", "rfc3030/chunking", "rfc3207/starttls",
    "rfc3207/starttls-injection", "rfc3461/dsn", "rfc4954/auth-plain", "rfc4954/auth-login",
    "rfc4954/auth-wrong-password", "rfc4954/auth-cancel", "rfc6152/8bitmime",
    "rfc6531/smtputf8", NULL
  };
  g_autofree char *bob = NULL;

  assert_probe (fixture, "postfix-starttls", passed);
  if (fixture->server == NULL)
    return;
  /* With --send: 8BITMIME, SMTPUTF8, DSN and CHUNKING each delivered. */
  bob = interop_server_get_maildir (fixture->server, "bob");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = interop_wait_for_messages (bob, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 4);
}

static void
test_postfix_smtps (Fixture       *fixture,
                    gconstpointer  data)
{
  const char *const passed[] = {
    "rfc5321/greeting", "rfc5321/ehlo", "rfc5321/long-line", "rfc2920/pipelining",
    "rfc4954/auth-plain", "rfc4954/auth-wrong-password", "rfc4954/auth-cancel", NULL
  };
  g_autofree char *bob = NULL;

  assert_probe (fixture, "postfix-smtps", passed);
  if (fixture->server == NULL)
    return;
  /* Without --send, nothing is delivered. */
  bob = interop_server_get_maildir (fixture->server, "bob");
  g_assert_cmpuint (interop_count_messages (bob), ==, 0);
}

static void
test_dovecot (Fixture       *fixture,
              gconstpointer  data)
{
  const char *const passed[] = {
    "rfc5321/greeting", "rfc5321/ehlo", "rfc5321/noop", "rfc5321/rset",
    "rfc5321/rcpt-before-mail", "rfc5321/data-without-rcpt", "rfc5321/rset-clears",
    "rfc5321/long-line", "rfc2920/pipelining", "rfc2033/per-recipient", NULL
  };

  assert_probe (fixture, "dovecot", passed);
}

/* Runs the three probes and keeps their TAP in @dir. */
static int
compatibility (const char *dir)
{
  const char *const probes[] = { "postfix-starttls", "postfix-smtps", "dovecot" };
  g_autoptr (GError) error = NULL;
  g_autoptr (InteropServer) postfix = interop_postfix_start (&error);
  g_autoptr (InteropServer) dovecot = NULL;

  if (postfix == NULL)
    g_error ("Postfix cannot run: %s", error->message);
  dovecot = interop_dovecot_start (&error);
  if (dovecot == NULL)
    g_error ("Dovecot cannot run: %s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s.tap", dir, probes[i]);
      g_autofree char *tap = NULL;
      int status;

      tap = run_probe (i < 2 ? postfix : dovecot, probes[i], dir, &status);
      if (!g_file_set_contents (path, tap, -1, &error))
        g_error ("%s", error->message);
      g_print ("%s: exit status %d\n", path, status);
    }
  return 0;
}

int
main (int    argc,
      char **argv)
{
  const char *compatibility_dir = NULL;
  int n = 1;

  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--harness") && i + 1 < argc)
      harness = argv[++i];
    else if (g_str_equal (argv[i], "--compatibility") && i + 1 < argc)
      compatibility_dir = argv[++i];
    else
      argv[n++] = argv[i];
  argc = n;
  argv[argc] = NULL;
  if (harness == NULL)
    g_error ("usage: test-probe --harness PATH [--compatibility DIR]");
  /* The fixtures find their files through the test framework. */
  g_test_init (&argc, &argv, NULL);
  if (compatibility_dir)
    return compatibility (compatibility_dir);
  g_test_add ("/interop/probe/postfix-starttls", Fixture, GINT_TO_POINTER (FALSE), setup,
              test_postfix_starttls, teardown);
  g_test_add ("/interop/probe/postfix-smtps", Fixture, GINT_TO_POINTER (FALSE), setup,
              test_postfix_smtps, teardown);
  g_test_add ("/interop/probe/dovecot", Fixture, GINT_TO_POINTER (TRUE), setup, test_dovecot,
              teardown);
  return g_test_run ();
}
