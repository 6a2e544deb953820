/* smtpkit-client-auth.c: SMTP AUTH (RFC 4954) — login() and auth()
 *
 * A mechanism is a pure step function (SmtpkitAuthMechanism); this file
 * carries the exchange: AUTH with the initial response when allowed, each
 * 334 challenge decoded and answered, the number of rounds bounded. Every
 * line that holds authentication data is shown as "[redacted]" in the
 * transcript and the `sending` signal.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-client-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-sync-private.h"

/* More challenges than any mechanism shipped needs: a server that keeps
 * answering 334 is an error, not a hang. */
#define MAX_CHALLENGES 10

static void auth_reply (GTask        *task,
                        SmtpkitReply *reply);

/* RFC 4648 base64 and nothing else: a challenge that is not is answered
 * with "*", which cancels the exchange (RFC 4954 §4). */
static GBytes *
decode_challenge (const char *text)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  gsize len = strlen (text);
  gsize body = strspn (text, alphabet);
  gsize pad = strspn (text + body, "=");
  gsize out_len = 0;
  guchar *data;

  if (len % 4 != 0 || body + pad != len || pad > 2)
    return NULL;
  data = len ? g_base64_decode (text, &out_len) : g_malloc0 (1);
  return g_bytes_new_take (data, out_len);
}

/* RFC 4954 §4: AUTH lines and responses may be up to 12,288 octets, more
 * than other commands (an OAuth token is long). */
#define MAX_AUTH_LINE 12288

static void
auth_send_line (GTask      *task,
                const char *text,
                gssize      shown,
                ReplyStep   on_reply)
{
  GError *error = NULL;
  GString *line = g_string_new (text);

  g_string_append (line, "\r\n");
  if (line->len > MAX_AUTH_LINE)
    {
      g_set_error (&error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "an authentication line of %" G_GSIZE_FORMAT " octets is over the "
                   "limit of %u", line->len, MAX_AUTH_LINE);
      g_string_free (line, TRUE);
      line = NULL;
    }
  client_op_command (task, line, error, shown, PHASE_COMMAND, on_reply);
}

static void
auth_send_response (GTask  *task,
                    GBytes *response)
{
  gsize size;
  const guchar *data = g_bytes_get_data (response, &size);
  g_autofree char *encoded = g_base64_encode (data, size);

  auth_send_line (task, encoded, 0, auth_reply);
}

static void
auth_cancelled (GTask        *task,
                SmtpkitReply *reply)
{
  ClientOp *op = OP (task);

  client_op_return_error (task, g_steal_pointer (&op->last_error));
}

/* Answers "*" (RFC 4954 §4), reads the server's reply, then fails with
 * @error (taken). */
static void
auth_cancel (GTask  *task,
             GError *error)
{
  ClientOp *op = OP (task);

  g_clear_error (&op->last_error);
  op->last_error = error;
  auth_send_line (task, "*", -1, auth_cancelled);
}

static void
auth_reply (GTask        *task,
            SmtpkitReply *reply)
{
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = op->priv;
  guint code = smtpkit_reply_get_code (reply);
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) response = NULL;
  GError *error = NULL;

  /* A success the mechanism has not reached: the server did not prove
   * its identity (SCRAM's server signature), so it is not believed. */
  if (code == 235 && !smtpkit_auth_mechanism_is_complete (op->mechanism))
    {
      client_op_return_error (task, smtpkit_error_new_reply (SMTPKIT_ERROR_AUTHENTICATION, reply,
                                                             "the server at %s accepted %s before "
                                                             "proving its own identity; not "
                                                             "trusting it",
                                                             priv->host,
                                                             smtpkit_auth_mechanism_get_name (op->mechanism)));
      return;
    }
  /* 503: already authenticated, which smtplib takes as success too. */
  if (code == 235 || code == 503)
    {
      if (code == 235)
        client_set_auth_mechanism (op->client, smtpkit_auth_mechanism_get_name (op->mechanism));
      op->after_auth (task, reply);
      return;
    }
  if (code != 334)
    {
      client_op_return_error (task, smtpkit_error_new_reply (SMTPKIT_ERROR_AUTHENTICATION, reply,
                                                             "%s authentication failed at %s: %u %s",
                                                             smtpkit_auth_mechanism_get_name (op->mechanism),
                                                             priv->host, code,
                                                             smtpkit_reply_get_text (reply)));
      return;
    }

  if (++op->auth_rounds > MAX_CHALLENGES)
    {
      auth_cancel (task, smtpkit_error_new_reply (SMTPKIT_ERROR_AUTHENTICATION, reply,
                                                  "the server at %s sent more than %u challenges; "
                                                  "giving up", priv->host, MAX_CHALLENGES));
      return;
    }
  challenge = decode_challenge (smtpkit_reply_get_text (reply));
  if (challenge == NULL)
    {
      auth_cancel (task, smtpkit_error_new_reply (SMTPKIT_ERROR_AUTHENTICATION, reply,
                                                  "the server at %s sent a challenge that is "
                                                  "not base64", priv->host));
      return;
    }
  if (!smtpkit_auth_mechanism_step (op->mechanism, challenge, &response, &error))
    {
      auth_cancel (task, error);
      return;
    }
  auth_send_response (task, response);
}

static gboolean
check_channel (SmtpkitClient         *client,
               SmtpkitAuthMechanism  *mechanism,
               GError               **error)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  if (!smtpkit_auth_mechanism_uses_password (mechanism) || priv->allow_plaintext_auth ||
      client_is_secure (client) || client_is_local (client))
    return TRUE;
  g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
               "refusing to send a password to %s over a connection without TLS "
               "(set tls-mode to starttls or implicit; or set allow-plaintext-auth to "
               "send it anyway)", priv->host);
  return FALSE;
}

/* What a -PLUS mechanism binds to: the TLS session under way. */
static void
set_channel_binding (SmtpkitClient        *client,
                     SmtpkitAuthMechanism *mechanism)
{
  static const struct
  {
    GTlsChannelBindingType type;
    const char *name;
  } kinds[] = {
    { G_TLS_CHANNEL_BINDING_TLS_EXPORTER, "tls-exporter" },
    { G_TLS_CHANNEL_BINDING_TLS_SERVER_END_POINT, "tls-server-end-point" },
    { G_TLS_CHANNEL_BINDING_TLS_UNIQUE, "tls-unique" },
  };
  GTlsConnection *tls = smtpkit_client_get_tls_connection (client);

  for (guint i = 0; tls && i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GByteArray) data = g_byte_array_new ();
      if (g_tls_connection_get_channel_binding_data (tls, kinds[i].type, data, NULL))
        {
          g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&data));
          g_object_set (mechanism, "channel-binding", bytes,
                        "channel-binding-type", kinds[i].name, NULL);
          return;
        }
    }
}

/* AUTH with @mechanism, the exchange, then @then with the 235. */
void
client_step_auth (GTask                *task,
                  SmtpkitAuthMechanism *mechanism,
                  ReplyStep             then)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  const char *name = smtpkit_auth_mechanism_get_name (mechanism);
  g_autoptr (GBytes) initial = NULL;
  g_autofree char *line = NULL;
  GError *error = NULL;

  g_set_object (&op->mechanism, mechanism);
  op->after_auth = then;
  op->auth_rounds = 0;

  if (!check_channel (client, mechanism, &error) ||
      !smtpkit_codec_check_argument ("mechanism name", name, -1, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  g_object_set (mechanism, "server-name", priv->server_name,
                "server-port", (guint) (priv->server_name && priv->server_name[0] == '/' ? 0
                                                                                        : priv->port),
                "secure", client_is_secure (client), NULL);
  set_channel_binding (client, mechanism);

  if (priv->initial_response_ok &&
      !smtpkit_auth_mechanism_step (mechanism, NULL, &initial, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  if (initial)
    {
      gsize size;
      const guchar *data = g_bytes_get_data (initial, &size);
      g_autofree char *encoded = g_base64_encode (data, size);

      /* An empty initial response is "=" (RFC 4954 §4). */
      line = g_strconcat ("AUTH ", name, " ", size ? encoded : "=", NULL);
    }
  else
    line = g_strconcat ("AUTH ", name, NULL);
  auth_send_line (task, line, strlen ("AUTH ") + strlen (name), auth_reply);
}

/* ---- login() ------------------------------------------------------------ */

static void login_next (GTask *task);

static void
login_done (GTask        *task,
            SmtpkitReply *reply)
{
  client_op_return_reply (task, reply);
}

/* Whether the server refused the mechanism itself, leaving the
 * credentials untried (RFC 4954 §6): 504 not supported, 534 too weak,
 * 538 needs encryption. A 535 says the credentials are wrong, and any
 * other reply is final too: trying them again with another mechanism
 * would count as one more failed login on the server (lockouts, fail2ban). */
static gboolean
mechanism_refused (const GError *error)
{
  SmtpkitReply *reply = smtpkit_error_get_reply (error);
  guint code = reply ? smtpkit_reply_get_code (reply) : 0;

  return g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION) &&
         (code == 504 || code == 534 || code == 538);
}

/* A mechanism the server refused makes login() try the next one; any
 * other failure ends it. The error of the last one tried is reported. */
static void
on_login_failed (GTask  *task,
                 GError *error)
{
  ClientOp *op = OP (task);

  if (mechanism_refused (error) &&
      op->candidates[op->next_candidate] != NULL && client_is_connected (op->client))
    {
      g_clear_error (&op->last_error);
      op->last_error = error;
      login_next (task);
      return;
    }
  client_op_return_error (task, error);
}

static void
on_login_attempt (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr (SmtpkitReply) reply = NULL;
  GError *error = NULL;

  reply = g_task_propagate_pointer (G_TASK (result), &error);
  if (reply)
    login_done (task, reply);
  else
    on_login_failed (task, error);
}

/* Each mechanism runs as a sub-operation of its own, so that its failure
 * comes back here instead of ending login(). */
static void
login_next (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  const char *name = op->candidates[op->next_candidate++];
  g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
  GError *error = NULL;
  GTask *attempt;

  mechanism = smtpkit_auth_mechanism_new_for_name (name, &error);
  if (mechanism == NULL)
    {
      client_op_return_error (task, error);
      return;
    }
  g_object_set (mechanism, "username", op->user, "password", op->password, NULL);

  attempt = client_op_task_new (client, g_task_get_cancellable (task), on_login_attempt, task);
  OP (attempt)->sub_operation = TRUE;
  client_step_auth (attempt, mechanism, client_step_return_reply);
}

static gboolean
offered (const char *const *advertised,
         const char        *name)
{
  for (guint i = 0; advertised[i]; i++)
    if (g_ascii_strcasecmp (advertised[i], name) == 0)
      return TRUE;
  return FALSE;
}

static void
login_after_hello (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  const char *auth = smtpkit_client_get_extension_parameter (client, "auth");
  g_auto (GStrv) advertised = NULL;
  g_auto (GStrv) available = NULL;
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  gboolean bound = smtpkit_client_get_tls_connection (client) != NULL;

  if (auth == NULL)
    {
      client_op_return_error (task, g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                                 "the server at %s does not offer SMTP AUTH",
                                                 priv->host));
      return;
    }
  advertised = g_strsplit_set (auth, " \t", -1);

  /* Strongest first, among those offered that work with a password. */
  available = smtpkit_auth_mechanism_list ();
  for (guint i = 0; available[i]; i++)
    {
      g_autoptr (SmtpkitAuthMechanism) probe = NULL;

      if (!offered ((const char *const *) advertised, available[i]))
        continue;
      if (g_str_has_suffix (available[i], "-PLUS") && !bound)
        continue;
      probe = smtpkit_auth_mechanism_new_for_name (available[i], NULL);
      if (probe && smtpkit_auth_mechanism_uses_password (probe))
        g_ptr_array_add (candidates, g_strdup (available[i]));
    }
  if (candidates->len == 0)
    {
      client_op_return_error (task, g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                                 "no authentication mechanism offered by %s "
                                                 "(AUTH%s) works with a password here",
                                                 priv->host, auth));
      return;
    }
  g_ptr_array_add (candidates, NULL);
  op->candidates = (GStrv) g_ptr_array_free (g_steal_pointer (&candidates), FALSE);
  login_next (task);
}

static gboolean
check_credential (const char  *what,
                  const char  *value,
                  GError     **error)
{
  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "the %s is missing or not UTF-8", what);
      return FALSE;
    }
  return TRUE;
}

/**
 * smtpkit_client_login:
 * @client: a #SmtpkitClient
 * @user: the user name, UTF-8
 * @password: the password, UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Authenticates with a user name and password, as smtplib's `login()`:
 * EHLO first if needed, then each mechanism the server offers that the
 * client has and that works with a password, strongest first (SCRAM
 * before CRAM-MD5, PLAIN and LOGIN), until one succeeds. The next
 * mechanism is tried only when the server refuses the mechanism itself
 * (504, 534 or 538): a 535 (credentials invalid) or any other refusal
 * ends the call at once, so that one call counts as one failed login in
 * the server's log. [property@Client:auth-mechanism] then names the
 * mechanism that succeeded.
 *
 * Fails with %SMTPKIT_ERROR_NOT_SUPPORTED when the server does not offer
 * AUTH or no suitable mechanism, or when the connection is not protected
 * by TLS and goes to another host ([property@Client:allow-plaintext-auth]
 * lifts that), and with %SMTPKIT_ERROR_AUTHENTICATION and the server's
 * reply when the mechanism tried last is refused. The password never
 * appears in the transcript or the `sending` signal.
 *
 * This blocks; [method@Client.login_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's 235 reply, or %NULL with @error
 *   set
 */
SmtpkitReply *
smtpkit_client_login (SmtpkitClient  *client,
                      const char     *user,
                      const char     *password,
                      GCancellable   *cancellable,
                      GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_login_async (client, user, password, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_login_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_login_async:
 * @client: a #SmtpkitClient
 * @user: the user name, UTF-8
 * @password: the password, UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.login].
 */
void
smtpkit_client_login_async (SmtpkitClient       *client,
                            const char          *user,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_login_async, TRUE, cancellable,
                                 callback, user_data);
  GError *error = NULL;

  if (task == NULL)
    return;
  if (!check_credential ("user name", user, &error) ||
      !check_credential ("password", password, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  OP (task)->user = g_strdup (user);
  OP (task)->password = g_strdup (password);
  client_step_hello_if_needed (task, login_after_hello);
}

/**
 * smtpkit_client_login_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.login_async].
 *
 * Returns: (transfer full): the server's 235 reply, or %NULL with @error
 *   set
 */
SmtpkitReply *
smtpkit_client_login_finish (SmtpkitClient  *client,
                             GAsyncResult   *result,
                             GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_login_async, error);
}

/* ---- auth() --------------------------------------------------------------- */

static void
auth_after_hello (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  g_autoptr (SmtpkitAuthMechanism) mechanism = g_steal_pointer (&op->mechanism);

  if (!client_offers (client, CLIENT_EXT_AUTH))
    {
      client_op_return_error (task, g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                                                 "the server at %s does not offer SMTP AUTH",
                                                 priv->host));
      return;
    }
  client_step_auth (task, mechanism, login_done);
}

/**
 * smtpkit_client_auth:
 * @client: a #SmtpkitClient
 * @mechanism: the mechanism, with its credentials set
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Authenticates with one mechanism, as smtplib's `auth()`: EHLO first if
 * needed, then AUTH with the initial response when
 * [property@Client:initial-response-ok], then each 334 challenge answered
 * by the mechanism's step function. A mechanism may come from a plugin
 * ([ctor@AuthMechanism.new_for_name]) or be a function of the caller
 * ([ctor@AuthMechanism.new_for_func]).
 *
 * At most 10 challenges are answered; a challenge that is not base64, or
 * that the mechanism cannot answer, is answered with `*`, which cancels
 * the exchange. Fails with %SMTPKIT_ERROR_AUTHENTICATION and the server's
 * reply unless the server answers 235 (or 503: already authenticated).
 *
 * This blocks; [method@Client.auth_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's final reply, or %NULL with @error
 *   set
 */
SmtpkitReply *
smtpkit_client_auth (SmtpkitClient         *client,
                     SmtpkitAuthMechanism  *mechanism,
                     GCancellable          *cancellable,
                     GError               **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_auth_async (client, mechanism, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_auth_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_auth_async:
 * @client: a #SmtpkitClient
 * @mechanism: the mechanism, with its credentials set
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.auth].
 */
void
smtpkit_client_auth_async (SmtpkitClient         *client,
                           SmtpkitAuthMechanism  *mechanism,
                           GCancellable          *cancellable,
                           GAsyncReadyCallback    callback,
                           gpointer               user_data)
{
  GTask *task;

  g_return_if_fail (SMTPKIT_IS_AUTH_MECHANISM (mechanism));

  task = client_op_begin (client, smtpkit_client_auth_async, TRUE, cancellable, callback,
                          user_data);
  if (task == NULL)
    return;
  OP (task)->mechanism = g_object_ref (mechanism);
  client_step_hello_if_needed (task, auth_after_hello);
}

/**
 * smtpkit_client_auth_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.auth_async].
 *
 * Returns: (transfer full): the server's final reply, or %NULL with @error
 *   set
 */
SmtpkitReply *
smtpkit_client_auth_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_auth_async, error);
}

/**
 * smtpkit_client_get_auth_mechanism:
 * @client: a #SmtpkitClient
 *
 * The SASL mechanism that [method@Client.login] or [method@Client.auth]
 * authenticated with on this connection.
 *
 * Returns: (nullable): the mechanism's name, such as `SCRAM-SHA-256`, or
 *   %NULL when the client has not authenticated on this connection
 */
const char *
smtpkit_client_get_auth_mechanism (SmtpkitClient *client)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return client_get_private (client)->auth_mechanism;
}
