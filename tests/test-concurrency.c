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

#include <sys/resource.h>

#include <glib/gstdio.h>

#include "proc-status.h"
#include "smtpkit-fake-server.h"

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/concurrency/thousand-sessions", test_thousand_sessions);

  return g_test_run ();
}
