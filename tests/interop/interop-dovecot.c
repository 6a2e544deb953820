/* interop-dovecot.c: a private Dovecot LMTP server for the tests
 *
 * `dovecot -c CONFIG -F`, in the foreground as a child of the test, with
 * conf/dovecot.conf: LMTP on a Unix socket in the private folder, the
 * users of conf/dovecot-users (one of them with a 1 KB quota), Maildirs
 * in the folder.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server-private.h"

#include <gio/gunixsocketaddress.h>

static gboolean
socket_listening (InteropServer *server)
{
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GSocketAddress) address = NULL;

  if (!g_file_test (server->socket_path, G_FILE_TEST_EXISTS))
    return FALSE;
  client = g_socket_client_new ();
  address = g_unix_socket_address_new (server->socket_path);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  /* Dovecot's lmtp process logs the visit and leaves. */
  return connection != NULL;
}

InteropServer *
interop_dovecot_start (GError **error)
{
  g_autoptr (InteropServer) server = interop_server_new ("Dovecot", error);
  static const char *const programs[] = { "dovecot", NULL };
  char *paths[1] = { NULL };
  g_autofree char *config = NULL;
  const char *argv[] = { NULL, "-c", NULL, "-F", NULL };
  gboolean ok;

  if (server == NULL)
    return NULL;
  server->log_path = interop_server_path (server, "dovecot.log");
  server->maildir_subdir = "Maildir";
  server->socket_path = interop_server_path (server, "lmtp");
  config = interop_server_path (server, "dovecot.conf");
  argv[2] = config;

  ok = interop_server_check_requirements (server, programs, paths, error) &&
       interop_server_make_dir (server, "run", NULL, error) &&
       interop_server_make_dir (server, "state", NULL, error) &&
       interop_server_make_dir (server, "mail", "nobody", error) &&
       interop_server_install_template (server, "dovecot.conf", "dovecot.conf", error, NULL) &&
       interop_server_install_template (server, "dovecot-users", "users", error, NULL) &&
       (argv[0] = paths[0]) != NULL &&
       interop_server_spawn (server, argv, "dovecot.out", error) &&
       interop_server_wait_ready (server, socket_listening, error);
  g_free (paths[0]);
  return ok ? g_steal_pointer (&server) : NULL;
}

const char *
interop_dovecot_get_socket (InteropServer *server)
{
  return server->socket_path;
}
