/* test-threads.c: the threading contract of docs/client.md
 *
 * Blocking calls made on a worker thread emit their signals on that
 * thread, in a private context, and never dispatch the thread's own
 * context; asynchronous calls made on a worker thread run and call back
 * in the context that thread pushed, never from inside the _async() call;
 * clients on several threads at once do not disturb each other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include "smtpkit-fake-server.h"
#include "smtpkit-scenario.h"

static const char noop_then_quit[] = "server:\n"
                                     "  send 220 fake.test ESMTP\n"
                                     "  expect NOOP\n"
                                     "  send 250 2.0.0 ok\n"
                                     "  expect QUIT\n"
                                     "  send 221 2.0.0 bye\n";

static SmtpkitFakeServer *
start_scripted (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario =
    smtpkit_scenario_new_from_data ("inline", noop_then_quit, &error);
  SmtpkitFakeServer *server;

  g_assert_no_error (error);
  server = smtpkit_fake_server_new_scripted (scenario);
  smtpkit_fake_server_listen_tcp (server, &error);
  g_assert_no_error (error);
  return server;
}

static void
assert_script_played (SmtpkitFakeServer *server)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_wait (server, 15000, &error);
  g_assert_no_error (error);
  smtpkit_fake_server_stop (server);
}

/* Where each signal was emitted: its thread and thread-default context. */
typedef struct
{
  guint16 port;
  GThread *thread;
  GMainContext *own_context;
  guint emissions;
  guint wrong_thread;
  guint in_own_context;
  gboolean idle_ran;
  gboolean in_async_call;
  gboolean called_back_inside;
  GThread *callback_thread;
  GMainContext *callback_context;
  GAsyncResult *result;
  gboolean ok;
} Probe;

static void
record (Probe *probe)
{
  probe->emissions++;
  if (g_thread_self () != probe->thread)
    probe->wrong_thread++;
  if (g_main_context_get_thread_default () == probe->own_context)
    probe->in_own_context++;
}

static void
on_connecting (SmtpkitClient *client,
               const char    *host,
               guint          port,
               Probe         *probe)
{
  record (probe);
}

static void
on_sending (SmtpkitClient *client,
            GBytes        *data,
            Probe         *probe)
{
  record (probe);
}

static gboolean
on_idle (gpointer data)
{
  Probe *probe = data;

  probe->idle_ran = TRUE;
  return G_SOURCE_REMOVE;
}

static SmtpkitClient *
new_probed_client (Probe *probe)
{
  SmtpkitClient *client = smtpkit_client_new ();

  g_assert_true (smtpkit_client_set_local_hostname (client, "client.test", NULL));
  g_signal_connect (client, "connecting", G_CALLBACK (on_connecting), probe);
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), probe);
  return client;
}

static gboolean
blocking_session (Probe *probe)
{
  g_autoptr (SmtpkitClient) client = new_probed_client (probe);
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", probe->port);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) noop = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  greeting = smtpkit_client_connect (client, address, 0, NULL, &error);
  if (greeting != NULL)
    noop = smtpkit_client_noop (client, NULL, &error);
  if (noop != NULL)
    bye = smtpkit_client_quit (client, NULL, &error);
  if (error != NULL)
    g_printerr ("# %s\n", error->message);
  return bye != NULL && smtpkit_reply_get_code (noop) == 250 && smtpkit_reply_get_code (bye) == 221;
}

static gpointer
blocking_thread (gpointer data)
{
  Probe *probe = data;
  g_autoptr (GSource) idle = g_idle_source_new ();

  probe->thread = g_thread_self ();
  probe->own_context = g_main_context_new ();
  g_main_context_push_thread_default (probe->own_context);
  g_source_set_callback (idle, on_idle, probe, NULL);
  g_source_attach (idle, probe->own_context);

  probe->ok = blocking_session (probe);

  g_source_destroy (idle);
  g_main_context_pop_thread_default (probe->own_context);
  g_main_context_unref (probe->own_context);
  return NULL;
}

static void
test_blocking_on_worker (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ();
  Probe probe = { smtpkit_fake_server_get_port (server) };
  GThread *thread = g_thread_new ("blocking", blocking_thread, &probe);

  g_thread_join (thread);
  assert_script_played (server);
  g_assert_true (probe.ok);
  /* connecting, NOOP, QUIT at least. */
  g_assert_cmpuint (probe.emissions, >=, 3);
  g_assert_cmpuint (probe.wrong_thread, ==, 0);
  /* The private context, not the caller's, and the caller's idle never
   * ran: its context was not iterated. */
  g_assert_cmpuint (probe.in_own_context, ==, 0);
  g_assert_false (probe.idle_ran);
}

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Probe *probe = user_data;

  probe->called_back_inside = probe->in_async_call;
  probe->callback_thread = g_thread_self ();
  probe->callback_context = g_main_context_get_thread_default ();
  probe->result = g_object_ref (result);
}

static gpointer
async_thread (gpointer data)
{
  Probe *probe = data;
  g_autoptr (SmtpkitClient) client = NULL;
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", probe->port);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) noop = NULL;
  g_autoptr (SmtpkitReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  probe->thread = g_thread_self ();
  probe->own_context = g_main_context_new ();
  g_main_context_push_thread_default (probe->own_context);
  client = new_probed_client (probe);

  probe->in_async_call = TRUE;
  smtpkit_client_connect_async (client, address, 0, NULL, on_async_done, probe);
  probe->in_async_call = FALSE;
  while (probe->result == NULL)
    g_main_context_iteration (probe->own_context, TRUE);
  greeting = smtpkit_client_connect_finish (client, probe->result, &error);
  g_assert_no_error (error);
  g_clear_object (&probe->result);
  g_assert_false (probe->called_back_inside);
  g_assert_true (probe->callback_thread == probe->thread);
  g_assert_true (probe->callback_context == probe->own_context);

  smtpkit_client_noop_async (client, NULL, on_async_done, probe);
  while (probe->result == NULL)
    g_main_context_iteration (probe->own_context, TRUE);
  noop = smtpkit_client_noop_finish (client, probe->result, &error);
  g_assert_no_error (error);
  g_clear_object (&probe->result);
  g_assert_true (probe->callback_context == probe->own_context);

  /* A blocking call in between does not iterate this context either. */
  bye = smtpkit_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  probe->ok = smtpkit_reply_get_code (noop) == 250 && smtpkit_reply_get_code (bye) == 221;

  g_clear_object (&client);
  while (g_main_context_iteration (probe->own_context, FALSE))
    ;
  g_main_context_pop_thread_default (probe->own_context);
  g_main_context_unref (probe->own_context);
  return NULL;
}

static void
test_async_on_worker (void)
{
  g_autoptr (SmtpkitFakeServer) server = start_scripted ();
  Probe probe = { smtpkit_fake_server_get_port (server) };
  GThread *thread = g_thread_new ("async", async_thread, &probe);

  g_thread_join (thread);
  assert_script_played (server);
  g_assert_true (probe.ok);
  g_assert_cmpuint (probe.emissions, >=, 3);
  g_assert_cmpuint (probe.wrong_thread, ==, 0);
  /* connecting and NOOP in the pushed context; QUIT in the private one. */
  g_assert_cmpuint (probe.in_own_context, >=, 2);
  g_assert_cmpuint (probe.in_own_context, <, probe.emissions);
}

#define N_THREADS 4

static void
test_clients_on_several_threads (void)
{
  SmtpkitFakeServer *servers[N_THREADS];
  Probe probes[N_THREADS] = { 0 };
  GThread *threads[N_THREADS];

  for (guint i = 0; i < N_THREADS; i++)
    {
      servers[i] = start_scripted ();
      probes[i].port = smtpkit_fake_server_get_port (servers[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("client", blocking_thread, &probes[i]);
  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (threads[i]);
      assert_script_played (servers[i]);
      g_object_unref (servers[i]);
      g_assert_true (probes[i].ok);
      g_assert_cmpuint (probes[i].wrong_thread, ==, 0);
      g_assert_false (probes[i].idle_ran);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/threads/blocking-on-worker", test_blocking_on_worker);
  g_test_add_func ("/threads/async-on-worker", test_async_on_worker);
  g_test_add_func ("/threads/clients-on-several-threads", test_clients_on_several_threads);

  return g_test_run ();
}
