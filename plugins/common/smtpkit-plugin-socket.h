/* smtpkit-plugin-socket.h: what the socket transports share
 *
 * Linked into each transport module; never installed or exported.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A client for a TCP connection to @host, bound to @source_address when
 * that is set, and through GIO's proxy resolver unless @host is this
 * machine's loopback: an address in 127.0.0.0/8 or ::1, or "localhost"
 * or a name under it (RFC 6761 §6.3). A proxy asked for those would
 * reach its own host, not this one. */
GSocketClient *smtpkit_plugin_socket_client_new (const char     *host,
                                                 GSocketAddress *source_address);

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
