/* interop-postfix.c: a private Postfix for the tests
 *
 * Postfix's own programs, with a config directory in the private folder
 * (conf/postfix-main.cf, conf/postfix-master.cf): `postfix -c DIR check`
 * makes the queue, then its master runs in the foreground (`master -d`)
 * as a child of the test, so that stopping it, or the test dying, stops
 * the whole mail system. The TLS certificate and its CA are the fake
 * server's, made with GnuTLS when the test starts; the SASL account is
 * put in a sasldb of the folder with saslpasswd2.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server-private.h"

#include <unistd.h>

#include "smtpkit-fake-server.h"

enum
{
  PROGRAM_POSTFIX,
  PROGRAM_MASTER,
  PROGRAM_SASLPASSWD2,
  N_PROGRAMS
};

static const char *const programs[N_PROGRAMS + 1] = {
  [PROGRAM_POSTFIX] = "postfix",
  [PROGRAM_MASTER] = "/usr/lib/postfix/sbin/master",
  [PROGRAM_SASLPASSWD2] = "saslpasswd2",
};

/* The key and the certificate chain in one file (smtpd_tls_chain_files). */
static gboolean
install_certificate (InteropServer  *server,
                     GError        **error)
{
  GTlsCertificate *certificate = smtpkit_fake_server_get_certificate ("good");
  g_autofree char *path = interop_server_path (server, "etc/tls.pem");
  g_autofree char *key_pem = NULL;
  g_autofree char *certificate_pem = NULL;
  g_autofree char *pem = NULL;
  const char *ca_file = smtpkit_fake_server_get_ca_file ();

  if (certificate == NULL || ca_file == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the test certificates cannot be made");
      return FALSE;
    }
  g_object_get (certificate, "private-key-pem", &key_pem, "certificate-pem", &certificate_pem,
                NULL);
  pem = g_strconcat (key_pem, certificate_pem, NULL);
  server->ca_file = g_strdup (ca_file);
  return g_file_set_contents_full (path, pem, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gboolean
install_sasldb (InteropServer  *server,
                const char     *saslpasswd2,
                GError        **error)
{
  g_autofree char *sasldb = interop_server_path (server, "sasl/sasldb2");
  g_autofree char *input = g_strdup_printf ("%s\n", INTEROP_SASL_PASSWORD);
  const char *argv[] = { saslpasswd2, "-p", "-c", "-f", sasldb, "-u", INTEROP_DOMAIN,
                         INTEROP_SASL_USER, NULL };

  /* smtpd reads the sasldb as the postfix user. */
  return interop_run (argv, input, error) &&
         interop_server_chown (server, "sasl/sasldb2", "postfix", error);
}

static gboolean
master_started (InteropServer *server)
{
  g_autofree char *log = interop_server_get_log (server);

  /* The master logs this once its listening sockets are bound. */
  return strstr (log, "postfix/master") != NULL && strstr (log, "daemon started") != NULL;
}

static gboolean
configure (InteropServer  *server,
           char          **paths,
           GError        **error)
{
  g_autofree char *smtp_port = NULL;
  g_autofree char *smtps_port = NULL;

  server->port = interop_free_port (error);
  server->tls_port = server->port != 0 ? interop_free_port (error) : 0;
  if (server->tls_port == 0)
    return FALSE;
  smtp_port = g_strdup_printf ("%u", server->port);
  smtps_port = g_strdup_printf ("%u", server->tls_port);

  return interop_server_make_dir (server, "etc/sasl", NULL, error) &&
         interop_server_make_dir (server, "queue", NULL, error) &&
         interop_server_make_dir (server, "data", "postfix", error) &&
         interop_server_make_dir (server, "sasl", "postfix", error) &&
         interop_server_make_dir (server, "mail", "nobody", error) &&
         interop_server_install_template (server, "postfix-main.cf", "etc/main.cf", error, NULL) &&
         interop_server_install_template (server, "postfix-master.cf", "etc/master.cf", error,
                                          "SMTP_PORT", smtp_port, "SMTPS_PORT", smtps_port,
                                          NULL) &&
         interop_server_install_template (server, "postfix-vmailbox", "etc/vmailbox", error,
                                          NULL) &&
         interop_server_install_template (server, "sasl-smtpd.conf", "etc/sasl/smtpd.conf",
                                          error, NULL) &&
         install_certificate (server, error) &&
         install_sasldb (server, paths[PROGRAM_SASLPASSWD2], error);
}

static gboolean
start (InteropServer  *server,
       char          **paths,
       GError        **error)
{
  g_autofree char *config_dir = interop_server_path (server, "etc");
  const char *check[] = { paths[PROGRAM_POSTFIX], "-c", config_dir, "check", NULL };
  const char *master[] = { paths[PROGRAM_MASTER], "-c", config_dir, "-d", NULL };

  g_autoptr (GError) check_error = NULL;

  /* check makes the queue's folders, with their owners and modes. */
  if (!interop_run (check, NULL, &check_error))
    {
      g_autofree char *log = interop_server_get_log (server);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Postfix's configuration check failed: %s\nmaillog:\n%s",
                   check_error->message, log);
      return FALSE;
    }
  return interop_server_spawn (server, master, "master.out", error) &&
         interop_server_wait_ready (server, master_started, error);
}

static InteropServer *
try_start (gboolean  *port_taken,
           GError   **error)
{
  g_autoptr (InteropServer) server = interop_server_new ("Postfix", error);
  char *paths[N_PROGRAMS] = { NULL };
  gboolean ok;

  if (server == NULL)
    return NULL;
  server->log_path = interop_server_path (server, "maillog");

  ok = interop_server_check_requirements (server, programs, paths, error) &&
       configure (server, paths, error) && start (server, paths, error);
  for (guint i = 0; i < N_PROGRAMS; i++)
    g_free (paths[i]);
  if (!ok)
    {
      g_autofree char *log = interop_server_get_log (server);

      *port_taken = strstr (log, "Address already in use") != NULL;
      return NULL;
    }
  return g_steal_pointer (&server);
}

InteropServer *
interop_postfix_start (GError **error)
{
  gboolean port_taken = FALSE;

  /* The ports were free when picked; another program may have taken one
   * since. Try again with others, a few times. */
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      InteropServer *server = try_start (&port_taken, &local_error);

      if (server != NULL)
        return server;
      if (!port_taken || attempt == 3)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

guint16
interop_postfix_get_port (InteropServer *server)
{
  return server->port;
}

guint16
interop_postfix_get_tls_port (InteropServer *server)
{
  return server->tls_port;
}

const char *
interop_postfix_get_ca_file (InteropServer *server)
{
  return server->ca_file;
}
