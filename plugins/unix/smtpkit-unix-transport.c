/* smtpkit-unix-transport.c: the "unix" transport plugin
 *
 * A connection to a Unix domain socket: the "host" is the socket's path
 * and the port is ignored (LMTP servers commonly listen this way).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <smtpkit.h>

#include "smtpkit-plugin-socket.h"
#include "smtpkit-plugin-transport.h"

static void
unix_connect_async (SmtpkitTransport    *transport,
                    const char          *host,
                    guint16              port,
                    GSocketAddress      *source_address,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (host);

  g_socket_client_set_enable_proxy (client, FALSE);
  smtpkit_plugin_socket_connect_async (transport, client, G_SOCKET_CONNECTABLE (address),
                                       unix_connect_async, cancellable, callback, user_data);
}

static GIOStream *
unix_connect_finish (SmtpkitTransport  *transport,
                     GAsyncResult      *result,
                     GError           **error)
{
  return smtpkit_plugin_socket_connect_finish (transport, result, error);
}

SMTPKIT_PLUGIN_TRANSPORT (SmtpkitUnixTransport, smtpkit_unix_transport, unix, "unix",
                          unix_connect_async, unix_connect_finish)
