/* bench-client.c: one libsmtpkit workload, for bench/run
 *
 * A benchmark program, not a test. It does one workload against a server
 * that bench/run started, and prints one line of JSON with what it did;
 * bench/run measures the process from outside (CPU and peak memory from
 * wait4(), system calls with perf, instructions with callgrind). Only the
 * public API is used.
 *
 * Every message is built before the first connection, so that the
 * generator does not count in what is measured: small and large messages
 * are one GBytes each, sent again and again; a stream repeats one
 * precomputed block of lines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench-lines.h"

#define CLIENT_TIMEOUT 120.0

static const char *const sender = "bench@example.org";
static const char *const recipients[] = { "sink@example.org", NULL };

static char *opt_host = NULL;
static int opt_port = 0;
static char *opt_workload = NULL;
static int opt_messages = 5000;
static int opt_size = 61;
static double opt_mb = 0;
static int opt_sessions = 1000;
static gboolean opt_async = FALSE;
static gboolean opt_no_pipelining = FALSE;
static gboolean opt_no_chunking = FALSE;

/* ---- precomputed data ------------------------------------------------------ */

static const char header[] = BENCH_HEADER;

/* Appends the benchmark's lines up to @size bytes in all (see
 * bench-lines.h, which curl-send.c's text comes from too). */
static void
append_lines (GString *text,
              gsize    size)
{
  gsize len = text->len;

  if (len + 2 >= size)
    return;
  g_string_set_size (text, size);
  g_string_truncate (text, bench_fill_lines (text->str, len, size));
}

/* A message of exactly @size bytes (at least the header and one line). */
static GBytes *
message_new (gsize size)
{
  GString *text = g_string_sized_new (size + 80);

  g_string_append (text, header);
  if (size < text->len + 3)
    g_string_append (text, "x\r\n");
  else
    append_lines (text, size);
  return g_string_free_to_bytes (text);
}

/* A GInputStream of @size bytes: the header, then one precomputed block
 * of whole lines repeated (the last copy cut at a line end). Reading it
 * costs one memcpy per byte. */
#define BENCH_TYPE_REPEAT_STREAM (bench_repeat_stream_get_type ())
G_DECLARE_FINAL_TYPE (BenchRepeatStream, bench_repeat_stream, BENCH, REPEAT_STREAM, GInputStream)

struct _BenchRepeatStream
{
  GInputStream parent_instance;
  GBytes *block;
  guint64 size;
  guint64 offset;
};

G_DEFINE_FINAL_TYPE (BenchRepeatStream, bench_repeat_stream, G_TYPE_INPUT_STREAM)

#define BLOCK_LINE BENCH_BLOCK_LINE
#define BLOCK_SIZE BENCH_BLOCK_SIZE

static gssize
bench_repeat_stream_read (GInputStream  *stream,
                          void          *buffer,
                          gsize          count,
                          GCancellable  *cancellable,
                          GError       **error)
{
  BenchRepeatStream *self = BENCH_REPEAT_STREAM (stream);
  gsize header_len = strlen (header);
  gsize block_len;
  const guint8 *block = g_bytes_get_data (self->block, &block_len);
  guint8 *out = buffer;
  gsize done = 0;

  count = MIN (count, self->size - self->offset);
  while (done < count)
    {
      const guint8 *from;
      gsize n;

      if (self->offset < header_len)
        {
          from = (const guint8 *) header + self->offset;
          n = header_len - self->offset;
        }
      else
        {
          gsize at = (self->offset - header_len) % block_len;

          from = block + at;
          n = block_len - at;
        }
      n = MIN (n, count - done);
      memcpy (out + done, from, n);
      done += n;
      self->offset += n;
    }
  return done;
}

static void
bench_repeat_stream_finalize (GObject *object)
{
  BenchRepeatStream *self = BENCH_REPEAT_STREAM (object);

  g_bytes_unref (self->block);
  G_OBJECT_CLASS (bench_repeat_stream_parent_class)->finalize (object);
}

static void
bench_repeat_stream_class_init (BenchRepeatStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bench_repeat_stream_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = bench_repeat_stream_read;
}

static void
bench_repeat_stream_init (BenchRepeatStream *self)
{
}

/* About @size bytes, rounded down to whole lines. */
static GInputStream *
repeat_stream_new (guint64 size)
{
  BenchRepeatStream *self = g_object_new (BENCH_TYPE_REPEAT_STREAM, NULL);
  GString *text = g_string_sized_new (BLOCK_SIZE);
  guint64 body = size > strlen (header) ? size - strlen (header) : BLOCK_LINE;

  append_lines (text, BLOCK_SIZE);
  self->block = g_string_free_to_bytes (text);
  body -= body % BLOCK_LINE;
  self->size = strlen (header) + MAX (body, BLOCK_LINE);
  return G_INPUT_STREAM (self);
}

/* ---- sessions -------------------------------------------------------------- */

static SmtpkitClient *
client_new (void)
{
  SmtpkitClient *client = smtpkit_client_new ();

  smtpkit_client_set_local_hostname (client, "bench.test", NULL);
  smtpkit_client_set_timeout (client, CLIENT_TIMEOUT, NULL);
  if (opt_no_pipelining)
    g_object_set (client, "pipelining", FALSE, NULL);
  if (opt_no_chunking)
    g_object_set (client, "chunking", FALSE, NULL);
  return client;
}

static gboolean
open_session (SmtpkitClient  *client,
              GError        **error)
{
  g_autoptr (SmtpkitReply) greeting = NULL;

  greeting = smtpkit_client_connect (client, opt_host, opt_port, NULL, error);
  return greeting != NULL && smtpkit_client_ehlo_or_helo_if_needed (client, NULL, error);
}

static gboolean
close_session (SmtpkitClient  *client,
               GError        **error)
{
  g_autoptr (SmtpkitReply) bye = smtpkit_client_quit (client, NULL, error);

  return bye != NULL;
}

static gboolean
send_blocking (SmtpkitClient  *client,
               GBytes         *message,
               guint           count,
               GError        **error)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GHashTable) refused = NULL;

      refused = smtpkit_client_sendmail (client, sender, recipients, message,
                                         NULL, NULL, NULL, error);
      if (refused == NULL)
        return FALSE;
    }
  return TRUE;
}

/* One connection's messages, one after the other, with sendmail_async();
 * any number of these run at once on the main context. */
typedef struct
{
  SmtpkitClient *client;
  GBytes *message;
  guint remaining;
  guint *running;
  GError **first_error;
} AsyncSession;

static void async_session_next (AsyncSession *session);

static void
async_session_end (AsyncSession *session,
                   GError       *error)
{
  if (error != NULL && *session->first_error == NULL)
    *session->first_error = error;
  else
    g_clear_error (&error);
  (*session->running)--;
}

static void
on_async_quit (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr (SmtpkitReply) bye = NULL;
  GError *error = NULL;

  bye = smtpkit_client_quit_finish (SMTPKIT_CLIENT (source), result, &error);
  async_session_end (user_data, error);
}

static void
on_async_sent (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncSession *session = user_data;
  g_autoptr (GHashTable) refused = NULL;
  GError *error = NULL;

  refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source), result, &error);
  if (refused == NULL)
    {
      async_session_end (session, error);
      return;
    }
  async_session_next (session);
}

static void
async_session_next (AsyncSession *session)
{
  if (session->remaining == 0)
    {
      smtpkit_client_quit_async (session->client, NULL, on_async_quit, session);
      return;
    }
  session->remaining--;
  smtpkit_client_sendmail_async (session->client, sender, recipients, session->message,
                                 NULL, NULL, NULL, on_async_sent, session);
}

static void
on_async_helo (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError *error = NULL;

  if (!smtpkit_client_ehlo_or_helo_if_needed_finish (SMTPKIT_CLIENT (source), result, &error))
    async_session_end (user_data, error);
  else
    async_session_next (user_data);
}

static void
on_async_connected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr (SmtpkitReply) greeting = NULL;
  GError *error = NULL;

  greeting = smtpkit_client_connect_finish (SMTPKIT_CLIENT (source), result, &error);
  if (greeting == NULL)
    async_session_end (user_data, error);
  else
    smtpkit_client_ehlo_or_helo_if_needed_async (SMTPKIT_CLIENT (source), NULL,
                                                 on_async_helo, user_data);
}

/* @n_sessions connections at once, @count messages each, on this thread. */
static gboolean
send_async (GBytes  *message,
            guint    n_sessions,
            guint    count,
            GError **error)
{
  g_autofree AsyncSession *sessions = g_new0 (AsyncSession, n_sessions);
  guint running = n_sessions;
  GError *first_error = NULL;

  for (guint i = 0; i < n_sessions; i++)
    {
      sessions[i].client = client_new ();
      sessions[i].message = message;
      sessions[i].remaining = count;
      sessions[i].running = &running;
      sessions[i].first_error = &first_error;
      smtpkit_client_connect_async (sessions[i].client, opt_host, opt_port, NULL,
                                    on_async_connected, &sessions[i]);
    }
  while (running > 0)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < n_sessions; i++)
    g_object_unref (sessions[i].client);
  if (first_error != NULL)
    {
      g_propagate_error (error, first_error);
      return FALSE;
    }
  return TRUE;
}

/* ---- workloads -------------------------------------------------------------- */

typedef struct
{
  guint64 messages;
  guint64 bytes;
  double heap_per_session;
} Done;

static gboolean
run_messages (GBytes  *message,
              Done    *done,
              GError **error)
{
  done->messages = opt_messages;
  done->bytes = (guint64) opt_messages * g_bytes_get_size (message);
  if (opt_async)
    return send_async (message, 1, opt_messages, error);
  else
    {
      g_autoptr (SmtpkitClient) client = client_new ();

      return open_session (client, error) &&
             send_blocking (client, message, opt_messages, error) &&
             close_session (client, error);
    }
}

static gboolean
run_small (Done    *done,
           GError **error)
{
  g_autoptr (GBytes) message = message_new (opt_size);

  return run_messages (message, done, error);
}

static gboolean
run_large (Done    *done,
           GError **error)
{
  g_autoptr (GBytes) message = message_new ((gsize) (opt_mb * 1e6));

  return run_messages (message, done, error);
}

static gboolean
run_stream (Done    *done,
            GError **error)
{
  g_autoptr (SmtpkitClient) client = client_new ();
  g_autoptr (GInputStream) stream = repeat_stream_new ((guint64) (opt_mb * 1e6));
  g_autoptr (GHashTable) refused = NULL;

  done->messages = 1;
  done->bytes = BENCH_REPEAT_STREAM (stream)->size;
  if (!open_session (client, error))
    return FALSE;
  refused = smtpkit_client_sendmail_stream (client, sender, recipients, stream,
                                            NULL, NULL, NULL, error);
  return refused != NULL && close_session (client, error);
}

static gboolean
run_sessions (Done    *done,
              GError **error)
{
  g_autoptr (GBytes) message = message_new (opt_size);

  done->messages = (guint64) opt_sessions * opt_messages;
  done->bytes = done->messages * g_bytes_get_size (message);
  return send_async (message, opt_sessions, opt_messages, error);
}

/* Heap in use, from malloc's own counters: what the sessions allocated,
 * not what the kernel gave the process. */
static gint64
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (gint64) (info.uordblks + info.hblkhd);
}

static gboolean
run_idle (Done    *done,
          GError **error)
{
  g_autofree SmtpkitClient **clients = g_new0 (SmtpkitClient *, opt_sessions);
  gboolean ok = TRUE;
  gint64 before, after;
  int i;

  /* A first session outside the count: the one-time allocations of the
   * type system, the plugins and GIO are not the sessions' heap. */
  {
    g_autoptr (SmtpkitClient) warm = client_new ();

    if (!open_session (warm, error) || !close_session (warm, error))
      return FALSE;
  }
  malloc_trim (0);
  before = heap_in_use ();
  for (i = 0; i < opt_sessions && ok; i++)
    {
      clients[i] = client_new ();
      ok = open_session (clients[i], error);
    }
  after = heap_in_use ();
  for (int j = 0; j < i; j++)
    {
      if (ok && !close_session (clients[j], error))
        ok = FALSE;
      g_object_unref (clients[j]);
    }
  done->messages = 0;
  done->bytes = 0;
  done->heap_per_session = (after - before) / (double) opt_sessions;
  return ok;
}

static void
raise_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  static const struct
  {
    const char *name;
    gboolean (*run) (Done *, GError **);
  } workloads[] = {
    { "small", run_small },
    { "large", run_large },
    { "stream", run_stream },
    { "sessions", run_sessions },
    { "idle", run_idle },
  };
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &opt_host, "Server address (127.0.0.1)", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &opt_port, "Server port", "PORT" },
    { "workload", 0, 0, G_OPTION_ARG_STRING, &opt_workload,
      "small, large, stream, sessions or idle", "NAME" },
    { "messages", 'n', 0, G_OPTION_ARG_INT, &opt_messages,
      "Messages (per session for sessions) (5000)", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &opt_size, "Bytes in a small message (61)", "BYTES" },
    { "mb", 0, 0, G_OPTION_ARG_DOUBLE, &opt_mb, "Megabytes (10^6) in a large message or the stream", "MB" },
    { "sessions", 0, 0, G_OPTION_ARG_INT, &opt_sessions,
      "Concurrent sessions, for sessions and idle (1000)", "K" },
    { "async", 0, 0, G_OPTION_ARG_NONE, &opt_async, "Use sendmail_async() on one connection", NULL },
    { "no-pipelining", 0, 0, G_OPTION_ARG_NONE, &opt_no_pipelining,
      "Do not use PIPELINING (the client's pipelining property)", NULL },
    { "no-chunking", 0, 0, G_OPTION_ARG_NONE, &opt_no_chunking,
      "Do not use CHUNKING (the client's chunking property)", NULL },
    G_OPTION_ENTRY_NULL
  };
  Done done = { 0, };
  guint i;

  context = g_option_context_new ("- one libsmtpkit workload, for bench/run");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-client: %s\n", error->message);
      return 2;
    }
  if (opt_host == NULL)
    opt_host = g_strdup ("127.0.0.1");
  if (opt_port <= 0 || opt_port > 65535 || opt_workload == NULL || opt_messages < 0 ||
      opt_sessions < 1 || opt_size < 1)
    {
      g_printerr ("bench-client: --port and --workload are needed\n");
      return 2;
    }
  for (i = 0; i < G_N_ELEMENTS (workloads); i++)
    if (g_str_equal (workloads[i].name, opt_workload))
      break;
  if (i == G_N_ELEMENTS (workloads))
    {
      g_printerr ("bench-client: no workload %s\n", opt_workload);
      return 2;
    }
  if ((g_str_equal (opt_workload, "large") || g_str_equal (opt_workload, "stream")) && opt_mb <= 0)
    {
      g_printerr ("bench-client: --mb is needed for %s\n", opt_workload);
      return 2;
    }
  raise_file_limit ();

  if (!workloads[i].run (&done, &error))
    {
      g_printerr ("bench-client: %s\n", error->message);
      return 1;
    }
  g_print ("{\"messages\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
           ", \"heap_per_session\": %.1f}\n", done.messages, done.bytes, done.heap_per_session);
  g_free (opt_host);
  g_free (opt_workload);
  return 0;
}
