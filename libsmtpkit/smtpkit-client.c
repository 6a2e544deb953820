/* smtpkit-client.c: an SMTP session
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "smtpkit-client.h"
#include "smtpkit-client-private.h"
#include "smtpkit-enums.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-deadline-private.h"
#include "smtpkit-engine-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-sync-private.h"
#include "smtpkit-transport.h"

/**
 * SmtpkitClient:
 *
 * An SMTP or ESMTP session with one server: the counterpart of Python's
 * `smtplib.SMTP`, with a blocking and an asynchronous form of every
 * method that talks to the server.
 *
 * ```c
 * g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
 * g_autoptr (SmtpkitReply) greeting = NULL;
 * g_autoptr (GHashTable) refused = NULL;
 * const char *to[] = { "bob@example.org", NULL };
 *
 * greeting = smtpkit_client_connect (client, "mail.example.org", 0, NULL, &error);
 * refused = smtpkit_client_sendmail (client, "alice@example.org", to, message,
 *                                    NULL, NULL, NULL, &error);
 * smtpkit_client_quit (client, NULL, NULL);
 * ```
 *
 * The asynchronous methods run in the thread-default main context of the
 * thread that started them and call back there, never from inside the
 * `_async()` call; the blocking methods run the same operation on a
 * private main context of their thread and never iterate the caller's
 * context. libsmtpkit starts no thread. One operation runs at a time on a
 * client: starting another before the first completed fails with
 * %G_IO_ERROR_PENDING.
 *
 * A client is not thread-safe: use it from one thread at a time (it may
 * be handed to another thread between operations). Its signals
 * ([signal@Client::connecting], [signal@Client::sending],
 * [signal@Client::accept-certificate], `notify`) are emitted in the
 * thread and main context of the operation that causes them: the
 * caller's thread-default context for an asynchronous call, the private
 * one during a blocking call. Separate clients may run on separate
 * threads at the same time. The whole contract is in
 * [Using the client](client.html#threads-and-main-contexts).
 *
 * Low-level commands ([method@Client.noop], [method@Client.mail], …)
 * return the server's reply whatever its code, as smtplib's do. Errors
 * that leave the conversation in an unknown state (a lost connection, a
 * malformed reply, a timeout, a cancelled operation) close the
 * connection.
 *
 * Every wait for the server is bounded: by the `timeout` property when
 * set, else by the per-command times of RFC 5321 §4.5.3.2.
 */

static const guint phase_timeouts_ms[] = {
  [PHASE_CONNECT] = 5 * 60 * 1000,
  [PHASE_GREETING] = 5 * 60 * 1000,
  [PHASE_COMMAND] = 5 * 60 * 1000,
  [PHASE_MAIL] = 5 * 60 * 1000,
  [PHASE_RCPT] = 5 * 60 * 1000,
  [PHASE_DATA_INIT] = 2 * 60 * 1000,
  [PHASE_DATA_BLOCK] = 3 * 60 * 1000,
  [PHASE_DATA_END] = 10 * 60 * 1000,
};

G_DEFINE_TYPE_WITH_PRIVATE (SmtpkitClient, smtpkit_client, G_TYPE_OBJECT)

SmtpkitClientPrivate *
client_get_private (SmtpkitClient *client)
{
  return smtpkit_client_get_instance_private (client);
}

enum
{
  PROP_0,
  PROP_LOCAL_HOSTNAME,
  PROP_TIMEOUT,
  PROP_SOURCE_ADDRESS,
  PROP_DEBUG_LEVEL,
  PROP_CONVERT_NEWLINES,
  PROP_TRANSPORT,
  PROP_TLS_MODE,
  PROP_TLS_DATABASE,
  PROP_TLS_INTERACTION,
  PROP_TLS_CERTIFICATE,
  PROP_ALLOW_PLAINTEXT_AUTH,
  PROP_INITIAL_RESPONSE_OK,
  PROP_PIPELINING,
  PROP_CHUNKING,
  PROP_CONVERT_8BIT,
  PROP_AUTH_MECHANISM,
  PROP_TLS_CA_FILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CONNECTING,
  SIGNAL_SENDING,
  SIGNAL_ACCEPT_CERTIFICATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

guint
client_phase_timeout (SmtpkitClient *client,
                      Phase          phase)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  if (priv->timeout > 0)
    return (guint) MAX (1, MIN (priv->timeout * 1000.0, (double) G_MAXUINT));
  return phase_timeouts_ms[phase];
}

/* ---- the local host's name (socket.getfqdn()) ------------------------- */

static gpointer
compute_fqdn (gpointer data)
{
  const char *name = g_get_host_name ();
  struct addrinfo hints = { 0 }, *info = NULL;
  char *fqdn = NULL;

  hints.ai_flags = AI_CANONNAME;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo (name, NULL, &hints, &info) == 0)
    {
      if (info->ai_canonname && strchr (info->ai_canonname, '.'))
        fqdn = g_strdup (info->ai_canonname);
      else if (strchr (name, '.'))
        fqdn = g_strdup (name);
      else
        {
          /* As smtplib: no domain name, so an address literal. */
          for (struct addrinfo *ai = info; ai && !fqdn; ai = ai->ai_next)
            if (ai->ai_family == AF_INET)
              {
                char buf[INET_ADDRSTRLEN];
                struct sockaddr_in *sin = (struct sockaddr_in *) ai->ai_addr;
                if (inet_ntop (AF_INET, &sin->sin_addr, buf, sizeof buf))
                  fqdn = g_strdup_printf ("[%s]", buf);
              }
        }
      freeaddrinfo (info);
    }
  if (fqdn == NULL)
    fqdn = strchr (name, '.') ? g_strdup (name) : g_strdup ("[127.0.0.1]");

  return fqdn;
}

static const char *
default_local_hostname (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, compute_fqdn, NULL);
}

/* ---- transcript and audit --------------------------------------------- */

static void
log_transcript (SmtpkitClient *client,
                const char    *direction,
                const char    *text,
                gsize          length)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  g_autofree char *line = g_strndup (text, length);
  g_autofree char *stamp = NULL;

  g_strchomp (line);
  if (priv->debug_level >= 2)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      stamp = g_date_time_format (now, "%H:%M:%S.%f ");
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                    "SMTPKIT_DIRECTION", direction,
                    "MESSAGE", "%s%s %s", stamp ? stamp : "", direction, line);
}

/* The engine calls client_trace() only for a debug level or a
 * #SmtpkitClient::sending handler, looked at as each operation starts. */
void
client_update_tracing (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  if (priv->engine)
    smtpkit_engine_set_tracing (priv->engine,
                                priv->debug_level > 0 ||
                                  g_signal_has_handler_pending (client, signals[SIGNAL_SENDING],
                                                                0, TRUE));
}

void
client_trace (gpointer          user_data,
              SmtpkitTraceKind  kind,
              const guint8     *shown,
              gsize             size,
              SmtpkitReply     *reply)
{
  SmtpkitClient *client = user_data;
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  /* The bytes are copied only for a handler that is there to see them. */
  if (kind != SMTPKIT_TRACE_REPLY &&
      g_signal_has_handler_pending (client, signals[SIGNAL_SENDING], 0, TRUE))
    {
      g_autoptr (GBytes) bytes = g_bytes_new (shown, size);
      g_signal_emit (client, signals[SIGNAL_SENDING], 0, bytes);
    }

  switch (kind)
    {
    case SMTPKIT_TRACE_COMMAND:
      if (priv->debug_level > 0)
        log_transcript (client, "C:", (const char *) shown, size);
      break;

    case SMTPKIT_TRACE_DATA:
      if (priv->debug_level > 0)
        {
          g_autofree char *note = g_strdup_printf ("(%" G_GSIZE_FORMAT " octets of message data)",
                                                   size);
          log_transcript (client, "C:", note, strlen (note));
        }
      break;

    case SMTPKIT_TRACE_REPLY:
      if (priv->debug_level > 0)
        {
          const char *const *lines = smtpkit_reply_get_lines (reply);
          guint n = g_strv_length ((char **) lines);
          for (guint i = 0; i < MAX (n, 1); i++)
            {
              g_autofree char *text = g_strdup_printf ("%u%s%s", smtpkit_reply_get_code (reply),
                                                       i + 1 < n ? "-" : " ",
                                                       n ? lines[i] : "");
              log_transcript (client, "S:", text, strlen (text));
            }
        }
      break;
    }
}

/* ---- session state ----------------------------------------------------- */

void
client_set_auth_mechanism (SmtpkitClient *client,
                           const char    *name)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  if (g_strcmp0 (priv->auth_mechanism, name) == 0)
    return;
  g_free (priv->auth_mechanism);
  priv->auth_mechanism = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_AUTH_MECHANISM]);
}

/* After @features changed: the flags and the size limit made from it. */
static void
features_changed (SmtpkitClientPrivate *priv)
{
  static const struct
  {
    const char *keyword;
    ClientExtension flag;
  } looked_at[] = {
    { "pipelining", CLIENT_EXT_PIPELINING },
    { "chunking", CLIENT_EXT_CHUNKING },
    { "size", CLIENT_EXT_SIZE },
    { "binarymime", CLIENT_EXT_BINARYMIME },
    { "smtputf8", CLIENT_EXT_SMTPUTF8 },
    { "8bitmime", CLIENT_EXT_8BITMIME },
    { "dsn", CLIENT_EXT_DSN },
    { "starttls", CLIENT_EXT_STARTTLS },
    { "auth", CLIENT_EXT_AUTH },
  };
  const char *size = g_hash_table_lookup (priv->features, "size");

  priv->offered = 0;
  for (guint i = 0; i < G_N_ELEMENTS (looked_at); i++)
    if (g_hash_table_contains (priv->features, looked_at[i].keyword))
      priv->offered |= looked_at[i].flag;
  priv->size_limit = size ? g_ascii_strtoull (size, NULL, 10) : 0;
}

void
client_forget_session (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  client_set_auth_mechanism (client, NULL);
  priv->does_esmtp = FALSE;
  g_clear_pointer (&priv->ehlo_reply, smtpkit_reply_unref);
  g_clear_pointer (&priv->helo_reply, smtpkit_reply_unref);
  g_hash_table_remove_all (priv->features);
  features_changed (priv);
}

void
client_drop_connection (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  if (priv->engine)
    {
      smtpkit_engine_close (priv->engine);
      g_clear_pointer (&priv->engine, smtpkit_engine_unref);
    }
}

gboolean
client_is_connected (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  return priv->engine != NULL && smtpkit_engine_is_open (priv->engine);
}

/* Why there is no connection to talk over: the server closed it with a
 * 421, which the error then carries, or it was lost, or never made. */
GError *
client_closed_error (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  SmtpkitReply *reply = priv->engine ? smtpkit_engine_get_closing_reply (priv->engine) : NULL;

  if (reply)
    return smtpkit_error_new_reply (SMTPKIT_ERROR_SERVER_DISCONNECTED, reply,
                                    "the server at %s closed the connection: %u %s", priv->host,
                                    smtpkit_reply_get_code (reply), smtpkit_reply_get_text (reply));
  if (priv->engine)
    return g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                        "the connection to %s was closed", priv->host);
  return g_error_new_literal (SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                              "not connected to a server: call connect() first");
}

/* ---- operations ---------------------------------------------------------
 *
 * Each public method is one GTask whose steps run in turn; a step that
 * talks to the server hands the engine a batch of commands and names the
 * step that takes the reply. Sub-procedures (EHLO-or-HELO if needed, the
 * DATA phase, abandoning a transaction) are steps shared by the methods
 * that need them, so no command is written twice.
 */

void
client_op_free (ClientOp *op)
{
  g_free (op->host);
  g_clear_pointer (&op->deadline, smtpkit_deadline_free);
  g_free (op->from);
  g_strfreev (op->to);
  g_strfreev (op->mail_options);
  g_strfreev (op->rcpt_options);
  g_clear_pointer (&op->message, g_bytes_unref);
  g_clear_pointer (&op->chunk, g_bytes_unref);
  g_clear_object (&op->body);
  g_clear_pointer (&op->refused, g_hash_table_unref);
  for (guint i = 0; op->rcpt_replies && i < op->n_to; i++)
    g_clear_pointer (&op->rcpt_replies[i], smtpkit_reply_unref);
  for (guint k = 0; k < op->n_final; k++)
    smtpkit_reply_unref (op->final_replies[k]);
  g_free (op->rcpt_replies);
  g_clear_pointer (&op->per_rcpt_options, g_ptr_array_unref);
  g_clear_object (&op->source_message);
  g_clear_pointer (&op->greeting, smtpkit_reply_unref);
  g_clear_pointer (&op->starttls_reply, smtpkit_reply_unref);
  g_clear_object (&op->stream);
  g_clear_object (&op->tls);
  g_clear_object (&op->mechanism);
  g_free (op->user);
  if (op->password)
    memset (op->password, 0, strlen (op->password));
  g_free (op->password);
  g_strfreev (op->candidates);
  g_clear_error (&op->last_error);
  g_free (op);
}

/* A task of @client with its ClientOp. */
GTask *
client_op_task_new (SmtpkitClient       *client,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  ClientOp *op = g_new0 (ClientOp, 1);

  op->client = client;
  op->priv = smtpkit_client_get_instance_private (client);
  g_task_set_task_data (task, op, (GDestroyNotify) client_op_free);
  return task;
}

/* Starts a public operation; NULL (error reported) when it cannot run. */
GTask *
client_op_begin (SmtpkitClient       *client,
                 gpointer             source_tag,
                 gboolean             needs_connection,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  GTask *task = client_op_task_new (client, cancellable, callback, user_data);

  /* The function, not GLib's macro: the macro would also name the task
   * "source_tag" (the variable's name), a copy made for nothing. */
  (g_task_set_source_tag) (task, source_tag);

  if (priv->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "another operation is in progress on this client");
      g_object_unref (task);
      return NULL;
    }
  g_clear_error (&priv->last_error);
  if (needs_connection && !client_is_connected (client))
    {
      GError *error = client_closed_error (client);

      priv->last_error = g_error_copy (error);
      g_task_return_error (task, error);
      g_object_unref (task);
      return NULL;
    }
  priv->busy = TRUE;
  client_update_tracing (client);
  return task;
}

void
client_op_return_error (GTask  *task,
                        GError *error)
{
  SmtpkitClientPrivate *priv = PRIV (task);

  if (!OP (task)->sub_operation)
    priv->busy = FALSE;
  if (priv->engine && !smtpkit_engine_is_open (priv->engine))
    client_forget_session (CLIENT (task));
  if (!OP (task)->sub_operation)
    {
      /* g_error_copy() keeps the reply, sender and map */
      g_clear_error (&priv->last_error);
      priv->last_error = g_error_copy (error);
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

void
client_op_return_pointer (GTask          *task,
                          gpointer        result,
                          GDestroyNotify  destroy)
{
  if (!OP (task)->sub_operation)
    PRIV (task)->busy = FALSE;
  g_task_return_pointer (task, result, destroy);
  g_object_unref (task);
}

void
client_op_return_reply (GTask        *task,
                        SmtpkitReply *reply)
{
  client_op_return_pointer (task, smtpkit_reply_ref (reply), (GDestroyNotify) smtpkit_reply_unref);
}

void
client_op_return_true (GTask *task)
{
  PRIV (task)->busy = FALSE;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

gpointer
client_op_finish (SmtpkitClient  *client,
                  GAsyncResult   *result,
                  gpointer        source_tag,
                  GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_command_replies (SmtpkitEngineResult *result,
                    gpointer             user_data)
{
  GTask *task = user_data;
  ClientOp *op = OP (task);
  LostStep on_lost = g_steal_pointer (&op->on_lost);
  GError *error = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GPtrArray) partial = NULL;

  replies = smtpkit_engine_result_take (result, NULL, &partial, &error);
  if (replies == NULL)
    {
      if (on_lost)
        on_lost (task, partial, error);
      else
        client_op_return_error (task, error);
      return;
    }
  if (op->on_replies)
    op->on_replies (task, replies);
  else
    op->on_reply (task, g_ptr_array_index (replies, 0));
}

/* Writes @batch (taken) in one go and passes its replies, in order, to
 * @on_replies. */
void
client_op_exchange (GTask               *task,
                    SmtpkitCommandBatch *batch,
                    Phase                phase,
                    RepliesStep          on_replies)
{
  SmtpkitClient *client = CLIENT (task);
  SmtpkitClientPrivate *priv = PRIV (task);

  if (!client_is_connected (client))
    {
      smtpkit_command_batch_free (batch);
      client_op_return_error (task, client_closed_error (client));
      return;
    }
  OP (task)->on_replies = on_replies;
  smtpkit_engine_exchange (priv->engine, batch, client_phase_timeout (client, phase),
                           g_task_get_cancellable (task), on_command_replies, task);
}

/* Sends @line (taken; NULL after a formatting error in @error) and passes
 * the reply to @on_reply. Traces show the line whole, or only its first
 * @shown bytes (authentication data). */
void
client_op_command (GTask     *task,
                   GString   *line,
                   GError    *error,
                   gssize     shown,
                   Phase      phase,
                   ReplyStep  on_reply)
{
  SmtpkitCommandBatch *batch;

  if (line == NULL)
    {
      client_op_return_error (task, error);
      return;
    }
  batch = smtpkit_command_batch_new ();
  smtpkit_command_batch_add (batch, line, shown);
  g_string_free (line, TRUE);
  OP (task)->on_reply = on_reply;
  client_op_exchange (task, batch, phase, NULL);
}

void
client_op_send (GTask             *task,
                Phase              phase,
                ReplyStep          on_reply,
                const char        *verb,
                const char        *arg,
                const char *const *options)
{
  SmtpkitCommandBatch *batch = smtpkit_command_batch_new ();
  GError *error = NULL;

  if (!smtpkit_command_batch_add_command (batch, verb, arg, options, &error))
    {
      smtpkit_command_batch_free (batch);
      client_op_return_error (task, error);
      return;
    }
  OP (task)->on_reply = on_reply;
  client_op_exchange (task, batch, phase, NULL);
}

typedef struct
{
  GTask *task;
  GError *error;
  gboolean drop;
} FailAfter;

static void
on_fail_after_reply (SmtpkitEngineResult *result,
                     gpointer             user_data)
{
  FailAfter *data = user_data;
  SmtpkitClient *client = CLIENT (data->task);
  g_autoptr (GPtrArray) replies = NULL;

  /* The outcome of the command does not matter. */
  replies = smtpkit_engine_result_take (result, NULL, NULL, NULL);
  if (data->drop)
    client_drop_connection (client);
  client_op_return_error (data->task, data->error);
  g_free (data);
}

/* Ends the operation with @error (taken) after one more command whose
 * outcome does not matter: RSET to abandon a transaction (smtplib's
 * _rset()), or QUIT when the client refuses to go on (RFC 3207 §4.1),
 * after which the connection is dropped. Nothing is sent when the
 * connection is already closed (a 421, a loss). */
void
client_step_fail_after (GTask      *task,
                        const char *verb,
                        GError     *error)
{
  SmtpkitClient *client = CLIENT (task);
  SmtpkitClientPrivate *priv = PRIV (task);
  SmtpkitCommandBatch *batch;
  FailAfter *data;

  if (!client_is_connected (client))
    {
      client_drop_connection (client);
      client_op_return_error (task, error);
      return;
    }
  batch = smtpkit_command_batch_new ();
  smtpkit_command_batch_add_command (batch, verb, NULL, NULL, NULL);
  data = g_new0 (FailAfter, 1);
  data->task = task;
  data->error = error;
  data->drop = g_str_equal (verb, "QUIT");
  smtpkit_engine_exchange (priv->engine, batch, client_phase_timeout (client, PHASE_COMMAND),
                           g_task_get_cancellable (task), on_fail_after_reply, data);
}

void
client_step_return_reply (GTask        *task,
                          SmtpkitReply *reply)
{
  client_op_return_reply (task, reply);
}

/* ---- HELO, EHLO -------------------------------------------------------- */

const char *
client_hello_name (SmtpkitClient *client,
                   const char    *name)
{
  return name ? name : smtpkit_client_get_local_hostname (client);
}

gboolean
client_check_hello_name (const char  *name,
                         GError     **error)
{
  return smtpkit_codec_check_argument ("local host name", name, -1, error);
}

void
client_record_ehlo (SmtpkitClient *client,
                    SmtpkitReply  *reply)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_clear_pointer (&priv->ehlo_reply, smtpkit_reply_unref);
  priv->ehlo_reply = smtpkit_reply_ref (reply);
  if (smtpkit_reply_get_code (reply) != 250)
    return;
  priv->does_esmtp = TRUE;
  g_hash_table_unref (priv->features);
  priv->features = smtpkit_codec_parse_ehlo (reply);
  features_changed (priv);
}

static void
record_helo (SmtpkitClient *client,
             SmtpkitReply  *reply)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_clear_pointer (&priv->helo_reply, smtpkit_reply_unref);
  priv->helo_reply = smtpkit_reply_ref (reply);
}

void
client_send_hello (GTask      *task,
                   const char *verb,
                   const char *name,
                   ReplyStep   on_reply)
{
  GError *error = NULL;

  name = client_hello_name (CLIENT (task), name);
  if (!client_check_hello_name (name, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  if (g_str_equal (verb, "EHLO"))
    {
      verb = SMTPKIT_CLIENT_GET_CLASS (CLIENT (task))->hello_verb;
      g_hash_table_remove_all (PRIV (task)->features);
      features_changed (PRIV (task));
    }
  client_op_send (task, PHASE_COMMAND, on_reply, verb, name, NULL);
}

static void
ehlo_done (GTask        *task,
           SmtpkitReply *reply)
{
  client_record_ehlo (CLIENT (task), reply);
  client_op_return_reply (task, reply);
}

static void
helo_done (GTask        *task,
           SmtpkitReply *reply)
{
  record_helo (CLIENT (task), reply);
  client_op_return_reply (task, reply);
}

gboolean
client_is_2xx (SmtpkitReply *reply)
{
  guint code = smtpkit_reply_get_code (reply);
  return code >= 200 && code <= 299;
}

/* The greeting was refused: SMTPKIT_ERROR_HELO with @reply. An operation
 * that will not go on without TLS says QUIT first (RFC 3207 §4.1). */
static void
hello_failed (GTask        *task,
              const char   *verb,
              SmtpkitReply *reply)
{
  GError *error = smtpkit_error_new_reply (SMTPKIT_ERROR_HELO, reply,
                                           "the server at %s refused %s: %u %s",
                                           PRIV (task)->host, verb,
                                           smtpkit_reply_get_code (reply),
                                           smtpkit_reply_get_text (reply));

  if (OP (task)->tls_required)
    client_step_fail_after (task, "QUIT", error);
  else
    client_op_return_error (task, error);
}

static void
hello_fallback_done (GTask        *task,
                     SmtpkitReply *reply)
{
  record_helo (CLIENT (task), reply);
  if (!client_is_2xx (reply))
    {
      hello_failed (task, "HELO", reply);
      return;
    }
  OP (task)->after_hello (task);
}

static void
hello_ehlo_done (GTask        *task,
                 SmtpkitReply *reply)
{
  const char *verb = SMTPKIT_CLIENT_GET_CLASS (CLIENT (task))->hello_verb;

  client_record_ehlo (CLIENT (task), reply);
  if (client_is_2xx (reply))
    {
      OP (task)->after_hello (task);
      return;
    }
  /* LMTP has no HELO to fall back to; after a 421 there is nobody to
   * send it to. */
  if (!g_str_equal (verb, "EHLO") || smtpkit_reply_get_code (reply) == 421)
    {
      hello_failed (task, verb, reply);
      return;
    }
  client_send_hello (task, "HELO", NULL, hello_fallback_done);
}

/* smtplib's ehlo_or_helo_if_needed(): EHLO, or HELO when EHLO is refused,
 * unless one of them was already answered on this connection. */
void
client_step_hello_if_needed (GTask *task,
                             Step   then)
{
  SmtpkitClientPrivate *priv = PRIV (task);

  if (priv->ehlo_reply || priv->helo_reply)
    {
      then (task);
      return;
    }
  OP (task)->after_hello = then;
  client_send_hello (task, "EHLO", NULL, hello_ehlo_done);
}

GError *
client_reply_error (GTask        *task,
                    SmtpkitError  code,
                    SmtpkitReply *reply,
                    const char   *what)
{
  return smtpkit_error_new_reply (code, reply, "%s: %u %s", what,
                                  smtpkit_reply_get_code (reply),
                                  smtpkit_reply_get_text (reply));
}

void
client_emit_connecting (SmtpkitClient *client,
                        const char    *host,
                        guint16        port)
{
  g_signal_emit (client, signals[SIGNAL_CONNECTING], 0, host, (guint) port);
}

static void
quit_done (GTask        *task,
           SmtpkitReply *reply)
{
  client_forget_session (CLIENT (task));
  client_drop_connection (CLIENT (task));
  client_op_return_reply (task, reply);
}

/* ---- single commands ---------------------------------------------------- */

/* LMTP's data() reads one reply per recipient rcpt() got accepted. */
static void
rcpt_done (GTask        *task,
           SmtpkitReply *reply)
{
  guint code = smtpkit_reply_get_code (reply);

  if (code == 250 || code == 251)
    PRIV (task)->rcpt_accepted++;
  client_op_return_reply (task, reply);
}

/* One command, its reply returned. @address, when not NULL, is the
 * caller's address that @arg was made from: it is checked whole, because
 * making the argument keeps only what is inside its <...>, and a CR or LF
 * outside them must not silently change the command into another. */
static void
simple_async (SmtpkitClient       *client,
              gpointer             source_tag,
              const char          *verb,
              const char          *arg,
              const char *const   *options,
              const char          *address,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task;
  Phase phase = PHASE_COMMAND;
  ReplyStep done = client_step_return_reply;
  GError *error = NULL;

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  task = client_op_begin (client, source_tag, TRUE, cancellable, callback, user_data);
  if (task == NULL)
    return;
  if (address && !smtpkit_codec_check_argument ("address", address, -1, &error))
    {
      client_op_return_error (task, error);
      return;
    }
  if (g_str_equal (verb, "RCPT"))
    {
      phase = PHASE_RCPT;
      done = rcpt_done;
    }
  else if (g_str_equal (verb, "MAIL") || g_str_equal (verb, "RSET"))
    client_get_private (client)->rcpt_accepted = 0;
  if (g_str_equal (verb, "MAIL"))
    {
      if (!client_check_smtputf8 (client, options, &error))
        {
          client_op_return_error (task, error);
          return;
        }
      phase = PHASE_MAIL;
    }
  client_op_send (task, phase, done, verb, arg, options);
}

/* smtplib's _addr_only(): the address without display name or brackets. */
static char *
bare_address (const char *address)
{
  g_autofree char *quoted = smtpkit_codec_quote_address (address);
  gsize len = strlen (quoted);

  if (len >= 2 && quoted[0] == '<' && quoted[len - 1] == '>')
    return g_strndup (quoted + 1, len - 2);
  return g_steal_pointer (&quoted);
}

/* Parameters go with MAIL and RCPT only in an ESMTP session (smtplib). */
static const char *const *
esmtp_options (SmtpkitClient     *client,
               const char *const *options)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  return priv->does_esmtp ? options : NULL;
}

/* ---- public operations --------------------------------------------------- */

/**
 * smtpkit_client_helo:
 * @client: a #SmtpkitClient
 * @name: (nullable): the name to greet with, or %NULL for [property@Client:local-hostname]
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends HELO (RFC 5321 §4.1.1.1) and records the reply.
 *
 * The reply is returned whatever its code, and kept as
 * [method@Client.get_helo_reply].
 *
 * This blocks; [method@Client.helo_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_helo (SmtpkitClient  *client,
                     const char     *name,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_helo_async (client, name, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_helo_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_helo_async:
 * @client: a #SmtpkitClient
 * @name: (nullable): the name to greet with, or %NULL for [property@Client:local-hostname]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.helo].
 */
void
smtpkit_client_helo_async (SmtpkitClient       *client,
                           const char          *name,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_helo_async, TRUE, cancellable, callback, user_data);

  if (task)
    client_send_hello (task, "HELO", name, helo_done);
}

/**
 * smtpkit_client_helo_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.helo_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_helo_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_helo_async, error);
}

/**
 * smtpkit_client_ehlo:
 * @client: a #SmtpkitClient
 * @name: (nullable): the name to greet with, or %NULL for [property@Client:local-hostname]
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends EHLO (LHLO for LMTP) and records the service extensions.
 *
 * The extensions learnt before are forgotten. When the reply is 250 the
 * session is ESMTP ([method@Client.get_does_esmtp]) and the extensions it
 * lists are known to [method@Client.has_extn]. The reply is returned
 * whatever its code, and kept as [method@Client.get_ehlo_reply].
 *
 * This blocks; [method@Client.ehlo_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_ehlo (SmtpkitClient  *client,
                     const char     *name,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_ehlo_async (client, name, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_ehlo_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_ehlo_async:
 * @client: a #SmtpkitClient
 * @name: (nullable): the name to greet with, or %NULL for [property@Client:local-hostname]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.ehlo].
 */
void
smtpkit_client_ehlo_async (SmtpkitClient       *client,
                           const char          *name,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_ehlo_async, TRUE, cancellable, callback, user_data);

  if (task)
    client_send_hello (task, "EHLO", name, ehlo_done);
}

/**
 * smtpkit_client_ehlo_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.ehlo_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_ehlo_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_ehlo_async, error);
}

/**
 * smtpkit_client_ehlo_or_helo_if_needed:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Greets the server unless that was done on this connection.
 *
 * Sends EHLO and, when it is refused, HELO; fails with
 * %SMTPKIT_ERROR_HELO when HELO is refused too.
 *
 * This blocks; [method@Client.ehlo_or_helo_if_needed_async] is the asynchronous form.
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
smtpkit_client_ehlo_or_helo_if_needed (SmtpkitClient  *client,
                                       GCancellable   *cancellable,
                                       GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_ehlo_or_helo_if_needed_async (client, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_ehlo_or_helo_if_needed_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_ehlo_or_helo_if_needed_async:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.ehlo_or_helo_if_needed].
 */
void
smtpkit_client_ehlo_or_helo_if_needed_async (SmtpkitClient       *client,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_ehlo_or_helo_if_needed_async, TRUE, cancellable, callback, user_data);

  if (task)
    client_step_hello_if_needed (task, client_op_return_true);
}

/**
 * smtpkit_client_ehlo_or_helo_if_needed_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.ehlo_or_helo_if_needed_async].
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
smtpkit_client_ehlo_or_helo_if_needed_finish (SmtpkitClient  *client,
                                              GAsyncResult   *result,
                                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == smtpkit_client_ehlo_or_helo_if_needed_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * smtpkit_client_docmd:
 * @client: a #SmtpkitClient
 * @command: the command verb
 * @args: (nullable): its arguments
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends any command and reads its reply.
 *
 * Neither @command nor @args may hold CR, LF or NUL: such input fails
 * with %SMTPKIT_ERROR_INVALID_ARGUMENT before anything is sent.
 *
 * This blocks; [method@Client.docmd_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_docmd (SmtpkitClient  *client,
                      const char     *command,
                      const char     *args,
                      GCancellable   *cancellable,
                      GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_docmd_async (client, command, args, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_docmd_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_docmd_async:
 * @client: a #SmtpkitClient
 * @command: the command verb
 * @args: (nullable): its arguments
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.docmd].
 */
void
smtpkit_client_docmd_async (SmtpkitClient       *client,
                            const char          *command,
                            const char          *args,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (command != NULL);
  simple_async (client, smtpkit_client_docmd_async, command, args && *args ? args : NULL, NULL, NULL,
                cancellable, callback, user_data);
}

/**
 * smtpkit_client_docmd_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.docmd_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_docmd_finish (SmtpkitClient  *client,
                             GAsyncResult   *result,
                             GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_docmd_async, error);
}

/**
 * smtpkit_client_noop:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends NOOP.
 *
 * This blocks; [method@Client.noop_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_noop (SmtpkitClient  *client,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_noop_async (client, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_noop_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_noop_async:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.noop].
 */
void
smtpkit_client_noop_async (SmtpkitClient       *client,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  simple_async (client, smtpkit_client_noop_async, "NOOP", NULL, NULL, NULL, cancellable, callback, user_data);
}

/**
 * smtpkit_client_noop_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.noop_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_noop_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_noop_async, error);
}

/**
 * smtpkit_client_rset:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends RSET, abandoning the mail transaction under way.
 *
 * This blocks; [method@Client.rset_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_rset (SmtpkitClient  *client,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_rset_async (client, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_rset_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_rset_async:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.rset].
 */
void
smtpkit_client_rset_async (SmtpkitClient       *client,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  simple_async (client, smtpkit_client_rset_async, "RSET", NULL, NULL, NULL, cancellable, callback, user_data);
}

/**
 * smtpkit_client_rset_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.rset_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_rset_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_rset_async, error);
}

/**
 * smtpkit_client_help:
 * @client: a #SmtpkitClient
 * @args: (nullable): the topic
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends HELP.
 *
 * This blocks; [method@Client.help_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_help (SmtpkitClient  *client,
                     const char     *args,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_help_async (client, args, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_help_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_help_async:
 * @client: a #SmtpkitClient
 * @args: (nullable): the topic
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.help].
 */
void
smtpkit_client_help_async (SmtpkitClient       *client,
                           const char          *args,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  simple_async (client, smtpkit_client_help_async, "HELP", args && *args ? args : NULL, NULL, NULL,
                cancellable, callback, user_data);
}

/**
 * smtpkit_client_help_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.help_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_help_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_help_async, error);
}

/**
 * smtpkit_client_verify:
 * @client: a #SmtpkitClient
 * @address: the address to verify; a display name and angle brackets are dropped
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends VRFY.
 *
 * An address holding a CR or LF anywhere, also outside its `<...>`,
 * fails with %SMTPKIT_ERROR_INVALID_ARGUMENT before anything is sent.
 *
 * This blocks; [method@Client.verify_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_verify (SmtpkitClient  *client,
                       const char     *address,
                       GCancellable   *cancellable,
                       GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_verify_async (client, address, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_verify_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_verify_async:
 * @client: a #SmtpkitClient
 * @address: the address to verify; a display name and angle brackets are dropped
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.verify].
 */
void
smtpkit_client_verify_async (SmtpkitClient       *client,
                             const char          *address,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autofree char *bare = NULL;

  g_return_if_fail (address != NULL);
  bare = bare_address (address);
  simple_async (client, smtpkit_client_verify_async, "VRFY", bare, NULL, address, cancellable, callback, user_data);
}

/**
 * smtpkit_client_verify_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.verify_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_verify_finish (SmtpkitClient  *client,
                              GAsyncResult   *result,
                              GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_verify_async, error);
}

/**
 * smtpkit_client_expn:
 * @client: a #SmtpkitClient
 * @address: the mailing list to expand; a display name and angle brackets are dropped
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends EXPN.
 *
 * An address holding a CR or LF anywhere, also outside its `<...>`,
 * fails with %SMTPKIT_ERROR_INVALID_ARGUMENT before anything is sent.
 *
 * This blocks; [method@Client.expn_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_expn (SmtpkitClient  *client,
                     const char     *address,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_expn_async (client, address, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_expn_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_expn_async:
 * @client: a #SmtpkitClient
 * @address: the mailing list to expand; a display name and angle brackets are dropped
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.expn].
 */
void
smtpkit_client_expn_async (SmtpkitClient       *client,
                           const char          *address,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autofree char *bare = NULL;

  g_return_if_fail (address != NULL);
  bare = bare_address (address);
  simple_async (client, smtpkit_client_expn_async, "EXPN", bare, NULL, address, cancellable, callback, user_data);
}

/**
 * smtpkit_client_expn_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.expn_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_expn_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_expn_async, error);
}

/**
 * smtpkit_client_mail:
 * @client: a #SmtpkitClient
 * @sender: the reverse path; "" for the null sender `<>`
 * @options: (nullable) (array zero-terminated=1): MAIL parameters, sent only in an ESMTP session
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends MAIL FROM, starting a mail transaction.
 *
 * An address holding a CR or LF anywhere, also outside its `<...>`,
 * fails with %SMTPKIT_ERROR_INVALID_ARGUMENT before anything is sent.
 *
 * This blocks; [method@Client.mail_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_mail (SmtpkitClient      *client,
                     const char         *sender,
                     const char *const  *options,
                     GCancellable       *cancellable,
                     GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_mail_async (client, sender, options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_mail_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_mail_async:
 * @client: a #SmtpkitClient
 * @sender: the reverse path; "" for the null sender `<>`
 * @options: (nullable) (array zero-terminated=1): MAIL parameters, sent only in an ESMTP session
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.mail].
 */
void
smtpkit_client_mail_async (SmtpkitClient       *client,
                           const char          *sender,
                           const char *const   *options,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autofree char *arg = NULL;

  g_return_if_fail (sender != NULL);
  arg = smtpkit_codec_path_argument ("FROM:", sender);
  simple_async (client, smtpkit_client_mail_async, "MAIL", arg, esmtp_options (client, options),
                sender, cancellable, callback, user_data);
}

/**
 * smtpkit_client_mail_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.mail_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_mail_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_mail_async, error);
}

/**
 * smtpkit_client_rcpt:
 * @client: a #SmtpkitClient
 * @recipient: the forward path
 * @options: (nullable) (array zero-terminated=1): RCPT parameters, sent only in an ESMTP session
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends RCPT TO, adding a recipient to the mail transaction.
 *
 * An address holding a CR or LF anywhere, also outside its `<...>`,
 * fails with %SMTPKIT_ERROR_INVALID_ARGUMENT before anything is sent.
 *
 * This blocks; [method@Client.rcpt_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_rcpt (SmtpkitClient      *client,
                     const char         *recipient,
                     const char *const  *options,
                     GCancellable       *cancellable,
                     GError            **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_rcpt_async (client, recipient, options, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_rcpt_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_rcpt_async:
 * @client: a #SmtpkitClient
 * @recipient: the forward path
 * @options: (nullable) (array zero-terminated=1): RCPT parameters, sent only in an ESMTP session
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.rcpt].
 */
void
smtpkit_client_rcpt_async (SmtpkitClient       *client,
                           const char          *recipient,
                           const char *const   *options,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autofree char *arg = NULL;

  g_return_if_fail (recipient != NULL);
  arg = smtpkit_codec_path_argument ("TO:", recipient);
  simple_async (client, smtpkit_client_rcpt_async, "RCPT", arg, esmtp_options (client, options),
                recipient, cancellable, callback, user_data);
}

/**
 * smtpkit_client_rcpt_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.rcpt_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_rcpt_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_rcpt_async, error);
}

/**
 * smtpkit_client_quit:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends QUIT and closes the connection.
 *
 * Everything learnt on the connection is forgotten: the next session
 * greets again after [method@Client.connect].
 *
 * This blocks; [method@Client.quit_async] is the asynchronous form.
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_quit (SmtpkitClient  *client,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr (SmtpkitSync) sync = smtpkit_sync_begin ();

  smtpkit_client_quit_async (client, cancellable, smtpkit_sync_callback, sync);
  return smtpkit_client_quit_finish (client, smtpkit_sync_wait (sync), error);
}

/**
 * smtpkit_client_quit_async:
 * @client: a #SmtpkitClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the operation completed, in the
 *   thread-default main context of the caller
 * @user_data: data for @callback
 *
 * The asynchronous form of [method@Client.quit].
 */
void
smtpkit_client_quit_async (SmtpkitClient       *client,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = client_op_begin (client, smtpkit_client_quit_async, TRUE, cancellable, callback, user_data);

  if (task)
    client_op_send (task, PHASE_COMMAND, quit_done, "QUIT", NULL, NULL);
}

/**
 * smtpkit_client_quit_finish:
 * @client: a #SmtpkitClient
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.quit_async].
 *
 * Returns: (transfer full): the server's reply, or %NULL with @error set
 */
SmtpkitReply *
smtpkit_client_quit_finish (SmtpkitClient  *client,
                            GAsyncResult   *result,
                            GError        **error)
{
  return client_op_finish (client, result, smtpkit_client_quit_async, error);
}

/* ---- session state, properties ----------------------------------------- */

gboolean
client_accept_certificate (SmtpkitClient        *client,
                           GTlsCertificate      *peer,
                           GTlsCertificateFlags  errors)
{
  gboolean accept = FALSE;

  client_get_private (client)->certificate_errors = errors;
  g_signal_emit (client, signals[SIGNAL_ACCEPT_CERTIFICATE], 0, peer, errors, &accept);
  return accept;
}

/**
 * smtpkit_client_get_tls_ca_file:
 * @client: a #SmtpkitClient
 *
 * Gets the [property@Client:tls-ca-file]: the file of certificate
 * authorities trusted instead of the system's store.
 *
 * Returns: (nullable) (type filename): the [property@Client:tls-ca-file]
 */
const char *
smtpkit_client_get_tls_ca_file (SmtpkitClient *client)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return client_get_private (client)->tls_ca_file;
}

/**
 * smtpkit_client_set_tls_ca_file:
 * @client: a #SmtpkitClient
 * @path: (nullable) (type filename): a file of PEM certificates, or %NULL
 *   for the system's trust store
 *
 * Sets the [property@Client:tls-ca-file]: the certificate authorities to
 * trust, for a server whose certificate a private CA issued.
 */
void
smtpkit_client_set_tls_ca_file (SmtpkitClient *client,
                                const char    *path)
{
  SmtpkitClientPrivate *priv = client_get_private (client);

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  if (g_strcmp0 (priv->tls_ca_file, path) == 0)
    return;
  g_free (priv->tls_ca_file);
  priv->tls_ca_file = g_strdup (path);
  g_clear_object (&priv->ca_file_database);
  g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_TLS_CA_FILE]);
}

/**
 * smtpkit_client_get_tls_mode:
 * @client: a #SmtpkitClient
 *
 * Gets the [property@Client:tls-mode]: how the next connection is
 * protected.
 *
 * Returns: the [property@Client:tls-mode]
 */
SmtpkitTlsMode
smtpkit_client_get_tls_mode (SmtpkitClient *client)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), SMTPKIT_TLS_MODE_NONE);

  return client_get_private (client)->tls_mode;
}

/**
 * smtpkit_client_set_tls_mode:
 * @client: a #SmtpkitClient
 * @mode: how to protect the next connection
 *
 * Sets [property@Client:tls-mode], used by the next [method@Client.connect].
 */
void
smtpkit_client_set_tls_mode (SmtpkitClient  *client,
                             SmtpkitTlsMode  mode)
{
  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  g_object_set (client, "tls-mode", mode, NULL);
}

/**
 * smtpkit_client_new:
 *
 * Creates a client, not yet connected.
 *
 * Returns: (transfer full): a new #SmtpkitClient
 */
SmtpkitClient *
smtpkit_client_new (void)
{
  return g_object_new (SMTPKIT_TYPE_CLIENT, NULL);
}

/**
 * smtpkit_client_close:
 * @client: a #SmtpkitClient
 *
 * Closes the connection at once, without sending QUIT and without
 * blocking. Nothing happens when there is no connection.
 */
void
smtpkit_client_close (SmtpkitClient *client)
{
  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  client_drop_connection (client);
  client_forget_session (client);
}

/**
 * smtpkit_client_is_connected:
 * @client: a #SmtpkitClient
 *
 * Whether a connection is open.
 *
 * Returns: %TRUE when connected
 */
gboolean
smtpkit_client_is_connected (SmtpkitClient *client)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);

  return client_is_connected (client);
}

/**
 * smtpkit_client_get_does_esmtp:
 * @client: a #SmtpkitClient
 *
 * Whether the server answered EHLO with 250 on this connection.
 *
 * Returns: %TRUE in an ESMTP session
 */
gboolean
smtpkit_client_get_does_esmtp (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);

  return priv->does_esmtp;
}

/**
 * smtpkit_client_get_ehlo_reply:
 * @client: a #SmtpkitClient
 *
 * The reply to the last EHLO on this connection (smtplib's `ehlo_resp`).
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL
 */
SmtpkitReply *
smtpkit_client_get_ehlo_reply (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return priv->ehlo_reply;
}

/**
 * smtpkit_client_get_last_error_reply:
 * @client: a #SmtpkitClient
 *
 * The server's reply carried by the error of the last operation on
 * @client, as [func@Smtpkit.Error.get_reply] gives it: what a language binding
 * reads, since PyGObject and GJS turn a #GError into its domain, code and
 * message only.
 *
 * The details of the last error stay until the next operation starts;
 * an operation that succeeds leaves none. C callers may read the
 * #GError itself.
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL when the last
 *   operation succeeded or its error carries no reply
 */
SmtpkitReply *
smtpkit_client_get_last_error_reply (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return smtpkit_error_get_reply (priv->last_error);
}

/**
 * smtpkit_client_get_last_error_sender:
 * @client: a #SmtpkitClient
 *
 * The sender refused, when the last operation on @client failed with
 * %SMTPKIT_ERROR_SENDER_REFUSED: [func@Smtpkit.Error.get_sender] for bindings
 * (see [method@Client.get_last_error_reply]).
 *
 * Returns: (transfer none) (nullable): the refused sender, or %NULL
 */
const char *
smtpkit_client_get_last_error_sender (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return smtpkit_error_get_sender (priv->last_error);
}

/**
 * smtpkit_client_get_last_error_recipients:
 * @client: a #SmtpkitClient
 *
 * The recipients concerned by the error of the last operation of the
 * client, the addresses of the map of [func@Smtpkit.Error.get_recipients],
 * sorted: every refused recipient for
 * %SMTPKIT_ERROR_RECIPIENTS_REFUSED, every accepted one for
 * %SMTPKIT_ERROR_DELIVERY_UNKNOWN. With
 * [method@Client.get_last_error_recipient_reply], this is that map for
 * language bindings (see [method@Client.get_last_error_reply]).
 *
 * Returns: (transfer full) (nullable) (array zero-terminated=1): the
 *   addresses, or %NULL when the error has no recipient map
 */
char **
smtpkit_client_get_last_error_recipients (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return smtpkit_recipient_map_get_addresses (smtpkit_error_get_recipients (priv->last_error));
}

/**
 * smtpkit_client_get_last_error_recipient_reply:
 * @client: a #SmtpkitClient
 * @address: an address of [method@Client.get_last_error_recipients]
 *
 * The reply for @address in the recipient map of the error of the last
 * operation on @client: the reply that refused it, or for
 * %SMTPKIT_ERROR_DELIVERY_UNKNOWN its own reply when the server gave one
 * (LMTP) before the connection was lost.
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL when there is
 *   none
 */
SmtpkitReply *
smtpkit_client_get_last_error_recipient_reply (SmtpkitClient *client,
                                               const char    *address)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  GHashTable *recipients;

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  recipients = smtpkit_error_get_recipients (priv->last_error);
  return recipients ? g_hash_table_lookup (recipients, address) : NULL;
}

/**
 * smtpkit_client_get_helo_reply:
 * @client: a #SmtpkitClient
 *
 * The reply to the last HELO on this connection (smtplib's `helo_resp`).
 *
 * Returns: (transfer none) (nullable): the reply, or %NULL
 */
SmtpkitReply *
smtpkit_client_get_helo_reply (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return priv->helo_reply;
}

/**
 * smtpkit_client_has_extn:
 * @client: a #SmtpkitClient
 * @name: an extension keyword, in any case
 *
 * Whether the server listed @name in its reply to EHLO.
 *
 * Returns: %TRUE when the extension is offered
 */
gboolean
smtpkit_client_has_extn (SmtpkitClient *client,
                         const char    *name)
{
  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return smtpkit_client_get_extension_parameter (client, name) != NULL;
}

gboolean
client_offers (SmtpkitClient   *client,
               ClientExtension  extension)
{
  return (client_get_private (client)->offered & extension) != 0;
}

/**
 * smtpkit_client_get_extension_parameter:
 * @client: a #SmtpkitClient
 * @name: an extension keyword, in any case
 *
 * The parameters the server gave with extension @name, e.g. "10240000"
 * for SIZE; "" when it gave none.
 *
 * Returns: (nullable): the parameters, or %NULL when @name is not offered
 */
const char *
smtpkit_client_get_extension_parameter (SmtpkitClient *client,
                                        const char    *name)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  g_autofree char *long_key = NULL;
  char key[64];
  gsize i;

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  /* Keywords are short: the lower-case key is made on the stack. */
  for (i = 0; name[i] != '\0' && i < sizeof key - 1; i++)
    key[i] = g_ascii_tolower (name[i]);
  key[i] = '\0';
  if (name[i] != '\0')
    return g_hash_table_lookup (priv->features, long_key = g_ascii_strdown (name, -1));
  return g_hash_table_lookup (priv->features, key);
}

/**
 * smtpkit_client_get_local_hostname:
 * @client: a #SmtpkitClient
 *
 * The name sent with HELO and EHLO: by default this host's fully
 * qualified name, or an address literal such as `[192.0.2.1]` when it
 * has none (as smtplib).
 *
 * Returns: the name
 */
const char *
smtpkit_client_get_local_hostname (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return priv->local_hostname ? priv->local_hostname : default_local_hostname ();
}

/**
 * smtpkit_client_set_local_hostname:
 * @client: a #SmtpkitClient
 * @hostname: (nullable): the name, or %NULL for the default
 * @error: return location for a #GError
 *
 * Sets [property@Client:local-hostname]. A name holding CR, LF or NUL, or
 * an empty one, fails with %SMTPKIT_ERROR_INVALID_ARGUMENT.
 *
 * Returns: %TRUE when the name was set
 */
gboolean
smtpkit_client_set_local_hostname (SmtpkitClient  *client,
                                   const char     *hostname,
                                   GError        **error)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);

  if (hostname && (*hostname == '\0' || !client_check_hello_name (hostname, error)))
    {
      if (*hostname == '\0')
        g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                             "the local host name is empty");
      return FALSE;
    }
  if (g_strcmp0 (priv->local_hostname, hostname) == 0)
    return TRUE;
  g_free (priv->local_hostname);
  priv->local_hostname = g_strdup (hostname);
  g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_LOCAL_HOSTNAME]);
  return TRUE;
}

/**
 * smtpkit_client_get_timeout:
 * @client: a #SmtpkitClient
 *
 * The bound of each wait for the server, in seconds; negative when the
 * per-command times of RFC 5321 §4.5.3.2 apply.
 *
 * Returns: the timeout
 */
double
smtpkit_client_get_timeout (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), -1);

  return priv->timeout;
}

/**
 * smtpkit_client_set_timeout:
 * @client: a #SmtpkitClient
 * @seconds: the bound of each wait for the server; negative to go back to
 *   the per-command times of RFC 5321 §4.5.3.2
 * @error: return location for a #GError
 *
 * Sets [property@Client:timeout]. Zero (which would mean failing every
 * wait) and NaN fail with %SMTPKIT_ERROR_INVALID_ARGUMENT: there is no
 * way to wait forever.
 *
 * Returns: %TRUE when the timeout was set
 */
gboolean
smtpkit_client_set_timeout (SmtpkitClient  *client,
                            double          seconds,
                            GError        **error)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), FALSE);

  if (seconds == 0 || isnan (seconds))
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_INVALID_ARGUMENT,
                   "a timeout of %g seconds is not valid: give a positive number "
                   "of seconds, or a negative one for RFC 5321's defaults", seconds);
      return FALSE;
    }
  seconds = seconds < 0 ? -1 : seconds;
  if (priv->timeout != seconds)
    {
      priv->timeout = seconds;
      g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_TIMEOUT]);
    }
  return TRUE;
}

/**
 * smtpkit_client_get_source_address:
 * @client: a #SmtpkitClient
 *
 * The local address connections are made from.
 *
 * Returns: (transfer none) (nullable): the address, or %NULL
 */
GSocketAddress *
smtpkit_client_get_source_address (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), NULL);

  return priv->source_address;
}

/**
 * smtpkit_client_set_source_address:
 * @client: a #SmtpkitClient
 * @address: (nullable): a local address (host and/or port; port 0 lets
 *   the system choose), or %NULL
 *
 * Sets [property@Client:source-address], used by the next
 * [method@Client.connect].
 */
void
smtpkit_client_set_source_address (SmtpkitClient  *client,
                                   GSocketAddress *address)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));
  g_return_if_fail (address == NULL || G_IS_SOCKET_ADDRESS (address));

  if (g_set_object (&priv->source_address, address))
    g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_SOURCE_ADDRESS]);
}

/**
 * smtpkit_client_get_debug_level:
 * @client: a #SmtpkitClient
 *
 * The transcript level: see [property@Client:debug-level].
 *
 * Returns: the level
 */
guint
smtpkit_client_get_debug_level (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), 0);

  return priv->debug_level;
}

/**
 * smtpkit_client_set_debug_level:
 * @client: a #SmtpkitClient
 * @level: 0 for none, 1 for a transcript, 2 for a transcript with times
 *
 * Sets [property@Client:debug-level].
 */
void
smtpkit_client_set_debug_level (SmtpkitClient *client,
                                guint          level)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  level = MIN (level, 2);
  if (priv->debug_level != level)
    {
      priv->debug_level = level;
      client_update_tracing (client);
      g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_DEBUG_LEVEL]);
    }
}

/**
 * smtpkit_client_get_convert_newlines:
 * @client: a #SmtpkitClient
 *
 * Whether bare CR and LF in messages are made CRLF.
 *
 * Returns: the setting
 */
gboolean
smtpkit_client_get_convert_newlines (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_val_if_fail (SMTPKIT_IS_CLIENT (client), TRUE);

  return priv->convert_newlines;
}

/**
 * smtpkit_client_set_convert_newlines:
 * @client: a #SmtpkitClient
 * @convert: %FALSE to send messages' line endings as they are
 *
 * Sets [property@Client:convert-newlines].
 */
void
smtpkit_client_set_convert_newlines (SmtpkitClient *client,
                                     gboolean       convert)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  g_return_if_fail (SMTPKIT_IS_CLIENT (client));

  convert = !!convert;
  if (priv->convert_newlines != convert)
    {
      priv->convert_newlines = convert;
      g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_CONVERT_NEWLINES]);
    }
}

static void
smtpkit_client_dispose (GObject *object)
{
  SmtpkitClient *client = SMTPKIT_CLIENT (object);

  /* Closing a socket does not block; no QUIT is sent. */
  client_drop_connection (client);

  G_OBJECT_CLASS (smtpkit_client_parent_class)->dispose (object);
}

static void
smtpkit_client_finalize (GObject *object)
{
  SmtpkitClient *client = SMTPKIT_CLIENT (object);
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  client_forget_session (client);
  g_hash_table_unref (priv->features);
  g_free (priv->local_hostname);
  g_clear_object (&priv->source_address);
  g_free (priv->transport);
  g_free (priv->host);
  g_free (priv->server_name);
  g_free (priv->auth_mechanism);
  g_clear_object (&priv->tls_database);
  g_free (priv->tls_ca_file);
  g_clear_object (&priv->ca_file_database);
  g_clear_object (&priv->tls_interaction);
  g_clear_object (&priv->tls_certificate);
  g_clear_error (&priv->last_error);

  G_OBJECT_CLASS (smtpkit_client_parent_class)->finalize (object);
}

static void
smtpkit_client_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SmtpkitClient *client = SMTPKIT_CLIENT (object);
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  switch (prop_id)
    {
    case PROP_LOCAL_HOSTNAME:
      g_value_set_string (value, smtpkit_client_get_local_hostname (client));
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, priv->timeout);
      break;
    case PROP_SOURCE_ADDRESS:
      g_value_set_object (value, priv->source_address);
      break;
    case PROP_DEBUG_LEVEL:
      g_value_set_uint (value, priv->debug_level);
      break;
    case PROP_CONVERT_NEWLINES:
      g_value_set_boolean (value, priv->convert_newlines);
      break;
    case PROP_TRANSPORT:
      g_value_set_string (value, priv->transport);
      break;
    case PROP_TLS_MODE:
      g_value_set_enum (value, priv->tls_mode);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, priv->tls_database);
      break;
    case PROP_TLS_INTERACTION:
      g_value_set_object (value, priv->tls_interaction);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, priv->tls_certificate);
      break;
    case PROP_ALLOW_PLAINTEXT_AUTH:
      g_value_set_boolean (value, priv->allow_plaintext_auth);
      break;
    case PROP_INITIAL_RESPONSE_OK:
      g_value_set_boolean (value, priv->initial_response_ok);
      break;
    case PROP_PIPELINING:
      g_value_set_boolean (value, priv->pipelining);
      break;
    case PROP_CHUNKING:
      g_value_set_boolean (value, priv->chunking);
      break;
    case PROP_CONVERT_8BIT:
      g_value_set_boolean (value, priv->convert_8bit);
      break;
    case PROP_AUTH_MECHANISM:
      g_value_set_string (value, priv->auth_mechanism);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, priv->tls_ca_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_client_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SmtpkitClient *client = SMTPKIT_CLIENT (object);
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);
  g_autoptr (GError) error = NULL;

  switch (prop_id)
    {
    case PROP_LOCAL_HOSTNAME:
      if (!smtpkit_client_set_local_hostname (client, g_value_get_string (value), &error))
        g_critical ("%s", error->message);
      break;
    case PROP_TIMEOUT:
      if (!smtpkit_client_set_timeout (client, g_value_get_double (value), &error))
        g_critical ("%s", error->message);
      break;
    case PROP_SOURCE_ADDRESS:
      smtpkit_client_set_source_address (client, g_value_get_object (value));
      break;
    case PROP_DEBUG_LEVEL:
      smtpkit_client_set_debug_level (client, g_value_get_uint (value));
      break;
    case PROP_CONVERT_NEWLINES:
      smtpkit_client_set_convert_newlines (client, g_value_get_boolean (value));
      break;
    case PROP_TRANSPORT:
      g_free (priv->transport);
      priv->transport = g_value_dup_string (value);
      break;
    case PROP_TLS_MODE:
      priv->tls_mode = g_value_get_enum (value);
      break;
    case PROP_TLS_DATABASE:
      g_set_object (&priv->tls_database, g_value_get_object (value));
      break;
    case PROP_TLS_CA_FILE:
      smtpkit_client_set_tls_ca_file (client, g_value_get_string (value));
      break;
    case PROP_TLS_INTERACTION:
      g_set_object (&priv->tls_interaction, g_value_get_object (value));
      break;
    case PROP_TLS_CERTIFICATE:
      g_set_object (&priv->tls_certificate, g_value_get_object (value));
      break;
    case PROP_ALLOW_PLAINTEXT_AUTH:
      priv->allow_plaintext_auth = g_value_get_boolean (value);
      break;
    case PROP_INITIAL_RESPONSE_OK:
      priv->initial_response_ok = g_value_get_boolean (value);
      break;
    case PROP_PIPELINING:
      priv->pipelining = g_value_get_boolean (value);
      break;
    case PROP_CHUNKING:
      priv->chunking = g_value_get_boolean (value);
      break;
    case PROP_CONVERT_8BIT:
      priv->convert_8bit = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smtpkit_client_class_init (SmtpkitClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = smtpkit_client_dispose;
  object_class->finalize = smtpkit_client_finalize;
  object_class->get_property = smtpkit_client_get_property;
  object_class->set_property = smtpkit_client_set_property;

  klass->hello_verb = "EHLO";
  klass->default_port = SMTPKIT_DEFAULT_PORT;

  /**
   * SmtpkitClient:local-hostname:
   *
   * The name sent with HELO and EHLO; by default this host's fully
   * qualified name (smtplib's `socket.getfqdn()`). Setting a name with
   * CR, LF or NUL is refused.
   */
  properties[PROP_LOCAL_HOSTNAME] =
    g_param_spec_string ("local-hostname", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:timeout:
   *
   * The bound of each wait for the server, in seconds. Negative (the
   * default): the per-command times of RFC 5321 §4.5.3.2 (5 minutes for
   * the greeting, MAIL and RCPT, 2 for DATA, 3 per block of data, 10 for
   * the end of data). Zero is refused. A wait that lasts longer fails with
   * %G_IO_ERROR_TIMED_OUT and closes the connection.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_double ("timeout", NULL, NULL, -1, G_MAXDOUBLE, -1,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:source-address:
   *
   * The local address (host and/or port) to connect from, or %NULL.
   */
  properties[PROP_SOURCE_ADDRESS] =
    g_param_spec_object ("source-address", NULL, NULL, G_TYPE_SOCKET_ADDRESS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:debug-level:
   *
   * 0: quiet; 1: a transcript of the session ("C: …" and "S: …" lines);
   * 2: the same with times. The transcript goes through GLib's
   * structured logging, domain "Smtpkit", at the message level.
   * Authentication data is always shown as `[redacted]`.
   */
  properties[PROP_DEBUG_LEVEL] =
    g_param_spec_uint ("debug-level", NULL, NULL, 0, 2, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:convert-newlines:
   *
   * Whether bare CR and bare LF in a message become CRLF. Turn it off to
   * send exact wire bytes; dots are doubled and the end of data is marked
   * either way.
   */
  properties[PROP_CONVERT_NEWLINES] =
    g_param_spec_boolean ("convert-newlines", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:transport:
   *
   * The name of the transport plugin to connect with, or %NULL: `unix`
   * for a host starting with `/`, else `tcp`.
   */
  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:tls-mode:
   *
   * How the connection is protected: see #SmtpkitTlsMode. The default is
   * %SMTPKIT_TLS_MODE_NONE, as smtplib's `SMTP`; [func@Smtpkit.ssl_client_new]
   * makes a client with %SMTPKIT_TLS_MODE_IMPLICIT.
   */
  properties[PROP_TLS_MODE] =
    g_param_spec_enum ("tls-mode", NULL, NULL, SMTPKIT_TYPE_TLS_MODE, SMTPKIT_TLS_MODE_NONE,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:tls-database:
   *
   * The certificate authorities to verify the server against, or %NULL
   * for the system's trust store.
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL, G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:tls-ca-file:
   *
   * A file of PEM certificates of the authorities to verify the server
   * against instead of the system's trust store (a private CA), or
   * %NULL. A shortcut for a `GTlsFileDatabase` in
   * [property@Client:tls-database], which takes precedence when both are
   * set. The file is read at the TLS handshake; a file that cannot be
   * read fails it, naming the file.
   */
  properties[PROP_TLS_CA_FILE] =
    g_param_spec_string ("tls-ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:tls-interaction:
   *
   * Asks the user for a certificate's PIN or password, or %NULL.
   */
  properties[PROP_TLS_INTERACTION] =
    g_param_spec_object ("tls-interaction", NULL, NULL, G_TYPE_TLS_INTERACTION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:tls-certificate:
   *
   * A client certificate to present, or %NULL.
   */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:allow-plaintext-auth:
   *
   * Whether [method@Client.login] may send a password over a connection
   * without TLS to a host other than this one. Off by default: loopback
   * and Unix sockets are allowed, anything else needs TLS.
   */
  properties[PROP_ALLOW_PLAINTEXT_AUTH] =
    g_param_spec_boolean ("allow-plaintext-auth", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:initial-response-ok:
   *
   * Whether AUTH carries the mechanism's initial response (RFC 4954 §4),
   * as smtplib's `initial_response_ok`.
   */
  properties[PROP_INITIAL_RESPONSE_OK] =
    g_param_spec_boolean ("initial-response-ok", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:pipelining:
   *
   * Whether [method@Client.sendmail] pipelines MAIL, RCPT and DATA when
   * the server offers PIPELINING (RFC 2920): one write, every reply read
   * and paired in order. Turn it off for a server that offers it and
   * gets it wrong.
   */
  properties[PROP_PIPELINING] =
    g_param_spec_boolean ("pipelining", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:chunking:
   *
   * Whether [method@Client.sendmail] sends the message with BDAT when the
   * server offers CHUNKING (RFC 3030): no dot-stuffing, one BDAT LAST for
   * a message of known size (in the same group as MAIL and RCPT under
   * PIPELINING), chunks from 64 KiB growing to 2 MiB for a stream.
   */
  properties[PROP_CHUNKING] =
    g_param_spec_boolean ("chunking", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:convert-8bit:
   *
   * Whether [method@Client.send_message] converts a message with 8-bit
   * content to 7-bit transfer encodings (with GMime) for a server that
   * does not offer 8BITMIME, instead of failing.
   */
  properties[PROP_CONVERT_8BIT] =
    g_param_spec_boolean ("convert-8bit", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * SmtpkitClient:auth-mechanism:
   *
   * The SASL mechanism the client authenticated with on this connection,
   * by [method@Client.login] or [method@Client.auth], or %NULL when it
   * did not. Reset when the connection closes or goes under TLS.
   */
  properties[PROP_AUTH_MECHANISM] =
    g_param_spec_string ("auth-mechanism", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SmtpkitClient::connecting:
   * @client: the client
   * @host: the host, address or socket path
   * @port: the port
   *
   * Emitted before a connection is opened (smtplib's `smtplib.connect`
   * audit event).
   */
  signals[SIGNAL_CONNECTING] =
    g_signal_new ("connecting", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);

  /**
   * SmtpkitClient::sending:
   * @client: the client
   * @data: the bytes about to be sent
   *
   * Emitted before bytes are written to the server (smtplib's
   * `smtplib.send` audit event): each command or batch of commands, and
   * each chunk of message data. Authentication data appears as
   * `[redacted]`.
   *
   * Whether anyone listens is looked at when an operation starts: a
   * handler connected while one runs sees the bytes from the next on.
   */
  signals[SIGNAL_SENDING] =
    g_signal_new ("sending", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BYTES);

  /**
   * SmtpkitClient::accept-certificate:
   * @client: the client
   * @peer: the server's certificate
   * @errors: what is wrong with it
   *
   * Emitted during a TLS handshake when the server's certificate failed a
   * check (unknown authority, wrong name, expired, …). Return %TRUE to
   * accept it anyway; without a handler returning %TRUE the handshake
   * fails. Nothing is trusted silently.
   *
   * Returns: %TRUE to accept the certificate
   */
  signals[SIGNAL_ACCEPT_CERTIFICATE] =
    g_signal_new ("accept-certificate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 2,
                  G_TYPE_TLS_CERTIFICATE, G_TYPE_TLS_CERTIFICATE_FLAGS);
}

static void
smtpkit_client_init (SmtpkitClient *client)
{
  SmtpkitClientPrivate *priv = smtpkit_client_get_instance_private (client);

  priv->timeout = -1;
  priv->convert_newlines = TRUE;
  priv->initial_response_ok = TRUE;
  priv->pipelining = TRUE;
  priv->chunking = TRUE;
  priv->features = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
