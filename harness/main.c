/* smtpkit-harness: the conformance harness as a program
 *
 *   smtpkit-harness run [OPTION…] [SUITE|FILE…]
 *
 * plays the scenario suites against libsmtpkit, the fake server playing
 * the server side byte for byte. See smtpkit-harness(1).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "smtpkit-harness.h"

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

  cases = smtpkit_harness_load (scenario_dir ? scenario_dir : smtpkit_harness_get_scenario_dir (),
                                (const char *const *) selectors, &error);
  if (cases == NULL)
    {
      g_printerr ("smtpkit-harness: %s\n", error->message);
      return EXIT_USAGE;
    }
  /* Another client has one API: each scenario once. */
  if (client && mode == NULL)
    mode = g_strdup ("sync");
  for (guint i = 0; i < cases->len; i++)
    {
      SmtpkitHarnessCase *test_case = g_ptr_array_index (cases, i);

      if (mode && !g_str_equal (mode, "both") && test_case->async != g_str_equal (mode, "async"))
        continue;
      if (smtpkit_harness_case_matches (test_case, pattern, rfc))
        g_ptr_array_add (selected, test_case);
    }

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

static int
print_usage (FILE *out)
{
  fprintf (out,
           "Usage: smtpkit-harness COMMAND [OPTION…]\n"
           "\n"
           "The conformance harness of libsmtpkit.\n"
           "\n"
           "Commands:\n"
           "  run [SUITE|FILE…]   play scenario suites against libsmtpkit\n"
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

  g_printerr ("smtpkit-harness: unknown command “%s”\n", argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}
