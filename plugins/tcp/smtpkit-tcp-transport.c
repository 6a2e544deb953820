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

#define SMTPKIT_TYPE_TCP_TRANSPORT (smtpkit_tcp_transport_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitTcpTransport, smtpkit_tcp_transport, SMTPKIT, TCP_TRANSPORT, GObject)

struct _SmtpkitTcpTransport
{
  GObject parent_instance;
};

static void smtpkit_tcp_transport_iface_init (SmtpkitTransportInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitTcpTransport, smtpkit_tcp_transport, G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (SMTPKIT_TYPE_TRANSPORT,
                                                               smtpkit_tcp_transport_iface_init))

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

static void
smtpkit_tcp_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = tcp_connect_async;
  iface->connect_finish = tcp_connect_finish;
}

static void
smtpkit_tcp_transport_class_init (SmtpkitTcpTransportClass *klass)
{
}

static void
smtpkit_tcp_transport_class_finalize (SmtpkitTcpTransportClass *klass)
{
}

static void
smtpkit_tcp_transport_init (SmtpkitTcpTransport *self)
{
}

G_MODULE_EXPORT void g_io_smtpkit_tcp_load (GIOModule *module);
G_MODULE_EXPORT void g_io_smtpkit_tcp_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_smtpkit_tcp_query (void);

void
g_io_smtpkit_tcp_load (GIOModule *module)
{
  /* Types registered in a module cannot be unregistered. */
  g_type_module_use (G_TYPE_MODULE (module));
  smtpkit_tcp_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME,
                                  SMTPKIT_TYPE_TCP_TRANSPORT, "tcp", 0);
}

void
g_io_smtpkit_tcp_unload (GIOModule *module)
{
}

char **
g_io_smtpkit_tcp_query (void)
{
  char *eps[] = { (char *) SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
