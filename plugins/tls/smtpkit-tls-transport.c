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

#define SMTPKIT_TYPE_TLS_TRANSPORT (smtpkit_tls_transport_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitTlsTransport, smtpkit_tls_transport, SMTPKIT, TLS_TRANSPORT, GObject)

struct _SmtpkitTlsTransport
{
  GObject parent_instance;
};

static void smtpkit_tls_transport_iface_init (SmtpkitTransportInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitTlsTransport, smtpkit_tls_transport, G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (SMTPKIT_TYPE_TRANSPORT,
                                                               smtpkit_tls_transport_iface_init))

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
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  GSocketConnectable *address = g_network_address_new (host, port);
  GTask *task = g_task_new (transport, cancellable, callback, user_data);

  g_task_set_source_tag (task, tls_connect_async);
  g_task_set_task_data (task, address, g_object_unref);
  g_socket_client_set_local_address (client, source_address);
  g_socket_client_set_enable_proxy (client, TRUE);
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

static void
smtpkit_tls_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = tls_connect_async;
  iface->connect_finish = tls_connect_finish;
}

static void
smtpkit_tls_transport_class_init (SmtpkitTlsTransportClass *klass)
{
}

static void
smtpkit_tls_transport_class_finalize (SmtpkitTlsTransportClass *klass)
{
}

static void
smtpkit_tls_transport_init (SmtpkitTlsTransport *self)
{
}

G_MODULE_EXPORT void g_io_smtpkit_tls_load (GIOModule *module);
G_MODULE_EXPORT void g_io_smtpkit_tls_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_smtpkit_tls_query (void);

void
g_io_smtpkit_tls_load (GIOModule *module)
{
  /* Types registered in a module cannot be unregistered. */
  g_type_module_use (G_TYPE_MODULE (module));
  smtpkit_tls_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME,
                                  SMTPKIT_TYPE_TLS_TRANSPORT, "tls", 0);
}

void
g_io_smtpkit_tls_unload (GIOModule *module)
{
}

char **
g_io_smtpkit_tls_query (void)
{
  char *eps[] = { (char *) SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
