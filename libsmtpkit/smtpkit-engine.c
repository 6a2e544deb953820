/* smtpkit-engine.c: the one protocol engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-engine-private.h"

#include "smtpkit-codec-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-sync-private.h"
#include "smtpkit-watch-private.h"

#define READ_CHUNK 16384
#define BODY_CHUNK 65536
/* A stream's reads start at BODY_CHUNK; once one fills the buffer, it
 * doubles up to this: a long stream costs fewer reads and writes, a short
 * one no large buffer. */
#define STREAM_READ_MAX (256 * 1024)
/* A stream's BDAT chunks start at BODY_CHUNK and double up to this: a
 * short stream costs no large buffer, a long one few replies (each a
 * round trip of the server's, when it answers them one by one). A read
 * makes at most the chunk under way, and its buffer grows with the
 * chunks, so that a chunk whose lines need no change is sent from where
 * it was read. */
#define CHUNK_MAX (2 * 1024 * 1024)
#define SMALL_DATA 16384
/* A message given as bytes goes a piece of this at a time, when it needs
 * a look at each piece (see read_body_chunk_once()). */
#define BYTES_PIECE (256 * 1024)
/* What the watch reads while no operation waits for replies is kept
 * unparsed, up to this: a server that sends more is not an SMTP server,
 * and is not let to fill the client's memory. */
#define UNREAD_LIMIT (1024 * 1024)
/* An empty read buffer up to this size is kept between operations. */
#define INBUF_KEPT 4096
/* A spare command batch keeps a buffer up to this size. */
#define SPARE_BATCH_MAX (32 * 1024)
/* ... and an ended body's buffer, up to this length (its allocation is at
 * most twice that). */
#define SPARE_ENCODED_MAX 2048

/* One command or one piece of data in a batch. */
typedef struct
{
  SmtpkitTraceKind kind;
  gsize offset;                 /* in the batch's wire, when bytes is NULL */
  gsize size;
  GBytes *bytes;                /* data written as it is, not copied */
  char *redacted;               /* what traces show instead, when not NULL */
} Piece;

struct _SmtpkitCommandBatch
{
  GString *wire;      /* the commands, formatted once, in place */
  GArray *pieces;     /* Piece */
  guint n_commands;
  guint n_replies;
  gboolean replies_set;
  gboolean final;
  gboolean per_recipient;
};

/* One operation: an exchange or a message body (SmtpkitEngineResult). */
typedef struct _SmtpkitEngineResult Op;

struct _SmtpkitEngine
{
  GIOStream *stream;
  GPollableInputStream *in;     /* NULL when the stream cannot poll */
  GPollableOutputStream *out;
  GByteArray *inbuf;            /* read, not yet parsed; NULL while idle after a
                                 * large read */
  gboolean inbuf_large;         /* it held more than a few replies take */
  GArray *vectors;              /* GOutputVector: the writes of the operation under
                                 * way (one at a time), kept from one to the next */
  SmtpkitReplyParser *parser;
  gboolean busy;
  gboolean closed;
  gboolean eof;                 /* the server closed its side */
  GError *read_error;           /* a read failed while nobody waited */

  /* Where the connection is watched, for as long as the connection and
   * the context stay the same (smtpkit-watch-private.h): the deadline of
   * the wait under way and aborts, and a plain socket's readability; any
   * other stream has a source of its own for that (@stream_source). */
  GMainContext *context;
  SmtpkitWatch *watch;
  GSource *stream_source;
  gint64 deadline;              /* monotonic µs; 0: none */
  guint deadline_ms;            /* the bound it was armed with */
  gboolean abort;               /* closed while an operation was under way */
  Op *op;                       /* that operation (not a reference) */
  Op *spare;                    /* the last one ended, cleared, for the next */
  GByteArray *spare_encoded;    /* a small body buffer, emptied, for the next */

  SmtpkitReply *closing_reply;  /* the 421 that closed the connection */

  SmtpkitTraceFunc trace;
  gpointer trace_data;
  gboolean tracing;             /* call @trace (on until told otherwise) */
};

typedef enum
{
  OP_RUNNING,        /* in the engine's code, not waiting */
  OP_READING,        /* waiting for replies */
  OP_WRITING,        /* waiting until the stream takes more */
  OP_READING_BODY,   /* waiting for the caller's message stream */
} OpState;

struct _SmtpkitEngineResult
{
  gatomicrefcount ref_count;
  SmtpkitEngine *engine;
  SmtpkitEngineCallback callback;
  gpointer user_data;
  GCancellable *cancellable;
  gboolean starting;            /* the call that began it has not returned */
  gboolean completed;           /* the outcome is in: error, or replies */
  GError *error;
  OpState state;
  gboolean done;
  gboolean reading_body;        /* read_body_chunk()'s loop is under way */
  gboolean read_again;          /* ... and a write that ended at once asks for more */
  GSource *cancelled;           /* the caller's cancellable, watched */
  guint timeout_ms;             /* bound of each wait in this phase */

  SmtpkitCommandBatch *batch;   /* what the vectors point into */
  GArray *vectors;              /* the engine's: what is left to write */
  guint next_vector;
  GSource *writable;
  void (*after_write) (Op *op);

  GPtrArray *replies;
  guint n_replies;
  gboolean per_recipient;       /* a 421 answers for one recipient only */

  /* body */
  GInputStream *body;
  GBytes *bytes;                /* instead of body */
  gboolean bytes_as_is;         /* in DATA's wire form: sent from where they are */
  gsize bytes_read;
  GCancellable *body_cancellable; /* an asynchronous read of the body */
  GSource *body_readable;
  SmtpkitDataEncoder encoder;
  guint8 *body_buf;
  gsize body_buf_size;
  gboolean body_buf_filled;     /* the last read filled it */
  gsize held_at;                /* a line's start, read into @body_buf but not */
  gsize held;                   /* ... sent yet: it begins the next piece */
  GByteArray *encoded;
  gsize encoded_max;            /* the longest it was: what it may have allocated */
  guint final_timeout_ms;
  gboolean final_write;         /* the write under way ends the message */
  gboolean terminator_sent;     /* ... and it was written whole */

  /* BDAT chunks (RFC 3030), several in flight */
  gboolean chunked;
  GString *bdat;                /* the BDAT command of the chunk being written */
  guint chunks_sent;            /* not counting the last one */
  gsize chunk_size;             /* of the next chunk: grows to CHUNK_MAX */
  guint n_final_replies;
  SmtpkitReply *refused_chunk;  /* the first chunk the server did not take */
  void (*after_replies) (Op *op);  /* instead of ending the operation */
};

/* ---- command batches ---------------------------------------------------- */

static void
piece_clear (Piece *piece)
{
  g_clear_pointer (&piece->bytes, g_bytes_unref);
  g_clear_pointer (&piece->redacted, g_free);
}

static void
batch_destroy (SmtpkitCommandBatch *batch)
{
  g_string_free (batch->wire, TRUE);
  g_array_unref (batch->pieces);
  g_free (batch);
}

/* A batch is made and freed for nearly every step of a session: each
 * thread keeps the last one freed, emptied, for the next. */
static GPrivate spare_batch = G_PRIVATE_INIT ((GDestroyNotify) batch_destroy);

SmtpkitCommandBatch *
smtpkit_command_batch_new (void)
{
  SmtpkitCommandBatch *batch = g_private_get (&spare_batch);

  if (batch)
    {
      g_private_set (&spare_batch, NULL);
      return batch;
    }
  batch = g_new0 (SmtpkitCommandBatch, 1);
  batch->wire = g_string_sized_new (128);
  batch->pieces = g_array_sized_new (FALSE, FALSE, sizeof (Piece), 4);
  g_array_set_clear_func (batch->pieces, (GDestroyNotify) piece_clear);

  return batch;
}

void
smtpkit_command_batch_free (SmtpkitCommandBatch *batch)
{
  /* Kept when another is not, and not holding on to a large buffer. */
  if (g_private_get (&spare_batch) != NULL || batch->wire->allocated_len > SPARE_BATCH_MAX)
    {
      batch_destroy (batch);
      return;
    }
  g_string_truncate (batch->wire, 0);
  g_array_set_size (batch->pieces, 0);
  batch->n_commands = 0;
  batch->n_replies = 0;
  batch->replies_set = FALSE;
  batch->final = FALSE;
  batch->per_recipient = FALSE;
  g_private_set (&spare_batch, batch);
}

void
smtpkit_command_batch_add (SmtpkitCommandBatch *batch,
                           const GString       *line,
                           gssize               shown)
{
  Piece piece = { SMTPKIT_TRACE_COMMAND, batch->wire->len, line->len, NULL, NULL };

  g_string_append_len (batch->wire, line->str, line->len);
  batch->n_commands++;

  /* Only what follows @shown is hidden: when nothing but the line's CRLF
   * does, nothing was sent that needs hiding, and the line is shown as
   * it is (an AUTH without initial response). */
  if (shown >= 0 && (gsize) shown + 2 < line->len)
    piece.redacted = g_strdup_printf ("%.*s%s[redacted]\r\n", (int) shown, line->str,
                                      shown > 0 ? " " : "");
  g_array_append_val (batch->pieces, piece);
}

gboolean
smtpkit_command_batch_add_command (SmtpkitCommandBatch  *batch,
                                   const char           *verb,
                                   const char           *arg,
                                   const char *const    *options,
                                   GError              **error)
{
  Piece piece = { SMTPKIT_TRACE_COMMAND, batch->wire->len, 0, NULL, NULL };

  if (!smtpkit_codec_format_command (batch->wire, verb, arg, options, error))
    return FALSE;
  piece.size = batch->wire->len - piece.offset;
  batch->n_commands++;
  g_array_append_val (batch->pieces, piece);
  return TRUE;
}

void
smtpkit_command_batch_add_data (SmtpkitCommandBatch *batch,
                                GBytes              *data)
{
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);
  Piece piece = { SMTPKIT_TRACE_DATA, batch->wire->len, size, NULL, NULL };

  /* Small data joins the commands, so that the batch is one write (one
   * TLS record); larger data is written from where it is. */
  if (size <= SMALL_DATA)
    g_string_append_len (batch->wire, (const char *) bytes, size);
  else
    piece.bytes = g_bytes_ref (data);
  g_array_append_val (batch->pieces, piece);
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

static const guint8 *
piece_data (SmtpkitCommandBatch *batch,
            const Piece         *piece)
{
  return piece->bytes ? g_bytes_get_data (piece->bytes, NULL) : (const guint8 *) batch->wire->str + piece->offset;
}

/* Shows each piece to the trace, as it may be shown. */
static void
batch_trace (SmtpkitCommandBatch *batch,
             SmtpkitTraceFunc     trace,
             gpointer             trace_data)
{
  for (guint i = 0; i < batch->pieces->len; i++)
    {
      const Piece *piece = &g_array_index (batch->pieces, Piece, i);

      if (piece->redacted)
        trace (trace_data, piece->kind, (const guint8 *) piece->redacted,
               strlen (piece->redacted), NULL);
      else
        trace (trace_data, piece->kind, piece_data (batch, piece), piece->size, NULL);
    }
}

/* What goes on the wire, as vectors into the batch (which must outlive
 * them): commands side by side in one, each piece of data in its own. */
static void
batch_vectors (SmtpkitCommandBatch *batch,
               GArray              *vectors)
{
  for (guint i = 0; i < batch->pieces->len; i++)
    {
      const Piece *piece = &g_array_index (batch->pieces, Piece, i);
      GOutputVector vector = { piece_data (batch, piece), piece->size };

      if (piece->size == 0)
        continue;
      if (piece->bytes == NULL && vectors->len > 0)
        {
          GOutputVector *last = &g_array_index (vectors, GOutputVector, vectors->len - 1);
          if ((const guint8 *) last->buffer + last->size == vector.buffer)
            {
              last->size += vector.size;
              continue;
            }
        }
      g_array_append_val (vectors, vector);
    }
}

static guint
batch_expected_replies (SmtpkitCommandBatch *batch)
{
  return batch->replies_set ? batch->n_replies : batch->n_commands;
}

/* ---- the engine ------------------------------------------------------- */

static void stop_watching (SmtpkitEngine *engine);
static void clock_update (SmtpkitEngine *engine);

static void
engine_clear (SmtpkitEngine *engine)
{
  smtpkit_engine_close (engine);
  stop_watching (engine);
  g_clear_object (&engine->stream);
  g_clear_pointer (&engine->inbuf, g_byte_array_unref);
  g_clear_pointer (&engine->vectors, g_array_unref);
  smtpkit_reply_parser_free (engine->parser);
  g_clear_error (&engine->read_error);
  g_clear_pointer (&engine->closing_reply, smtpkit_reply_unref);
  g_clear_pointer (&engine->spare, g_free);
  g_clear_pointer (&engine->spare_encoded, g_byte_array_unref);
}

static void
engine_take_stream (SmtpkitEngine *engine,
                    GIOStream     *stream)
{
  GInputStream *in = g_io_stream_get_input_stream (stream);
  GOutputStream *out = g_io_stream_get_output_stream (stream);

  stop_watching (engine);
  g_set_object (&engine->stream, stream);
  engine->in = NULL;
  engine->out = NULL;
  if (G_IS_POLLABLE_INPUT_STREAM (in) &&
      g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)) &&
      G_IS_POLLABLE_OUTPUT_STREAM (out) &&
      g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    {
      engine->in = G_POLLABLE_INPUT_STREAM (in);
      engine->out = G_POLLABLE_OUTPUT_STREAM (out);
    }
}

SmtpkitEngine *
smtpkit_engine_new (GIOStream        *stream,
                    SmtpkitTraceFunc  trace,
                    gpointer          trace_data)
{
  SmtpkitEngine *engine = g_rc_box_new0 (SmtpkitEngine);

  engine_take_stream (engine, stream);
  engine->parser = smtpkit_reply_parser_new ();
  engine->trace = trace;
  engine->trace_data = trace_data;
  engine->tracing = trace != NULL;

  return engine;
}

void
smtpkit_engine_set_tracing (SmtpkitEngine *engine,
                            gboolean       tracing)
{
  engine->tracing = tracing && engine->trace != NULL;
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
  stop_watching (engine);
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
  if (!engine->busy)
    {
      close_stream_now (engine);
      return;
    }
  /* The operation under way fails from the engine's own source, never
   * from inside the caller of this function; it closes the stream. */
  engine->abort = TRUE;
  clock_update (engine);
}

/* ---- watching the connection ------------------------------------------ */

/* Reads what the server sent into the buffer, whether or not an
 * operation waits for it: bytes nobody asked for are found there by the
 * next operation. Returns FALSE at the end of the stream or on an error
 * (kept in the engine); the watch then stops. */
static gboolean
read_available (SmtpkitEngine *engine)
{
  GError *error = NULL;
  guint8 chunk[READ_CHUNK];
  gssize n;

  /* Read on the stack, keep what came: a reply takes a few dozen bytes
   * of heap, not a whole chunk (see INBUF_KEPT). */
  n = g_pollable_input_stream_read_nonblocking (engine->in, chunk, sizeof chunk, NULL, &error);
  if (n > 0)
    {
      if (engine->inbuf == NULL)
        engine->inbuf = g_byte_array_sized_new (n);
      g_byte_array_append (engine->inbuf, chunk, n);
      if (engine->inbuf->len > INBUF_KEPT)
        engine->inbuf_large = TRUE;
      return TRUE;
    }
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_error_free (error);
      return TRUE;
    }
  if (n == 0)
    engine->eof = TRUE;
  else
    {
      g_clear_error (&engine->read_error);
      engine->read_error = error;
    }
  return FALSE;
}

static void read_replies (Op *op);
static void op_fail (Op *op, GError *error);

/* The connection is no longer watched for bytes (an error, or its end). */
static void
stop_reading (SmtpkitEngine *engine)
{
  g_clear_pointer (&engine->stream_source, g_source_destroy);
  if (engine->watch)
    smtpkit_watch_stop_reading (engine->watch);
}



static gboolean
on_readable (GObject  *stream,
             gpointer  user_data)
{
  SmtpkitEngine *engine = user_data;
  gboolean more = read_available (engine);
  Op *op = engine->op;

  if (more && engine->inbuf && engine->inbuf->len >= UNREAD_LIMIT &&
      !(op && op->state == OP_READING))
    {
      GError *error = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL,
                                   "the server sent more than %u bytes that no command "
                                   "asked for; closing the connection", UNREAD_LIMIT);

      more = FALSE;
      stop_reading (engine);
      if (op && !engine->abort)
        op_fail (op, error);
      else
        {
          g_clear_error (&engine->read_error);
          engine->read_error = error;
        }
      return G_SOURCE_REMOVE;
    }
  if (!more)
    stop_reading (engine);
  if (op && op->state == OP_READING && !engine->abort)
    read_replies (op);
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* What the watch waits for: the deadline of the wait under way, or an
 * abort at once. */
static void
clock_update (SmtpkitEngine *engine)
{
  if (engine->watch)
    smtpkit_watch_set_deadline (engine->watch, engine->abort ? SMTPKIT_WATCH_NOW
                                                              : engine->deadline);
}

/* The watch's deadline came: a wait timed out, or the engine was closed
 * under an operation; or the wait it was set for is over. */
static void
clock_fired (SmtpkitEngine *engine)
{
  Op *op = engine->op;

  if (op && engine->abort)
    op_fail (op, g_error_new_literal (SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                                      "the connection was closed"));
  else if (op && engine->deadline != 0 && g_get_monotonic_time () >= engine->deadline)
    op_fail (op, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                              "timed out after %.3g seconds waiting for the server",
                              engine->deadline_ms / 1000.0));
  else if (op == NULL)
    {
      engine->deadline = 0;
      engine->abort = FALSE;
    }
  else
    clock_update (engine);
}

static void
on_watch (SmtpkitWatchEvent  event,
          gpointer           user_data)
{
  /* What the server sent may end the operation, whose callback may let
   * the engine go. */
  SmtpkitEngine *engine = smtpkit_engine_ref (user_data);

  if (event == SMTPKIT_WATCH_READABLE)
    on_readable (NULL, engine);
  else
    clock_fired (engine);
  smtpkit_engine_unref (engine);
}

static void
stop_watching (SmtpkitEngine *engine)
{
  g_clear_pointer (&engine->stream_source, g_source_destroy);
  g_clear_pointer (&engine->watch, smtpkit_watch_free);
  g_clear_pointer (&engine->context, g_main_context_unref);
}

/* The watch lives in the thread-default context of the operations; a
 * blocking call runs in a private one, so it follows when that changes. */
static void
watch_in_current_context (SmtpkitEngine *engine)
{
  GMainContext *context = g_main_context_get_thread_default ();
  int fd = -1;

  if (context == NULL)
    context = g_main_context_default ();
  if (engine->context == context && engine->watch)
    return;

  stop_watching (engine);
  engine->context = g_main_context_ref (context);
  if (!engine->eof && engine->read_error == NULL)
    {
#ifdef G_OS_UNIX
      /* A plain socket is watched directly. (The pollable stream's source
       * wraps the socket's as a child, which GLib blocks while it is
       * dispatched, whatever the parent allows.) */
      if (G_IS_SOCKET_CONNECTION (engine->stream))
        fd = g_socket_get_fd (g_socket_connection_get_socket (G_SOCKET_CONNECTION (engine->stream)));
      else
#endif
        {
          engine->stream_source = g_pollable_input_stream_create_source (engine->in, NULL);
          g_source_set_callback (engine->stream_source, G_SOURCE_FUNC (on_readable), engine, NULL);
          g_source_set_static_name (engine->stream_source, "[smtpkit] stream");
          /* Not blocked while dispatched (which would take it out of the
           * poll set and put it back); on_readable() is safe to run again
           * from a nested main loop. */
          g_source_set_can_recurse (engine->stream_source, TRUE);
          g_source_attach (engine->stream_source, context);
          g_source_unref (engine->stream_source);
        }
    }
  engine->watch = smtpkit_watch_new (context, fd, on_watch, engine);
  clock_update (engine);
}

static void
arm_deadline (SmtpkitEngine *engine,
              guint          timeout_ms)
{
  engine->deadline_ms = timeout_ms;
  engine->deadline = timeout_ms ? g_get_monotonic_time () + (gint64) timeout_ms * 1000 : 0;
  clock_update (engine);
}

/* ---- one operation: exchange or body ---------------------------------- */

static void
op_stop_io (Op *op)
{
  g_clear_pointer (&op->cancelled, g_source_destroy);
  g_clear_pointer (&op->writable, g_source_destroy);
  g_clear_pointer (&op->body_readable, g_source_destroy);
  if (op->body_cancellable)
    g_cancellable_cancel (op->body_cancellable);
}

static void
op_unref (Op *op)
{
  SmtpkitEngine *engine;

  if (!g_atomic_ref_count_dec (&op->ref_count))
    return;
  op_stop_io (op);
  g_clear_object (&op->cancellable);
  g_clear_error (&op->error);
  g_clear_object (&op->body_cancellable);
  g_clear_pointer (&op->batch, smtpkit_command_batch_free);
  g_clear_pointer (&op->replies, g_ptr_array_unref);
  g_clear_object (&op->body);
  g_clear_pointer (&op->bytes, g_bytes_unref);
  g_free (op->body_buf);
  if (op->bdat)
    g_string_free (op->bdat, TRUE);
  g_clear_pointer (&op->refused_chunk, smtpkit_reply_unref);
  engine = op->engine;
  /* A small message's buffer serves the next (an idle session keeps
   * only this much). */
  if (op->encoded && engine->spare_encoded == NULL &&
      MAX (op->encoded_max, op->encoded->len) <= SPARE_ENCODED_MAX)
    {
      g_byte_array_set_size (op->encoded, 0);
      engine->spare_encoded = g_steal_pointer (&op->encoded);
    }
  g_clear_pointer (&op->encoded, g_byte_array_unref);
  if (engine->spare == NULL)
    {
      /* Operations follow one another on an engine: the record is
       * kept for the next, as op_new() would make it. */
      memset (op, 0, sizeof *op);
      engine->spare = op;
    }
  else
    g_free (op);
  smtpkit_engine_unref (engine);
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  Op *op = user_data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  op_fail (op, error);
  return G_SOURCE_REMOVE;
}

static Op *
op_ref (Op *op)
{
  g_atomic_ref_count_inc (&op->ref_count);
  return op;
}

/* The caller's reference lasts until the callback has returned; the
 * starting call holds one of its own until it returns. */
static Op *
op_new (SmtpkitEngine         *engine,
        GCancellable          *cancellable,
        SmtpkitEngineCallback  callback,
        gpointer               user_data)
{
  Op *op = engine->spare ? g_steal_pointer (&engine->spare) : g_new0 (Op, 1);

  g_atomic_ref_count_init (&op->ref_count);
  op->engine = smtpkit_engine_ref (engine);
  op->callback = callback;
  op->user_data = user_data;
  if (cancellable)
    op->cancellable = g_object_ref (cancellable);
  op->starting = TRUE;
  /* Arrays sized for a transaction's replies and pieces: they do not
   * grow for a usual message. */
  op->replies = g_ptr_array_new_full (8, (GDestroyNotify) smtpkit_reply_unref);
  if (engine->vectors == NULL)
    engine->vectors = g_array_sized_new (FALSE, FALSE, sizeof (GOutputVector), 4);
  op->vectors = engine->vectors;
  return op_ref (op);
}

static void
op_deliver (Op *op)
{
  op->callback (op, op->user_data);
  op_unref (op);
}

static gboolean
on_deliver_idle (gpointer user_data)
{
  op_deliver (user_data);
  return G_SOURCE_REMOVE;
}

/* The outcome goes to the callback now, from a dispatch of the main
 * context, or once the starting call has returned, from an idle source:
 * a callback never runs inside the call that started the operation. */
static void
op_complete (Op *op)
{
  op->completed = TRUE;
  if (!op->starting)
    op_deliver (op);
}

/* The starting call returns: an outcome already in waits for the main
 * context, as GTask's would. */
static void
op_started (Op *op)
{
  op->starting = FALSE;
  if (op->completed)
    {
      GSource *idle = g_idle_source_new ();

      g_source_set_callback (idle, on_deliver_idle, op, NULL);
      g_source_set_static_name (idle, "[smtpkit] operation done");
      g_source_attach (idle, g_main_context_get_thread_default ());
      g_source_unref (idle);
    }
  op_unref (op);
}

/* The operation has ended: the engine is free for the next one. */
static void
op_end (Op *op)
{
  SmtpkitEngine *engine = op->engine;

  op->done = TRUE;
  op_stop_io (op);
  engine->busy = FALSE;
  engine->op = NULL;
  engine->deadline = 0;
  engine->abort = FALSE;
  g_array_set_size (op->vectors, 0);
  /* The buffer of a few replies is kept for the next operation; a large
   * one is not held while the connection waits. */
  if (engine->inbuf && engine->inbuf->len == 0 && engine->inbuf_large)
    {
      g_clear_pointer (&engine->inbuf, g_byte_array_unref);
      engine->inbuf_large = FALSE;
    }
}

/* Ends the operation with @error (taken). Every error at this level leaves
 * the conversation in an unknown state, so the connection is closed. */
static void
op_fail (Op     *op,
         GError *error)
{
  SmtpkitEngine *engine = op->engine;

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

  op_end (op);
  engine->closed = TRUE;
  close_stream_now (engine);
  op->error = error;
  op_complete (op);
}

static void
op_succeed (Op *op)
{
  op_end (op);
  if (op->engine->closed)
    close_stream_now (op->engine);
  op_complete (op);
}

/* ---- reading replies -------------------------------------------------- */

/* Parses what is buffered; waits for more until n_replies replies are in. */
static void
read_replies (Op *op)
{
  SmtpkitEngine *engine = op->engine;

  op->state = OP_RUNNING;
  while (op->replies->len < op->n_replies)
    {
      SmtpkitReply *reply = NULL;
      GError *error = NULL;
      gsize consumed = 0;
      SmtpkitReplyParserStatus status;

      if (engine->inbuf == NULL || engine->inbuf->len == 0)
        {
          if (engine->read_error)
            {
              op_fail (op, g_error_copy (engine->read_error));
              return;
            }
          if (engine->eof)
            {
              op_fail (op, g_error_new_literal (SMTPKIT_ERROR,
                                                  SMTPKIT_ERROR_SERVER_DISCONNECTED,
                                                  "Connection unexpectedly closed"));
              return;
            }
          /* The watch calls again when the server has written. */
          op->state = OP_READING;
          arm_deadline (engine, op->timeout_ms);
          return;
        }

      status = smtpkit_reply_parser_feed (engine->parser, engine->inbuf->data,
                                          engine->inbuf->len, &consumed, &reply, &error);
      g_byte_array_remove_range (engine->inbuf, 0, consumed);
      if (status == SMTPKIT_REPLY_PARSER_ERROR)
        {
          op_fail (op, error);
          return;
        }
      if (status == SMTPKIT_REPLY_PARSER_REPLY)
        {
          if (engine->tracing)
            engine->trace (engine->trace_data, SMTPKIT_TRACE_REPLY, NULL, 0, reply);
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
  else if (op->after_replies)
    {
      op->after_replies (op);
      return;
    }

  op->terminator_sent = op->final_write = FALSE;
  op_succeed (op);
}

/* ---- writing ----------------------------------------------------------- */

static void write_some (Op *op);

static gboolean
on_writable (GObject  *stream,
             gpointer  user_data)
{
  Op *op = user_data;

  g_clear_pointer (&op->writable, g_source_destroy);
  if (op->engine->abort)
    return G_SOURCE_REMOVE;  /* the clock fails the operation */
  write_some (op);
  return G_SOURCE_REMOVE;
}

static void
write_some (Op *op)
{
  SmtpkitEngine *engine = op->engine;

  op->state = OP_RUNNING;
  while (op->next_vector < op->vectors->len)
    {
      GOutputVector *vectors = &g_array_index (op->vectors, GOutputVector, op->next_vector);
      guint n_vectors = op->vectors->len - op->next_vector;
      GError *error = NULL;
      gsize n = 0;
      GPollableReturn status;

      status = g_pollable_output_stream_writev_nonblocking (engine->out, vectors, n_vectors,
                                                            &n, NULL, &error);
      if (status == G_POLLABLE_RETURN_WOULD_BLOCK)
        {
          op->state = OP_WRITING;
          arm_deadline (engine, op->timeout_ms);
          op->writable = g_pollable_output_stream_create_source (engine->out, NULL);
          g_source_set_callback (op->writable, G_SOURCE_FUNC (on_writable), op, NULL);
          g_source_set_static_name (op->writable, "[smtpkit] writable");
          g_source_attach (op->writable, engine->context);
          g_source_unref (op->writable);
          return;
        }
      if (status == G_POLLABLE_RETURN_FAILED)
        {
          /* A write that failed did not send its end: the server cannot
           * take a message whose end it never got. */
          op_fail (op, error);
          return;
        }
      /* Past what was written, in the vectors. */
      for (guint i = 0; i < n_vectors && n > 0; i++)
        {
          gsize taken = MIN (n, vectors[i].size);

          vectors[i].buffer = (const guint8 *) vectors[i].buffer + taken;
          vectors[i].size -= taken;
          n -= taken;
        }
      while (op->next_vector < op->vectors->len &&
             g_array_index (op->vectors, GOutputVector, op->next_vector).size == 0)
        op->next_vector++;
    }

  g_array_set_size (op->vectors, 0);
  op->next_vector = 0;
  g_clear_pointer (&op->batch, smtpkit_command_batch_free);
  engine->deadline = 0;
  /* From here on, a failure leaves the delivery unknown (RFC 1047). */
  op->terminator_sent = op->final_write;
  op->after_write (op);
}

/* Writes what op->vectors hold, then calls @after_write. */
static void
op_write (Op     *op,
          void  (*after_write) (Op *op))
{

  op->next_vector = 0;
  op->after_write = after_write;
  write_some (op);
}

static void
op_write_buffer (Op            *op,
                 const guint8  *data,
                 gsize          size,
                 void         (*after_write) (Op *op))
{
  GOutputVector vector = { data, size };

  g_array_append_val (op->vectors, vector);
  op_write (op, after_write);
}

/* Anything the server sent before the command that expects it is not the
 * reply to that command: it is a protocol error, and after STARTTLS an
 * injection attempt. The watch reads what arrives while no operation
 * runs, so it is found in the buffer. */
static gboolean
check_nothing_unsolicited (SmtpkitEngine  *engine,
                           GError        **error)
{
  gsize len;

  if (engine->inbuf && engine->inbuf->len > 0)
    len = MIN (engine->inbuf->len, 80);
  else if (smtpkit_reply_parser_has_partial (engine->parser))
    len = 0;
  else if (engine->read_error)
    {
      g_propagate_error (error, g_error_copy (engine->read_error));
      return FALSE;
    }
  else if (engine->eof)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                           "Connection unexpectedly closed");
      return FALSE;
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
      g_autofree char *raw = g_strndup ((const char *) engine->inbuf->data, len);
      g_autofree char *escaped = g_strescape (raw, NULL);
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_PROTOCOL,
                   "the server sent “%s” before any command asked for a reply; "
                   "closing the connection", escaped);
      return FALSE;
    }
}

gboolean
smtpkit_engine_check_quiet (SmtpkitEngine  *engine,
                            GError        **error)
{
  if (engine->closed || engine->busy || engine->in == NULL)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                           "not connected");
      return FALSE;
    }
  /* What reached the socket since the last reply and was not read yet;
   * the TLS handshake reads the stream from here on, so the watch stops. */
  stop_watching (engine);
  if (!engine->eof && engine->read_error == NULL)
    read_available (engine);
  if (check_nothing_unsolicited (engine, error))
    return TRUE;
  smtpkit_engine_close (engine);
  return FALSE;
}

void
smtpkit_engine_set_stream (SmtpkitEngine *engine,
                           GIOStream     *stream)
{
  g_return_if_fail (!engine->busy && (engine->inbuf == NULL || engine->inbuf->len == 0));

  engine_take_stream (engine, stream);
}

static gboolean
op_start (Op       *op,
          gboolean  check_unsolicited)
{
  SmtpkitEngine *engine = op->engine;
  GCancellable *cancellable = op->cancellable;
  GError *error = NULL;

  if (engine->closed)
    {
      op->error = g_error_new_literal (SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                                       "not connected");
      op_complete (op);
      return FALSE;
    }
  if (engine->busy)
    {
      op->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PENDING,
                                       "another command is still in progress on this "
                                       "connection");
      op_complete (op);
      return FALSE;
    }
  engine->busy = TRUE;
  engine->op = op;
  if (engine->in == NULL)
    {
      op_fail (op, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                          "the transport's streams cannot be polled"));
      return FALSE;
    }
  watch_in_current_context (engine);
  if (g_cancellable_set_error_if_cancelled (cancellable, &error) ||
      (check_unsolicited && !check_nothing_unsolicited (engine, &error)))
    {
      op_fail (op, error);
      return FALSE;
    }
  if (cancellable)
    {
      op->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancelled, G_SOURCE_FUNC (on_cancelled), op, NULL);
      g_source_attach (op->cancelled, engine->context);
      g_source_unref (op->cancelled);
    }
  return TRUE;
}

/* After the engine called out (a trace), the caller may have closed the
 * connection: the clock then fails the operation. */
static gboolean
op_aborted (Op *op)
{
  return op->engine->abort;
}

/* ---- exchange ---------------------------------------------------------- */

static void find_refused_chunk (Op *op);

static void
exchange_run (Op                  *op,
              SmtpkitCommandBatch *batch,
              guint                timeout_ms)
{
  SmtpkitEngine *engine = op->engine;

  op->n_replies = batch_expected_replies (batch);
  op->per_recipient = batch->per_recipient;
  op->timeout_ms = timeout_ms;

  op->batch = batch;
  op->final_write = batch->final;

  /* A greeting is a reply expected with no command before it. */
  if (!op_start (op, batch->pieces->len > 0))
    return;
  if (batch->pieces->len == 0)
    {
      read_replies (op);
      return;
    }

  if (engine->tracing)
    {
      batch_trace (batch, engine->trace, engine->trace_data);
      if (op_aborted (op))
        return;
    }

  batch_vectors (batch, op->vectors);
  op_write (op, read_replies);
}

void
smtpkit_engine_exchange (SmtpkitEngine         *engine,
                         SmtpkitCommandBatch   *batch,
                         guint                  timeout_ms,
                         GCancellable          *cancellable,
                         SmtpkitEngineCallback  callback,
                         gpointer               user_data)
{
  Op *op = op_new (engine, cancellable, callback, user_data);

  exchange_run (op, batch, timeout_ms);
  op_started (op);
}

/* The replies to the chunks come first: the final ones are the rest. */
static GPtrArray *
final_replies (Op        *op,
               GPtrArray *replies)
{
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) smtpkit_reply_unref);

  for (guint i = op->chunks_sent; replies && i < replies->len; i++)
    g_ptr_array_add (result, smtpkit_reply_ref (g_ptr_array_index (replies, i)));
  return result;
}

GPtrArray *
smtpkit_engine_result_take (SmtpkitEngineResult  *result,
                            SmtpkitReply        **refused_chunk,
                            GPtrArray           **partial,
                            GError              **error)
{
  Op *op = result;

  g_return_val_if_fail (op->completed, NULL);

  if (refused_chunk)
    {
      find_refused_chunk (op);
      *refused_chunk = op->refused_chunk ? smtpkit_reply_ref (op->refused_chunk) : NULL;
    }
  if (op->error)
    {
      if (partial)
        *partial = op->chunked ? final_replies (op, op->replies) : g_ptr_array_ref (op->replies);
      g_propagate_error (error, g_steal_pointer (&op->error));
      return NULL;
    }
  return op->chunked ? final_replies (op, op->replies) : g_ptr_array_ref (op->replies);
}

/* ---- the same, as GIO asynchronous calls ------------------------------ */

typedef struct
{
  GPtrArray *replies;
  GPtrArray *partial;
} AsyncOutcome;

static void
async_outcome_free (AsyncOutcome *outcome)
{
  g_clear_pointer (&outcome->replies, g_ptr_array_unref);
  g_clear_pointer (&outcome->partial, g_ptr_array_unref);
  g_free (outcome);
}

static void
on_async_done (SmtpkitEngineResult *result,
               gpointer             user_data)
{
  GTask *task = user_data;
  AsyncOutcome *outcome = g_new0 (AsyncOutcome, 1);
  GError *error = NULL;

  outcome->replies = smtpkit_engine_result_take (result, NULL, &outcome->partial, &error);
  g_task_set_task_data (task, outcome, (GDestroyNotify) async_outcome_free);
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static GPtrArray *
async_finish (GAsyncResult  *result,
              gpointer       source_tag,
              GPtrArray    **partial,
              GError       **error)
{
  AsyncOutcome *outcome;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  outcome = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    {
      if (partial)
        *partial = g_steal_pointer (&outcome->partial);
      return NULL;
    }
  return g_steal_pointer (&outcome->replies);
}

static GTask *
async_task_new (gpointer             source_tag,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  /* The function, not GLib's macro: the macro would also name the task
   * "source_tag" (the variable's name), a copy made for nothing. */
  (g_task_set_source_tag) (task, source_tag);
  return task;
}

void
smtpkit_engine_exchange_async (SmtpkitEngine       *engine,
                               SmtpkitCommandBatch *batch,
                               guint                timeout_ms,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task = async_task_new (smtpkit_engine_exchange_async, cancellable, callback, user_data);

  smtpkit_engine_exchange (engine, batch, timeout_ms, cancellable, on_async_done, task);
}

GPtrArray *
smtpkit_engine_exchange_finish (SmtpkitEngine  *engine,
                                GAsyncResult   *result,
                                GPtrArray     **partial,
                                GError       **error)
{
  return async_finish (result, smtpkit_engine_exchange_async, partial, error);
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
  GTask *task = async_task_new (smtpkit_engine_send_body_async, cancellable, callback, user_data);

  smtpkit_engine_send_body (engine, body, NULL, FALSE, convert_newlines, n_replies,
                            block_timeout_ms, final_timeout_ms, cancellable, on_async_done, task);
}

GPtrArray *
smtpkit_engine_send_body_finish (SmtpkitEngine  *engine,
                                 GAsyncResult   *result,
                                 GPtrArray     **partial,
                                 GError       **error)
{
  return async_finish (result, smtpkit_engine_send_body_async, partial, error);
}

/* ---- message body ------------------------------------------------------ */

static void read_body_chunk (Op *op);
static void send_chunk (Op *op, const guint8 *as_is, gsize n_as_is, gboolean last);

/* The body buffer is emptied for the next piece (its allocation stays). */
static void
encoded_clear (Op *op)
{
  op->encoded_max = MAX (op->encoded_max, op->encoded->len);
  g_byte_array_set_size (op->encoded, 0);
}

static void
encoded_written (Op *op)
{
  encoded_clear (op);
  read_body_chunk (op);
}

/* @n bytes of the message are at @data (body_buf, or the message given as
 * bytes); 0 at its end. */
/* How much of a piece of the body, in whole lines, is its own encoding
 * (DATA's or BDAT's) when it may be sent as it is, from where it was
 * read; 0 when it must go through the encoder. Only for pieces worth a
 * write of their own: small ones are gathered with what follows. A BDAT
 * chunk is one piece: one short of half the chunk under way (a pipe's
 * or a socket's read) is gathered too, so that the chunks still grow and
 * each reply the server makes answers for as much. */
static gsize
body_passes_as_is (Op           *op,
                   const guint8 *data,
                   gsize         n)
{
  gsize lines = n;

  if (op->encoded->len > 0 || n < SMALL_DATA || (op->chunked && n < op->chunk_size / 2))
    return 0;
  while (lines > 0 && data[lines - 1] != '\n')
    lines--;
  if (lines < SMALL_DATA || !smtpkit_data_encoder_pass (&op->encoder, data, lines))
    return 0;
  return lines;
}

static void
body_chunk_read (Op           *op,
                 const guint8 *data,
                 gssize        n)
{
  SmtpkitEngine *engine = op->engine;
  gsize as_is = n > 0 ? body_passes_as_is (op, data, n) : 0;

  op->state = OP_RUNNING;
  if (as_is > 0)
    {
      /* The partial line after the whole ones begins the next piece,
       * which may then pass too. */
      if (op->bytes)
        op->bytes_read -= n - as_is;
      else
        {
          op->held_at = as_is;
          op->held = n - as_is;
        }
    }
  else if (n > 0)
    smtpkit_data_encoder_feed (&op->encoder, data, n, op->encoded);
  else if (op->chunked)
    smtpkit_data_encoder_finish_chunked (&op->encoder, op->encoded);
  else
    smtpkit_data_encoder_finish (&op->encoder, op->encoded);

  /* Small pieces are gathered into one write: a short message and its
   * terminator go out together. */
  if (n > 0 && as_is == 0 && op->encoded->len < (op->chunked ? op->chunk_size : BODY_CHUNK))
    {
      read_body_chunk (op);
      return;
    }
  if (op->chunked)
    {
      send_chunk (op, data, as_is, n == 0);
      return;
    }

  if (engine->tracing)
    {
      if (as_is > 0)
        engine->trace (engine->trace_data, SMTPKIT_TRACE_DATA, data, as_is, NULL);
      if (op->encoded->len > 0)
        engine->trace (engine->trace_data, SMTPKIT_TRACE_DATA, op->encoded->data,
                       op->encoded->len, NULL);
      if (op_aborted (op))
        return;
    }

  /* What passed as it is goes from where it is, the encoded rest after
   * it, in one write. */
  if (as_is > 0)
    {
      GOutputVector vector = { data, as_is };

      g_array_append_val (op->vectors, vector);
    }
  if (n == 0)
    {
      op->final_write = TRUE;
      op->timeout_ms = op->final_timeout_ms;
      op_write_buffer (op, op->encoded->data, op->encoded->len, read_replies);
    }
  else
    op_write_buffer (op, op->encoded->data, op->encoded->len, encoded_written);
}

/* @n more bytes of the stream are in, after the line held back (0: the
 * stream ended). */
static void
body_stream_read (Op    *op,
                  gssize n)
{
  gsize held = op->held;

  op->body_buf_filled = n > 0 && held + n == op->body_buf_size;
  op->held = 0;
  if (n > 0)
    {
      body_chunk_read (op, op->body_buf, held + n);
      return;
    }
  /* The end: what was held back goes through the encoder first. */
  smtpkit_data_encoder_feed (&op->encoder, op->body_buf, held, op->encoded);
  body_chunk_read (op, op->body_buf, 0);
}

static void
on_body_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Op *op = user_data;  /* the read's reference */
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (op->done)
    g_clear_error (&error);
  else if (n < 0)
    op_fail (op, error);
  else
    body_stream_read (op, n);
  op_unref (op);
}

static gboolean
on_body_readable (GObject  *stream,
                  gpointer  user_data)
{
  Op *op = user_data;

  g_clear_pointer (&op->body_readable, g_source_destroy);
  if (!op->engine->abort)
    read_body_chunk (op);
  return G_SOURCE_REMOVE;
}

static void
bytes_as_is_written (Op *op)
{
  op->timeout_ms = op->final_timeout_ms;
  read_replies (op);
}

/* A message that needs no change goes from where it is, then the
 * terminator: no copy. A small one is copied beside the terminator, so
 * that both go in one write (one TLS record). */
static void
send_bytes_as_is (Op *op)
{
  static const guint8 terminator[] = { '.', '\r', '\n' };
  SmtpkitEngine *engine = op->engine;
  gsize size;
  const guint8 *data = g_bytes_get_data (op->bytes, &size);
  GOutputVector vectors[2] = { { data, size }, { terminator, sizeof terminator } };
  guint n_vectors = G_N_ELEMENTS (vectors);

  op->state = OP_RUNNING;
  if (size <= SMALL_DATA)
    {
      g_byte_array_append (op->encoded, data, size);
      g_byte_array_append (op->encoded, terminator, sizeof terminator);
      vectors[0].buffer = op->encoded->data;
      vectors[0].size = op->encoded->len;
      n_vectors = 1;
    }
  if (engine->tracing)
    {
      for (guint i = 0; i < n_vectors; i++)
        engine->trace (engine->trace_data, SMTPKIT_TRACE_DATA, vectors[i].buffer,
                       vectors[i].size, NULL);
      if (op_aborted (op))
        return;
    }
  op->final_write = TRUE;
  g_array_append_vals (op->vectors, vectors, n_vectors);
  op_write (op, bytes_as_is_written);
}

static void
read_body_chunk_once (Op *op)
{
  SmtpkitEngine *engine = op->engine;
  GError *error = NULL;
  gsize room;
  gssize n;

  /* Reading the caller's stream is not waiting for the server. */
  engine->deadline = 0;
  op->state = OP_READING_BODY;
  if (op->bytes_as_is)
    {
      send_bytes_as_is (op);
      return;
    }
  if (op->bytes)
    {
      /* A message given as bytes is checked and sent, or encoded, from
       * where it is, a piece at a time: a piece small enough to stay in
       * the processor's cache between its check and its write, large
       * enough to cost few writes. */
      gsize size;
      const guint8 *data = g_bytes_get_data (op->bytes, &size);
      gsize n_bytes = MIN (size - op->bytes_read, BYTES_PIECE);

      op->bytes_read += n_bytes;
      body_chunk_read (op, data + op->bytes_read - n_bytes, n_bytes);
      return;
    }
  /* A line held back from the last piece starts the buffer. */
  if (op->held > 0 && op->held_at > 0)
    memmove (op->body_buf, op->body_buf + op->held_at, op->held);
  op->held_at = 0;
  if (op->body_buf_filled && op->body_buf_size < (op->chunked ? CHUNK_MAX : STREAM_READ_MAX))
    {
      op->body_buf_size *= 2;
      op->body_buf = g_realloc (op->body_buf, op->body_buf_size);
    }
  room = op->body_buf_size - op->held;
  /* BDAT: a read makes at most the chunk under way. */
  if (op->chunked)
    room = MIN (room, op->chunk_size);
  if (!G_IS_POLLABLE_INPUT_STREAM (op->body) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (op->body)))
    {
      /* Inside a blocking call the thread waits for this operation
       * anyway: the stream is read where it is, not in a worker thread
       * of GIO's for each chunk. */
      if (smtpkit_sync_is_private_context (engine->context))
        {
          n = g_input_stream_read (op->body, op->body_buf + op->held, room,
                                   op->cancellable, &error);
          if (n < 0)
            op_fail (op, error);
          else
            body_stream_read (op, n);
          return;
        }
      if (op->body_cancellable == NULL)
        op->body_cancellable = g_cancellable_new ();
      g_input_stream_read_async (op->body, op->body_buf + op->held, room,
                                 G_PRIORITY_DEFAULT, op->body_cancellable, on_body_read,
                                 op_ref (op));
      return;
    }

  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (op->body),
                                                op->body_buf + op->held, room,
                                                NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_error_free (error);
      op->body_readable = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (op->body),
                                                                 NULL);
      g_source_set_callback (op->body_readable, G_SOURCE_FUNC (on_body_readable), op, NULL);
      g_source_attach (op->body_readable, engine->context);
      g_source_unref (op->body_readable);
      return;
    }
  if (n < 0)
    op_fail (op, error);
  else
    body_stream_read (op, n);
}

/* The next piece of the body. A write that completes at once asks for
 * the next from inside the last: the loop takes it, so that a long
 * message read from where it is does not nest a call per chunk. */
static void
read_body_chunk (Op *op)
{
  if (op->reading_body)
    {
      op->read_again = TRUE;
      return;
    }
  op_ref (op);
  op->reading_body = TRUE;
  do
    {
      op->read_again = FALSE;
      read_body_chunk_once (op);
    }
  while (op->read_again && !op->done);
  op->reading_body = FALSE;
  op_unref (op);
}

/* ---- BDAT chunks -------------------------------------------------------- */

#define CHUNKS_IN_FLIGHT 16

/* The first reply to a chunk that is not a success. */
static void
find_refused_chunk (Op *op)
{
  for (guint i = 0; i < op->chunks_sent && i < op->replies->len && op->refused_chunk == NULL; i++)
    {
      SmtpkitReply *reply = g_ptr_array_index (op->replies, i);

      if (smtpkit_reply_get_code (reply) / 100 != 2)
        op->refused_chunk = smtpkit_reply_ref (reply);
    }
}

/* Reads the next chunk of the message, unless the server refused one:
 * then only the replies still due are read, and nothing more is sent. */
static void
chunk_replies_read (Op *op)
{

  find_refused_chunk (op);
  if (op->refused_chunk)
    {
      op->after_replies = NULL;
      op->n_replies = op->chunks_sent;
      read_replies (op);
      return;
    }
  op->state = OP_RUNNING;
  read_body_chunk (op);
}

/* Every reply is in. */
static void
chunk_replies_read_last (Op *op)
{
  op->after_replies = NULL;
  op->terminator_sent = op->final_write = FALSE;
  op_succeed (op);
}

/* A chunk went out: more follow while few enough are unanswered. */
static void
chunk_written (Op *op)
{
  guint unanswered;

  encoded_clear (op);
  op->chunks_sent++;
  op->chunk_size = MIN (op->chunk_size * 2, CHUNK_MAX);
  unanswered = op->chunks_sent - MIN (op->replies->len, op->chunks_sent);
  /* Replies already read are looked at without waiting for more. */
  op->n_replies = op->chunks_sent - MIN (unanswered, CHUNKS_IN_FLIGHT - 1);
  op->after_replies = chunk_replies_read;
  read_replies (op);
}

/* The next chunk: the lines at @as_is, sent from where they were read,
 * or else what the encoder made. */
static void
send_chunk (Op           *op,
            const guint8 *as_is,
            gsize         n_as_is,
            gboolean      last)
{
  SmtpkitEngine *engine = op->engine;
  GOutputVector vectors[2] = {
    { NULL, 0 },
    { op->encoded->data, op->encoded->len },
  };

  if (n_as_is > 0)
    {
      vectors[1].buffer = as_is;
      vectors[1].size = n_as_is;
    }
  g_string_printf (op->bdat, "BDAT %" G_GSIZE_FORMAT "%s\r\n", vectors[1].size,
                   last ? " LAST" : "");
  vectors[0].buffer = op->bdat->str;
  vectors[0].size = op->bdat->len;
  if (engine->tracing)
    {
      engine->trace (engine->trace_data, SMTPKIT_TRACE_COMMAND, (const guint8 *) op->bdat->str,
                     op->bdat->len, NULL);
      if (vectors[1].size > 0)
        engine->trace (engine->trace_data, SMTPKIT_TRACE_DATA, vectors[1].buffer,
                       vectors[1].size, NULL);
      if (op_aborted (op))
        return;
    }

  g_array_append_vals (op->vectors, vectors, vectors[1].size > 0 ? 2 : 1);
  if (!last)
    {
      op_write (op, chunk_written);
      return;
    }
  op->final_write = TRUE;
  op->timeout_ms = op->final_timeout_ms;
  op->per_recipient = op->n_final_replies > 1;
  op->n_replies = op->chunks_sent + op->n_final_replies;
  op->after_replies = chunk_replies_read_last;
  op_write (op, read_replies);
}

/* The body operations, DATA's and BDAT's, start alike. */
static void
body_op_run (SmtpkitEngine         *engine,
             gboolean               chunked,
             GInputStream          *body,
             GBytes                *bytes,
             gboolean               bytes_as_is,
             gboolean               convert_newlines,
             guint                  n_replies,
             guint                  block_timeout_ms,
             guint                  final_timeout_ms,
             GCancellable          *cancellable,
             SmtpkitEngineCallback  callback,
             gpointer               user_data)
{
  Op *op = op_new (engine, cancellable, callback, user_data);

  if (bytes)
    {
      op->bytes = g_bytes_ref (bytes);
      op->bytes_as_is = bytes_as_is;
    }
  else
    {
      op->body = g_object_ref (body);
      op->body_buf_size = BODY_CHUNK;
      op->body_buf = g_malloc (op->body_buf_size);
    }
  op->encoded = engine->spare_encoded ? g_steal_pointer (&engine->spare_encoded)
                                      : g_byte_array_new ();
  op->timeout_ms = block_timeout_ms;
  op->final_timeout_ms = final_timeout_ms;
  op->chunked = chunked;
  if (chunked)
    {
      op->chunk_size = BODY_CHUNK;
      op->bdat = g_string_sized_new (32);
      op->n_final_replies = n_replies;
      smtpkit_data_encoder_init_chunked (&op->encoder, convert_newlines);
    }
  else
    {
      op->n_replies = n_replies;
      op->per_recipient = TRUE;
      smtpkit_data_encoder_init (&op->encoder, convert_newlines);
    }

  if (op_start (op, TRUE))
    read_body_chunk (op);
  op_started (op);
}

void
smtpkit_engine_send_chunks (SmtpkitEngine         *engine,
                            GInputStream          *body,
                            gboolean               convert_newlines,
                            guint                  n_replies,
                            guint                  block_timeout_ms,
                            guint                  final_timeout_ms,
                            GCancellable          *cancellable,
                            SmtpkitEngineCallback  callback,
                            gpointer               user_data)
{
  body_op_run (engine, TRUE, body, NULL, FALSE, convert_newlines, n_replies, block_timeout_ms,
               final_timeout_ms, cancellable, callback, user_data);
}

void
smtpkit_engine_send_body (SmtpkitEngine         *engine,
                          GInputStream          *stream,
                          GBytes                *bytes,
                          gboolean               as_is,
                          gboolean               convert_newlines,
                          guint                  n_replies,
                          guint                  block_timeout_ms,
                          guint                  final_timeout_ms,
                          GCancellable          *cancellable,
                          SmtpkitEngineCallback  callback,
                          gpointer               user_data)
{
  g_return_if_fail ((stream == NULL) != (bytes == NULL));

  body_op_run (engine, FALSE, stream, bytes, as_is && bytes, convert_newlines, n_replies,
               block_timeout_ms, final_timeout_ms, cancellable, callback, user_data);
}
