/* smtpkit-client-mail.c: the mail transaction — DATA and sendmail()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-client-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-send-result-private.h"
#include "smtpkit-sync-private.h"

/* smtplib's mail(): asking for SMTPUTF8 when the server does not offer it
 * is refused before anything is sent. */
gboolean
client_check_smtputf8 (SmtpkitClient      *client,
                       const char *const  *options,
                       GError            **error)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  if (!priv->does_esmtp || options == NULL || client_offers (client, CLIENT_EXT_SMTPUTF8))
    return TRUE;
  for (guint i = 0; options[i]; i++)
    if (g_ascii_strcasecmp (options[i], "SMTPUTF8") == 0)
      {
        g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
                     "the server at %s does not offer SMTPUTF8", priv->host);
        return FALSE;
      }
  return TRUE;
}

/* ---- the mail transaction ---------------------------------------------- */

/* Recipient @index goes into the accepted ones (or, after a lost
 * connection, the ones the message may have reached). Never more than
 * @n_to: each is answered once, or not at all. */
static void
add_accepted (ClientOp *op,
              guint     index)
{
  g_return_if_fail (op->n_accepted < op->n_to);
  op->accepted[op->n_accepted++] = index;
}

/* The final reply of the next accepted recipient. */
static void
add_final_reply (ClientOp     *op,
                 SmtpkitReply *reply)
{
  g_return_if_fail (op->n_final < op->n_accepted);
  op->final_replies[op->n_final++] = smtpkit_reply_ref (reply);
}

/* Records recipient @index's RCPT reply: accepted (in order, duplicates
 * too) or refused. */
static void
record_rcpt (GTask        *task,
             guint         index,
             SmtpkitReply *reply)
{
  ClientOp *op = OP (task);
  const char *recipient = op->to[index];
  guint code = smtpkit_reply_get_code (reply);

  g_clear_pointer (&op->rcpt_replies[index], smtpkit_reply_unref);
  op->rcpt_replies[index] = smtpkit_reply_ref (reply);
  if (code == 250 || code == 251)
    add_accepted (op, index);
  else
    g_hash_table_replace (op->refused, g_strdup (recipient), smtpkit_reply_ref (reply));
}

/* The RCPT parameters of recipient @index: the envelope's (with its DSN
 * parameters when the server offers DSN), else the caller's. ESMTP only. */
static const char *const *
rcpt_options_for (GTask *task,
                  guint  index)
{
  ClientOp *op = OP (task);

  if (!op->priv->does_esmtp)
    return NULL;
  if (op->per_rcpt_options)
    return g_ptr_array_index (op->per_rcpt_options, index);
  return (const char *const *) op->rcpt_options;
}

/* The transaction went through for at least one recipient. */
static SmtpkitSendResult *
transaction_result (ClientOp *op)
{
  SmtpkitSendResult *result = smtpkit_send_result_new ();

  for (guint i = 0; op->to[i]; i++)
    smtpkit_send_result_add_recipient (result, op->to[i], op->rcpt_replies[i]);
  for (guint k = 0; k < op->n_final; k++)
    smtpkit_send_result_set_final_reply (result, op->accepted[k], op->final_replies[k]);
  return result;
}

static void
transaction_done (GTask *task)
{
  ClientOp *op = OP (task);

  if (op->want_result)
    {
      client_op_return_pointer (task, transaction_result (op), g_object_unref);
      return;
    }
  /* The map is the result; the task data keeps what the _result forms
   * of the finish functions make a SmtpkitSendResult of. */
  client_op_return_pointer (task, g_hash_table_ref (op->refused),
                            (GDestroyNotify) g_hash_table_unref);
}

/* Finishes a transaction started for a refused-recipient map, giving
 * its SmtpkitSendResult instead: the form bindings call, since they
 * cannot take a map of boxed values. */
SmtpkitSendResult *
client_op_finish_send_result (SmtpkitClient  *client,
                              GAsyncResult   *result,
                              gpointer        source_tag,
                              GError        **error)
{
  g_autoptr (GHashTable) refused = client_op_finish (client, result, source_tag, error);

  if (refused == NULL)
    return NULL;
  return transaction_result (g_task_get_task_data (G_TASK (result)));
}

/* Abandons the transaction after a refusal: RSET is sent and its outcome
 * ignored, as smtplib does (nothing is sent after a 421, when the server
 * is closing the connection); then @error (taken) is reported. */
static void
abandon_transaction (GTask        *task,
                     SmtpkitReply *reply,
                     GError       *error)
{
  if (reply && smtpkit_reply_get_code (reply) == 421)
    client_drop_connection (CLIENT (task));
  client_step_fail_after (task, "RSET", error);
}

/* Fails the DATA phase: inside sendmail() the transaction is abandoned;
 * a bare data() reports the error as smtplib's does. */
static void
data_failed (GTask        *task,
             SmtpkitReply *reply,
             GError       *error)
{
  if (OP (task)->in_transaction)
    abandon_transaction (task, reply, error);
  else
    client_op_return_error (task, error);
}

static void empty_body_sent (GTask        *task,
                             SmtpkitReply *reply);

static gboolean
per_recipient_replies (GTask *task)
{
  return SMTPKIT_CLIENT_GET_CLASS (CLIENT (task))->per_recipient_replies;
}

/* SMTP answers the end of data once; LMTP once per accepted recipient
 * (RFC 2033 §4.2), in the order they were accepted, duplicates included. */
static guint
expected_data_replies (GTask *task)
{
  ClientOp *op = OP (task);

  if (!per_recipient_replies (task))
    return 1;
  return op->in_transaction ? op->n_accepted : op->priv->rcpt_accepted;
}

/* LMTP: each accepted recipient's own outcome. */
static void
lmtp_replies (GTask     *task,
              GPtrArray *replies)
{
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = op->priv;
  guint delivered = 0;
  GError *error;

  /* The engine read one reply for each accepted recipient. */
  g_warn_if_fail (replies->len == op->n_accepted);
  for (guint i = 0; i < MIN (replies->len, op->n_accepted); i++)
    {
      SmtpkitReply *reply = g_ptr_array_index (replies, i);

      add_final_reply (op, reply);
      if (client_is_2xx (reply))
        delivered++;
      else
        g_hash_table_replace (op->refused, g_strdup (op->to[op->accepted[i]]),
                              smtpkit_reply_ref (reply));
    }
  if (delivered > 0)
    {
      transaction_done (task);
      return;
    }
  error = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED,
                       "the server at %s delivered the message to no recipient", priv->host);
  smtpkit_error_set_recipients (error, op->refused);
  client_op_return_error (task, error);
}

/* A lost connection after the end of data: which recipients were answered
 * (with their reply) and which are unknown (no reply). */
GHashTable *
client_unknown_outcomes (GTask     *task,
                         GPtrArray *partial)
{
  ClientOp *op = OP (task);
  GHashTable *map = smtpkit_recipient_map_new ();
  gboolean each = per_recipient_replies (task);

  for (guint i = 0; i < op->n_accepted; i++)
    {
      SmtpkitReply *reply = each && partial && i < partial->len ? g_ptr_array_index (partial, i)
                                                                 : NULL;
      g_hash_table_replace (map, g_strdup (op->to[op->accepted[i]]),
                            reply ? smtpkit_reply_ref (reply) : NULL);
    }
  return map;
}

static void
on_body_sent (SmtpkitEngineResult *result,
              gpointer             user_data)
{
  GTask *task = user_data;
  ClientOp *op = OP (task);
  GError *error = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GPtrArray) partial = NULL;
  SmtpkitReply *reply = NULL;

  replies = smtpkit_engine_result_take (result, NULL, &partial, &error);
  if (replies == NULL && op->after_data == empty_body_sent)
    {
      /* The message was empty and refused before it was sent: that
       * refusal is the outcome, not the loss of the connection after. */
      g_error_free (error);
      client_drop_connection (CLIENT (task));
      client_op_return_error (task, g_steal_pointer (&op->last_error));
      return;
    }
  if (replies == NULL)
    {
      if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN))
        {
          g_autoptr (GHashTable) map = client_unknown_outcomes (task, partial);
          smtpkit_error_set_recipients (error, map);
        }
      client_op_return_error (task, error);
      return;
    }
  if (per_recipient_replies (task) && op->in_transaction && op->after_data != empty_body_sent)
    {
      lmtp_replies (task, replies);
      return;
    }
  /* One reply (SMTP); for a bare data() under LMTP, the first refusal if
   * any, else the last reply. */
  for (guint i = 0; i < replies->len && reply == NULL; i++)
    if (!client_is_2xx (g_ptr_array_index (replies, i)))
      reply = g_ptr_array_index (replies, i);
  if (reply == NULL && replies->len > 0)
    reply = g_ptr_array_index (replies, replies->len - 1);
  op->after_data (task, reply);
}

static void
send_body (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;

  /* A message given as bytes goes without a stream around it. */
  smtpkit_engine_send_body (priv->engine, op->body, op->body ? NULL : op->message,
                            (op->wire_form & SMTPKIT_WIRE_DATA) != 0, priv->convert_newlines,
                            expected_data_replies (task),
                            client_phase_timeout (client, PHASE_DATA_BLOCK),
                            client_phase_timeout (client, PHASE_DATA_END),
                            g_task_get_cancellable (task), on_body_sent, task);
}

static void
data_command_done (GTask        *task,
                   SmtpkitReply *reply)
{
  if (smtpkit_reply_get_code (reply) != 354)
    {
      data_failed (task, reply,
                   client_reply_error (task, SMTPKIT_ERROR_DATA, reply, "the server refused DATA"));
      return;
    }
  send_body (task);
}

/* DATA, the body, the final reply to @then. */
static void
step_data (GTask     *task,
           ReplyStep  then)
{
  OP (task)->after_data = then;
  client_op_send (task, PHASE_DATA_INIT, data_command_done, "DATA", NULL, NULL);
}

static void sendmail_next_rcpt (GTask *task);

static void step_bdat (GTask *task);

static void
sendmail_body_done (GTask        *task,
                    SmtpkitReply *reply)
{
  ClientOp *op = OP (task);

  if (smtpkit_reply_get_code (reply) != 250)
    {
      data_failed (task, reply,
                   client_reply_error (task, SMTPKIT_ERROR_DATA, reply,
                                       "the server refused the message"));
      return;
    }
  /* One final reply for every accepted recipient. */
  for (guint k = 0; k < op->n_accepted; k++)
    add_final_reply (op, reply);
  transaction_done (task);
}

static void
sendmail_rcpt_done (GTask        *task,
                    SmtpkitReply *reply)
{
  ClientOp *op = OP (task);
  guint code = smtpkit_reply_get_code (reply);

  record_rcpt (task, op->next_rcpt - 1, reply);
  if (code == 421)
    {
      GError *error = client_reply_error (task, SMTPKIT_ERROR_RECIPIENTS_REFUSED, reply,
                                   "the server is closing the connection");
      smtpkit_error_set_recipients (error, op->refused);
      abandon_transaction (task, reply, error);
      return;
    }
  sendmail_next_rcpt (task);
}

static void
sendmail_next_rcpt (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = op->priv;

  if (op->to[op->next_rcpt] != NULL)
    {
      g_autofree char *arg = smtpkit_codec_path_argument ("TO:", op->to[op->next_rcpt++]);

      client_op_send (task, PHASE_RCPT, sendmail_rcpt_done, "RCPT", arg,
                      rcpt_options_for (task, op->next_rcpt - 1));
      return;
    }

  if (op->n_accepted == 0)
    {
      GError *error = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED,
                                   "the server at %s refused every recipient", priv->host);
      smtpkit_error_set_recipients (error, op->refused);
      abandon_transaction (task, NULL, error);
      return;
    }
  if (op->chunked)
    step_bdat (task);
  else
    step_data (task, sendmail_body_done);
}

static void
sendmail_mail_done (GTask        *task,
                    SmtpkitReply *reply)
{
  ClientOp *op = OP (task);
  GError *error;

  if (smtpkit_reply_get_code (reply) == 250)
    {
      sendmail_next_rcpt (task);
      return;
    }

  error = client_reply_error (task, SMTPKIT_ERROR_SENDER_REFUSED, reply, "the server refused the sender");
  smtpkit_error_set_sender (error, op->from);
  abandon_transaction (task, reply, error);
}

/* ---- CHUNKING (RFC 3030): the body as BDAT chunks ---------------------- */

static void
add_bdat (SmtpkitCommandBatch *batch,
          GBytes              *chunk,
          gboolean             last)
{
  g_autoptr (GString) line = g_string_new (NULL);

  g_string_printf (line, "BDAT %" G_GSIZE_FORMAT "%s\r\n", g_bytes_get_size (chunk),
                   last ? " LAST" : "");
  smtpkit_command_batch_add (batch, line, -1);
  if (g_bytes_get_size (chunk) > 0)
    smtpkit_command_batch_add_data (batch, chunk);
}

/* Line endings as for DATA, no dot-stuffing, no terminator. */
static GBytes *
encode_chunk (GTask        *task,
              const guint8 *data,
              gsize         length,
              gboolean      last)
{
  ClientOp *op = OP (task);
  g_autoptr (GByteArray) out = g_byte_array_sized_new (length + length / 16 + 2);

  smtpkit_data_encoder_feed (&op->encoder, data, length, out);
  if (last)
    smtpkit_data_encoder_finish_chunked (&op->encoder, out);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
bdat_last_replies (GTask     *task,
                   GPtrArray *replies)
{
  if (per_recipient_replies (task))
    lmtp_replies (task, replies);
  else
    sendmail_body_done (task, g_ptr_array_index (replies, 0));
}

/* The connection failed after BDAT LAST went out: the message may have
 * been delivered to every accepted recipient not answered yet. */
static void
bdat_last_lost (GTask     *task,
                GPtrArray *partial,
                GError    *error)
{
  if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN))
    {
      g_autoptr (GHashTable) map = client_unknown_outcomes (task, partial);
      smtpkit_error_set_recipients (error, map);
    }
  client_op_return_error (task, error);
}

static void
send_bdat_last (GTask  *task,
                GBytes *chunk)
{
  SmtpkitCommandBatch *batch = smtpkit_command_batch_new ();

  add_bdat (batch, chunk, TRUE);
  smtpkit_command_batch_set_replies (batch, expected_data_replies (task));
  smtpkit_command_batch_set_final (batch);
  if (per_recipient_replies (task))
    smtpkit_command_batch_set_per_recipient (batch);
  OP (task)->on_lost = bdat_last_lost;
  client_op_exchange (task, batch, PHASE_DATA_END, bdat_last_replies);
}

/* A stream: its chunks, several in flight, from the engine. */
static void
on_chunks_sent (SmtpkitEngineResult *result,
                gpointer             user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GPtrArray) partial = NULL;
  g_autoptr (SmtpkitReply) refused = NULL;

  replies = smtpkit_engine_result_take (result, &refused, &partial, &error);
  if (replies == NULL)
    {
      bdat_last_lost (task, partial, error);
      return;
    }
  if (refused)
    {
      data_failed (task, refused,
                   client_reply_error (task, SMTPKIT_ERROR_DATA, refused,
                                       "the server refused a chunk of the message"));
      return;
    }
  if (replies->len == 0)
    {
      /* A 421 to a chunk ended the conversation before BDAT LAST. */
      client_op_return_error (task, client_closed_error (CLIENT (task)));
      return;
    }
  bdat_last_replies (task, replies);
}

/* The body after MAIL and RCPT: BDAT LAST for a message of known size,
 * else chunks of a stream, several in flight, the rest with LAST (BDAT 0
 * LAST when it ends at a chunk's end). Memory does not grow with a
 * stream's size. */
static void
step_bdat (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;

  if (op->chunk)
    {
      send_bdat_last (task, op->chunk);
      return;
    }
  smtpkit_engine_send_chunks (priv->engine, op->body, priv->convert_newlines,
                              expected_data_replies (task),
                              client_phase_timeout (client, PHASE_DATA_BLOCK),
                              client_phase_timeout (client, PHASE_DATA_END),
                              g_task_get_cancellable (task), on_chunks_sent, task);
}

/* ---- pipelined: MAIL, every RCPT and DATA in one write (RFC 2920) ---- */

static void
empty_body_sent (GTask        *task,
                 SmtpkitReply *reply)
{
  ClientOp *op = OP (task);

  abandon_transaction (task, reply, g_steal_pointer (&op->last_error));
}

/* After a refusal in a pipelined group: when the server accepted DATA
 * anyway, the message must be ended (with nothing in it) before RSET. */
static void
pipelined_refused (GTask        *task,
                   SmtpkitReply *mail_reply,
                   SmtpkitReply *data_reply,
                   GError       *error)
{
  ClientOp *op = OP (task);

  if (data_reply == NULL || op->chunked || smtpkit_reply_get_code (data_reply) != 354)
    {
      abandon_transaction (task, mail_reply, error);
      return;
    }
  g_clear_error (&op->last_error);
  op->last_error = error;
  op->after_data = empty_body_sent;
  g_clear_object (&op->body);
  op->body = g_memory_input_stream_new ();
  send_body (task);
}

static void
pipelined_replies (GTask     *task,
                   GPtrArray *replies)
{
  ClientOp *op = OP (task);
  SmtpkitClientPrivate *priv = op->priv;
  guint n_rcpt = g_strv_length (op->to);
  SmtpkitReply *mail_reply = g_ptr_array_index (replies, 0);
  /* DATA's reply, or BDAT LAST's (the final one), or none: BDAT follows. */
  SmtpkitReply *last_reply = replies->len > n_rcpt + 1 ? g_ptr_array_index (replies, n_rcpt + 1)
                                                       : NULL;
  /* Fewer when a 421 ended the group: the server answers no more. */
  guint n_answered = MIN (n_rcpt, replies->len - 1);
  GError *error;

  for (guint i = 1; i <= n_answered; i++)
    record_rcpt (task, i - 1, g_ptr_array_index (replies, i));

  if (smtpkit_reply_get_code (mail_reply) != 250)
    {
      error = client_reply_error (task, SMTPKIT_ERROR_SENDER_REFUSED, mail_reply,
                                  "the server refused the sender");
      smtpkit_error_set_sender (error, op->from);
      pipelined_refused (task, mail_reply, last_reply, error);
      return;
    }
  for (guint i = 1; i <= n_answered; i++)
    if (smtpkit_reply_get_code (g_ptr_array_index (replies, i)) == 421)
      {
        error = client_reply_error (task, SMTPKIT_ERROR_RECIPIENTS_REFUSED,
                                    g_ptr_array_index (replies, i),
                                    "the server is closing the connection");
        smtpkit_error_set_recipients (error, op->refused);
        abandon_transaction (task, g_ptr_array_index (replies, i), error);
        return;
      }
  if (op->n_accepted == 0)
    {
      error = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED,
                           "the server at %s refused every recipient", priv->host);
      smtpkit_error_set_recipients (error, op->refused);
      pipelined_refused (task, NULL, last_reply, error);
      return;
    }
  if (last_reply == NULL)
    step_bdat (task);
  else if (op->chunked)
    sendmail_body_done (task, last_reply);
  else
    {
      op->after_data = sendmail_body_done;
      data_command_done (task, last_reply);
    }
}

/* The connection failed after a group that ended with BDAT LAST went
 * out. What the replies read before say decides: a refused sender or
 * every recipient refused is a refusal; else the message may have been
 * delivered, to the accepted recipients and to those not answered. */
static void
pipelined_lost (GTask     *task,
                GPtrArray *partial,
                GError    *error)
{
  ClientOp *op = OP (task);
  guint n_rcpt = g_strv_length (op->to);
  guint n_answered = partial->len > 0 ? MIN (n_rcpt, partial->len - 1) : 0;
  SmtpkitReply *mail_reply = partial->len > 0 ? g_ptr_array_index (partial, 0) : NULL;
  GError *refusal = NULL;

  for (guint i = 1; i <= n_answered; i++)
    record_rcpt (task, i - 1, g_ptr_array_index (partial, i));
  if (mail_reply && smtpkit_reply_get_code (mail_reply) != 250)
    {
      refusal = client_reply_error (task, SMTPKIT_ERROR_SENDER_REFUSED, mail_reply,
                                    "the server refused the sender");
      smtpkit_error_set_sender (refusal, op->from);
    }
  else if (n_answered == n_rcpt && op->n_accepted == 0)
    {
      refusal = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED,
                             "the server at %s refused every recipient", op->priv->host);
      smtpkit_error_set_recipients (refusal, op->refused);
    }
  if (refusal)
    {
      g_error_free (error);
      client_op_return_error (task, refusal);
      return;
    }
  for (guint i = n_answered; i < n_rcpt; i++)
    add_accepted (op, i);
  bdat_last_lost (task, NULL, error);
}

static void
sendmail_pipelined (GTask             *task,
                    const char        *mail_arg,
                    const char *const *mail_options)
{
  ClientOp *op = OP (task);
  SmtpkitCommandBatch *batch = smtpkit_command_batch_new ();
  GError *error = NULL;
  gboolean formatted;

  formatted = smtpkit_command_batch_add_command (batch, "MAIL", mail_arg, mail_options, &error);
  for (guint i = 0; formatted && op->to[i]; i++)
    {
      g_autofree char *arg = smtpkit_codec_path_argument ("TO:", op->to[i]);

      formatted = smtpkit_command_batch_add_command (batch, "RCPT", arg,
                                                     rcpt_options_for (task, i), &error);
    }
  if (!formatted)
    {
      smtpkit_command_batch_free (batch);
      client_op_return_error (task, error);
      return;
    }
  if (!op->chunked)
    smtpkit_command_batch_add_command (batch, "DATA", NULL, NULL, NULL);
  else if (op->chunk && !per_recipient_replies (task))
    {
      /* A message of known size goes in the same group: one round trip.
       * (Under LMTP the number of replies to BDAT LAST depends on the
       * RCPT replies, so it waits for them.) */
      add_bdat (batch, op->chunk, TRUE);
      smtpkit_command_batch_set_final (batch);
      op->on_lost = pipelined_lost;
    }
  client_op_exchange (task, batch, PHASE_MAIL, pipelined_replies);
}

/* RFC 3030 §3: a message of known content that DATA cannot carry (a NUL,
 * or line endings sent as they are) goes as BODY=BINARYMIME when the
 * server offers it with CHUNKING, unless the caller chose a BODY. */
static gboolean
is_binary (GTask *task)
{
  ClientOp *op = OP (task);
  gsize length;
  const guint8 *data;

  if (!op->chunked || op->chunk == NULL ||
      !client_offers (op->client, CLIENT_EXT_BINARYMIME))
    return FALSE;
  for (guint i = 0; op->mail_options && op->mail_options[i]; i++)
    if (g_ascii_strncasecmp (op->mail_options[i], "BODY=", 5) == 0)
      return FALSE;
  data = g_bytes_get_data (op->chunk, &length);
  if (memchr (data, '\0', length) != NULL)
    return TRUE;
  if (op->priv->convert_newlines)
    return FALSE;
  /* Bytes kept as they are: a lone CR or LF is binary. */
  for (gsize i = 0; i < length; i++)
    if ((data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) ||
        (data[i] == '\r' && (i + 1 == length || data[i + 1] != '\n')))
      return TRUE;
  return FALSE;
}

/* RFC 1870 §4: a message over the server's limit is not even offered. */
static gboolean
check_size_limit (GTask   *task,
                  GError **error)
{
  ClientOp *op = OP (task);
  guint64 max = op->priv->size_limit;

  if (op->size < 0 || max == 0 || (guint64) op->size <= max)
    return TRUE;
  g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED,
               "the message is %" G_GINT64_FORMAT " octets, more than the %" G_GUINT64_FORMAT
               " octets the server at %s accepts (SIZE)", op->size, max, op->priv->host);
  return FALSE;
}

static void
sendmail_mail (GTask *task)
{
  ClientOp *op = OP (task);
  SmtpkitClient *client = op->client;
  SmtpkitClientPrivate *priv = op->priv;
  gboolean size_offered = priv->does_esmtp && client_offers (client, CLIENT_EXT_SIZE);
  /* SIZE, the caller's, BODY=BINARYMIME: on the stack for a few. */
  guint n_options = 3 + (op->mail_options ? g_strv_length (op->mail_options) : 0);
  const char *options_here[8];
  g_autofree const char **options_heap = NULL;
  const char **options = options_here;
  char size_option[32];
  guint n = 0;
  g_autofree char *arg = NULL;
  GError *error = NULL;

  /* The prepare step may change the sender. */
  if (op->prepare && !op->prepare (task, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  arg = smtpkit_codec_path_argument ("FROM:", op->from);

  op->chunked = priv->chunking && client_offers (client, CLIENT_EXT_CHUNKING);
  /* One BDAT chunk, or SIZE, needs the message's size before it goes. */
  if (op->chunked || size_offered)
    client_op_scan_message (task);
  if (op->chunked)
    {
      smtpkit_data_encoder_init_chunked (&op->encoder, priv->convert_newlines);
      if (op->message)
        {
          gsize length;
          const guint8 *data = g_bytes_get_data (op->message, &length);

          /* A message already in its wire form goes out as it is. */
          if (op->wire_form & SMTPKIT_WIRE_CHUNK)
            op->chunk = g_bytes_ref (op->message);
          else
            op->chunk = encode_chunk (task, data, length, TRUE);
          op->size = g_bytes_get_size (op->chunk);
        }
    }

  if (n_options > G_N_ELEMENTS (options_here))
    options = options_heap = g_new (const char *, n_options);
  if (priv->does_esmtp)
    {
      if (op->size >= 0 && size_offered)
        {
          g_snprintf (size_option, sizeof size_option, "SIZE=%" G_GINT64_FORMAT, op->size);
          options[n++] = size_option;
        }
      for (guint i = 0; op->mail_options && op->mail_options[i]; i++)
        options[n++] = op->mail_options[i];
      if (is_binary (task))
        options[n++] = "BODY=BINARYMIME";
    }
  options[n] = NULL;
  if (!client_check_smtputf8 (client, options, &error) ||
      !check_size_limit (task, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  op->in_transaction = TRUE;
  if (priv->pipelining && client_offers (client, CLIENT_EXT_PIPELINING))
    {
      sendmail_pipelined (task, arg, options);
      return;
    }
  client_op_send (task, PHASE_MAIL, sendmail_mail_done, "MAIL", arg, options);
}

/* Bad input must fail before anything goes on the wire, EHLO included:
 * every command of the transaction is formatted once up front, unless
 * @formatted_later (the transaction's first step formats them all into
 * one pipelined group before it writes anything). */
static gboolean
check_envelope (const char         *from,
                const char *const  *to,
                const char *const  *mail_options,
                const char *const  *rcpt_options,
                gboolean            formatted_later,
                GError            **error)
{
  g_autoptr (GString) scratch = NULL;
  g_autofree char *arg = NULL;

  if (to == NULL || to[0] == NULL)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                           "no recipients given");
      return FALSE;
    }
  if (from == NULL)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                           "no sender given (the null sender is \"\")");
      return FALSE;
    }
  /* A NUL ends a C string: CR and LF are what there is to look for, and
   * the codec words the error. */
  if (from[strcspn (from, "\r\n")] != '\0' &&
      !smtpkit_codec_check_argument ("sender", from, -1, error))
    return FALSE;
  for (guint i = 0; to[i]; i++)
    if (to[i][strcspn (to[i], "\r\n")] != '\0' &&
        !smtpkit_codec_check_argument ("recipient", to[i], -1, error))
      return FALSE;
  if (formatted_later)
    return TRUE;

  scratch = g_string_sized_new (128);
  arg = smtpkit_codec_path_argument ("FROM:", from);
  if (!smtpkit_codec_format_command (scratch, "MAIL", arg, mail_options, error))
    return FALSE;
  for (guint i = 0; to[i]; i++)
    {
      g_free (arg);
      arg = smtpkit_codec_path_argument ("TO:", to[i]);
      g_string_truncate (scratch, 0);
      if (!smtpkit_codec_format_command (scratch, "RCPT", arg, rcpt_options, error))
        return FALSE;
    }
  return TRUE;
}

/* Starts a mail transaction: the arguments checked before anything goes
 * on the wire, then (by client_transaction_run()) EHLO if needed, MAIL,
 * RCPT and the body. NULL when it cannot start (the error is reported).
 * The caller may set a prepare step or an envelope before running it. */
GTask *
client_transaction_new (SmtpkitClient       *client,
                        gpointer             source_tag,
                        const char          *from_addr,
                        const char *const   *to_addrs,
                        GBytes              *message,
                        GInputStream        *body,
                        gint64               size,
                        const char *const   *mail_options,
                        const char *const   *rcpt_options,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  SmtpkitClientPrivate *priv = client_get_private (client);
  GError *error = NULL;
  gboolean formatted_later;
  GTask *task;
  ClientOp *op;
  guint n_to;

  task = client_op_begin (client, source_tag, TRUE, cancellable, callback, user_data);
  if (task == NULL)
    return NULL;
  /* Said hello, and pipelining: sendmail_pipelined() formats them all
   * before it sends anything. */
  formatted_later = priv->ehlo_reply && priv->pipelining &&
                    client_offers (client, CLIENT_EXT_PIPELINING);
  if (!check_envelope (from_addr, to_addrs, mail_options, rcpt_options, formatted_later, &error) ||
      (!priv->ehlo_reply && !priv->helo_reply &&
       !client_check_hello_name (client_hello_name (client, NULL), &error)))
    {
      client_op_return_error (task, error);
      return NULL;
    }

  op = OP (task);
  op->from = g_strdup (from_addr);
  op->to = g_strdupv ((char **) to_addrs);
  op->mail_options = g_strdupv ((char **) mail_options);
  op->rcpt_options = g_strdupv ((char **) rcpt_options);
  op->body = body ? g_object_ref (body) : NULL;
  op->size = size;
  if (message)
    client_op_set_message (task, message);
  op->refused = smtpkit_recipient_map_new ();
  /* n_to of each is room enough: see add_accepted(). */
  n_to = op->n_to = g_strv_length (op->to);
  op->rcpt_replies = g_malloc0 (n_to * (2 * sizeof (SmtpkitReply *) + sizeof (guint)));
  op->final_replies = op->rcpt_replies + n_to;
  op->accepted = (guint *) (op->final_replies + n_to);
  return task;
}

void
client_transaction_run (GTask *task)
{
  client_step_hello_if_needed (task, sendmail_mail);
}

static void
sendmail_start (SmtpkitClient       *client,
                gpointer             source_tag,
                const char          *from_addr,
                const char *const   *to_addrs,
                GBytes              *message,
                GInputStream        *body,
                gint64               size,
                const char *const   *mail_options,
                const char *const   *rcpt_options,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = client_transaction_new (client, source_tag, from_addr, to_addrs, message, body,
                                        size, mail_options, rcpt_options, cancellable, callback,
                                        user_data);

  if (task)
    client_transaction_run (task);
}

/* Up to this, a message given as bytes is looked at when the transaction
 * starts, and goes as one write. A larger one is looked at ahead only for
 * what needs its size before it goes (SIZE, a BDAT chunk of it whole);
 * otherwise the engine checks each piece just before it sends it, while
 * the piece is in the processor's cache, so that the message is read from
 * memory once, not once for the check and again for the send. */
#define SCAN_AHEAD_MAX (256 * 1024)

void
client_op_set_message (GTask  *task,
                        GBytes *message)
{
  ClientOp *op = OP (task);

  g_bytes_ref (message);
  g_clear_pointer (&op->message, g_bytes_unref);
  op->message = message;
  op->wire_form = 0;
  op->size = -1;
  if (g_bytes_get_size (message) <= SCAN_AHEAD_MAX)
    client_op_scan_message (task);
}

void
client_op_scan_message (GTask *task)
{
  ClientOp *op = OP (task);
  gboolean convert = op->priv->convert_newlines;
  gsize length;
  const guint8 *data;

  if (op->message == NULL || op->size >= 0)
    return;
  data = g_bytes_get_data (op->message, &length);
  op->wire_form = smtpkit_codec_wire_form (data, length, convert);
  op->size = smtpkit_codec_message_size_in_form (data, length, op->wire_form, convert);
}

/**
 * smtpkit_client_data:
 * @client: a #SmtpkitClient
 * @message: the message
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends DATA, then the message, and reads the final reply.
 *
 * Line endings are made CRLF (unless [property@Client:convert-newlines]
 * is off), lines starting with a dot get another, and the end of data is
 * marked. A reply other than 354 to DATA fails with %SMTPKIT_ERROR_DATA;
 * the final reply is returned whatever its code. A connection lost after
 * the end of data was sent and before its reply fails with
 * %SMTPKIT_ERROR_DELIVERY_UNKNOWN: the message may have been delivered.
 *
 * This blocks; [method@Client.data_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_data (SmtpkitClient  *client,
                     GBytes         *message,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_data_async (client, message, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_data_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_data_async:
 * @client: a #SmtpkitClient
 * @message: the message
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.data].
 */
void
smtpkit_client_data_async (SmtpkitClient       *client,
                           GBytes              *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (message != NULL);
  task = client_op_begin (client, smtpkit_client_data_async, TRUE, cancellable, callback, user_data);
  if (task == NULL)
    return;
  OP (task)->body = g_memory_input_stream_new_from_bytes (message);
  step_data (task, client_step_return_reply);
}

/**
 * smtpkit_client_data_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.data_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_data_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_data_async, error);
}

/**
 * smtpkit_client_sendmail:
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends one message to several recipients.
 *
 * Sends EHLO (or HELO) if needed, then MAIL with `SIZE=` when the server
 * advertises SIZE and the size is known, then RCPT for each recipient and
 * the message, as smtplib's `sendmail()`.
 *
 * When the sender is refused the call fails with
 * %SMTPKIT_ERROR_SENDER_REFUSED; when every recipient is refused, with
 * %SMTPKIT_ERROR_RECIPIENTS_REFUSED; when the message is refused, with
 * %SMTPKIT_ERROR_DATA. After a refusal RSET is sent (or the connection
 * dropped on 421). Addresses and options are checked before anything is
 * sent. Line endings and dots are handled as in [method@Client.data].
 *
 * This blocks; [method@Client.sendmail_async] is the asynchronous form.
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused recipients, each with the server's reply; empty when all were accepted
 */
GHashTable *
smtpkit_client_sendmail (SmtpkitClient      *client,
                         const char         *from_addr,
                         const char *const  *to_addrs,
                         GBytes             *message,
                         const char *const  *mail_options,
                         const char *const  *rcpt_options,
                         GCancellable       *cancellable,
                         GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_sendmail_async (client, from_addr, to_addrs, message, mail_options, rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_sendmail_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_sendmail_async:
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.sendmail].
 */
void
smtpkit_client_sendmail_async (SmtpkitClient       *client,
                               const char          *from_addr,
                               const char *const   *to_addrs,
                               GBytes              *message,
                               const char *const   *mail_options,
                               const char *const   *rcpt_options,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (SMTPKIT_IS_CLIENT (client));
  g_return_if_fail (from_addr != NULL);
  g_return_if_fail (message != NULL);
  sendmail_start (client, smtpkit_client_sendmail_async, from_addr, to_addrs, message, NULL,
                  -1, mail_options, rcpt_options,
                  cancellable, callback, user_data);
}

/**
 * smtpkit_client_sendmail_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.sendmail_async].
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused recipients, each with the server's reply; empty when all were accepted
 */
GHashTable *
smtpkit_client_sendmail_finish (SmtpkitClient  *client,
                                GAsyncResult   *result,
                                GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_sendmail_async, error);
}

/**
 * smtpkit_client_sendmail_result: (rename-to smtpkit_client_sendmail)
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * [method@Client.sendmail], giving what became of each recipient as a
 * [class@SendResult] instead of a map: the same transaction, the same
 * errors. [method@SendResult.get_refused_addresses] and
 * [method@SendResult.get_refused_reply] give the map's content.
 *
 * This is the `sendmail()` of language bindings, which cannot take a map
 * of boxed replies; C callers may use either.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_sendmail_result (SmtpkitClient      *client,
                                const char         *from_addr,
                                const char *const  *to_addrs,
                                GBytes             *message,
                                const char *const  *mail_options,
                                const char *const  *rcpt_options,
                                GCancellable       *cancellable,
                                GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_sendmail_async (client, from_addr, to_addrs, message, mail_options, rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_sendmail_result_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_sendmail_result_finish: (rename-to smtpkit_client_sendmail_finish)
 * @client: a #SmtpkitClient
 * @result: the result given to the callback of [method@Client.sendmail_async]
 * @error: return location for a #GError
 *
 * Finishes [method@Client.sendmail_async] as
 * [method@Client.sendmail_result] does: with a [class@SendResult].
 * Bindings know it as `sendmail_finish`.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_sendmail_result_finish (SmtpkitClient  *client,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  return client_op_finish_send_result (client, result, smtpkit_client_sendmail_async, error);
}

/**
 * smtpkit_client_sendmail_stream:
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message, read to its end
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a message read from a stream, of any size.
 *
 * As [method@Client.sendmail], with the message read from @message in
 * chunks while it is sent, so that memory does not grow with its size.
 * `SIZE=` is not declared, the size being unknown in advance.
 *
 * This blocks; [method@Client.sendmail_stream_async] is the asynchronous form.
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused recipients, each with the server's reply; empty when all were accepted
 */
GHashTable *
smtpkit_client_sendmail_stream (SmtpkitClient      *client,
                                const char         *from_addr,
                                const char *const  *to_addrs,
                                GInputStream       *message,
                                const char *const  *mail_options,
                                const char *const  *rcpt_options,
                                GCancellable       *cancellable,
                                GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_sendmail_stream_async (client, from_addr, to_addrs, message, mail_options, rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_sendmail_stream_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_sendmail_stream_async:
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message, read to its end
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.sendmail_stream].
 */
void
smtpkit_client_sendmail_stream_async (SmtpkitClient       *client,
                                      const char          *from_addr,
                                      const char *const   *to_addrs,
                                      GInputStream        *message,
                                      const char *const   *mail_options,
                                      const char *const   *rcpt_options,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (SMTPKIT_IS_CLIENT (client));
  g_return_if_fail (from_addr != NULL);
  g_return_if_fail (G_IS_INPUT_STREAM (message));
  sendmail_start (client, smtpkit_client_sendmail_stream_async, from_addr, to_addrs, NULL, message, -1,
                  mail_options, rcpt_options, cancellable, callback, user_data);
}

/**
 * smtpkit_client_sendmail_stream_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.sendmail_stream_async].
 *
 * Returns: (transfer container) (element-type utf8 SmtpkitReply): the refused recipients, each with the server's reply; empty when all were accepted
 */
GHashTable *
smtpkit_client_sendmail_stream_finish (SmtpkitClient  *client,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_sendmail_stream_async, error);
}

/**
 * smtpkit_client_sendmail_stream_result: (rename-to smtpkit_client_sendmail_stream)
 * @client: a #SmtpkitClient
 * @from_addr: the envelope sender
 * @to_addrs: (array zero-terminated=1): the recipients
 * @message: the message, read to its end
 * @mail_options: (nullable) (array zero-terminated=1): MAIL parameters (ESMTP only)
 * @rcpt_options: (nullable) (array zero-terminated=1): RCPT parameters (ESMTP only)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * [method@Client.sendmail_stream], giving a [class@SendResult] instead
 * of a map, as [method@Client.sendmail_result] does. This is the
 * `sendmail_stream()` of language bindings.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_sendmail_stream_result (SmtpkitClient      *client,
                                       const char         *from_addr,
                                       const char *const  *to_addrs,
                                       GInputStream       *message,
                                       const char *const  *mail_options,
                                       const char *const  *rcpt_options,
                                       GCancellable       *cancellable,
                                       GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_sendmail_stream_async (client, from_addr, to_addrs, message, mail_options, rcpt_options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_sendmail_stream_result_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_sendmail_stream_result_finish: (rename-to smtpkit_client_sendmail_stream_finish)
 * @client: a #SmtpkitClient
 * @result: the result given to the callback of [method@Client.sendmail_stream_async]
 * @error: return location for a #GError
 *
 * Finishes [method@Client.sendmail_stream_async] with a
 * [class@SendResult]. Bindings know it as `sendmail_stream_finish`.
 *
 * Returns: (transfer full): what became of each recipient, or %NULL with
 *   @error set
 */
SmtpkitSendResult *
smtpkit_client_sendmail_stream_result_finish (SmtpkitClient  *client,
                                              GAsyncResult   *result,
                                              GError        **error)
{
  return client_op_finish_send_result (client, result, smtpkit_client_sendmail_stream_async, error);
}

