/* smtpkit-client-message.c: send_message() and send()
 *
 * Both are mail transactions (smtpkit-client-mail.c) with a step of their
 * own after EHLO, when the server's extensions are known:
 * send_message() decides SMTPUTF8, 8BITMIME and A-labels for a GMime
 * message; send() adds an envelope's DSN parameters when the server offers
 * DSN, and reports every recipient in a SmtpkitSendResult.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-client-private.h"

#include "smtpkit-envelope-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-message-private.h"
#include "smtpkit-sync-private.h"

/* ---- send_message() ---------------------------------------------------- */

static gboolean
has_option (const char *const *options,
            const char        *prefix)
{
  for (guint i = 0; options && options[i]; i++)
    if (g_ascii_strncasecmp (options[i], prefix, strlen (prefix)) == 0)
      return TRUE;
  return FALSE;
}

static void
add_option (ClientOp   *op,
            const char *option)
{
  guint n = op->mail_options ? g_strv_length (op->mail_options) : 0;

  op->mail_options = g_renew (char *, op->mail_options, n + 2);
  op->mail_options[n] = g_strdup (option);
  op->mail_options[n + 1] = NULL;
}

/* A non-ASCII address goes as it is under SMTPUTF8; without it only an
 * IDN domain can be helped (as A-labels); a non-ASCII local part cannot. */
static gboolean
fit_address (GTask    *task,
             char    **address,
             gboolean  utf8,
             GError  **error)
{
  char *ascii;

  if (utf8 || smtpkit_codec_is_ascii (*address))
    return TRUE;
  ascii = smtpkit_codec_address_to_ascii (*address);
  if (ascii == NULL)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                   "the address “%s” needs SMTPUTF8, which the server at %s does not offer",
                   *address, PRIV (task)->host);
      return FALSE;
    }
  g_free (*address);
  *address = ascii;
  return TRUE;
}

static gboolean
use_message (GTask   *task,
             GBytes  *wire)
{
  client_op_set_message (task, wire);
  return TRUE;
}

static gboolean
prepare_message (GTask   *task,
                 GError **error)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  gboolean utf8 = client_offers (client, CLIENT_EXT_SMTPUTF8);
  gboolean needs_utf8 = !smtpkit_codec_is_ascii (op->from);

  for (guint i = 0; op->to[i]; i++)
    needs_utf8 = needs_utf8 || !smtpkit_codec_is_ascii (op->to[i]);
  if (!fit_address (task, &op->from, utf8, error))
    return FALSE;
  for (guint i = 0; op->to[i]; i++)
    if (!fit_address (task, &op->to[i], utf8, error))
      return FALSE;

  /* RFC 6531 §3.4: SMTPUTF8 and 8BITMIME for non-ASCII addresses. */
  if (needs_utf8 && utf8)
    {
      if (!has_option ((const char *const *) op->mail_options, "SMTPUTF8"))
        add_option (op, "SMTPUTF8");
      if (!has_option ((const char *const *) op->mail_options, "BODY="))
        add_option (op, "BODY=8BITMIME");
    }

  /* RFC 6152: 8-bit content needs 8BITMIME, or conversion to 7 bits. */
  if (smtpkit_message_has_8bit (op->message) &&
      !has_option ((const char *const *) op->mail_options, "BODY="))
    {
      GMimeMessage *converted = NULL;
      g_autoptr (GBytes) wire = NULL;

      if (client_offers (client, CLIENT_EXT_8BITMIME))
        add_option (op, "BODY=8BITMIME");
      else if (!priv->convert_8bit)
        {
          g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                       "the message has 8-bit content and the server at %s does not offer "
                       "8BITMIME (set convert-8bit to send it converted to 7 bits)", priv->host);
          return FALSE;
        }
      else
        {
          if (smtpkit_message_to_7bit (GMIME_MESSAGE (op->source_message), &converted, error))
            wire = smtpkit_message_serialize (converted, error);
          g_clear_object (&converted);
          if (wire == NULL)
            return FALSE;
          use_message (task, wire);
        }
    }
  return TRUE;
}

/**
 * smtpkit_client_send_message:
 * @client: a #SmtpkitClient
 * @message: the message; it is not changed
 * @from_addr: (nullable): the envelope sender, or %NULL to take it from the
 *   message
 * @to_addrs: (nullable) (array zero-terminated=1): the recipients, or %NULL
 *   to take them from the message
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a GMime message, as smtplib's `send_message()`. Without
 * @from_addr, the sender is the `Sender` header if there is one, else
 * `From`; without @to_addrs, the recipients are the `To`, `Bcc` and `Cc`
 * addresses (groups expanded, display names dropped). When the message
 * has exactly one block of `Resent-*` headers, those are used instead;
 * more than one is %SMTPKIT_ERROR_INVALID_ARGUMENT.
 *
 * The message is sent with CRLF line endings and without its `Bcc` and
 * `Resent-Bcc` headers; @message itself is left as it was. When an
 * address is not ASCII, `SMTPUTF8` and `BODY=8BITMIME` are added if the
 * server offers SMTPUTF8; if it does not, IDN domains go as A-labels and
 * a non-ASCII local part fails with %SMTPKIT_ERROR_NOT_SUPPORTED before
 * MAIL. 8-bit content gets `BODY=8BITMIME` when offered; otherwise it
 * fails with %SMTPKIT_ERROR_NOT_SUPPORTED, or is converted to 7 bits when
 * [property@Client:convert-8bit] is set. Everything else is as
 * [method@Client.sendmail].
 *
 * This blocks; [method@Client.send_message_async] is the asynchronous form.
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused
 *   recipients, each with the server's reply; empty when all were accepted
 */
GHashTable *
smtpkit_client_send_message (SmtpkitClient      *client,
                             GMimeMessage       *message,
                             const char         *from_addr,
                             const char *const  *to_addrs,
                             const char *const  *mail_options,
                             const char *const  *rcpt_options,
                             GCancellable       *cancellable,
                             GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_send_message_async (client, message, from_addr, to_addrs, mail_options,
                                     rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_send_message_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_send_message_async:
 * @client: a #SmtpkitClient
 * @message: the message; it is not changed
 * @from_addr: (nullable): the envelope sender, or %NULL
 * @to_addrs: (nullable) (array zero-terminated=1): the recipients, or %NULL
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.send_message].
 */
void
smtpkit_client_send_message_async (SmtpkitClient       *client,
                                   GMimeMessage        *message,
                                   const char          *from_addr,
                                   const char *const   *to_addrs,
                                   const char *const   *mail_options,
                                   const char *const   *rcpt_options,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autofree char *from = NULL;
  g_autoptr (GPtrArray) to = NULL;
  g_autoptr (GBytes) wire = NULL;
  GError *error = NULL;
  GTask *task;

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));
  g_return_if_fail (GMIME_IS_MESSAGE (message));

  if (!smtpkit_message_get_envelope (message, from_addr ? NULL : &from, to_addrs ? NULL : &to,
                                     &error) ||
      !(wire = smtpkit_message_serialize (message, &error)))
    {
      g_task_report_error (client, callback, user_data, smtpkit_client_send_message_async, error);
      return;
    }
  if (to)
    g_ptr_array_add (to, NULL);

  task = client_transaction_new (client, smtpkit_client_send_message_async,
                                 from_addr ? from_addr : from,
                                 to_addrs ? to_addrs : (const char *const *) to->pdata, wire, NULL,
                                 -1, mail_options, rcpt_options,
                                 cancellable, callback, user_data);
  if (task == NULL)
    return;
  OP (task)->prepare = prepare_message;
  OP (task)->source_message = G_OBJECT (g_object_ref (message));
  client_transaction_run (task);
}

/**
 * smtpkit_client_send_message_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.send_message_async].
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused
 *   recipients, each with the server's reply
 */
GHashTable *
smtpkit_client_send_message_finish (SmtpkitClient  *client,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_send_message_async, error);
}

/**
 * smtpkit_client_send_message_result: (rename-to smtpkit_client_send_message)
 * @client: a #SmtpkitClient
 * @message: the message; it is not changed
 * @from_addr: (nullable): the envelope sender, or %NULL for the message's own
 * @to_addrs: (nullable) (array zero-terminated=1): the recipients, or %NULL
 *   for the message's own
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * [method@Client.send_message], giving a [class@SendResult] instead of
 * a map, as [method@Client.sendmail_result] does. This is the
 * `send_message()` of language bindings.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_send_message_result (SmtpkitClient      *client,
                                    GMimeMessage       *message,
                                    const char         *from_addr,
                                    const char *const  *to_addrs,
                                    const char *const  *mail_options,
                                    const char *const  *rcpt_options,
                                    GCancellable       *cancellable,
                                    GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_send_message_async (client, message, from_addr, to_addrs, mail_options,
                                     rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_send_message_result_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_send_message_result_finish: (rename-to smtpkit_client_send_message_finish)
 * @client: a #SmtpkitClient
 * @result: the result given to the callback of [method@Client.send_message_async]
 * @error: return location for a #GError
 *
 * Finishes [method@Client.send_message_async] with a [class@SendResult].
 * Bindings know it as `send_message_finish`.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_send_message_result_finish (SmtpkitClient  *client,
                                           GAsyncResult   *result,
                                           GError        **error)
{
  return client_op_finish_send_result (client, result, smtpkit_client_send_message_async, error);
}

/* ---- send() ------------------------------------------------------------- */

/* @first (taken), then @second. */
static char **
concat_options (char              **first,
                const char *const  *second)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_addv (builder, (const char **) first);
  g_strv_builder_addv (builder, (const char **) second);
  g_strfreev (first);
  return g_strv_builder_end (builder);
}

/* RFC 3461: the envelope's DSN parameters go only to a server that offers
 * DSN; its raw options always. */
static gboolean
prepare_envelope (GTask   *task,
                  GError **error)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitEnvelope *envelope = SMTPKIT_ENVELOPE (op->source_message);
  gboolean dsn = client_offers (client, CLIENT_EXT_DSN);
  const char *const *rcpt_raw = smtpkit_envelope_get_rcpt_options (envelope);

  if (dsn)
    {
      char **raw = op->mail_options;

      op->mail_options = concat_options (smtpkit_envelope_mail_parameters (envelope),
                                         (const char *const *) raw);
      g_strfreev (raw);
    }
  op->per_rcpt_options = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint i = 0; op->to[i]; i++)
    {
      char **own = dsn ? smtpkit_envelope_rcpt_parameters (envelope, i) : g_new0 (char *, 1);
      g_ptr_array_add (op->per_rcpt_options, concat_options (own, rcpt_raw));
    }
  return TRUE;
}

/**
 * smtpkit_client_send:
 * @client: a #SmtpkitClient
 * @envelope: the sender, the recipients and their DSN options
 * @message: the message
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends @message to the recipients of @envelope, as
 * [method@Client.sendmail], with the envelope's DSN parameters (RET,
 * ENVID, NOTIFY, ORCPT) when the server offers DSN (RFC 3461), and
 * reports every recipient: the reply to its RCPT, its final reply (under
 * LMTP, its own), whether it was delivered, and the queue id the server
 * gave. The call fails as [method@Client.sendmail] does: when the sender
 * or every recipient is refused.
 *
 * This blocks; [method@Client.send_async] is the asynchronous form.
 *
 * Returns: (transfer full): the outcome of every recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_send (SmtpkitClient    *client,
                     SmtpkitEnvelope  *envelope,
                     GBytes           *message,
                     GCancellable     *cancellable,
                     GError          **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_send_async (client, envelope, message, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_send_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_send_async:
 * @client: a #SmtpkitClient
 * @envelope: the sender, the recipients and their DSN options
 * @message: the message
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.send].
 */
void
smtpkit_client_send_async (SmtpkitClient       *client,
                           SmtpkitEnvelope     *envelope,
                           GBytes              *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr (GPtrArray) to = g_ptr_array_new ();
  GTask *task;

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));
  g_return_if_fail (SMTPKIT_IS_ENVELOPE (envelope));
  g_return_if_fail (message != NULL);

  for (guint i = 0; i < smtpkit_envelope_get_n_recipients (envelope); i++)
    g_ptr_array_add (to, (gpointer) smtpkit_envelope_get_recipient_address (envelope, i));
  g_ptr_array_add (to, NULL);

  task = client_transaction_new (client, smtpkit_client_send_async,
                                 smtpkit_envelope_get_sender (envelope),
                                 (const char *const *) to->pdata, message, NULL, -1,
                                 smtpkit_envelope_get_mail_options (envelope),
                                 smtpkit_envelope_get_rcpt_options (envelope), cancellable,
                                 callback, user_data);
  if (task == NULL)
    return;
  OP (task)->prepare = prepare_envelope;
  OP (task)->want_result = TRUE;
  OP (task)->source_message = G_OBJECT (g_object_ref (envelope));
  client_transaction_run (task);
}

/**
 * smtpkit_client_send_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.send_async].
 *
 * Returns: (transfer full): the outcome of every recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_send_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_send_async, error);
}
