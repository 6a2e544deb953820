/* smtpkit-plugin-socket.h: what the socket transports share
 *
 * Linked into each transport module; never installed or exported.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Connects @client to @address; the result's source object is @source. */
void smtpkit_plugin_socket_connect_async (gpointer             source,
                                          GSocketClient       *client,
                                          GSocketConnectable  *address,
                                          gpointer             source_tag,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);

GIOStream *smtpkit_plugin_socket_connect_finish (gpointer       source,
                                                 GAsyncResult  *result,
                                                 GError       **error);

G_END_DECLS
