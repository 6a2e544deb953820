/* smtpkit-plugin-socket.c: what the socket transports share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "smtpkit-plugin-socket.h"

static gboolean
is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *name = NULL;
  gsize length;

  if (g_hostname_is_ip_address (host))
    {
      address = g_inet_address_new_from_string (host);
      return address != NULL && g_inet_address_get_is_loopback (address);
    }
  name = g_ascii_strdown (host, -1);
  length = strlen (name);
  if (length > 0 && name[length - 1] == '.')
    name[--length] = '\0';
  return g_str_equal (name, "localhost") || g_str_has_suffix (name, ".localhost");
}

GSocketClient *
smtpkit_plugin_socket_client_new (const char     *host,
                                  GSocketAddress *source_address)
{
  GSocketClient *client = g_socket_client_new ();

  g_socket_client_set_local_address (client, source_address);
  g_socket_client_set_enable_proxy (client, !is_loopback (host));
  return client;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The engine gathers commands into batches before writing them, so
   * Nagle's algorithm would only delay the last piece of each. */
  if (G_IS_TCP_CONNECTION (connection))
    g_socket_set_option (g_socket_connection_get_socket (connection),
                         IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_task_return_pointer (task, connection, g_object_unref);
}

void
smtpkit_plugin_socket_connect_async (gpointer             source,
                                     GSocketClient       *client,
                                     GSocketConnectable  *address,
                                     gpointer             source_tag,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_socket_client_connect_async (client, address, cancellable, on_connected, task);
}

GIOStream *
smtpkit_plugin_socket_connect_finish (gpointer       source,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
