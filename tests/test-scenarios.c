/* test-scenarios.c: plays every scenario file against the public API
 *
 * One GTest per scenario file and mode, blocking and asynchronous, each
 * played by the harness's runner (harness/smtpkit-harness.h): the test
 * suite and smtpkit-harness play the suites the same way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "smtpkit-harness.h"

static void
test_scenario (gconstpointer data)
{
  const SmtpkitHarnessCase *test_case = data;
  SmtpkitHarnessResult result = { 0 };

  smtpkit_harness_run_case (test_case, &result);
  if (result.status == SMTPKIT_HARNESS_FAIL)
    g_test_fail_printf ("%s\nserver transcript:\n%s", result.message,
                        result.transcript ? result.transcript : "");
  else if (result.status == SMTPKIT_HARNESS_SKIP)
    g_test_skip (result.message);
  smtpkit_harness_result_clear (&result);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = NULL;

  g_test_init (&argc, &argv, NULL);
  cases = smtpkit_harness_load (smtpkit_harness_get_scenario_dir (), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cases->len, >, 0);
  for (guint i = 0; i < cases->len; i++)
    {
      SmtpkitHarnessCase *test_case = g_ptr_array_index (cases, i);
      g_autofree char *path = g_strconcat ("/scenario/", test_case->id, NULL);

      g_test_add_data_func (path, test_case, test_scenario);
    }
  return g_test_run ();
}
