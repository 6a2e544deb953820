/* smtpkit-transport.h: how a client reaches a server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smtpkit-version-macros.h"

G_BEGIN_DECLS

/**
 * SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME:
 *
 * The name of the #GIOExtensionPoint that transports implement. Plugins
 * implement it from their `g_io_*_load()` function; an application can
 * also call [func@Transport.register] for a type of its own.
 */
#define SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME "smtpkit-transport"

/**
 * SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME:
 *
 * The name of the #GIOExtensionPoint that authentication mechanisms
 * implement; the extension name is the SASL mechanism name.
 */
#define SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME "smtpkit-auth-mechanism"

#define SMTPKIT_TYPE_TRANSPORT (smtpkit_transport_get_type ())

SMTPKIT_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (SmtpkitTransport, smtpkit_transport, SMTPKIT, TRANSPORT, GObject)

/**
 * SmtpkitTransportInterface:
 * @g_iface: the parent interface
 * @connect_async: opens a byte stream to @host and @port; the stream's
 *   input and output streams must be pollable (#GPollableInputStream and
 *   #GPollableOutputStream that can poll, as GIO's socket and TLS streams
 *   are), else the connection fails with %G_IO_ERROR_NOT_SUPPORTED
 * @connect_finish: finishes @connect_async
 *
 * The virtual functions of a transport.
 */
struct _SmtpkitTransportInterface
{
  GTypeInterface g_iface;

  void        (*connect_async)  (SmtpkitTransport    *transport,
                                 const char          *host,
                                 guint16              port,
                                 GSocketAddress      *source_address,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
  GIOStream * (*connect_finish) (SmtpkitTransport    *transport,
                                 GAsyncResult        *result,
                                 GError             **error);

  /*< private >*/
  gpointer padding[8];
};

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_transport_connect_async (SmtpkitTransport    *transport,
                                      const char          *host,
                                      guint16              port,
                                      GSocketAddress      *source_address,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);

SMTPKIT_AVAILABLE_IN_ALL
GIOStream *smtpkit_transport_connect_finish (SmtpkitTransport  *transport,
                                             GAsyncResult      *result,
                                             GError           **error);

SMTPKIT_AVAILABLE_IN_ALL
void smtpkit_transport_register (const char *name,
                                 GType       type,
                                 gint        priority);

SMTPKIT_AVAILABLE_IN_ALL
SmtpkitTransport *smtpkit_transport_new_for_name (const char  *name,
                                                  GError     **error);

G_END_DECLS
