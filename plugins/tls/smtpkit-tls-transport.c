/* smtpkit-tls-transport.c: the "tls" transport plugin (RFC 8314)
 *
 * Implicit TLS: a TCP connection as the "tcp" transport makes, wrapped in
 * GIO's GTlsClientConnection with the server's name as its identity (SNI
 * and the certificate's name check). The handshake is left to the client,
 * which sets its TLS database, interaction and certificate first.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <smtpkit.h>

#include "smtpkit-plugin-socket.h"
#include "smtpkit-plugin-transport.h"

static void
on_tcp_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GIOStream) base = NULL;
  GSocketConnectable *identity = g_task_get_task_data (task);
  GError *error = NULL;
  GIOStream *tls;

  base = smtpkit_plugin_socket_connect_finish (source, result, &error);
  if (base == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  tls = g_tls_client_connection_new (base, identity, &error);
  if (tls == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, tls, g_object_unref);
}

static void
tls_connect_async (SmtpkitTransport    *transport,
                   const char          *host,
                   guint16              port,
                   GSocketAddress      *source_address,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr (GSocketClient) client = smtpkit_plugin_socket_client_new (host, source_address);
  GSocketConnectable *address = g_network_address_new (host, port);
  GTask *task = g_task_new (transport, cancellable, callback, user_data);

  g_task_set_source_tag (task, tls_connect_async);
  g_task_set_task_data (task, address, g_object_unref);
  smtpkit_plugin_socket_connect_async (transport, client, address, tls_connect_async,
                                       cancellable, on_tcp_connected, task);
}

static GIOStream *
tls_connect_finish (SmtpkitTransport  *transport,
                    GAsyncResult      *result,
                    GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

SMTPKIT_PLUGIN_TRANSPORT (SmtpkitTlsTransport, smtpkit_tls_transport, tls, "tls",
                          tls_connect_async, tls_connect_finish)
