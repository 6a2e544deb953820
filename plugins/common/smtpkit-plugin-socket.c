/* smtpkit-plugin-socket.c: what the socket transports share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "smtpkit-plugin-socket.h"

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
