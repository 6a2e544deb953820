/* smtpkit-harness: the conformance harness as a program
 *
 *   smtpkit-harness run [OPTION…] [SUITE|FILE…]
 *   smtpkit-harness serve --listen ADDRESS:PORT [OPTION…] [SUITE|FILE…]
 *   smtpkit-harness probe [OPTION…] URI
 *
 * plays the scenario suites against libsmtpkit, the fake server playing
 * the server side byte for byte; plays the server side for another
 * client; checks a real server's conformance. See smtpkit-harness(1).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "smtpkit-harness.h"

#include "smtpkit-fake-server.h"

enum
{
  EXIT_PASSED = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

static int
usage_error (const char *command,
             const char *message)
{
  g_printerr ("smtpkit-harness: %s\n", message);
  g_printerr ("Try “smtpkit-harness %s --help” for more information.\n", command);
  return EXIT_USAGE;
}

/* The cases of @selectors (all suites when none) in @scenario_dir (NULL:
 * the default), and in @selected those that @pattern, @rfc and @mode
 * (sync, async, both or NULL) keep. NULL, the error printed, when a
 * selector names nothing or a scenario cannot be read. */
static GPtrArray *
load_selected (const char *scenario_dir,
               GStrv       selectors,
               const char *pattern,
               const char *rfc,
               const char *mode,
               GPtrArray  *selected)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *cases;

  cases = smtpkit_harness_load (scenario_dir ? scenario_dir : smtpkit_harness_get_scenario_dir (),
                                (const char *const *) selectors, &error);
  if (cases == NULL)
    {
      g_printerr ("smtpkit-harness: %s\n", error->message);
      return NULL;
    }
  for (guint i = 0; i < cases->len; i++)
    {
      SmtpkitHarnessCase *test_case = g_ptr_array_index (cases, i);

      if (mode && !g_str_equal (mode, "both") && test_case->async != g_str_equal (mode, "async"))
        continue;
      if (smtpkit_harness_case_matches (test_case, pattern, rfc))
        g_ptr_array_add (selected, test_case);
    }
  return cases;
}

static int
run_command (int    argc,
             char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  g_autoptr (GPtrArray) selected = g_ptr_array_new ();
  g_autoptr (SmtpkitHarnessReport) report = NULL;
  g_autofree char *pattern = NULL;
  g_autofree char *rfc = NULL;
  g_autofree char *junit = NULL;
  g_autofree char *format = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *scenario_dir = NULL;
  g_autofree char *client = NULL;
  g_autofree char *outcomes = NULL;
  g_auto (GStrv) selectors = NULL;
  gboolean list = FALSE;
  SmtpkitHarnessFormat output;
  const GOptionEntry entries[] = {
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, "List the selected cases and their titles", NULL },
    { "keyword", 'k', 0, G_OPTION_ARG_STRING, &pattern,
      "Only the cases whose name holds PATTERN (a glob when it has * or ?)", "PATTERN" },
    { "rfc", 0, 0, G_OPTION_ARG_STRING, &rfc, "Only the cases that check RFC NNNN", "NNNN" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode,
      "sync, async or both (default): the blocking API, the asynchronous one", "MODE" },
    { "junit", 0, 0, G_OPTION_ARG_FILENAME, &junit, "Also write the results as JUnit XML", "FILE" },
    { "outcomes", 0, 0, G_OPTION_ARG_FILENAME, &outcomes,
      "Also write each case's outcome, “pass|fail|skip<TAB>CASE”, sorted", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "tap or summary (default: summary on a terminal, else tap)", "FORMAT" },
    { "client", 0, 0, G_OPTION_ARG_STRING, &client,
      "Play against another client, through an adapter: COMMAND speaks the harness's line "
      "protocol (default mode: sync)", "COMMAND" },
    { "scenario-dir", 0, 0, G_OPTION_ARG_FILENAME, &scenario_dir,
      "Where the suites are (default: $SMTPKIT_SCENARIO_DIR, else the installed ones)", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &selectors, NULL, "[SUITE|FILE…]" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("[SUITE|FILE…]");
  g_option_context_set_summary (context,
                                "Plays scenario suites against libsmtpkit, blocking and\n"
                                "asynchronous, the fake server playing the server side.");
  g_option_context_set_description (context,
                                    "A SUITE is a folder of the scenarios, such as rfc5321; a FILE\n"
                                    "is a .scenario file or a folder of them. Without any, every\n"
                                    "suite is played.\n"
                                    "\n"
                                    "Exit status: 0 when every selected case passed, 1 when one\n"
                                    "failed, 2 for bad usage or a scenario that cannot be read.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("run", error->message);
  if (mode && !g_str_equal (mode, "sync") && !g_str_equal (mode, "async") &&
      !g_str_equal (mode, "both"))
    return usage_error ("run", "--mode takes sync, async or both");
  if (format && !g_str_equal (format, "tap") && !g_str_equal (format, "summary"))
    return usage_error ("run", "--format takes tap or summary");
  if (rfc && (!g_ascii_isdigit (rfc[0]) || strspn (rfc, "0123456789") != strlen (rfc)))
    return usage_error ("run", "--rfc takes the number of an RFC, such as 5321");

  /* Another client has one API: each scenario once. */
  if (client && mode == NULL)
    mode = g_strdup ("sync");
  cases = load_selected (scenario_dir, selectors, pattern, rfc, mode, selected);
  if (cases == NULL)
    return EXIT_USAGE;

  if (list)
    {
      for (guint i = 0; i < selected->len; i++)
        {
          SmtpkitHarnessCase *test_case = g_ptr_array_index (selected, i);
          g_print ("%s\t%s\n", test_case->id, smtpkit_scenario_get_title (test_case->scenario));
        }
      return EXIT_PASSED;
    }

  if (format)
    output = g_str_equal (format, "tap") ? SMTPKIT_HARNESS_FORMAT_TAP
                                         : SMTPKIT_HARNESS_FORMAT_SUMMARY;
  else
    output = isatty (STDOUT_FILENO) ? SMTPKIT_HARNESS_FORMAT_SUMMARY : SMTPKIT_HARNESS_FORMAT_TAP;
  report = smtpkit_harness_report_new (stdout, output, selected->len);
  for (guint i = 0; i < selected->len; i++)
    {
      SmtpkitHarnessCase *test_case = g_ptr_array_index (selected, i);
      SmtpkitHarnessResult result = { 0 };

      if (client)
        smtpkit_harness_play (test_case, smtpkit_harness_adapter_new, client, &result);
      else
        smtpkit_harness_run_case (test_case, &result);
      smtpkit_harness_report_add (report, test_case, &result);
      smtpkit_harness_result_clear (&result);
    }
  if (!smtpkit_harness_report_finish (report, junit, &error) ||
      (outcomes && !smtpkit_harness_report_write_outcomes (report, outcomes, &error)))
    {
      g_printerr ("smtpkit-harness: %s\n", error->message);
      return EXIT_USAGE;
    }
  return smtpkit_harness_report_get_n_failed (report) > 0 ? EXIT_FAILED : EXIT_PASSED;
}

/* "connect; sendmail a@x b@y ..." : what the client of a scenario does,
 * as a hint for whoever drives the client under test. */
static char *
client_steps_hint (SmtpkitScenario *scenario)
{
  GPtrArray *steps = smtpkit_scenario_get_client_steps (scenario);
  GString *hint = g_string_new (NULL);

  for (guint i = 0; i < steps->len; i++)
    {
      const SmtpkitScenarioLine *line = g_ptr_array_index (steps, i);

      g_auto (GStrv) words = g_strsplit_set (line->text, " \t", -1);
      g_autofree char *text = NULL;
      guint n = 0;

      /* The step's words, without the padding that aligns the outcomes. */
      for (guint w = 0; words[w]; w++)
        if (words[w][0] != '\0')
          words[n++] = words[w];
        else
          g_free (words[w]);
      words[n] = NULL;
      text = g_strjoinv (" ", words);
      g_string_append_printf (hint, "%s%s", i ? "; " : "", text);
    }
  return g_string_free (hint, FALSE);
}

/* smtpkit-harness serve: the server side of each selected scenario, one
 * per connection, for a client that no adapter can drive. */
static int
serve_command (int    argc,
               char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;
  g_autoptr (GPtrArray) selected = g_ptr_array_new ();
  g_autoptr (SmtpkitHarnessReport) report = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *pattern = NULL;
  g_autofree char *rfc = NULL;
  g_autofree char *junit = NULL;
  g_autofree char *scenario_dir = NULL;
  g_autofree char *address = NULL;
  g_auto (GStrv) selectors = NULL;
  int wait_seconds = 600;
  int step_timeout = 10000;
  gboolean strict_case = FALSE;
  const GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "The loopback address and port to listen on (port 0: a free one)", "ADDRESS:PORT" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
      "Write the port listened on to FILE", "FILE" },
    { "keyword", 'k', 0, G_OPTION_ARG_STRING, &pattern,
      "Only the scenarios whose name holds PATTERN", "PATTERN" },
    { "rfc", 0, 0, G_OPTION_ARG_STRING, &rfc, "Only the scenarios that check RFC NNNN", "NNNN" },
    { "wait", 0, 0, G_OPTION_ARG_INT, &wait_seconds,
      "Wait at most SECONDS for each scenario's client (default 600)", "SECONDS" },
    { "step-timeout", 0, 0, G_OPTION_ARG_INT, &step_timeout,
      "Wait at most MS milliseconds for each thing the client sends (default 10000)", "MS" },
    { "strict-case", 0, 0, G_OPTION_ARG_NONE, &strict_case,
      "Match command verbs and keywords in the scenario's case only", NULL },
    { "junit", 0, 0, G_OPTION_ARG_FILENAME, &junit, "Also write the results as JUnit XML", "FILE" },
    { "scenario-dir", 0, 0, G_OPTION_ARG_FILENAME, &scenario_dir, "Where the suites are", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &selectors, NULL, "[SUITE|FILE…]" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("[SUITE|FILE…]");
  g_option_context_set_summary (context,
                                "Plays the server side of scenarios, one per connection in order,\n"
                                "for a client that no adapter can drive, and reports for each\n"
                                "whether the client's bytes matched.");
  g_option_context_set_description (context,
                                    "Before each scenario its title and what its client does are\n"
                                    "printed, for whoever drives the client. Output is TAP.\n"
                                    "\n"
                                    "Exit status: 0 when the client matched every scenario, 1 when\n"
                                    "it did not, 2 for bad usage or a scenario that cannot be read.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("serve", error->message);
  if (listen == NULL)
    return usage_error ("serve", "--listen ADDRESS:PORT is required");
  if (wait_seconds <= 0 || step_timeout <= 0)
    return usage_error ("serve", "--wait and --step-timeout take a positive number");

  /* The server side is the same in both modes: each scenario once. */
  cases = load_selected (scenario_dir, selectors, pattern, rfc, "sync", selected);
  if (cases == NULL)
    return EXIT_USAGE;

  report = smtpkit_harness_report_new (stdout, SMTPKIT_HARNESS_FORMAT_TAP, selected->len);
  address = g_strdup (listen);
  for (guint i = 0; i < selected->len; i++)
    {
      SmtpkitHarnessCase *test_case = g_ptr_array_index (selected, i);
      g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_scripted (test_case->scenario);
      g_autofree char *hint = client_steps_hint (test_case->scenario);
      SmtpkitHarnessResult result = { 0 };
      g_autoptr (GError) failure = NULL;
      gint64 start = g_get_monotonic_time ();

      g_object_set (server, "address", address, "step-timeout", (guint) step_timeout, NULL);
      smtpkit_fake_server_set_any_case (server, !strict_case);
      if (!smtpkit_fake_server_listen_tcp (server, &error))
        {
          g_printerr ("smtpkit-harness: cannot listen on %s: %s\n", address, error->message);
          return EXIT_USAGE;
        }
      /* The next scenarios on the same port, the one chosen for port 0. */
      g_free (address);
      address = g_strdup (smtpkit_fake_server_get_listen_address (server));
      if (i == 0 && port_file)
        {
          g_autofree char *port = g_strdup_printf ("%u\n", smtpkit_fake_server_get_port (server));
          if (!g_file_set_contents (port_file, port, -1, &error))
            {
              g_printerr ("smtpkit-harness: %s\n", error->message);
              return EXIT_USAGE;
            }
        }
      printf ("# %s: %s\n# listening on %s; the client: %s\n", test_case->id,
              smtpkit_scenario_get_title (test_case->scenario), address, hint);
      fflush (stdout);

      if (smtpkit_fake_server_wait (server, wait_seconds * 1000, &failure))
        result.status = SMTPKIT_HARNESS_PASS;
      else
        {
          result.status = SMTPKIT_HARNESS_FAIL;
          result.message = g_strdup (failure->message);
        }
      smtpkit_fake_server_stop (server);
      result.transcript = smtpkit_fake_server_get_transcript (server);
      result.seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
      smtpkit_harness_report_add (report, test_case, &result);
      smtpkit_harness_result_clear (&result);
    }
  if (!smtpkit_harness_report_finish (report, junit, &error))
    {
      g_printerr ("smtpkit-harness: %s\n", error->message);
      return EXIT_USAGE;
    }
  return smtpkit_harness_report_get_n_failed (report) > 0 ? EXIT_FAILED : EXIT_PASSED;
}

static void
probe_options_clear (SmtpkitHarnessProbeOptions *options)
{
  g_free (options->host);
  g_free (options->socket);
  g_free (options->ca_file);
  g_free (options->user);
  g_free (options->password_file);
  g_free (options->from);
  g_strfreev (options->to);
  g_free (options->pattern);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SmtpkitHarnessProbeOptions, probe_options_clear)

/* smtpkit-harness probe: checks of a real server's conformance. */
static int
probe_command (int    argc,
               char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitHarnessReport) report = NULL;
  g_auto (SmtpkitHarnessProbeOptions) options = { 0 };
  g_autofree char *junit = NULL;
  g_autofree char *format = NULL;
  g_auto (GStrv) uris = NULL;
  gboolean list = FALSE;
  int timeout = 30;
  SmtpkitHarnessFormat output;
  const GOptionEntry entries[] = {
    { "starttls", 0, 0, G_OPTION_ARG_NONE, &options.starttls,
      "Run the checks inside TLS, after STARTTLS", NULL },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options.ca_file,
      "Trust the certificate authorities of FILE (PEM) for TLS", "FILE" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &options.user, "The user name for AUTH", "NAME" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &options.password_file,
      "The password for AUTH: the first line of FILE", "FILE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &options.from,
      "The sender of the transactions (default: the null sender <>)", "ADDRESS" },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.to,
      "A recipient of the transactions, and with --send of the messages (repeatable)", "ADDRESS" },
    { "send", 0, 0, G_OPTION_ARG_NONE, &options.send,
      "Run the checks that deliver a test message, to the --to addresses only", NULL },
    { "keyword", 'k', 0, G_OPTION_ARG_STRING, &options.pattern,
      "Only the checks whose name holds PATTERN (a glob when it has * or ?)", "PATTERN" },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, "List the selected checks and their titles", NULL },
    { "junit", 0, 0, G_OPTION_ARG_FILENAME, &junit, "Also write the results as JUnit XML", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "tap or summary (default: summary on a terminal, else tap)", "FORMAT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      "Wait at most SECONDS for each reply (default 30)", "SECONDS" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &uris, NULL, "URI" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("URI");
  g_option_context_set_summary (context,
                                "Checks a real server's conformance to RFC 5321 and the\n"
                                "extensions it advertises, each check on a connection of its own.");
  g_option_context_set_description (context,
                                    "URI is smtp://HOST[:PORT], smtps://HOST[:PORT] (TLS from the\n"
                                    "first byte), lmtp:///PATH (a Unix socket) or lmtp://HOST:PORT.\n"
                                    "Without --send nothing is delivered: transactions end with RSET.\n"
                                    "\n"
                                    "Exit status: 0 when no check failed, 1 when one failed, 2 for\n"
                                    "bad usage.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("probe", error->message);
  if (format && !g_str_equal (format, "tap") && !g_str_equal (format, "summary"))
    return usage_error ("probe", "--format takes tap or summary");
  if (timeout <= 0)
    return usage_error ("probe", "--timeout takes a positive number of seconds");
  options.timeout = timeout;
  if (list)
    {
      smtpkit_harness_probe_list (options.pattern);
      return EXIT_PASSED;
    }
  if (uris == NULL || uris[0] == NULL || uris[1] != NULL)
    return usage_error ("probe", "give one URI, such as smtp://mx.example.org");
  if (!smtpkit_harness_probe_parse_uri (&options, uris[0], &error))
    return usage_error ("probe", error->message);
  if ((options.user == NULL) != (options.password_file == NULL))
    return usage_error ("probe", "--user and --password-file go together");
  if (options.send && (options.to == NULL || options.to[0] == NULL))
    return usage_error ("probe", "--send needs --to ADDRESS: the only addresses mail is sent to");
  if (options.starttls && options.implicit_tls)
    return usage_error ("probe", "--starttls is for smtp:// and lmtp://; smtps:// is TLS already");

  if (format)
    output = g_str_equal (format, "tap") ? SMTPKIT_HARNESS_FORMAT_TAP
                                         : SMTPKIT_HARNESS_FORMAT_SUMMARY;
  else
    output = isatty (STDOUT_FILENO) ? SMTPKIT_HARNESS_FORMAT_SUMMARY : SMTPKIT_HARNESS_FORMAT_TAP;
  report = smtpkit_harness_report_new (stdout, output,
                                       smtpkit_harness_probe_count (options.pattern));
  smtpkit_harness_report_set_viewpoint (report, "the probe");
  smtpkit_harness_probe_run (&options, report);
  if (!smtpkit_harness_report_finish (report, junit, &error))
    {
      g_printerr ("smtpkit-harness: %s\n", error->message);
      return EXIT_USAGE;
    }
  return smtpkit_harness_report_get_n_failed (report) > 0 ? EXIT_FAILED : EXIT_PASSED;
}

static int
print_usage (FILE *out)
{
  fprintf (out,
           "Usage: smtpkit-harness COMMAND [OPTION…]\n"
           "\n"
           "The conformance harness of libsmtpkit.\n"
           "\n"
           "Commands:\n"
           "  run [SUITE|FILE…]   play scenario suites against libsmtpkit, or another\n"
           "                      client through an adapter (--client)\n"
           "  serve [SUITE|FILE…] play the server side for a client nobody can drive\n"
           "  probe URI           check a real server's conformance\n"
           "\n"
           "“smtpkit-harness COMMAND --help” describes a command; --version prints the version.\n");
  return out == stdout ? EXIT_PASSED : EXIT_USAGE;
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    return print_usage (stderr);
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    return print_usage (stdout);
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("smtpkit-harness %s\n", PACKAGE_VERSION);
      return EXIT_PASSED;
    }
  if (g_str_equal (argv[1], "run"))
    return run_command (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "serve"))
    return serve_command (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "probe"))
    return probe_command (argc - 1, argv + 1);

  g_printerr ("smtpkit-harness: unknown command “%s”\n", argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}
