/* smtpkit-client-tls.c: TLS — implicit (RFC 8314) and STARTTLS (RFC 3207)
 *
 * Both ways end in the same handshake: a GTlsClientConnection (GIO's, with
 * glib-networking's GnuTLS backend) that checks the server's certificate
 * chain against the system trust store, or the client's `tls-database`,
 * and its name against the host connected to (SNI is sent). A failed
 * check fails the handshake unless the application's handler of
 * `accept-certificate` says otherwise: nothing is trusted silently.
 *
 * STARTTLS resists injection: the server may send nothing after its 220
 * and before the handshake (such bytes are a protocol error, never carried
 * into the TLS session), the client writes nothing after STARTTLS before
 * the handshake, and everything learnt before TLS is forgotten.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-client-private.h"

#include "smtpkit-error-private.h"
#include "smtpkit-sync-private.h"

gboolean
client_is_secure (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  return client_is_connected (client) &&
         G_IS_TLS_CONNECTION (smtpkit_engine_get_stream (priv->engine));
}

/* Loopback and Unix sockets never leave this host. */
gboolean
client_is_local (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = client_get_private (client);
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (GSocketAddress) remote = NULL;

  if (!client_is_connected (client))
    return FALSE;
  stream = g_object_ref (smtpkit_engine_get_stream (priv->engine));
  if (G_IS_TLS_CONNECTION (stream))
    {
      GIOStream *base = NULL;
      g_object_get (stream, "base-io-stream", &base, NULL);
      g_set_object (&stream, base);
      g_clear_object (&base);
    }
  if (!G_IS_SOCKET_CONNECTION (stream))
    return FALSE;
  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (stream), NULL);
  if (G_IS_UNIX_SOCKET_ADDRESS (remote))
    return TRUE;
  return G_IS_INET_SOCKET_ADDRESS (remote) &&
         g_inet_address_get_is_loopback (
           g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* ---- the handshake ------------------------------------------------------ */

static gboolean
on_accept_certificate (GTlsConnection       *connection,
                       GTlsCertificate      *peer,
                       GTlsCertificateFlags  errors,
                       SmtpkitClient        *client)
{
  return client_accept_certificate (client, peer, errors);
}

/* "Unacceptable TLS certificate" says neither which checks failed nor
 * whose certificate it was: the message is made to say both, and what to
 * do. The error keeps its domain and code. */
static void
explain_certificate_error (SmtpkitClient  *client,
                           GError        **error)
{
  static const struct
  {
    GTlsCertificateFlags flag;
    const char *text;
  } checks[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer: not signed by a trusted authority" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "name mismatch" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
  };
  SmtpkitClientPrivate *priv = client_get_private (client);
  g_autoptr (GString) failed = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    if (priv->certificate_errors & checks[i].flag)
      {
        g_string_append_printf (failed, "%s%s", failed->len ? ", " : "", checks[i].text);
        if (checks[i].flag == G_TLS_CERTIFICATE_BAD_IDENTITY)
          g_string_append_printf (failed, ": not valid for “%s”", priv->server_name);
      }
  if (failed->len == 0)
    g_string_append (failed, "refused");
  g_prefix_error (error, "the TLS certificate of %s failed verification (%s%s): ", priv->host,
                  failed->str,
                  priv->certificate_errors & G_TLS_CERTIFICATE_UNKNOWN_CA
                    ? "; to trust a private CA, set tls-ca-file to its certificate"
                    : "");
}

/* The trust store for the handshake: the tls-database, else the
 * tls-ca-file's, read once; NULL for the system's. */
static gboolean
client_trust_database (SmtpkitClient  *client,
                       GTlsDatabase  **database,
                       GError        **error)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  *database = priv->tls_database;
  if (*database || priv->tls_ca_file == NULL)
    return TRUE;
  if (priv->ca_file_database == NULL)
    {
      priv->ca_file_database = g_tls_file_database_new (priv->tls_ca_file, error);
      if (priv->ca_file_database == NULL)
        {
          g_prefix_error (error, "cannot use tls-ca-file “%s”: ", priv->tls_ca_file);
          return FALSE;
        }
    }
  *database = priv->ca_file_database;
  return TRUE;
}

static void
on_handshake (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = PRIV (task);
  GError *error = NULL;

  /* The handler goes with the handshake, here, in the client's thread.
   * Left for the connection's dispose, it could be destroyed there, in
   * the TLS backend's thread holding the last reference, while the
   * client's own dispose invalidates it here: GLib asserts on that race
   * (with g_signal_connect_object(), test-torture aborted in one of two
   * to four runs beside a busy test). */
  g_clear_signal_handler (&op->accept_certificate_id, source);
  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);
  if (error)
    smtpkit_deadline_fix_error (op->deadline, &error);
  g_clear_pointer (&op->deadline, smtpkit_deadline_free);

  /* Implicit TLS to a server that greets in clear: GnuTLS sees "220 ..."
   * where a TLS record should be. */
  if (priv->tls_mode == SMTPKIT_TLS_MODE_IMPLICIT && op->starttls_reply == NULL &&
      (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS) ||
       g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_MISC)))
    {
      GError *clear = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                   "the server at %s does not speak TLS from the first byte "
                                   "(%s): it may expect plain SMTP and STARTTLS (set tls-mode "
                                   "to starttls, and use port 587 or 25)",
                                   priv->host, error->message);
      g_error_free (error);
      error = clear;
    }
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    explain_certificate_error (CLIENT (task), &error);
  if (error)
    {
      g_io_stream_close (G_IO_STREAM (source), NULL, NULL);
      client_drop_connection (CLIENT (task));
      client_op_return_error (task, error);
      return;
    }
  op->after_tls (task);
}

/* Makes @stream (a plain stream, or a TLS connection from the `tls`
 * transport) a TLS connection with the client's settings, shakes hands,
 * leaves it in op->tls and goes on with @then. */
void
client_step_tls_handshake (GTask     *task,
                           GIOStream *stream,
                           Step       then)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  GTlsDatabase *database = NULL;
  GError *error = NULL;

  if (G_IS_TLS_CLIENT_CONNECTION (stream))
    op->tls = G_TLS_CONNECTION (g_object_ref (stream));
  else
    {
      g_autoptr (GSocketConnectable) identity = g_network_address_new (priv->server_name,
                                                                      priv->port);
      GIOStream *tls = g_tls_client_connection_new (stream, identity, &error);

      if (tls == NULL)
        {
          client_op_return_error (task, error);
          return;
        }
      op->tls = G_TLS_CONNECTION (tls);
    }

  if (!client_trust_database (client, &database, &error))
    {
      client_drop_connection (client);
      client_op_return_error (task, error);
      return;
    }
  if (database)
    g_tls_connection_set_database (op->tls, database);
  priv->certificate_errors = 0;
  if (priv->tls_interaction)
    g_tls_connection_set_interaction (op->tls, priv->tls_interaction);
  if (priv->tls_certificate)
    g_tls_connection_set_certificate (op->tls, priv->tls_certificate);
  /* The operation holds the client until on_handshake(), which
   * disconnects this. */
  op->accept_certificate_id = g_signal_connect (op->tls, "accept-certificate",
                                                G_CALLBACK (on_accept_certificate), client);

  op->after_tls = then;
  op->deadline = smtpkit_deadline_new (g_task_get_cancellable (task), NULL);
  smtpkit_deadline_arm (op->deadline, client_phase_timeout (client, PHASE_COMMAND));
  g_tls_connection_handshake_async (op->tls, G_PRIORITY_DEFAULT,
                                    smtpkit_deadline_get_cancellable (op->deadline),
                                    on_handshake, task);
}

/* ---- STARTTLS ------------------------------------------------------------ */

static void
starttls_hello_done (GTask *task)
{
  OP (task)->after_starttls (task);
}

static void
starttls_handshake_done (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;

  /* RFC 3207 §4.2: forget everything learnt before TLS, greet again. */
  smtpkit_engine_set_stream (priv->engine, G_IO_STREAM (op->tls));
  client_forget_session (client);
  client_step_hello_if_needed (task, starttls_hello_done);
}

static void
starttls_reply (GTask        *task,
                SmtpkitReply *reply)
{
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = op->priv;
  GError *error = NULL;

  op->starttls_reply = smtpkit_reply_ref (reply);
  if (smtpkit_reply_get_code (reply) != 220)
    {
      if (!op->tls_required)
        {
          op->after_starttls (task);
          return;
        }
      client_step_fail_after (task, "QUIT",
                              smtpkit_error_new_reply (SMTPKIT_ERROR_RESPONSE, reply,
                                                       "the server at %s refused STARTTLS: %u %s",
                                                       priv->host, smtpkit_reply_get_code (reply),
                                                       smtpkit_reply_get_text (reply)));
      return;
    }

  /* Whatever the server sent after its 220 was not asked for: it would be
   * read as if it came through TLS (CVE-2021-22947, CVE-2020-14928). */
  if (!smtpkit_engine_check_quiet (priv->engine, &error))
    {
      g_prefix_error (&error, "before the TLS handshake: ");
      client_drop_connection (op->client);
      client_op_return_error (task, error);
      return;
    }
  client_step_tls_handshake (task, smtpkit_engine_get_stream (priv->engine),
                             starttls_handshake_done);
}

static void
starttls_after_hello (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;

  if (client_is_secure (client))
    {
      client_op_return_error (task, g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                                 "the connection to %s is already protected "
                                                 "by TLS", priv->host));
      return;
    }
  if (!client_offers (client, CLIENT_EXT_STARTTLS))
    {
      if (!op->tls_required)
        {
          op->after_starttls (task);
          return;
        }
      client_step_fail_after (task, "QUIT",
                              g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                           "the server at %s does not offer STARTTLS",
                                           priv->host));
      return;
    }
  client_op_send (task, PHASE_COMMAND, starttls_reply, "STARTTLS", NULL, NULL);
}

/* EHLO if needed, STARTTLS, the handshake, EHLO again, then @then. When
 * not @required, a server that does not offer STARTTLS or refuses it is
 * left in clear (opportunistic TLS); a failed handshake fails either way. */
void
client_step_starttls (GTask    *task,
                      gboolean  required,
                      Step      then)
{
  ClientOp *op = OP (task);

  op->tls_required = required;
  op->after_starttls = then;
  client_step_hello_if_needed (task, starttls_after_hello);
}

static void
starttls_done (GTask *task)
{
  client_op_return_reply (task, OP (task)->starttls_reply);
}

/**
 * smtpkit_client_starttls:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Puts the connection under TLS (RFC 3207): EHLO first if needed, then
 * STARTTLS, the TLS handshake (the certificate checked as described in
 * [property@Client:tls-database] and [signal@Client::accept-certificate]),
 * and EHLO again: every extension and reply learnt before TLS is
 * forgotten.
 *
 * Fails with %SMTPKIT_ERROR_NOT_SUPPORTED when the server does not offer
 * STARTTLS or the connection is already under TLS, with
 * %SMTPKIT_ERROR_RESPONSE and the reply when the server refuses it, and
 * with %SMTPKIT_ERROR_PROTOCOL when the server sends anything between its
 * 220 and the handshake. When STARTTLS is not offered or is refused,
 * the client does not go on in clear: it sends QUIT and closes the
 * connection (RFC 3207 §4.1), unless the refusal was a 421. Any failure
 * after STARTTLS closes the connection.
 *
 * This blocks; [method@Client.starttls_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply to STARTTLS, or %NULL with
 *   @error set
 */
SmtpkitReply *
smtpkit_client_starttls (SmtpkitClient  *client,
                         GCancellable   *cancellable,
                         GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_starttls_async (client, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_starttls_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_starttls_async:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.starttls].
 */
void
smtpkit_client_starttls_async (SmtpkitClient       *client,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_starttls_async, TRUE, cancellable,
                                 callback, user_data);

  if (task)
    client_step_starttls (task, TRUE, starttls_done);
}

/**
 * smtpkit_client_starttls_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.starttls_async].
 *
 * Returns: (transfer full): the server's reply to STARTTLS, or %NULL with
 *   @error set
 */
SmtpkitReply *
smtpkit_client_starttls_finish (SmtpkitClient  *client,
                                GAsyncResult   *result,
                                GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_starttls_async, error);
}

/**
 * smtpkit_ssl_client_new:
 *
 * Creates a client that speaks TLS from the first byte (RFC 8314), port
 * 465 by default: smtplib's `SMTP_SSL`. It is a [class@Client] whose
 * [property@Client:tls-mode] is %SMTPKIT_TLS_MODE_IMPLICIT.
 *
 * Returns: (transfer full): a new #SmtpkitClient
 */
SmtpkitClient *
smtpkit_ssl_client_new (void)
{
  return g_object_new (SMTPKIT_TYPE_CLIENT, "tls-mode", SMTPKIT_TLS_MODE_IMPLICIT, NULL);
}

/**
 * smtpkit_client_is_secure:
 * @client: a #SmtpkitClient
 *
 * Whether the connection is under TLS.
 *
 * Returns: %TRUE when connected through TLS
 */
gboolean
smtpkit_client_is_secure (SmtpkitClient *client)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);

  return client_is_secure (client);
}

/**
 * smtpkit_client_get_tls_connection:
 * @client: a #SmtpkitClient
 *
 * The TLS connection, to inspect the peer certificate or the protocol
 * version.
 *
 * Returns: (transfer none) (nullable): the connection, or %NULL when not
 *   under TLS
 */
GTlsConnection *
smtpkit_client_get_tls_connection (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return client_is_secure (client) ? G_TLS_CONNECTION (smtpkit_engine_get_stream (priv->engine))
                                   : NULL;
}
