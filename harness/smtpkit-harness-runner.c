/* smtpkit-harness-runner.c: the suites, the selection of cases, one run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "smtpkit-harness.h"

G_DEFINE_QUARK (smtpkit-harness-error-quark, smtpkit_harness_error)

void
smtpkit_harness_case_free (SmtpkitHarnessCase *test_case)
{
  g_free (test_case->id);
  g_free (test_case->suite);
  g_free (test_case->libsmtpkit_only);
  smtpkit_scenario_unref (test_case->scenario);
  g_free (test_case);
}

void
smtpkit_harness_result_clear (SmtpkitHarnessResult *result)
{
  g_clear_pointer (&result->message, g_free);
  g_clear_pointer (&result->transcript, g_free);
}

const char *
smtpkit_harness_get_scenario_dir (void)
{
  const char *dir = g_getenv ("SMTPKIT_SCENARIO_DIR");

  return dir && *dir ? dir : SMTPKIT_SCENARIO_DIR;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* A comment "# libsmtpkit-only: WHY" marks a scenario that checks what
 * libsmtpkit does beyond the RFCs: it is not held against other
 * clients. */
static char *
find_libsmtpkit_only (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *line = lines[i] + strspn (lines[i], " \t");

      if (g_str_has_prefix (line, "# libsmtpkit-only:"))
        return g_strstrip (g_strdup (line + strlen ("# libsmtpkit-only:")));
    }
  return NULL;
}

/* Both modes of one scenario file, its suite being @suite. */
static gboolean
add_file (const char  *path,
          const char  *suite,
          GPtrArray   *cases,
          GError     **error)
{
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_file (path, error);
  g_autofree char *base = g_path_get_basename (path);

  if (scenario == NULL)
    return FALSE;
  if (g_str_has_suffix (base, ".scenario"))
    base[strlen (base) - strlen (".scenario")] = '\0';
  for (int async = 0; async < 2; async++)
    {
      SmtpkitHarnessCase *test_case = g_new0 (SmtpkitHarnessCase, 1);

      test_case->suite = g_strdup (suite);
      test_case->id = g_strdup_printf ("%s/%s/%s", suite, base, async ? "async" : "sync");
      test_case->scenario = smtpkit_scenario_ref (scenario);
      test_case->async = async;
      test_case->libsmtpkit_only = find_libsmtpkit_only (path);
      g_ptr_array_add (cases, test_case);
    }
  return TRUE;
}

/* Every .scenario file under @dir, in name order; a file directly in
 * @dir belongs to @suite, one in a folder to the folder's suite. */
static gboolean
add_dir (const char  *dir,
         const char  *suite,
         GPtrArray   *cases,
         GError     **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *entry = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir, entry, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!add_dir (path, entry, cases, error))
            return FALSE;
        }
      else if (g_str_has_suffix (entry, ".scenario") && !add_file (path, suite, cases, error))
        return FALSE;
    }
  return TRUE;
}

/* The scenario file @selector names under @scenario_dir, with or without
 * its .scenario, or NULL. */
static char *
in_scenario_dir (const char *scenario_dir,
                 const char *selector)
{
  g_autofree char *path = g_build_filename (scenario_dir, selector, NULL);
  g_autofree char *with_suffix = g_strconcat (path, ".scenario", NULL);

  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&path);
  if (g_file_test (with_suffix, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&with_suffix);
  return NULL;
}

GPtrArray *
smtpkit_harness_load (const char         *scenario_dir,
                      const char *const  *selectors,
                      GError            **error)
{
  g_autoptr (GPtrArray) cases =
    g_ptr_array_new_with_free_func ((GDestroyNotify) smtpkit_harness_case_free);

  g_mime_init ();
  if (selectors == NULL || selectors[0] == NULL)
    return add_dir (scenario_dir, "misc", cases, error) ? g_steal_pointer (&cases) : NULL;

  for (guint i = 0; selectors[i]; i++)
    {
      const char *selector = selectors[i];
      g_autofree char *suite_dir = g_build_filename (scenario_dir, selector, NULL);
      g_autofree char *parent = NULL;
      g_autofree char *suite = NULL;
      g_autofree char *in_dir = NULL;
      gboolean ok;

      if (g_file_test (selector, G_FILE_TEST_IS_REGULAR))
        {
          /* A file's suite is the folder it is in. */
          parent = g_path_get_dirname (selector);
          suite = g_path_get_basename (parent);
          ok = add_file (selector, suite, cases, error);
        }
      else if (g_file_test (selector, G_FILE_TEST_IS_DIR))
        {
          suite = g_path_get_basename (selector);
          ok = add_dir (selector, suite, cases, error);
        }
      else if (strchr (selector, '/') == NULL && g_file_test (suite_dir, G_FILE_TEST_IS_DIR))
        ok = add_dir (suite_dir, selector, cases, error);
      else if ((in_dir = in_scenario_dir (scenario_dir, selector)))
        {
          /* SUITE/NAME or SUITE/NAME.scenario, under @scenario_dir. */
          parent = g_path_get_dirname (in_dir);
          suite = g_path_get_basename (parent);
          ok = add_file (in_dir, suite, cases, error);
        }
      else
        {
          g_set_error (error, SMTPKIT_HARNESS_ERROR, SMTPKIT_HARNESS_ERROR_SELECTION,
                       "“%s” is neither a scenario file, a folder, nor a suite or a scenario of %s",
                       selector, scenario_dir);
          ok = FALSE;
        }
      if (!ok)
        return NULL;
    }
  return g_steal_pointer (&cases);
}

/* Whether the title names RFC @rfc before its dash ("RFC 3030, RFC 2920
 * — ..."), or the case is in that RFC's suite. */
static gboolean
names_rfc (const SmtpkitHarnessCase *test_case,
           const char               *rfc)
{
  const char *title = smtpkit_scenario_get_title (test_case->scenario);
  g_autofree char *suite = g_strconcat ("rfc", rfc, NULL);
  g_autofree char *needle = g_strconcat ("RFC ", rfc, NULL);
  const char *dash = title ? strstr (title, "—") : NULL;
  const char *found = title ? strstr (title, needle) : NULL;

  if (g_str_equal (test_case->suite, suite))
    return TRUE;
  if (found == NULL || (dash && found > dash))
    return FALSE;
  /* RFC 2033 is not RFC 20330. */
  return !g_ascii_isdigit (found[strlen (needle)]);
}

gboolean
smtpkit_harness_id_matches (const char *id,
                            const char *pattern)
{
  if (pattern == NULL)
    return TRUE;
  if (strpbrk (pattern, "*?"))
    return g_pattern_match_simple (pattern, id);
  return strstr (id, pattern) != NULL;
}

gboolean
smtpkit_harness_case_matches (const SmtpkitHarnessCase *test_case,
                              const char               *pattern,
                              const char               *rfc)
{
  if (rfc && !names_rfc (test_case, rfc))
    return FALSE;
  return smtpkit_harness_id_matches (test_case->id, pattern);
}
