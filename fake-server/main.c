/* main.c: the smtpkit-fake-server program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

#include "smtpkit-fake-server.h"

typedef struct
{
  GMainLoop *loop;
  gboolean interrupted;
  gboolean scripted;
  guint max_messages;
} State;

static gboolean
on_signal (gpointer user_data)
{
  State *state = user_data;

  state->interrupted = TRUE;
  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

/* In a worker thread. */
static void
on_message_received (SmtpkitFakeServer *server,
                     guint              index,
                     const char        *path,
                     const char        *sender,
                     char             **recipients,
                     guint64            size,
                     gpointer           user_data)
{
  g_autoptr (GString) to = g_string_new (NULL);

  for (guint i = 0; recipients[i] != NULL; i++)
    g_string_append_printf (to, "%s<%s>", i > 0 ? "," : "", recipients[i]);
  g_print ("message %u: from=<%s> to=%s size=%" G_GUINT64_FORMAT " file=%s\n",
           index, sender, to->str, size, path);
  fflush (stdout);
}

/* In a worker thread. With --max-messages, the client that sent the last
 * message gets to finish (its QUIT answered) before the program exits. */
static void
on_connection_closed (SmtpkitFakeServer *server,
                      gpointer           user_data)
{
  State *state = user_data;

  if (state->scripted ||
      (state->max_messages > 0 &&
       smtpkit_fake_server_get_message_count (server) >= state->max_messages))
    g_main_loop_quit (state->loop);
}

static int
usage_error (GOptionContext *context,
             const char     *message)
{
  g_printerr ("smtpkit-fake-server: %s\nTry '%s --help'.\n", message, g_get_prgname ());
  return 2;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *sink_dir = NULL;
  g_autofree char *scenario_path = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *unix_path = NULL;
  g_autofree char *port_file = NULL;
  g_auto (GStrv) extensions = NULL;
  g_autofree char *fault_rates = NULL;
  gint64 seed = 0;
  int max_messages = 0;
  int step_timeout = 0;
  gboolean starttls = FALSE;
  gboolean implicit_tls = FALSE;
  const GOptionEntry entries[] = {
    { "sink", 0, 0, G_OPTION_ARG_FILENAME, &sink_dir,
      "Accept any mail and store it in DIR", "DIR" },
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path,
      "Play the server side of a scenario file on the first connection", "FILE" },
    { "extension", 0, 0, G_OPTION_ARG_STRING_ARRAY, &extensions,
      "Offer an EHLO extension, such as \"SIZE 10485760\" (sink; repeatable)", "EXT" },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &hostname,
      "The name in the greeting and EHLO reply (default fake.test)", "NAME" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "Listen on a loopback address (default 127.0.0.1:0, a free port)", "ADDRESS:PORT" },
    { "unix", 0, 0, G_OPTION_ARG_FILENAME, &unix_path,
      "Listen on a unix socket instead", "PATH" },
    { "max-messages", 0, 0, G_OPTION_ARG_INT, &max_messages,
      "Exit after N messages, once their client has disconnected (sink)", "N" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
      "Write the TCP port to FILE (atomically)", "FILE" },
    { "step-timeout", 0, 0, G_OPTION_ARG_INT, &step_timeout,
      "Wait at most MS milliseconds for the client (default 10000)", "MS" },
    { "starttls", 0, 0, G_OPTION_ARG_NONE, &starttls,
      "Offer STARTTLS with the test certificate; print the CA file (sink)", NULL },
    { "implicit-tls", 0, 0, G_OPTION_ARG_NONE, &implicit_tls,
      "TLS from the start (RFC 8314) with the test certificate; print the CA file (sink)", NULL },
    { "fault-rate", 0, 0, G_OPTION_ARG_STRING, &fault_rates,
      "Replace replies by faults at random, e.g. 4xx=0.01,disconnect=0.005,stall=0.001 (sink)",
      "RATES" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
      "The seed of --fault-rate's random choices (default 0)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  State state = { NULL, };
  gboolean ok;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "A fake SMTP server for tests: a sink that stores every message,\n"
                                "or a scripted server that plays a scenario file. It listens on\n"
                                "loopback addresses and unix sockets only.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if ((sink_dir == NULL) == (scenario_path == NULL))
    return usage_error (context, "give one of --sink DIR and --scenario FILE");
  if (listen != NULL && unix_path != NULL)
    return usage_error (context, "give at most one of --listen and --unix");
  if (port_file != NULL && unix_path != NULL)
    return usage_error (context, "--port-file needs a TCP port, not --unix");
  if ((starttls || implicit_tls) && sink_dir == NULL)
    return usage_error (context, "--starttls and --implicit-tls are for --sink");
  if (fault_rates != NULL && sink_dir == NULL)
    return usage_error (context, "--fault-rate is for --sink");
  if (seed < 0 || seed > G_MAXUINT32)
    return usage_error (context, "--seed takes a number from 0 to 4294967295");
  if (max_messages < 0 || step_timeout < 0)
    return usage_error (context, "--max-messages and --step-timeout take a positive number");

  if (scenario_path != NULL)
    {
      scenario = smtpkit_scenario_new_from_file (scenario_path, &error);
      if (scenario == NULL)
        {
          g_printerr ("smtpkit-fake-server: %s\n", error->message);
          return EXIT_FAILURE;
        }
      server = smtpkit_fake_server_new_scripted (scenario);
    }
  else
    server = smtpkit_fake_server_new_sink (sink_dir, (const char *const *) extensions);

  if (hostname != NULL)
    g_object_set (server, "hostname", hostname, NULL);
  if (listen != NULL)
    g_object_set (server, "address", listen, NULL);
  if (step_timeout > 0)
    g_object_set (server, "step-timeout", (guint) step_timeout, NULL);
  if (fault_rates != NULL && !smtpkit_fake_server_set_faults (server, fault_rates, seed, &error))
    return usage_error (context, error->message);
  if (starttls || implicit_tls)
    {
      GTlsCertificate *certificate = smtpkit_fake_server_get_certificate ("good");

      if (certificate == NULL)
        return EXIT_FAILURE;
      g_object_set (server, "tls-certificate", certificate, "implicit-tls", implicit_tls, NULL);
    }

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  state.scripted = scenario != NULL;
  state.max_messages = max_messages;
  g_signal_connect (server, "message-received", G_CALLBACK (on_message_received), NULL);
  g_signal_connect (server, "connection-closed", G_CALLBACK (on_connection_closed), &state);
  g_unix_signal_add (SIGINT, on_signal, &state);
  g_unix_signal_add (SIGTERM, on_signal, &state);

  if (unix_path != NULL)
    ok = smtpkit_fake_server_listen_unix (server, unix_path, &error);
  else
    ok = smtpkit_fake_server_listen_tcp (server, &error);
  if (ok && port_file != NULL)
    {
      g_autofree char *port = g_strdup_printf ("%u\n", smtpkit_fake_server_get_port (server));

      /* Written to a temporary file renamed into place: a reader never
       * sees a partial number. */
      ok = g_file_set_contents (port_file, port, -1, &error);
    }
  if (!ok)
    {
      g_printerr ("smtpkit-fake-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  /* The CA file first: once "listening on" is out, a client may connect.
   * A scenario may start TLS too (its starttls step). */
  if (starttls || implicit_tls || scenario != NULL)
    g_print ("ca-file: %s\n", smtpkit_fake_server_get_ca_file ());
  g_print ("listening on %s\n", smtpkit_fake_server_get_listen_address (server));
  fflush (stdout);

  g_main_loop_run (loop);
  smtpkit_fake_server_stop (server);
  if (fault_rates != NULL)
    g_print ("faults injected: 4xx=%u disconnect=%u stall=%u\n",
             smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_4XX),
             smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_DISCONNECT),
             smtpkit_fake_server_get_fault_count (server, SMTPKIT_FAKE_FAULT_STALL));

  if (scenario != NULL && !smtpkit_fake_server_wait (server, 0, &error))
    {
      g_autofree char *transcript = smtpkit_fake_server_get_transcript (server);

      g_printerr ("smtpkit-fake-server: %s%s\n", state.interrupted ? "interrupted: " : "",
                  error->message);
      if (*transcript != '\0')
        g_printerr ("The conversation:\n%s", transcript);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}
