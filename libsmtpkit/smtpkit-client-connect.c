/* smtpkit-client-connect.c: connecting — the transport, implicit TLS,
 * the greeting, and STARTTLS when the client's tls-mode asks for it
 *
 * Above the session core (smtpkit-client.c) and TLS
 * (smtpkit-client-tls.c): connect() is the operation that uses both.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-client.h"
#include "smtpkit-client-private.h"
#include "smtpkit-deadline-private.h"
#include "smtpkit-engine-private.h"
#include "smtpkit-sync-private.h"
#include "smtpkit-transport.h"

static gboolean
split_host_port (const char  *host_in,
                 guint16      port_in,
                 char       **host_out,
                 guint16     *port_out,
                 GError     **error)
{
  const char *colon = strchr (host_in, ':');
  guint64 port = port_in;

  *host_out = g_strdup (host_in);
  /* smtplib: "host:port" when no port is given and there is exactly one
   * colon (so that an IPv6 address is left alone). A path has none. */
  if (port_in == 0 && host_in[0] != '/' && colon && colon == strrchr (host_in, ':'))
    {
      g_free (*host_out);
      *host_out = g_strndup (host_in, colon - host_in);
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
        {
          g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                       "“%s” is not a valid port number", colon + 1);
          return FALSE;
        }
    }
  *port_out = (guint16) port;
  return TRUE;
}

static void
connect_done (GTask *task)
{
  client_op_return_reply (task, OP (task)->greeting);
}

static void
on_greeting (SmtpkitEngineResult *result,
             gpointer             user_data)
{
  GTask *task = user_data;
  SmtpkitClientPrivate *priv = PRIV (task);
  ClientOp *op = OP (task);
  GError *error = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  SmtpkitReply *reply;

  replies = smtpkit_engine_result_take (result, NULL, NULL, &error);
  if (replies == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
          priv->port == SMTPKIT_DEFAULT_SSL_PORT && priv->tls_mode != SMTPKIT_TLS_MODE_IMPLICIT)
        g_prefix_error (&error, "no greeting from %s: port %u is for TLS from the first byte "
                        "(set tls-mode to implicit); ", priv->host, SMTPKIT_DEFAULT_SSL_PORT);
      client_drop_connection (CLIENT (task));
      client_op_return_error (task, error);
      return;
    }
  reply = g_ptr_array_index (replies, 0);
  if (smtpkit_reply_get_code (reply) != 220)
    {
      client_drop_connection (CLIENT (task));
      client_op_return_error (task, client_reply_error (task, SMTPKIT_ERROR_CONNECT, reply,
                                                        "the server did not greet with 220"));
      return;
    }
  op->greeting = smtpkit_reply_ref (reply);
  if (priv->tls_mode == SMTPKIT_TLS_MODE_STARTTLS ||
      priv->tls_mode == SMTPKIT_TLS_MODE_STARTTLS_OPPORTUNISTIC)
    client_step_starttls (task, priv->tls_mode == SMTPKIT_TLS_MODE_STARTTLS, connect_done);
  else
    connect_done (task);
}

static void
read_greeting (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  SmtpkitCommandBatch *batch;

  priv->engine = smtpkit_engine_new (op->tls ? G_IO_STREAM (op->tls) : op->stream,
                                     client_trace, client);
  client_update_tracing (client);
  batch = smtpkit_command_batch_new ();
  smtpkit_command_batch_set_replies (batch, 1);
  smtpkit_engine_exchange (priv->engine, batch,
                           client_phase_timeout (client, PHASE_GREETING),
                           g_task_get_cancellable (task), on_greeting, task);
}

static void
on_transport_connected (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GTask *task = user_data;
  SmtpkitClientPrivate *priv = PRIV (task);
  ClientOp *op = OP (task);
  GError *error = NULL;

  op->stream = smtpkit_transport_connect_finish (SMTPKIT_TRANSPORT (source), result, &error);
  if (op->stream == NULL)
    smtpkit_deadline_fix_error (op->deadline, &error);
  g_clear_pointer (&op->deadline, smtpkit_deadline_free);
  if (op->stream == NULL)
    {
      client_op_return_error (task, error);
      return;
    }

  if (priv->tls_mode == SMTPKIT_TLS_MODE_IMPLICIT)
    client_step_tls_handshake (task, op->stream, read_greeting);
  else
    read_greeting (task);
}

static void
connect_start (GTask      *task,
               const char *host_in,
               guint16     port_in)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  g_autoptr (SmtpkitTransport) transport = NULL;
  GError *error = NULL;
  const char *name;

  if (!split_host_port (host_in, port_in, &op->host, &op->port, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  if (op->port == 0)
    op->port = priv->tls_mode == SMTPKIT_TLS_MODE_IMPLICIT
                 ? SMTPKIT_DEFAULT_SSL_PORT
                 : SMTPKIT_CLIENT_GET_CLASS (client)->default_port;

  client_drop_connection (client);
  client_forget_session (client);
  g_free (priv->host);
  priv->host = op->host[0] == '/' ? g_strdup (op->host)
                                  : g_strdup_printf ("%s:%u", op->host, op->port);
  priv->port = op->port;
  g_free (priv->server_name);
  priv->server_name = g_strdup (op->host);

  if (priv->transport)
    name = priv->transport;
  else if (op->host[0] == '/')
    name = "unix";
  else
    name = priv->tls_mode == SMTPKIT_TLS_MODE_IMPLICIT ? "tls" : "tcp";
  transport = smtpkit_transport_new_for_name (name, &error);
  if (transport == NULL)
    {
      client_op_return_error (task, error);
      return;
    }

  client_emit_connecting (client, op->host, op->port);
  op->deadline = smtpkit_deadline_new (g_task_get_cancellable (task), NULL);
  smtpkit_deadline_arm (op->deadline, client_phase_timeout (client, PHASE_CONNECT));
  smtpkit_transport_connect_async (transport, op->host, op->port, priv->source_address,
                                   smtpkit_deadline_get_cancellable (op->deadline),
                                   on_transport_connected, task);
}

/* ---- public operations --------------------------------------------------- */

/**
 * smtpkit_client_connect: (skip)
 * @client: a #SmtpkitClient
 * @host: a host name or address, optionally followed by `:PORT`, or the path of a Unix socket (starting with `/`)
 * @port: the port, or 0 for the default (25, or the one in @host)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to a server and reads its greeting.
 *
 * An open connection is closed first and everything learnt on it
 * forgotten. As in smtplib, when @port is 0 and @host holds exactly one
 * colon, the part after it is the port. The [signal@Client::connecting]
 * signal is emitted before connecting. A greeting other than 220 closes
 * the connection and fails with %SMTPKIT_ERROR_CONNECT.
 *
 * This blocks; [method@Client.connect_async] is the asynchronous form.
 * Language bindings call it [method@Client.connect_to_host]: there,
 * `connect` is GObject's, which connects signal handlers.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_connect (SmtpkitClient  *client,
                        const char     *host,
                        guint16         port,
                        GCancellable   *cancellable,
                        GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_connect_async (client, host, port, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_connect_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_connect_to_host:
 * @client: a #SmtpkitClient
 * @host: a host name or address, optionally followed by `:PORT`, or the path of a Unix socket (starting with `/`)
 * @port: the port, or 0 for the default (25, or the one in @host)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to a server and reads its greeting: [method@Client.connect]
 * under the name language bindings see. A method `connect` would hide
 * GObject's `connect()` for signals in Python and JavaScript, so
 * `smtpkit_client_connect()` is not introspected; this is.
 * [method@Client.connect_async] and [method@Client.connect_finish] keep
 * their names.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_connect_to_host (SmtpkitClient  *client,
                                const char     *host,
                                guint16         port,
                                GCancellable   *cancellable,
                                GError        **error)
{
  return smtpkit_client_connect (client, host, port, cancellable, error);
}

/**
 * smtpkit_client_connect_async:
 * @client: a #SmtpkitClient
 * @host: a host name or address, optionally followed by `:PORT`, or the path of a Unix socket (starting with `/`)
 * @port: the port, or 0 for the default (25, or the one in @host)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.connect].
 */
void
smtpkit_client_connect_async (SmtpkitClient       *client,
                              const char          *host,
                              guint16              port,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (host != NULL);
  task = client_op_begin (client, smtpkit_client_connect_async, FALSE, cancellable, callback, user_data);
  if (task)
    connect_start (task, host, port);
}

/**
 * smtpkit_client_connect_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.connect_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_connect_finish (SmtpkitClient  *client,
                               GAsyncResult   *result,
                               GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_connect_async, error);
}
