/* smtpkit-tcp-transport.c: the "tcp" transport plugin
 *
 * A plain TCP connection through GSocketClient: IPv4 and IPv6 (every
 * address of the name is tried in turn), an optional local address to bind
 * to, and GIO's proxy resolver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <smtpkit.h>

#define SMTPKIT_TYPE_TCP_TRANSPORT (smtpkit_tcp_transport_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitTcpTransport, smtpkit_tcp_transport, SMTPKIT, TCP_TRANSPORT, GObject)

struct _SmtpkitTcpTransport
{
  GObject parent_instance;
};

static void smtpkit_tcp_transport_iface_init (SmtpkitTransportInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitTcpTransport, smtpkit_tcp_transport, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (SMTPKIT_TYPE_TRANSPORT,
                                                               smtpkit_tcp_transport_iface_init))

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
    return g_task_return_error (task, error);

  /* Commands are gathered into batches before they are written, so
   * Nagle's algorithm would only delay the last piece of each. */
  if (G_IS_TCP_CONNECTION (connection))
    g_socket_set_option (g_socket_connection_get_socket (connection),
                         IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_task_return_pointer (task, connection, g_object_unref);
}

static void
tcp_connect_async (SmtpkitTransport    *transport,
                   const char          *host,
                   guint16              port,
                   GSocketAddress      *source_address,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  GTask *task = g_task_new (transport, cancellable, callback, user_data);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);

  g_task_set_source_tag (task, tcp_connect_async);
  g_socket_client_set_local_address (client, source_address);
  g_socket_client_set_enable_proxy (client, TRUE);
  g_socket_client_connect_async (client, address, cancellable, on_connected, task);
}

static GIOStream *
tcp_connect_finish (SmtpkitTransport  *transport,
                    GAsyncResult      *result,
                    GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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
