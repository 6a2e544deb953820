/* test-concurrency.c: a thousand sessions on one thread
 *
 * 1,000 clients connect, send a message and quit at the same time, all
 * driven by the asynchronous API from this one thread's main context,
 * against the fake server in sink mode. No thread is started for them:
 * the test counts the process's threads while they run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "proc-status.h"
#include "smtpkit-fake-server.h"
#include "smtpkit-scenario.h"

#define N_SESSIONS 1000

typedef struct
{
  guint done;
  guint failed;
  guint max_threads;
  guint16 port;
  GBytes *message;
} Load;

typedef struct
{
  Load *load;
  SmtpkitClient *client;
  char *to[2];
} Session;

static void
session_end (Session *session,
             GError  *error)
{
  Load *load = session->load;

  if (error)
    {
      g_printerr ("session %s: %s\n", session->to[0], error->message);
      load->failed++;
      g_error_free (error);
    }
  load->done++;
  load->max_threads = MAX (load->max_threads, proc_count_entries ("/proc/self/task"));
  g_object_unref (session->client);
  g_free (session->to[0]);
  g_free (session);
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GError *error = NULL;
  g_autoptr (SmtpkitReply) reply = smtpkit_client_quit_finish (SMTPKIT_CLIENT (source), result, &error);

  if (reply && smtpkit_reply_get_code (reply) != 221)
    error = g_error_new (SMTPKIT_ERROR, SMTPKIT_ERROR_FAILED, "QUIT answered %u",
                         smtpkit_reply_get_code (reply));
  session_end (user_data, error);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  g_autoptr (GHashTable) refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source),
                                                                   result, &error);

  if (refused == NULL)
  {
      session_end (session, error);
      return;
  }
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  smtpkit_client_quit_async (session->client, NULL, on_quit, session);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Session *session = user_data;
  GError *error = NULL;
  g_autoptr (SmtpkitReply) greeting = smtpkit_client_connect_finish (SMTPKIT_CLIENT (source),
                                                                     result, &error);

  if (greeting == NULL)
  {
      session_end (session, error);
      return;
  }
  smtpkit_client_sendmail_async (session->client, "load@example.org",
                                 (const char *const *) session->to, session->load->message,
                                 NULL, NULL, NULL, on_sent, session);
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

static void
test_thousand_sessions (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  const char *extensions[] = { "SIZE 1000000", "8BITMIME", NULL };
  Load load = { 0 };
  guint threads_before;

  /* Each session holds a socket on both sides, in this one process. */
  if (!raise_file_limit (2 * N_SESSIONS + 256))
    {
      g_test_skip ("the open-file limit cannot be raised to 2,256");
      return;
    }

  /* A spool of the server's own, removed with it. */
  server = smtpkit_fake_server_new_sink (NULL, extensions);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  load.port = smtpkit_fake_server_get_port (server);
  load.message = g_bytes_new_static ("Subject: load\r\n\r\nhello\r\n", 25);
  threads_before = proc_count_entries ("/proc/self/task");

  for (guint i = 0; i < N_SESSIONS; i++)
    {
      Session *session = g_new0 (Session, 1);
      g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", load.port);

      session->load = &load;
      session->client = smtpkit_client_new ();
      session->to[0] = g_strdup_printf ("rcpt%04u@example.org", i);
      smtpkit_client_set_local_hostname (session->client, "load.test", NULL);
      smtpkit_client_connect_async (session->client, host, 0, NULL, on_connected, session);
    }

  while (load.done < N_SESSIONS)
    g_main_context_iteration (NULL, TRUE);

  g_test_message ("%u sessions, %u failed; threads: %u before, at most %u during",
                  load.done, load.failed, threads_before, load.max_threads);
  g_assert_cmpuint (load.failed, ==, 0);
  smtpkit_fake_server_stop (server);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (server), ==, N_SESSIONS);
  /* The clients add no thread per session: what runs beyond the fake
   * server's pool of at most 64 workers is GLib's own few. */
  g_assert_cmpuint (load.max_threads, <, threads_before + 64 + 8);
  g_bytes_unref (load.message);
}

/* ---- many connections on one context share an epoll descriptor ---------- */

#define N_SHARED 12
#define STALLED (N_SHARED - 1)
#define CLOSED (N_SHARED - 2)

/* The process's epoll descriptors. */
static guint
count_epoll_descriptors (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target && strcmp (target, "anon_inode:[eventpoll]") == 0)
        n++;
    }
  return n;
}

typedef struct
{
  GAsyncResult *result;
  gint64 started;
  gint64 ended;
} Call;

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;

  call->result = g_object_ref (result);
  call->ended = g_get_monotonic_time ();
}

static gboolean
close_client (gpointer data)
{
  smtpkit_client_close (data);
  return G_SOURCE_REMOVE;
}

/* Twelve connections on this thread's context: beyond the first few,
 * they share one epoll descriptor, and each still gets its replies, its
 * own timeout (per wait, however long the waits before it took in all)
 * and its abort. */
static void
test_shared_descriptor (void)
{
  SmtpkitFakeServer *servers[N_SHARED];
  SmtpkitClient *clients[N_SHARED];
  Call calls[N_SHARED];
  guint epolls_before = count_epoll_descriptors ();

  for (guint i = 0; i < N_SHARED; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SmtpkitScenario) scenario = NULL;
      g_autofree char *host = NULL;
      const char *last = i == STALLED || i == CLOSED ? "  expect NOOP\n"
                                                       "  delay 2000\n"
                                                       "  expect-close\n"
                                                     : "  expect NOOP\n"
                                                       "  delay 250\n"
                                                       "  send 250 three\n"
                                                       "  expect-close\n";
      g_autofree char *script = g_strconcat ("server:\n"
                                             "  send 220 fake.test\n"
                                             "  expect NOOP\n"
                                             "  delay 250\n"
                                             "  send 250 one\n"
                                             "  expect NOOP\n"
                                             "  delay 250\n"
                                             "  send 250 two\n",
                                             last, NULL);

      scenario = smtpkit_scenario_new_from_data ("inline", script, &error);
      g_assert_no_error (error);
      servers[i] = smtpkit_fake_server_new_scripted (scenario);
      smtpkit_fake_server_listen_tcp (servers[i], &error);
      g_assert_no_error (error);
      clients[i] = smtpkit_client_new ();
      g_assert_true (smtpkit_client_set_timeout (clients[i], 0.6, NULL));
      host = g_strdup_printf ("127.0.0.1:%u", smtpkit_fake_server_get_port (servers[i]));
      calls[i] = (Call) { NULL, };
      smtpkit_client_connect_async (clients[i], host, 0, NULL, on_call_done, &calls[i]);
    }
  for (guint i = 0; i < N_SHARED; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SmtpkitReply) greeting = NULL;

      while (calls[i].result == NULL)
        g_main_context_iteration (NULL, TRUE);
      greeting = smtpkit_client_connect_finish (clients[i], calls[i].result, &error);
      g_assert_no_error (error);
      g_clear_object (&calls[i].result);
    }
  /* The first connections have a source each; the rest, one between them. */
  g_assert_cmpuint (count_epoll_descriptors (), ==, epolls_before + 1);

  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < N_SHARED; i++)
        {
          calls[i] = (Call) { NULL, g_get_monotonic_time (), 0 };
          smtpkit_client_noop_async (clients[i], NULL, on_call_done, &calls[i]);
        }
      if (round == 2)
        g_timeout_add (150, close_client, clients[CLOSED]);
      for (guint i = 0; i < N_SHARED; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (SmtpkitReply) reply = NULL;
          double waited;

          while (calls[i].result == NULL)
            g_main_context_iteration (NULL, TRUE);
          reply = smtpkit_client_noop_finish (clients[i], calls[i].result, &error);
          waited = (calls[i].ended - calls[i].started) / (double) G_USEC_PER_SEC;
          g_clear_object (&calls[i].result);
          if (round == 2 && i == STALLED)
            {
              g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
              g_assert_cmpfloat (waited, >=, 0.55);
              g_assert_cmpfloat (waited, <, 1.4);
            }
          else if (round == 2 && i == CLOSED)
            {
              g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED);
              g_assert_cmpfloat (waited, <, 0.5);
            }
          else
            {
              g_assert_no_error (error);
              g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
            }
        }
    }

  for (guint i = 0; i < N_SHARED; i++)
    {
      g_autoptr (GError) error = NULL;

      g_object_unref (clients[i]);
      smtpkit_fake_server_wait (servers[i], 15000, &error);
      g_assert_no_error (error);
      smtpkit_fake_server_stop (servers[i]);
      g_object_unref (servers[i]);
    }
  /* The last connection gone, so is the shared descriptor. */
  g_assert_cmpuint (count_epoll_descriptors (), ==, epolls_before);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/concurrency/thousand-sessions", test_thousand_sessions);
  g_test_add_func ("/concurrency/shared-descriptor", test_shared_descriptor);

  return g_test_run ();
}
