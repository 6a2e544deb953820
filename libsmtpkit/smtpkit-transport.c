/* smtpkit-transport.c: how a client reaches a server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-transport.h"

#include "smtpkit-error.h"
#include "smtpkit-plugins-private.h"

/**
 * SmtpkitTransport:
 *
 * A way to open a byte stream to a server: `tcp` (host name or address and
 * port, through GIO's proxy resolver), `unix` (a socket path), and in
 * later plugins `tls`. Transports are found by name on the
 * %SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME extension point: loadable
 * modules from `$SMTPKIT_PLUGIN_PATH` and the installed plugin directory,
 * or types an application registers with [func@Transport.register].
 */

G_DEFINE_INTERFACE (SmtpkitTransport, smtpkit_transport, G_TYPE_OBJECT)

static void
smtpkit_transport_default_init (SmtpkitTransportInterface *iface)
{
}

/**
 * smtpkit_transport_connect_async:
 * @transport: a #SmtpkitTransport
 * @host: a host name, an address, or a socket path
 * @port: a port (ignored by transports that have none)
 * @source_address: (nullable): the local address to bind to
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the stream is open
 * @user_data: data for @callback
 *
 * Opens a stream to @host. @callback runs in the thread-default main
 * context of the caller.
 */
void
smtpkit_transport_connect_async (SmtpkitTransport    *transport,
                                 const char          *host,
                                 guint16              port,
                                 GSocketAddress      *source_address,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (SMTPKIT_IS_TRANSPORT (transport));
  g_return_if_fail (host != NULL);

  SMTPKIT_TRANSPORT_GET_IFACE (transport)->connect_async (transport, host, port,
                                                          source_address, cancellable,
                                                          callback, user_data);
}

/**
 * smtpkit_transport_connect_finish:
 * @transport: a #SmtpkitTransport
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Transport.connect_async].
 *
 * Returns: (transfer full): the open stream, or %NULL with @error set
 */
GIOStream *
smtpkit_transport_connect_finish (SmtpkitTransport  *transport,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  g_return_val_if_fail (SMTPKIT_IS_TRANSPORT (transport), NULL);

  return SMTPKIT_TRANSPORT_GET_IFACE (transport)->connect_finish (transport, result, error);
}

/**
 * smtpkit_transport_register:
 * @name: the transport's name, e.g. "tcp"
 * @type: a #GType implementing #SmtpkitTransport
 * @priority: the priority among implementations of the same name
 *
 * Registers a transport implemented by the application itself, without a
 * loadable module. A client uses it when its `transport` property is
 * @name.
 */
void
smtpkit_transport_register (const char *name,
                            GType       type,
                            gint        priority)
{
  g_return_if_fail (name != NULL);
  g_return_if_fail (g_type_is_a (type, SMTPKIT_TYPE_TRANSPORT));

  smtpkit_plugins_ensure_loaded ();
  g_io_extension_point_implement (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME, type, name, priority);
}

/**
 * smtpkit_transport_new_for_name:
 * @name: a transport name: "tcp", "unix", "tls", or one registered
 * @error: return location for a #GError
 *
 * Creates the transport called @name, loading its plugin if needed.
 *
 * Returns: (transfer full): a new transport, or %NULL with
 *   %SMTPKIT_ERROR_FAILED naming the plugin directories searched
 */
SmtpkitTransport *
smtpkit_transport_new_for_name (const char  *name,
                                GError     **error)
{
  GIOExtensionPoint *point;
  GIOExtension *extension;

  g_return_val_if_fail (name != NULL, NULL);

  smtpkit_plugins_ensure_loaded ();
  point = g_io_extension_point_lookup (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME);
  extension = g_io_extension_point_get_extension_by_name (point, name);
  if (extension == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED,
                   "no “%s” transport: no plugin provides it (searched %s; "
                   "set SMTPKIT_PLUGIN_PATH to add a directory)",
                   name, smtpkit_plugins_get_search_path ());
      return NULL;
    }

  return g_object_new (g_io_extension_get_type (extension), NULL);
}
