/* bench-send.c: throughput, CPU per message, concurrency and memory
 *
 * A benchmark, not a test: it prints figures and checks only that every
 * message arrived. The fake server runs in this process, in sink mode,
 * in threads of its own; the client runs on the main thread.
 *
 * - Throughput: N small messages (1 KiB) on one connection, for the
 *   server extensions none, PIPELINING, PIPELINING + CHUNKING, with the
 *   blocking and the asynchronous API. For each: messages per second,
 *   CPU time per message of the whole process (client and server) and of
 *   the calling thread alone (the client); the median of three runs.
 * - Concurrency: K asynchronous sessions at once on the main thread, each
 *   connecting, sending one message and quitting: wall time and peak
 *   resident memory.
 * - Memory: one 100 MB message, generated while it is read, through
 *   sendmail_stream(): time and peak resident memory.
 *
 * Run from the build tree with SMTPKIT_PLUGIN_PATH=<builddir>/plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <glib/gstdio.h>

#include "proc-status.h"
#include "smtpkit-fake-message.h"
#include "smtpkit-fake-server.h"

#define SMALL_MESSAGE_SIZE 1024
#define CLIENT_TIMEOUT 60.0

static int n_messages = 2000;
static int n_repeats = 3;
static int n_sessions = 500;
static int large_mb = 100;

/* ---- measuring ----------------------------------------------------------- */

typedef struct
{
  gint64 wall_us;
  gint64 process_cpu_us;
  gint64 thread_cpu_us;
} Clock;

static gint64
timeval_us (const struct timeval *tv)
{
  return (gint64) tv->tv_sec * G_USEC_PER_SEC + tv->tv_usec;
}

static void
clock_read (Clock *clock)
{
  struct rusage usage;
  struct timespec ts;

  clock->wall_us = g_get_monotonic_time ();
  getrusage (RUSAGE_SELF, &usage);
  clock->process_cpu_us = timeval_us (&usage.ru_utime) + timeval_us (&usage.ru_stime);
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  clock->thread_cpu_us = (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
clock_elapsed (const Clock *start,
               Clock       *elapsed)
{
  Clock now;

  clock_read (&now);
  elapsed->wall_us = now.wall_us - start->wall_us;
  elapsed->process_cpu_us = now.process_cpu_us - start->process_cpu_us;
  elapsed->thread_cpu_us = now.thread_cpu_us - start->thread_cpu_us;
}

static gboolean
raise_file_limit (rlim_t wanted)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return FALSE;
  if (limit.rlim_cur >= wanted)
    return TRUE;
  limit.rlim_cur = MIN (wanted, limit.rlim_max);
  return setrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= wanted;
}

/* ---- the server ------------------------------------------------------------ */

typedef struct
{
  SmtpkitFakeServer *server;
  char *spool;
  char *host;
} Sink;

static gboolean
sink_start (Sink               *sink,
            const char         *spool_root,
            const char         *name,
            const char *const  *extensions,
            GError            **error)
{
  sink->spool = g_build_filename (spool_root, name, NULL);
  sink->server = smtpkit_fake_server_new_sink (sink->spool, extensions);
  /* Counted, not kept in memory: the memory measured is the client's. */
  g_object_set (sink->server, "keep-received", FALSE, NULL);
  if (!smtpkit_fake_server_listen_tcp (sink->server, error))
    return FALSE;
  sink->host = g_strdup_printf ("127.0.0.1:%u", smtpkit_fake_server_get_port (sink->server));
  return TRUE;
}

static void
remove_dir_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_remove (child);
    }
  g_rmdir (path);
}

/* Stops the server and removes what it spooled: a Maildir, and the
 * envelopes. */
static void
sink_finish (Sink *sink)
{
  static const char *const subdirs[] = { "tmp", "new", "cur", "envelopes" };

  if (sink->server != NULL)
    smtpkit_fake_server_stop (sink->server);
  g_clear_object (&sink->server);
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (sink->spool, subdirs[i], NULL);
      remove_dir_files (path);
    }
  g_rmdir (sink->spool);
  g_clear_pointer (&sink->spool, g_free);
  g_clear_pointer (&sink->host, g_free);
}

static SmtpkitClient *
bench_client_new (void)
{
  SmtpkitClient *client = smtpkit_client_new ();

  smtpkit_client_set_local_hostname (client, "bench.test", NULL);
  /* A server gone wrong ends the run in a minute, not in RFC 5321's ten. */
  smtpkit_client_set_timeout (client, CLIENT_TIMEOUT, NULL);
  return client;
}

/* A message of exactly @size bytes, CRLF line ends, ending with CRLF. */
static GBytes *
small_message_new (gsize size)
{
  GString *text = g_string_new ("From: bench@example.org\r\n"
                                "To: sink@example.org\r\n"
                                "Subject: bench-send\r\n"
                                "\r\n");

  while (text->len + 2 < size)
    {
      gsize line = MIN (size - 2 - text->len, 72);

      for (gsize i = 0; i < line; i++)
        g_string_append_c (text, 'a' + (text->len + i) % 26);
      g_string_append (text, "\r\n");
    }
  return g_string_free_to_bytes (text);
}

/* ---- throughput on one connection ---------------------------------------- */

static const char *const sender = "bench@example.org";
static const char *const recipients[] = { "sink@example.org", NULL };

typedef struct
{
  SmtpkitClient *client;
  GBytes *message;
  guint remaining;
  GError *error;
  gboolean done;
} AsyncLoop;

static void async_loop_next (AsyncLoop *loop);

static void
on_loop_sent (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncLoop *loop = user_data;
  g_autoptr (GHashTable) refused = NULL;

  refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source), result, &loop->error);
  if (refused == NULL)
    {
      loop->done = TRUE;
      return;
    }
  async_loop_next (loop);
}

static void
async_loop_next (AsyncLoop *loop)
{
  if (loop->remaining == 0)
    {
      loop->done = TRUE;
      return;
    }
  loop->remaining--;
  smtpkit_client_sendmail_async (loop->client, sender, recipients, loop->message,
                                 NULL, NULL, NULL, on_loop_sent, loop);
}

static gboolean
send_blocking (SmtpkitClient  *client,
               GBytes         *message,
               guint           count,
               GError        **error)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (GHashTable) refused = smtpkit_client_sendmail (client, sender, recipients,
                                                                message, NULL, NULL, NULL,
                                                                error);
      if (refused == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
send_async (SmtpkitClient  *client,
            GBytes         *message,
            guint           count,
            GError        **error)
{
  AsyncLoop loop = { client, message, count, NULL, FALSE };

  async_loop_next (&loop);
  while (!loop.done)
    g_main_context_iteration (NULL, TRUE);
  if (loop.error != NULL)
    {
      g_propagate_error (error, loop.error);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  const char *label;
  const char *const *extensions;
} Config;

static gboolean
run_throughput (const char     *spool_root,
                const Config   *config,
                gboolean        async,
                GBytes         *message,
                Clock          *elapsed,
                GError        **error)
{
  Sink sink = { NULL, };
  g_autoptr (SmtpkitClient) client = bench_client_new ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  Clock start;
  gboolean ok;
  guint stored;

  guint warm_up = MIN (100, n_messages / 10);

  /* A few messages before the clock starts: the first ones pay for page
   * faults and allocations that a long-lived session does not. */
  ok = sink_start (&sink, spool_root, "throughput", config->extensions, error) &&
       (greeting = smtpkit_client_connect (client, sink.host, 0, NULL, error)) != NULL &&
       smtpkit_client_ehlo_or_helo_if_needed (client, NULL, error) &&
       send_blocking (client, message, warm_up, error);
  if (ok)
    {
      clock_read (&start);
      ok = async ? send_async (client, message, n_messages, error)
                 : send_blocking (client, message, n_messages, error);
      clock_elapsed (&start, elapsed);
    }
  if (ok)
    bye = smtpkit_client_quit (client, NULL, error);
  ok = ok && bye != NULL;
  stored = sink.server ? smtpkit_fake_server_get_message_count (sink.server) : 0;
  sink_finish (&sink);
  if (ok && stored != warm_up + n_messages)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED,
                   "the server stored %u messages of %u", stored, warm_up + n_messages);
      ok = FALSE;
    }
  return ok;
}

static int
compare_wall (const void *a,
              const void *b)
{
  const Clock *x = a, *y = b;

  return (x->wall_us > y->wall_us) - (x->wall_us < y->wall_us);
}

static void
print_throughput (const char *spool_root)
{
  static const char *const none[] = { NULL };
  static const char *const pipelining[] = { "PIPELINING", NULL };
  static const char *const chunking[] = { "PIPELINING", "CHUNKING", NULL };
  static const Config configs[] = {
    { "none (plain SMTP)", none },
    { "PIPELINING", pipelining },
    { "PIPELINING+CHUNKING", chunking },
  };
  g_autoptr (GBytes) message = small_message_new (SMALL_MESSAGE_SIZE);
  gboolean chunking_failed = FALSE;

  g_print ("Throughput: %d messages of %u bytes, one recipient each, on one connection;\n"
           "median of %d runs\n\n", n_messages, SMALL_MESSAGE_SIZE, n_repeats);
  g_print ("  %-21s %-9s %9s %8s %16s %16s\n", "server extensions", "API", "msg/s",
           "wall s", "CPU us/msg", "CPU us/msg");
  g_print ("  %-21s %-9s %9s %8s %16s %16s\n", "", "", "", "", "(process)", "(client thread)");
  g_print ("  --------------------- --------- --------- -------- ---------------- ----------------\n");

  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    for (guint async = 0; async <= 1; async++)
      {
        g_autoptr (GError) error = NULL;
        g_autofree Clock *runs = g_new0 (Clock, n_repeats);
        Clock elapsed;
        const char *api = async ? "async" : "blocking";
        int r;

        for (r = 0; r < n_repeats; r++)
          if (!run_throughput (spool_root, &configs[i], async, message, &runs[r], &error))
            break;
        if (r < n_repeats)
          {
            g_print ("  %-21s %-9s failed: %s\n", configs[i].label, api, error->message);
            if (g_strv_contains (configs[i].extensions, "CHUNKING"))
              chunking_failed = TRUE;
            continue;
          }
        /* The run of median wall time, with its own CPU figures. */
        qsort (runs, n_repeats, sizeof (Clock), compare_wall);
        elapsed = runs[n_repeats / 2];
        g_print ("  %-21s %-9s %9.0f %8.2f %16.1f %16.1f\n", configs[i].label, api,
                 n_messages / (elapsed.wall_us / (double) G_USEC_PER_SEC),
                 elapsed.wall_us / (double) G_USEC_PER_SEC,
                 elapsed.process_cpu_us / (double) n_messages,
                 elapsed.thread_cpu_us / (double) n_messages);
      }
  if (chunking_failed)
    g_print ("\n  CHUNKING failed: if the reply is 500 to BDAT, the fake server's sink does\n"
             "  not implement BDAT (RFC 3030), though it advertised CHUNKING as asked.\n");
  g_print ("\n  process: client and in-process server together (getrusage); client thread:\n"
           "  the thread that calls the API (CLOCK_THREAD_CPUTIME_ID). Not timed: connect,\n"
           "  EHLO and a warm-up of min(100, N/10) messages. The server writes two files\n"
           "  per message to the spool: much of the process figure.\n\n");
}

/* ---- concurrent sessions ------------------------------------------------- */

typedef struct
{
  const char *host;
  GBytes *message;
  guint done;
  guint failed;
  char *first_error;
} Load;

typedef struct
{
  Load *load;
  SmtpkitClient *client;
} Session;

static void
session_end (Session *session,
             GError  *error)
{
  Load *load = session->load;

  if (error != NULL)
    {
      if (load->first_error == NULL)
        load->first_error = g_strdup (error->message);
      load->failed++;
      g_error_free (error);
    }
  load->done++;
  g_object_unref (session->client);
  g_free (session);
}

static void
on_session_quit (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GError *error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;

  reply = smtpkit_client_quit_finish (SMTPKIT_CLIENT (source), result, &error);
  session_end (user_data, error);
}

static void
on_session_sent (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  g_autoptr (GHashTable) refused = NULL;

  refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source), result, &error);
  if (refused == NULL)
    {
      session_end (session, error);
      return;
    }
  smtpkit_client_quit_async (session->client, NULL, on_session_quit, session);
}

static void
on_session_connected (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;

  greeting = smtpkit_client_connect_finish (SMTPKIT_CLIENT (source), result, &error);
  if (greeting == NULL)
    {
      session_end (session, error);
      return;
    }
  smtpkit_client_sendmail_async (session->client, sender, recipients, session->load->message,
                                 NULL, NULL, NULL, on_session_sent, session);
}

static void
print_concurrency (const char *spool_root)
{
  static const char *const extensions[] = { "PIPELINING", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) message = small_message_new (SMALL_MESSAGE_SIZE);
  Sink sink = { NULL, };
  Load load = { NULL, };
  Clock start, elapsed;
  guint64 rss_before, peak;
  gboolean peak_reset;
  guint stored;

  g_print ("Concurrency: %d asynchronous sessions at once on one thread, each connecting,\n"
           "sending one message of %u bytes and quitting (server offers PIPELINING)\n\n",
           n_sessions, SMALL_MESSAGE_SIZE);

  /* Each session holds a socket on both sides, in this one process. */
  if (!raise_file_limit (2 * (rlim_t) n_sessions + 256))
    {
      g_print ("  skipped: the open-file limit cannot be raised to %d\n\n", 2 * n_sessions + 256);
      return;
    }
  if (!sink_start (&sink, spool_root, "concurrency", extensions, &error))
    {
      g_print ("  failed: %s\n\n", error->message);
      sink_finish (&sink);
      return;
    }
  load.host = sink.host;
  load.message = message;

  /* VmHWM only grows: reset, so that each figure has its own peak. */
  peak_reset = proc_reset_peak_rss ();
  rss_before = proc_status_kb ("VmRSS:");
  clock_read (&start);
  for (int i = 0; i < n_sessions; i++)
    {
      Session *session = g_new0 (Session, 1);

      session->load = &load;
      session->client = bench_client_new ();
      smtpkit_client_connect_async (session->client, load.host, 0, NULL, on_session_connected,
                                    session);
    }
  while (load.done < (guint) n_sessions)
    g_main_context_iteration (NULL, TRUE);
  clock_elapsed (&start, &elapsed);
  peak = proc_status_kb ("VmHWM:");
  stored = smtpkit_fake_server_get_message_count (sink.server);
  sink_finish (&sink);

  g_print ("  sessions             %d (%u failed)\n", n_sessions, load.failed);
  if (load.first_error != NULL)
    g_print ("  first error          %s\n", load.first_error);
  g_print ("  messages stored      %u\n", stored);
  g_print ("  wall time            %.3f s (%.0f sessions/s)\n",
           elapsed.wall_us / (double) G_USEC_PER_SEC,
           n_sessions / (elapsed.wall_us / (double) G_USEC_PER_SEC));
  g_print ("  CPU per session      %.1f us process, %.1f us client thread\n",
           elapsed.process_cpu_us / (double) n_sessions,
           elapsed.thread_cpu_us / (double) n_sessions);
  g_print ("  resident memory      %" G_GUINT64_FORMAT " kB before, peak %" G_GUINT64_FORMAT
           " kB%s\n", rss_before, peak, peak_reset ? "" : " (peak since start: not reset)");
  g_print ("\n  The fake server serves at most 32 connections at a time (the others wait\n"
           "  for a worker), so the wall time is bounded by the server's pool too.\n\n");
  g_free (load.first_error);
}

/* ---- one large message ----------------------------------------------------- */


static void
print_large_message (const char *spool_root)
{
  static const char *const extensions[] = { "PIPELINING", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitClient) client = bench_client_new ();
  g_autoptr (GInputStream) message = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GHashTable) refused = NULL;
  Sink sink = { NULL, };
  Clock start, elapsed;
  guint64 rss_before, peak;
  gboolean peak_reset;
  double seconds;

  guint64 size = (guint64) large_mb * 1000 * 1000;

  message = smtpkit_fake_message_new (size, FALSE);
  g_print ("Memory: one generated message of %d MB (%" G_GUINT64_FORMAT " bytes) through\n"
           "sendmail_stream(), blocking API (server offers PIPELINING)\n\n",
           large_mb, size);

  if (!sink_start (&sink, spool_root, "large", extensions, &error) ||
      (greeting = smtpkit_client_connect (client, sink.host, 0, NULL, &error)) == NULL ||
      !smtpkit_client_ehlo_or_helo_if_needed (client, NULL, &error))
    {
      g_print ("  failed: %s\n\n", error->message);
      sink_finish (&sink);
      return;
    }

  peak_reset = proc_reset_peak_rss ();
  rss_before = proc_status_kb ("VmRSS:");
  clock_read (&start);
  refused = smtpkit_client_sendmail_stream (client, sender, recipients, message,
                                            NULL, NULL, NULL, &error);
  clock_elapsed (&start, &elapsed);
  peak = proc_status_kb ("VmHWM:");
  if (refused != NULL)
    bye = smtpkit_client_quit (client, NULL, NULL);
  if (refused == NULL)
    g_print ("  failed: %s\n", error->message);
  else if (smtpkit_fake_server_get_message_count (sink.server) != 1)
    g_print ("  failed: the server did not store the message\n");
  sink_finish (&sink);
  if (refused == NULL)
    {
      g_print ("\n");
      return;
    }

  seconds = elapsed.wall_us / (double) G_USEC_PER_SEC;
  g_print ("  wall time            %.2f s (%.0f MB/s)\n", seconds,
           size / 1e6 / seconds);
  g_print ("  CPU                  %.2f s process, %.2f s client thread\n",
           elapsed.process_cpu_us / (double) G_USEC_PER_SEC,
           elapsed.thread_cpu_us / (double) G_USEC_PER_SEC);
  g_print ("  resident memory      %" G_GUINT64_FORMAT " kB before, peak %" G_GUINT64_FORMAT
           " kB (%+" G_GINT64_FORMAT " kB)%s\n", rss_before, peak,
           (gint64) peak - (gint64) rss_before,
           peak_reset ? "" : " (peak since start: not reset)");
  g_print ("\n  Process-wide figures: the in-process server writes the message to the spool.\n\n");
}

/* ---- main ------------------------------------------------------------------ */

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *spool_root = NULL;
  gboolean skip_throughput = FALSE, skip_concurrency = FALSE, skip_memory = FALSE;
  GOptionEntry entries[] = {
    { "messages", 'n', 0, G_OPTION_ARG_INT, &n_messages,
      "Messages sent on one connection per configuration (2000)", "N" },
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &n_repeats,
      "Runs of each throughput configuration; the median is shown (3)", "R" },
    { "sessions", 's', 0, G_OPTION_ARG_INT, &n_sessions,
      "Concurrent asynchronous sessions (500)", "K" },
    { "large-mb", 0, 0, G_OPTION_ARG_INT, &large_mb,
      "Size of the large message, in MB (100)", "MB" },
    { "no-throughput", 0, 0, G_OPTION_ARG_NONE, &skip_throughput,
      "Skip the throughput figures", NULL },
    { "no-concurrency", 0, 0, G_OPTION_ARG_NONE, &skip_concurrency,
      "Skip the concurrency figure", NULL },
    { "no-memory", 0, 0, G_OPTION_ARG_NONE, &skip_memory,
      "Skip the large message", NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- measure libsmtpkit against the in-process fake server");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n_messages < 1 || n_repeats < 1 || n_sessions < 1 || large_mb < 1)
    {
      g_printerr ("--messages, --repeat, --sessions and --large-mb must be at least 1\n");
      return 2;
    }

  spool_root = g_dir_make_tmp ("smtpkit-bench-XXXXXX", &error);
  if (spool_root == NULL)
    {
      g_printerr ("cannot make a spool directory: %s\n", error->message);
      return 1;
    }

  g_print ("libsmtpkit bench-send: client on the main thread, fake server (sink) in\n"
           "threads of the same process, over TCP on 127.0.0.1; %u CPUs\n"
           "spool: %s (TMPDIR=/dev/shm keeps disk writes out of the figures)\n\n",
           g_get_num_processors (), spool_root);
  if (!skip_throughput)
    print_throughput (spool_root);
  if (!skip_concurrency)
    print_concurrency (spool_root);
  if (!skip_memory)
    print_large_message (spool_root);

  g_rmdir (spool_root);
  return 0;
}
