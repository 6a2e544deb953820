/* smtpkit-engine.c: the one protocol engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-engine-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-deadline-private.h"
#include "smtpkit-error-private.h"

#define READ_CHUNK 16384
#define BODY_CHUNK 65536

struct _SmtpkitCommandBatch
{
  GByteArray *wire;
  GPtrArray *shown;   /* GBytes*, one per command or piece of data */
  GArray *kinds;      /* SmtpkitTraceKind of each */
  guint n_commands;
  guint n_replies;
  gboolean replies_set;
  gboolean final;
  gboolean per_recipient;
};

struct _SmtpkitEngine
{
  GIOStream *stream;
  GInputStream *in;
  GOutputStream *out;
  GByteArray *inbuf;            /* read from the server, not yet parsed */
  SmtpkitReplyParser *parser;
  guint8 readbuf[READ_CHUNK];
  GCancellable *closing;        /* cancelled by smtpkit_engine_close() */
  gboolean busy;
  gboolean closed;

  SmtpkitReply *closing_reply;  /* the 421 that closed the connection */

  SmtpkitTraceFunc trace;
  gpointer trace_data;
};

/* ---- command batches ---------------------------------------------------- */

SmtpkitCommandBatch *
smtpkit_command_batch_new (void)
{
  SmtpkitCommandBatch *batch = g_new0 (SmtpkitCommandBatch, 1);

  batch->wire = g_byte_array_new ();
  batch->shown = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  batch->kinds = g_array_new (FALSE, FALSE, sizeof (SmtpkitTraceKind));

  return batch;
}

void
smtpkit_command_batch_free (SmtpkitCommandBatch *batch)
{
  g_clear_pointer (&batch->wire, g_byte_array_unref);
  g_ptr_array_unref (batch->shown);
  g_array_unref (batch->kinds);
  g_free (batch);
}

void
smtpkit_command_batch_add (SmtpkitCommandBatch *batch,
                           const GString       *line,
                           gssize               shown)
{
  SmtpkitTraceKind kind = SMTPKIT_TRACE_COMMAND;

  g_byte_array_append (batch->wire, (const guint8 *) line->str, line->len);
  g_array_append_val (batch->kinds, kind);
  batch->n_commands++;

  /* Only what follows @shown is hidden: when nothing but the line's CRLF
   * does, nothing was sent that needs hiding, and the line is shown as
   * it is (an AUTH without initial response). */
  if (shown >= 0 && (gsize) shown + 2 < line->len)
    {
      g_autofree char *redacted = g_strdup_printf ("%.*s%s[redacted]\r\n", (int) shown, line->str,
                                                   shown > 0 ? " " : "");
      gsize size = strlen (redacted);
      g_ptr_array_add (batch->shown, g_bytes_new_take (g_steal_pointer (&redacted), size));
    }
  else
    g_ptr_array_add (batch->shown, g_bytes_new (line->str, line->len));
}

void
smtpkit_command_batch_add_data (SmtpkitCommandBatch *batch,
                                GBytes              *data)
{
  SmtpkitTraceKind kind = SMTPKIT_TRACE_DATA;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);

  g_byte_array_append (batch->wire, bytes, size);
  g_array_append_val (batch->kinds, kind);
  g_ptr_array_add (batch->shown, g_bytes_ref (data));
}

void
smtpkit_command_batch_set_final (SmtpkitCommandBatch *batch)
{
  batch->final = TRUE;
}

void
smtpkit_command_batch_set_per_recipient (SmtpkitCommandBatch *batch)
{
  batch->per_recipient = TRUE;
}

void
smtpkit_command_batch_set_replies (SmtpkitCommandBatch *batch,
                                   guint                n_replies)
{
  batch->n_replies = n_replies;
  batch->replies_set = TRUE;
}

static guint
batch_expected_replies (SmtpkitCommandBatch *batch)
{
  return batch->replies_set ? batch->n_replies : batch->n_commands;
}

/* ---- the engine ------------------------------------------------------- */

static void
engine_clear (SmtpkitEngine *engine)
{
  smtpkit_engine_close (engine);
  g_clear_object (&engine->stream);
  g_byte_array_unref (engine->inbuf);
  smtpkit_reply_parser_free (engine->parser);
  g_clear_object (&engine->closing);
  g_clear_pointer (&engine->closing_reply, smtpkit_reply_unref);
}

SmtpkitEngine *
smtpkit_engine_new (GIOStream        *stream,
                    SmtpkitTraceFunc  trace,
                    gpointer          trace_data)
{
  SmtpkitEngine *engine = g_rc_box_new0 (SmtpkitEngine);

  engine->stream = g_object_ref (stream);
  engine->in = g_io_stream_get_input_stream (stream);
  engine->out = g_io_stream_get_output_stream (stream);
  engine->inbuf = g_byte_array_new ();
  engine->parser = smtpkit_reply_parser_new ();
  engine->closing = g_cancellable_new ();
  engine->trace = trace;
  engine->trace_data = trace_data;

  return engine;
}

SmtpkitEngine *
smtpkit_engine_ref (SmtpkitEngine *engine)
{
  return g_rc_box_acquire (engine);
}

void
smtpkit_engine_unref (SmtpkitEngine *engine)
{
  g_rc_box_release_full (engine, (GDestroyNotify) engine_clear);
}

GIOStream *
smtpkit_engine_get_stream (SmtpkitEngine *engine)
{
  return engine->stream;
}

gboolean
smtpkit_engine_is_open (SmtpkitEngine *engine)
{
  return !engine->closed;
}

SmtpkitReply *
smtpkit_engine_get_closing_reply (SmtpkitEngine *engine)
{
  return engine->closing_reply;
}

static void
close_stream_now (SmtpkitEngine *engine)
{
  /* Closing a socket does not block; nothing is flushed on purpose: after
   * an error the peer must not see half a command completed. */
  if (!g_io_stream_is_closed (engine->stream))
    g_io_stream_close (engine->stream, NULL, NULL);
}

void
smtpkit_engine_close (SmtpkitEngine *engine)
{
  if (engine->closed)
    return;
  engine->closed = TRUE;
  g_cancellable_cancel (engine->closing);
  /* A pending operation closes the stream when it completes. */
  if (!engine->busy)
    close_stream_now (engine);
}

static gboolean check_nothing_unsolicited (SmtpkitEngine  *engine,
                                           GError        **error);

gboolean
smtpkit_engine_check_quiet (SmtpkitEngine  *engine,
                            GError        **error)
{
  if (engine->closed || engine->busy)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                           "not connected");
      return FALSE;
    }
  if (check_nothing_unsolicited (engine, error))
    return TRUE;
  smtpkit_engine_close (engine);
  return FALSE;
}

void
smtpkit_engine_set_stream (SmtpkitEngine *engine,
                           GIOStream     *stream)
{
  g_return_if_fail (!engine->busy && engine->inbuf->len == 0);

  g_set_object (&engine->stream, stream);
  engine->in = g_io_stream_get_input_stream (stream);
  engine->out = g_io_stream_get_output_stream (stream);
}

/* ---- one operation: exchange or body ---------------------------------- */

typedef struct
{
  SmtpkitEngine *engine;
  GTask *task;                  /* not a reference: the task owns us */
  SmtpkitDeadline *deadline;    /* user cancel | connection closed | timer */
  GCancellable *cancellable;    /* the deadline's: what the I/O uses */
  guint timeout_ms;             /* bound of each wait in this phase */

  GBytes *pending_write;
  void (*after_write) (GTask *task);

  GPtrArray *replies;
  guint n_replies;
  gboolean per_recipient;       /* a 421 answers for one recipient only */

  /* body */
  GInputStream *body;
  SmtpkitDataEncoder encoder;
  guint8 *body_buf;
  GByteArray *encoded;
  guint final_timeout_ms;
  gboolean final_write;         /* the write under way ends the message */
  gboolean terminator_sent;     /* ... and it was written whole */
} Op;

static void
op_free (Op *op)
{
  smtpkit_deadline_free (op->deadline);
  g_clear_pointer (&op->pending_write, g_bytes_unref);
  g_clear_pointer (&op->replies, g_ptr_array_unref);
  g_clear_object (&op->body);
  g_free (op->body_buf);
  g_clear_pointer (&op->encoded, g_byte_array_unref);
  smtpkit_engine_unref (op->engine);
  g_free (op);
}

static GTask *
op_new (SmtpkitEngine       *engine,
        gpointer             source_tag,
        GCancellable        *cancellable,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  Op *op = g_new0 (Op, 1);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  op->engine = smtpkit_engine_ref (engine);
  op->task = task;
  op->deadline = smtpkit_deadline_new (cancellable, engine->closing);
  op->cancellable = smtpkit_deadline_get_cancellable (op->deadline);
  op->replies = g_ptr_array_new_with_free_func ((GDestroyNotify) smtpkit_reply_unref);
  return task;
}

/* Ends the operation with @error (taken). Every error at this level leaves
 * the conversation in an unknown state, so the connection is closed. */
static void
op_fail (GTask  *task,
         GError *error)
{
  Op *op = g_task_get_task_data (task);
  SmtpkitEngine *engine = op->engine;

  smtpkit_deadline_fix_error (op->deadline, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      engine->closed && !smtpkit_deadline_user_cancelled (op->deadline))
    {
      g_clear_error (&error);
      error = g_error_new_literal (SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                                   "the connection was closed");
    }

  if (op->terminator_sent)
    {
      GError *unknown = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_DELIVERY_UNKNOWN,
                                     "the connection failed after the end of the "
                                     "message was sent and before the server's "
                                     "reply was read, so the message may have "
                                     "been delivered: %s", error->message);
      g_error_free (error);
      error = unknown;
    }

  engine->busy = FALSE;
  engine->closed = TRUE;
  close_stream_now (engine);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
op_succeed (GTask    *task,
            gpointer  result,
            GDestroyNotify free_result)
{
  Op *op = g_task_get_task_data (task);

  op->engine->busy = FALSE;
  if (op->engine->closed)
    close_stream_now (op->engine);
  g_task_return_pointer (task, result, free_result);
  g_object_unref (task);
}

/* ---- reading replies -------------------------------------------------- */

static void read_replies (GTask *task);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      op_fail (task, error);
      return;
    }
  if (n == 0)
    {
      op_fail (task, g_error_new_literal (SMTPKIT_ERROR,
                                          SMTPKIT_ERROR_SERVER_DISCONNECTED,
                                          "Connection unexpectedly closed"));
      return;
    }
  g_byte_array_append (op->engine->inbuf, op->engine->readbuf, n);
  read_replies (task);
}

/* Parses what is buffered; reads more until n_replies replies are in. */
static void
read_replies (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  SmtpkitEngine *engine = op->engine;

  while (op->replies->len < op->n_replies)
    {
      SmtpkitReply *reply = NULL;
      GError *error = NULL;
      gsize consumed = 0;
      SmtpkitReplyParserStatus status;

      if (engine->inbuf->len == 0)
        {
          smtpkit_deadline_arm (op->deadline, op->timeout_ms);
          g_input_stream_read_async (engine->in, engine->readbuf, sizeof engine->readbuf,
                                     G_PRIORITY_DEFAULT, op->cancellable, on_read, task);
          return;
        }

      status = smtpkit_reply_parser_feed (engine->parser, engine->inbuf->data,
                                          engine->inbuf->len, &consumed, &reply, &error);
      g_byte_array_remove_range (engine->inbuf, 0, consumed);
      if (status == SMTPKIT_REPLY_PARSER_ERROR)
        {
          op_fail (task, error);
          return;
        }
      if (status == SMTPKIT_REPLY_PARSER_REPLY)
        {
          if (engine->trace)
            engine->trace (engine->trace_data, SMTPKIT_TRACE_REPLY, NULL, reply);
          g_ptr_array_add (op->replies, reply);
          /* RFC 5321 §3.8: the server is closing the connection. Nothing
           * more is sent, and no more replies are waited for, unless the
           * replies are LMTP's, one for each recipient. */
          if (smtpkit_reply_get_code (reply) == 421)
            {
              if (engine->closing_reply == NULL)
                engine->closing_reply = smtpkit_reply_ref (reply);
              if (!op->per_recipient)
                break;
            }
        }
    }

  if (engine->closing_reply)
    engine->closed = TRUE;

  op->terminator_sent = op->final_write = FALSE;
  op_succeed (task, g_ptr_array_ref (op->replies), (GDestroyNotify) g_ptr_array_unref);
}

/* ---- writing ----------------------------------------------------------- */

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&op->pending_write, g_bytes_unref);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      /* A write that failed did not send its end: the server cannot take
       * a message whose end it never got. */
      op_fail (task, error);
      return;
    }
  /* From here on, a failure leaves the delivery unknown (RFC 1047). */
  op->terminator_sent = op->final_write;
  op->after_write (task);
}

static void
op_write (GTask  *task,
          GBytes *bytes,
          void  (*after_write) (GTask *task))
{
  Op *op = g_task_get_task_data (task);
  gsize size;
  gconstpointer data = g_bytes_get_data (bytes, &size);

  op->pending_write = bytes;
  op->after_write = after_write;
  smtpkit_deadline_arm (op->deadline, op->timeout_ms);
  g_output_stream_write_all_async (op->engine->out, data, size, G_PRIORITY_DEFAULT,
                                   op->cancellable, on_written, task);
}

/* Anything the server sent before the command that expects it is not the
 * reply to that command: it is a protocol error, and after STARTTLS an
 * injection attempt. Checked without blocking before each write. */
static gboolean
check_nothing_unsolicited (SmtpkitEngine  *engine,
                           GError        **error)
{
  guint8 probe[256];
  gsize len = 0;
  const guint8 *bytes = probe;
  GError *local_error = NULL;

  if (engine->inbuf->len > 0 || smtpkit_reply_parser_has_partial (engine->parser))
    {
      bytes = engine->inbuf->data;
      len = MIN (engine->inbuf->len, 80);
    }
  else if (G_IS_POLLABLE_INPUT_STREAM (engine->in) &&
           g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (engine->in)))
    {
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (engine->in),
                                                           probe, sizeof probe, NULL,
                                                           &local_error);
      if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_error_free (local_error);
          return TRUE;
        }
      if (n < 0)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                               "Connection unexpectedly closed");
          return FALSE;
        }
      len = MIN ((gsize) n, 80);
    }
  else
    return TRUE;

  if (len == 0)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL,
                           "the server sent part of a reply nobody asked for");
      return FALSE;
    }
  else
    {
      g_autofree char *raw = g_strndup ((const char *) bytes, len);
      g_autofree char *escaped = g_strescape (raw, NULL);
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL,
                   "the server sent “%s” before any command asked for a reply; "
                   "closing the connection", escaped);
      return FALSE;
    }
}

static gboolean
op_start (GTask    *task,
          gboolean  check_unsolicited)
{
  Op *op = g_task_get_task_data (task);
  SmtpkitEngine *engine = op->engine;
  GError *error = NULL;

  if (engine->closed)
    {
      g_task_return_new_error (task, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                               "not connected");
      g_object_unref (task);
      return FALSE;
    }
  if (engine->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "another command is still in progress on this connection");
      g_object_unref (task);
      return FALSE;
    }
  engine->busy = TRUE;
  if (check_unsolicited && !check_nothing_unsolicited (engine, &error))
    {
      op_fail (task, error);
      return FALSE;
    }
  return TRUE;
}

/* ---- exchange ---------------------------------------------------------- */

void
smtpkit_engine_exchange_async (SmtpkitEngine       *engine,
                               SmtpkitCommandBatch *batch,
                               guint                timeout_ms,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr (SmtpkitCommandBatch) owned = batch;
  GTask *task = op_new (engine, smtpkit_engine_exchange_async, cancellable, callback, user_data);
  Op *op = g_task_get_task_data (task);

  op->n_replies = batch_expected_replies (batch);
  op->per_recipient = batch->per_recipient;
  op->timeout_ms = timeout_ms;

  /* A greeting is a reply expected with no command before it. */
  if (!op_start (task, batch->shown->len > 0))
    return;
  if (batch->shown->len == 0)
    {
      read_replies (task);
      return;
    }

  if (engine->trace)
    for (guint i = 0; i < batch->shown->len; i++)
      engine->trace (engine->trace_data, g_array_index (batch->kinds, SmtpkitTraceKind, i),
                     g_ptr_array_index (batch->shown, i), NULL);

  op->final_write = batch->final;
  op_write (task, g_byte_array_free_to_bytes (g_steal_pointer (&batch->wire)), read_replies);
}

/* Both operations end the same way: the replies, or the error and the
 * replies read before it. */
static GPtrArray *
op_finish (GAsyncResult  *result,
           gpointer       source_tag,
           GPtrArray    **partial,
           GError       **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  op = g_task_get_task_data (G_TASK (result));
  if (partial && g_task_had_error (G_TASK (result)))
    *partial = g_ptr_array_ref (op->replies);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GPtrArray *
smtpkit_engine_exchange_finish (SmtpkitEngine  *engine,
                                GAsyncResult   *result,
                                GPtrArray     **partial,
                                GError        **error)
{
  return op_finish (result, smtpkit_engine_exchange_async, partial, error);
}

/* ---- message body ------------------------------------------------------ */

static void read_body_chunk (GTask *task);

static GBytes *
take_encoded (Op *op)
{
  GBytes *bytes = g_bytes_new (op->encoded->data, op->encoded->len);

  g_byte_array_set_size (op->encoded, 0);
  return bytes;
}

static void
on_body_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  SmtpkitEngine *engine = op->engine;
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      op_fail (task, error);
      return;
    }

  if (n > 0)
    smtpkit_data_encoder_feed (&op->encoder, op->body_buf, n, op->encoded);
  else
    smtpkit_data_encoder_finish (&op->encoder, op->encoded);

  /* Small pieces are gathered into one write: a short message and its
   * terminator go out together. */
  if (n > 0 && op->encoded->len < BODY_CHUNK)
    {
      read_body_chunk (task);
      return;
    }

  if (engine->trace && op->encoded->len > 0)
    {
      g_autoptr (GBytes) shown = g_bytes_new_static (op->encoded->data, op->encoded->len);
      engine->trace (engine->trace_data, SMTPKIT_TRACE_DATA, shown, NULL);
    }

  if (n == 0)
    {
      op->final_write = TRUE;
      op->timeout_ms = op->final_timeout_ms;
      op_write (task, take_encoded (op), read_replies);
    }
  else
    op_write (task, take_encoded (op), read_body_chunk);
}

static void
read_body_chunk (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  /* Reading the caller's stream is not waiting for the server. */
  smtpkit_deadline_arm (op->deadline, 0);
  g_input_stream_read_async (op->body, op->body_buf, BODY_CHUNK, G_PRIORITY_DEFAULT,
                             op->cancellable, on_body_read, task);
}

void
smtpkit_engine_send_body_async (SmtpkitEngine       *engine,
                                GInputStream        *body,
                                gboolean             convert_newlines,
                                guint                n_replies,
                                guint                block_timeout_ms,
                                guint                final_timeout_ms,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = op_new (engine, smtpkit_engine_send_body_async, cancellable, callback, user_data);
  Op *op = g_task_get_task_data (task);

  op->body = g_object_ref (body);
  op->body_buf = g_malloc (BODY_CHUNK);
  op->encoded = g_byte_array_sized_new (BODY_CHUNK * 2 + 8);
  op->n_replies = n_replies;
  op->per_recipient = TRUE;
  op->timeout_ms = block_timeout_ms;
  op->final_timeout_ms = final_timeout_ms;
  smtpkit_data_encoder_init (&op->encoder, convert_newlines);

  if (!op_start (task, TRUE))
    return;
  read_body_chunk (task);
}

GPtrArray *
smtpkit_engine_send_body_finish (SmtpkitEngine  *engine,
                                 GAsyncResult   *result,
                                 GPtrArray     **partial,
                                 GError        **error)
{
  return op_finish (result, smtpkit_engine_send_body_async, partial, error);
}
