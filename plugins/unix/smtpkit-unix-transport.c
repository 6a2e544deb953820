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

#define SMTPKIT_TYPE_UNIX_TRANSPORT (smtpkit_unix_transport_get_type ())
G_DECLARE_FINAL_TYPE (SmtpkitUnixTransport, smtpkit_unix_transport, SMTPKIT, UNIX_TRANSPORT, GObject)

struct _SmtpkitUnixTransport
{
  GObject parent_instance;
};

static void smtpkit_unix_transport_iface_init (SmtpkitTransportInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SmtpkitUnixTransport, smtpkit_unix_transport, G_TYPE_OBJECT,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (SMTPKIT_TYPE_TRANSPORT,
                                                               smtpkit_unix_transport_iface_init))

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

static void
smtpkit_unix_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = unix_connect_async;
  iface->connect_finish = unix_connect_finish;
}

static void
smtpkit_unix_transport_class_init (SmtpkitUnixTransportClass *klass)
{
}

static void
smtpkit_unix_transport_class_finalize (SmtpkitUnixTransportClass *klass)
{
}

static void
smtpkit_unix_transport_init (SmtpkitUnixTransport *self)
{
}

G_MODULE_EXPORT void g_io_smtpkit_unix_load (GIOModule *module);
G_MODULE_EXPORT void g_io_smtpkit_unix_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_smtpkit_unix_query (void);

void
g_io_smtpkit_unix_load (GIOModule *module)
{
  /* Types registered in a module cannot be unregistered. */
  g_type_module_use (G_TYPE_MODULE (module));
  smtpkit_unix_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME,
                                  SMTPKIT_TYPE_UNIX_TRANSPORT, "unix", 0);
}

void
g_io_smtpkit_unix_unload (GIOModule *module)
{
}

char **
g_io_smtpkit_unix_query (void)
{
  char *eps[] = { (char *) SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
