/* smtpkit-tcp-transport.c: the "tcp" transport plugin
 *
 * A plain TCP connection through GSocketClient: IPv4 and IPv6 (every
 * address of the name is tried in turn), an optional local address to bind
 * to, and GIO's proxy resolver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <smtpkit.h>

#include "smtpkit-plugin-socket.h"
#include "smtpkit-plugin-transport.h"

static void
tcp_connect_async (SmtpkitTransport    *transport,
                   const char          *host,
                   guint16              port,
                   GSocketAddress      *source_address,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);

  g_socket_client_set_local_address (client, source_address);
  g_socket_client_set_enable_proxy (client, TRUE);
  smtpkit_plugin_socket_connect_async (transport, client, address, tcp_connect_async,
                                       cancellable, callback, user_data);
}

static GIOStream *
tcp_connect_finish (SmtpkitTransport  *transport,
                 GAsyncResult      *result,
                 GError           **error)
{
  return smtpkit_plugin_socket_connect_finish (transport, result, error);
}

SMTPKIT_PLUGIN_TRANSPORT (SmtpkitTcpTransport, smtpkit_tcp_transport, tcp, "tcp",
                          tcp_connect_async, tcp_connect_finish)
