/* smtpkit-tcp-transport.c: the "tcp" transport plugin
 *
 * A plain TCP connection through GSocketClient: IPv4 and IPv6 (every
 * address of the name is tried in turn), an optional local address to bind
 * to, and GIO's proxy resolver for any destination but this machine's
 * loopback.
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
  g_autoptr (GSocketClient) client = smtpkit_plugin_socket_client_new (host, source_address);
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);

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
