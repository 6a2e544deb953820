/* main.c: the smtpkit-fake-server program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* In a worker thread. The addresses are written as the client sent
 * them, UTF-8 with SMTPUTF8: not through g_print(), which turns what the
 * locale's charset lacks (everything but ASCII in the C locale) into
 * '?'. One write per line, so that lines of concurrent clients do not
 * mix. */
static void
on_message_received (SmtpkitFakeServer *server,
                     guint              index,
                     const char        *path,
                     const char        *sender,
                     char             **recipients,
                     guint64            size,
                     gpointer           user_data)
{
  g_autoptr (GString) line = g_string_new (NULL);

  g_string_append_printf (line, "message %u: from=<%s> to=", index, sender);
  for (guint i = 0; recipients[i] != NULL; i++)
    g_string_append_printf (line, "%s<%s>", i > 0 ? "," : "", recipients[i]);
  g_string_append_printf (line, " size=%" G_GUINT64_FORMAT " file=%s\n", size, path);
  fwrite (line->str, 1, line->len, stdout);
  fflush (stdout);
}

static gboolean
quit_loop (gpointer user_data)
{
  State *state = user_data;

  g_main_loop_quit (state->loop);
  return G_SOURCE_REMOVE;
}

/* In a worker thread. With --max-messages, the client that sent the last
 * message gets to finish (its QUIT answered) before the program exits.
 * The loop is quit from the main context: a client may be done before
 * the main thread has started the loop, and a quit before
 * g_main_loop_run() would be lost. */
static void
on_connection_closed (SmtpkitFakeServer *server,
                      gpointer           user_data)
{
  State *state = user_data;

  if (state->scripted ||
      (state->max_messages > 0 &&
       smtpkit_fake_server_get_message_count (server) >= state->max_messages))
    g_idle_add (quit_loop, state);
}

static int
usage_error (GOptionContext *context,
             const char     *message)
{
  g_printerr ("smtpkit-fake-server: %s\nTry '%s --help'.\n", message, g_get_prgname ());
  return 2;
}

/* --reply "STEP[:PATTERN]=REPLY", with @prefix "" and no @fallback; or
 * --refuse-rcpt and --tempfail-rcpt, "PATTERN=REPLY" with @prefix
 * "rcpt:", where PATTERN alone has the @fallback reply. */
static gboolean
add_replies (SmtpkitFakeServer  *server,
             char              **items,
             const char         *prefix,
             const char         *fallback,
             GError            **error)
{
  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    {
      g_autofree char *rule = g_strconcat (prefix, items[i], NULL);
      g_autofree char *with_fallback = g_strconcat (rule, "=", fallback, NULL);

      if (!smtpkit_fake_server_add_reply (server, rule, fallback != NULL ? NULL : error) &&
          (fallback == NULL || !smtpkit_fake_server_add_reply (server, with_fallback, error)))
        return FALSE;
    }
  return TRUE;
}

/* --auth PLAIN,LOGIN with --user and --password, or
 * --accept-any-credentials. */
static gboolean
set_auth (SmtpkitFakeServer  *server,
          const char         *mechanisms,
          const char         *user,
          const char         *password,
          gboolean            accept_any,
          GError            **error)
{
  g_auto (GStrv) names = g_strsplit (mechanisms, ",", -1);

  if (!smtpkit_fake_server_set_auth_mechanisms (server, (const char *const *) names, error))
    return FALSE;
  if (user != NULL)
    smtpkit_fake_server_add_user (server, user, password);
  smtpkit_fake_server_set_accept_any_credentials (server, accept_any);
  return TRUE;
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
  g_autofree char *auth = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *close_after = NULL;
  g_auto (GStrv) refuse_rcpt = NULL;
  g_auto (GStrv) tempfail_rcpt = NULL;
  g_auto (GStrv) replies = NULL;
  g_auto (GStrv) args = NULL;
  gboolean accept_any = FALSE;
  gboolean require_tls = FALSE;
  gboolean require_auth = FALSE;
  int delay = 0;
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
    { "auth", 0, 0, G_OPTION_ARG_STRING, &auth,
      "Offer AUTH with these SASL mechanisms, e.g. PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-256 (sink)",
      "MECHANISMS" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      "The user AUTH accepts, with --password (sink)", "NAME" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &password,
      "The password of --user (sink)", "PASSWORD" },
    { "accept-any-credentials", 0, 0, G_OPTION_ARG_NONE, &accept_any,
      "AUTH accepts any user and password (PLAIN, LOGIN, CRAM-MD5; sink)", NULL },
    { "require-tls", 0, 0, G_OPTION_ARG_NONE, &require_tls,
      "Refuse MAIL and AUTH with 530 before STARTTLS (sink)", NULL },
    { "require-auth", 0, 0, G_OPTION_ARG_NONE, &require_auth,
      "Refuse MAIL with 530 before AUTH (sink)", NULL },
    { "refuse-rcpt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &refuse_rcpt,
      "Refuse recipients matching PATTERN (a glob), by default with "
      "550 5.1.1 No such user (sink; repeatable)", "PATTERN[=REPLY]" },
    { "tempfail-rcpt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tempfail_rcpt,
      "Refuse recipients matching PATTERN for now, by default with "
      "450 4.2.0 Try again later (sink; repeatable)", "PATTERN[=REPLY]" },
    { "reply", 0, 0, G_OPTION_ARG_STRING_ARRAY, &replies,
      "Answer STEP (greeting, ehlo, mail, rcpt, data, dot) with REPLY instead; ehlo, mail and "
      "rcpt take :PATTERN, e.g. mail:*@spam.test=550 5.7.1 Go away (sink; repeatable)",
      "STEP[:PATTERN]=REPLY" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &delay,
      "Wait MS milliseconds before each reply; other connections are not held up (sink)", "MS" },
    { "close-after", 0, 0, G_OPTION_ARG_STRING, &close_after,
      "Close the connection after the reply to STEP: greeting, ehlo, mail, rcpt, data, dot (sink)",
      "STEP" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  State state = { NULL, };
  gboolean ok;

  /* The options are taken as UTF-8 whatever the locale (parse_strv does
   * not convert them), and so are the addresses printed. */
  setlocale (LC_ALL, "");
  args = g_strdupv (argv);
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "A fake SMTP server for tests: a sink that stores every message,\n"
                                "or a scripted server that plays a scenario file. It listens on\n"
                                "loopback addresses and unix sockets only.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse_strv (context, &args, &error))
    return usage_error (context, error->message);
  if (args[1] != NULL)
    return usage_error (context, "this program takes no arguments but options");
  if ((sink_dir == NULL) == (scenario_path == NULL))
    return usage_error (context, "give one of --sink DIR and --scenario FILE");
  if (listen != NULL && unix_path != NULL)
    return usage_error (context, "give at most one of --listen and --unix");
  if (port_file != NULL && unix_path != NULL)
    return usage_error (context, "--port-file needs a TCP port, not --unix");
  if ((starttls || implicit_tls) && sink_dir == NULL)
    return usage_error (context, "--starttls and --implicit-tls are for --sink");
  if (sink_dir == NULL && (fault_rates != NULL || auth != NULL || user != NULL || accept_any ||
                           require_tls || require_auth || refuse_rcpt != NULL ||
                           tempfail_rcpt != NULL || replies != NULL || delay != 0 ||
                           close_after != NULL))
    return usage_error (context, "--fault-rate, --auth, --require-*, --refuse-rcpt, "
                                 "--tempfail-rcpt, --reply, --delay and --close-after are for --sink");
  if ((user == NULL) != (password == NULL))
    return usage_error (context, "give --user and --password together");
  if ((user != NULL || accept_any) && auth == NULL)
    return usage_error (context, "--user and --accept-any-credentials need --auth");
  if (require_tls && !starttls && !implicit_tls)
    return usage_error (context, "--require-tls needs --starttls or --implicit-tls");
  if (delay < 0)
    return usage_error (context, "--delay takes a positive number");
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
    {
      server = smtpkit_fake_server_new_sink (sink_dir, (const char *const *) extensions);
      /* The program may run for long: what it received is on disk. */
      g_object_set (server, "keep-received", FALSE, NULL);
    }

  if (hostname != NULL)
    g_object_set (server, "hostname", hostname, NULL);
  if (listen != NULL)
    g_object_set (server, "address", listen, NULL);
  if (step_timeout > 0)
    g_object_set (server, "step-timeout", (guint) step_timeout, NULL);
  if (fault_rates != NULL && !smtpkit_fake_server_set_faults (server, fault_rates, seed, &error))
    return usage_error (context, error->message);
  if (sink_dir != NULL &&
      (!add_replies (server, refuse_rcpt, "rcpt:", "550 5.1.1 No such user", &error) ||
       !add_replies (server, tempfail_rcpt, "rcpt:", "450 4.2.0 Try again later", &error) ||
       !add_replies (server, replies, "", NULL, &error) ||
       !smtpkit_fake_server_set_close_after (server, close_after, &error) ||
       (auth != NULL && !set_auth (server, auth, user, password, accept_any, &error))))
    return usage_error (context, error->message);
  if (sink_dir != NULL)
    g_object_set (server, "require-tls", require_tls, "require-auth", require_auth,
                  "reply-delay", (guint) delay, NULL);
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
