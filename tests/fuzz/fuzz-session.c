/* fuzz-session.c: a whole client session against a server that sends
 * the input
 *
 * The first two bytes of the input configure the client: the FLAG_ bits
 * (SMTP or LMTP, pipelining, chunking, streaming, newline conversion,
 * login, how many bytes each read gets), then the MORE_ bits (other
 * commands, HELO, an envelope with DSN). The rest is what the server
 * sends, in turns separated by NUL bytes: the first is there from the
 * start (the greeting); each further one arrives when the client has
 * read everything and waits for more. After the last, the server closes
 * the connection. The scenario files give such inputs:
 * their send steps, grouped between expect steps.
 *
 * The client, through the public API over an in-process transport,
 * connects, sends EHLO (LHLO) or HELO, logs in when asked, sends NOOP,
 * RSET, VRFY, EXPN and HELP when asked, sends a message to three
 * recipients (with sendmail(), sendmail_stream() or send()) and quits. Each call must succeed or fail with a
 * GError, nothing may wait (every wait is bounded by a short timeout),
 * and once the client is dropped every object must be finalized.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <smtpkit.h>

#include "fuzz-common.h"

#define FLAG_LMTP            (1 << 0)
#define FLAG_STREAM          (1 << 1) /* sendmail_stream() rather than sendmail() */
#define FLAG_KEEP_NEWLINES   (1 << 2) /* convert-newlines off */
#define FLAG_NO_PIPELINING   (1 << 3)
#define FLAG_NO_CHUNKING     (1 << 4)
#define FLAG_LOGIN           (1 << 5)
#define FLAG_READ_SIZE_SHIFT 6        /* two bits: see read_sizes */

static const gsize read_sizes[] = { G_MAXSIZE, 1, 3, 64 };

#define MORE_COMMANDS (1 << 0) /* NOOP, RSET, VRFY, EXPN, HELP */
#define MORE_HELO     (1 << 1) /* HELO rather than EHLO */
#define MORE_ENVELOPE (1 << 2) /* send() with DSN parameters */

/* A bound on each wait, in seconds; the server never makes the client
 * wait, so this only ends a session that would otherwise hang. */
#define CLIENT_TIMEOUT 0.5

static const char message[] = "From: alice@example.org\r\n"
                              "To: bob@example.org, carol@example.org, dave@example.net\r\n"
                              "Subject: fuzz\r\n"
                              "\r\n"
                              ".a line that starts with a dot\r\n"
                              "a bare LF\n"
                              "\xc3\xa9t\xc3\xa9\r\n"
                              ".\r\n"
                              "the end, without a line break";

static const char *const recipients[] = {
  "bob@example.org",
  "carol@example.org",
  "dave@example.net",
  NULL,
};

/* ---- the server's side: an input stream of turns ------------------------ */

#define FUZZ_TYPE_TURN_STREAM (fuzz_turn_stream_get_type ())
G_DECLARE_FINAL_TYPE (FuzzTurnStream, fuzz_turn_stream, FUZZ, TURN_STREAM, GInputStream)

struct _FuzzTurnStream
{
  GInputStream parent_instance;

  GPtrArray *turns; /* (element-type GBytes) */
  guint next_turn;
  GBytes *current; /* the turn being read, or NULL */
  gsize pos;
  gsize read_size; /* at most this many bytes per read */
  GMemoryOutputStream *written; /* what the client sent */
  gsize answered;   /* how much of it the turns so far answer */
  gboolean waited;  /* the client waited a while for more */
};

static void fuzz_turn_stream_pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FuzzTurnStream, fuzz_turn_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      fuzz_turn_stream_pollable_iface_init))

static gsize
pending (FuzzTurnStream *self)
{
  return self->current != NULL ? g_bytes_get_size (self->current) - self->pos : 0;
}

/* The server sends its next turn, or closes: once the client has read
 * the last one, and written since (a command to answer) or waited. */
static void
next_turn (FuzzTurnStream *self)
{
  gsize written = g_memory_output_stream_get_data_size (self->written);

  if (pending (self) > 0 || self->next_turn >= self->turns->len ||
      (written == self->answered && !self->waited))
    return;
  self->answered = written;
  self->waited = FALSE;
  g_clear_pointer (&self->current, g_bytes_unref);
  self->current = g_bytes_ref (self->turns->pdata[self->next_turn++]);
  self->pos = 0;
}

/* Whether a read would find something: bytes of this turn, the next turn
 * (the client wrote since), or the end. */
static gboolean
turn_due (FuzzTurnStream *self)
{
  return pending (self) > 0 || self->waited ||
         (self->next_turn < self->turns->len &&
          g_memory_output_stream_get_data_size (self->written) != self->answered) ||
         (self->next_turn >= self->turns->len);
}

static gboolean
at_eof (FuzzTurnStream *self)
{
  return pending (self) == 0 && self->next_turn >= self->turns->len;
}

static gssize
turn_read_nonblocking (GPollableInputStream  *stream,
                       void                  *buffer,
                       gsize                  count,
                       GError               **error)
{
  FuzzTurnStream *self = FUZZ_TURN_STREAM (stream);
  gsize n = MIN (MIN (count, pending (self)), self->read_size);

  if (n == 0 && count > 0)
    {
      next_turn (self);
      n = MIN (MIN (count, pending (self)), self->read_size);
    }
  if (n == 0 && !at_eof (self) && count > 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "no data yet");
      return -1;
    }
  if (n > 0)
    memcpy (buffer, (const guint8 *) g_bytes_get_data (self->current, NULL) + self->pos, n);
  self->pos += n;
  return n;
}

static gboolean
turn_is_readable (GPollableInputStream *stream)
{
  FuzzTurnStream *self = FUZZ_TURN_STREAM (stream);

  return pending (self) > 0 || at_eof (self);
}

/* Ready when a read would find something: the client's watch stays
 * quiet while there is nothing, as a socket's would. */
typedef struct
{
  GSource source;
  FuzzTurnStream *stream;
  guint quiet_polls; /* main loop rounds with nothing to read */
} TurnSource;

/* A client whose main loop has gone round this many times with nothing
 * to read is waiting: it gets the next turn (a reply split across turns,
 * or one that came unasked). Counting rounds rather than time keeps
 * every run of an input the same, and the fuzzer never sleeps. */
#define TURN_PATIENCE_POLLS 3

static gboolean
turn_source_prepare (GSource *source,
                     gint    *timeout)
{
  TurnSource *turn = (TurnSource *) source;

  *timeout = -1;
  if (turn_due (turn->stream))
    {
      turn->quiet_polls = 0;
      return TRUE;
    }
  if (++turn->quiet_polls >= TURN_PATIENCE_POLLS)
    {
      turn->stream->waited = TRUE;
      turn->quiet_polls = 0;
      return TRUE;
    }
  *timeout = 0;
  return FALSE;
}

static gboolean
turn_source_check (GSource *source)
{
  return turn_due (((TurnSource *) source)->stream);
}

static gboolean
turn_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  GPollableSourceFunc func = (GPollableSourceFunc) callback;

  return func ? func (G_OBJECT (((TurnSource *) source)->stream), user_data) : G_SOURCE_CONTINUE;
}

static void
turn_source_finalize (GSource *source)
{
  g_object_unref (((TurnSource *) source)->stream);
}

static GSourceFuncs turn_source_funcs = {
  turn_source_prepare, turn_source_check, turn_source_dispatch, turn_source_finalize, NULL, NULL,
};

static GSource *
turn_create_source (GPollableInputStream *stream,
                    GCancellable         *cancellable)
{
  GSource *source = g_source_new (&turn_source_funcs, sizeof (TurnSource));

  ((TurnSource *) source)->stream = g_object_ref (FUZZ_TURN_STREAM (stream));
  if (cancellable)
    {
      g_autoptr (GSource) cancelled = g_cancellable_source_new (cancellable);

      g_source_set_dummy_callback (cancelled);
      g_source_add_child_source (source, cancelled);
    }
  return source;
}

static gboolean
turn_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static void
fuzz_turn_stream_pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = turn_can_poll;
  iface->is_readable = turn_is_readable;
  iface->create_source = turn_create_source;
  iface->read_nonblocking = turn_read_nonblocking;
}

/* A blocking read does not wait either: it takes the next turn. */
static gssize
turn_read (GInputStream  *stream,
           void          *buffer,
           gsize          count,
           GCancellable  *cancellable,
           GError       **error)
{
  FuzzTurnStream *self = FUZZ_TURN_STREAM (stream);

  next_turn (self);
  return turn_read_nonblocking (G_POLLABLE_INPUT_STREAM (self), buffer, count, error);
}

static void
fuzz_turn_stream_finalize (GObject *object)
{
  FuzzTurnStream *self = FUZZ_TURN_STREAM (object);

  g_clear_pointer (&self->current, g_bytes_unref);
  g_ptr_array_unref (self->turns);
  g_clear_object (&self->written);
  G_OBJECT_CLASS (fuzz_turn_stream_parent_class)->finalize (object);
}

static void
fuzz_turn_stream_class_init (FuzzTurnStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fuzz_turn_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = turn_read;
}

static void
fuzz_turn_stream_init (FuzzTurnStream *self)
{
}

/* ---- the transport: connects to the stream of the current input ------------ */

#define FUZZ_TYPE_TRANSPORT (fuzz_transport_get_type ())
G_DECLARE_FINAL_TYPE (FuzzTransport, fuzz_transport, FUZZ, TRANSPORT, GObject)

struct _FuzzTransport
{
  GObject parent_instance;
};

/* What the next connection carries; set for each input. */
static GIOStream *next_stream;

static void
fuzz_transport_connect_async (SmtpkitTransport    *transport,
                              const char          *host,
                              guint16              port,
                              GSocketAddress      *source_address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr (GTask) task = g_task_new (transport, cancellable, callback, user_data);

  if (next_stream == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                             "the fuzz transport connects once per input");
  else
    g_task_return_pointer (task, g_steal_pointer (&next_stream), g_object_unref);
}

static GIOStream *
fuzz_transport_connect_finish (SmtpkitTransport  *transport,
                               GAsyncResult      *result,
                               GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fuzz_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = fuzz_transport_connect_async;
  iface->connect_finish = fuzz_transport_connect_finish;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (FuzzTransport, fuzz_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SMTPKIT_TYPE_TRANSPORT,
                                                      fuzz_transport_iface_init))

static void
fuzz_transport_class_init (FuzzTransportClass *klass)
{
}

static void
fuzz_transport_init (FuzzTransport *self)
{
}

/* ---- the session ------------------------------------------------------------- */

/* A call returned @result (NULL or not) with @error: one or the other. */
static void
check_outcome (const char    *call,
               gconstpointer  result,
               const GError  *error)
{
  if (fuzz_verbose)
    g_printerr ("fuzz-session: %s: %s\n", call, error != NULL ? error->message : "ok");
  if (result != NULL)
    {
      fuzz_check (error == NULL);
      return;
    }
  fuzz_check (error != NULL);
  fuzz_check (error->domain == SMTPKIT_ERROR || error->domain == G_IO_ERROR);
  fuzz_check (error->message != NULL);
}

/* What the client does with a reply: check it, drop it. */
static void
check_reply (const char   *call,
             SmtpkitReply *reply,
             GError       *error)
{
  check_outcome (call, reply, error);
  g_clear_pointer (&reply, smtpkit_reply_unref);
  g_clear_error (&error);
}

static void
run_other_commands (SmtpkitClient *client)
{
  GError *error = NULL;
  SmtpkitReply *reply;

  reply = smtpkit_client_noop (client, NULL, &error);
  check_reply ("noop", reply, g_steal_pointer (&error));
  reply = smtpkit_client_rset (client, NULL, &error);
  check_reply ("rset", reply, g_steal_pointer (&error));
  reply = smtpkit_client_verify (client, "bob", NULL, &error);
  check_reply ("verify", reply, g_steal_pointer (&error));
  reply = smtpkit_client_expn (client, "staff", NULL, &error);
  check_reply ("expn", reply, g_steal_pointer (&error));
  reply = smtpkit_client_help (client, NULL, NULL, &error);
  check_reply ("help", reply, g_steal_pointer (&error));
}

/* send(): DSN parameters, and every part of the result read. */
static void
run_send (SmtpkitClient *client,
          GBytes        *body)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new ("alice@example.org");
  g_autoptr (SmtpkitSendResult) result = NULL;
  g_autoptr (GError) error = NULL;

  smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);
  fuzz_check (smtpkit_envelope_set_dsn_envid (envelope, "fuzz+1", NULL));
  smtpkit_envelope_add_recipient (envelope, recipients[0],
                                  SMTPKIT_DSN_NOTIFY_SUCCESS | SMTPKIT_DSN_NOTIFY_FAILURE,
                                  "rfc822;bob@example.org");
  smtpkit_envelope_add_recipient (envelope, recipients[1], SMTPKIT_DSN_NOTIFY_NEVER, NULL);
  smtpkit_envelope_add_recipient (envelope, recipients[2], SMTPKIT_DSN_NOTIFY_UNSET, NULL);

  result = smtpkit_client_send (client, envelope, body, NULL, &error);
  check_outcome ("send", result, error);
  if (result == NULL)
    return;
  for (guint i = 0; i < smtpkit_send_result_get_n_recipients (result); i++)
    {
      fuzz_check (smtpkit_send_result_get_recipient (result, i) != NULL);
      (void) smtpkit_send_result_get_rcpt_reply (result, i);
      (void) smtpkit_send_result_get_final_reply (result, i);
      (void) smtpkit_send_result_get_delivered (result, i);
      (void) smtpkit_send_result_get_queue_id (result, i);
    }
  g_hash_table_unref (smtpkit_send_result_get_refused (result));
}

static void
run_sendmail (SmtpkitClient *client,
              GBytes        *body,
              guint          flags)
{
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;

  if (flags & FLAG_STREAM)
    {
      g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (body);

      refused = smtpkit_client_sendmail_stream (client, "alice@example.org", recipients, stream,
                                                NULL, NULL, NULL, &error);
    }
  else
    refused = smtpkit_client_sendmail (client, "alice@example.org", recipients, body, NULL, NULL,
                                       NULL, &error);
  check_outcome ("sendmail", refused, error);
}

static void
run_session (SmtpkitClient *client,
             guint          flags,
             guint          more)
{
  g_autoptr (GBytes) body = g_bytes_new_static (message, sizeof message - 1);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) hello = NULL;
  g_autoptr (SmtpkitReply) login = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  greeting = smtpkit_client_connect (client, "mx.example.org", 25, NULL, &error);
  check_outcome ("connect", greeting, error);
  g_clear_error (&error);

  if (more & MORE_HELO)
    hello = smtpkit_client_helo (client, NULL, NULL, &error);
  else
    hello = smtpkit_client_ehlo (client, NULL, NULL, &error);
  check_outcome ("hello", hello, error);
  g_clear_error (&error);

  if (flags & FLAG_LOGIN)
    {
      login = smtpkit_client_login (client, "user@example.org", "pencil", NULL, &error);
      check_outcome ("login", login, error);
      g_clear_error (&error);
    }

  if (more & MORE_COMMANDS)
    run_other_commands (client);

  if (more & MORE_ENVELOPE)
    run_send (client, body);
  else
    run_sendmail (client, body, flags);

  bye = smtpkit_client_quit (client, NULL, &error);
  check_outcome ("quit", bye, error);
}

static void
run_input (const guint8 *data,
           gsize         size)
{
  guint flags = size > 0 ? data[0] : 0;
  guint more = size > 1 ? data[1] : 0;
  g_autoptr (GPtrArray) pieces = fuzz_split (data + MIN (size, 2), size - MIN (size, 2));
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  FuzzTurnStream *in = g_object_new (FUZZ_TYPE_TURN_STREAM, NULL);
  SmtpkitClient *client;
  gpointer weak_client, weak_in, weak_out;

  in->turns = g_ptr_array_ref (pieces);
  in->read_size = read_sizes[(flags >> FLAG_READ_SIZE_SHIFT) & 3];
  in->written = G_MEMORY_OUTPUT_STREAM (g_object_ref (out));
  /* The greeting answers the connection. */
  in->answered = G_MAXSIZE;
  next_turn (in);
  next_stream = g_simple_io_stream_new (G_INPUT_STREAM (in), out);
  g_object_unref (in);

  client = flags & FLAG_LMTP ? smtpkit_lmtp_client_new () : smtpkit_client_new ();
  g_object_set (client, "transport", "fuzz", "timeout", CLIENT_TIMEOUT, "local-hostname",
                "client.test", "convert-newlines", !(flags & FLAG_KEEP_NEWLINES), "pipelining",
                !(flags & FLAG_NO_PIPELINING), "chunking", !(flags & FLAG_NO_CHUNKING),
                "allow-plaintext-auth", TRUE, NULL);

  weak_client = client;
  weak_in = in;
  weak_out = out;
  g_object_add_weak_pointer (G_OBJECT (client), &weak_client);
  g_object_add_weak_pointer (G_OBJECT (in), &weak_in);
  g_object_add_weak_pointer (G_OBJECT (out), &weak_out);

  run_session (client, flags, more);

  g_clear_object (&next_stream); /* if the client never connected */
  g_object_unref (client);
  g_clear_object (&out);
  fuzz_check (weak_client == NULL);
  fuzz_check (weak_in == NULL);
  fuzz_check (weak_out == NULL);
}

/* Sessions that succeed, through each path of the client. */
#define SCRIPT(flags, more, text) { flags, more, text, sizeof text - 1 }
static const struct
{
  guint8 flags, more;
  const char *text;
  gsize len;
} warm_ups[] = {
  SCRIPT (FLAG_LOGIN, 0,
          "220 fake.test ESMTP\r\n\0"
          "250-fake.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n\0"
          "235 ok\r\n\0"
          "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\0"
          "250 queued\r\n\0"
          "221 bye\r\n"),
  SCRIPT (0, MORE_COMMANDS | MORE_ENVELOPE,
          "220 fake.test ESMTP\r\n\0"
          "250-fake.test\r\n250-PIPELINING\r\n250 DSN\r\n\0"
          "250 ok\r\n\0250 ok\r\n\0252 maybe\r\n\0550 no\r\n\0214 help\r\n\0"
          "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\0"
          "250 queued\r\n\0"
          "221 bye\r\n"),
  SCRIPT (FLAG_LMTP, 0,
          "220 fake.test LMTP\r\n\0"
          "250-fake.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n\0"
          "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n\0"
          "250 bob\r\n250 carol\r\n450 dave\r\n\0"
          "221 bye\r\n"),
  SCRIPT (FLAG_STREAM, 0,
          "220 fake.test ESMTP\r\n\0"
          "250-fake.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n\0"
          "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n\0"
          "250 chunk\r\n\0"
          "250 queued\r\n\0"
          "221 bye\r\n"),
};

static void
run_script (guint       flags,
            guint       more,
            const char *text,
            gsize       len)
{
  g_autofree guint8 *input = g_malloc (len + 2);

  input[0] = flags;
  input[1] = more;
  memcpy (input + 2, text, len);
  run_input (input, len + 2);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_environment ();
  smtpkit_transport_register ("fuzz", FUZZ_TYPE_TRANSPORT, 100);

  /* Types, quarks and plugins are set up once, outside LeakSanitizer's
   * count: sessions through every path, then every configuration. */
  g_type_ensure (SMTPKIT_TYPE_ENVELOPE);
  g_type_ensure (SMTPKIT_TYPE_SEND_RESULT);
  g_type_ensure (SMTPKIT_TYPE_DSN_NOTIFY);
  g_type_ensure (SMTPKIT_TYPE_DSN_RET);
  for (gsize i = 0; i < G_N_ELEMENTS (warm_ups); i++)
    run_script (warm_ups[i].flags, warm_ups[i].more, warm_ups[i].text, warm_ups[i].len);
  for (guint flags = 0; flags < 256; flags++)
    run_script (flags, flags & 7, warm_ups[0].text, warm_ups[0].len);

  fuzz_initialized ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  run_input (data, size);
  return 0;
}
