/* smtpkit-harness-report.c: results as TAP, a summary, JUnit XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "smtpkit-harness.h"

typedef struct
{
  char *suite;
  char *id;
  char *title;
  SmtpkitHarnessStatus status;
  char *message;
  char *transcript;
  double seconds;
} Entry;

struct _SmtpkitHarnessReport
{
  FILE *out;
  SmtpkitHarnessFormat format;
  guint n_cases;
  guint n_done;
  guint counts[3];              /* by SmtpkitHarnessStatus */
  GPtrArray *entries;           /* Entry, for the JUnit file */
  char *viewpoint;              /* whose view the transcripts are */
};

static void
entry_free (Entry *entry)
{
  g_free (entry->suite);
  g_free (entry->id);
  g_free (entry->title);
  g_free (entry->message);
  g_free (entry->transcript);
  g_free (entry);
}

SmtpkitHarnessReport *
smtpkit_harness_report_new (FILE                 *out,
                            SmtpkitHarnessFormat  format,
                            guint                 n_cases)
{
  SmtpkitHarnessReport *report = g_new0 (SmtpkitHarnessReport, 1);

  report->out = out;
  report->format = format;
  report->n_cases = n_cases;
  report->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  report->viewpoint = g_strdup ("the server");
  if (format == SMTPKIT_HARNESS_FORMAT_TAP)
    fprintf (out, "TAP version 13\n1..%u\n", n_cases);
  return report;
}

void
smtpkit_harness_report_free (SmtpkitHarnessReport *report)
{
  g_ptr_array_unref (report->entries);
  g_free (report->viewpoint);
  g_free (report);
}

void
smtpkit_harness_report_set_viewpoint (SmtpkitHarnessReport *report,
                                      const char           *who)
{
  g_free (report->viewpoint);
  report->viewpoint = g_strdup (who);
}

guint
smtpkit_harness_report_get_n_failed (SmtpkitHarnessReport *report)
{
  return report->counts[SMTPKIT_HARNESS_FAIL];
}

/* Every line of @text behind @prefix. */
static void
print_indented (FILE       *out,
                const char *prefix,
                const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (lines[i][0] != '\0' || lines[i + 1] != NULL)
      fprintf (out, "%s%s\n", prefix, lines[i]);
}

static void
report_tap (SmtpkitHarnessReport       *report,
            const Entry                *entry,
            const SmtpkitHarnessResult *result)
{
  FILE *out = report->out;

  switch (result->status)
    {
    case SMTPKIT_HARNESS_PASS:
      fprintf (out, "ok %u - %s\n", report->n_done, entry->id);
      if (result->message)
        {
          fprintf (out, "# %s\n", entry->title);
          print_indented (out, "# ", result->message);
        }
      break;
    case SMTPKIT_HARNESS_SKIP:
      fprintf (out, "ok %u - %s # SKIP %s\n", report->n_done, entry->id,
               result->message ? result->message : "");
      break;
    case SMTPKIT_HARNESS_FAIL:
      fprintf (out, "not ok %u - %s\n", report->n_done, entry->id);
      fprintf (out, "# %s\n", entry->title);
      print_indented (out, "# ", result->message);
      fprintf (out, "# the conversation, as %s saw it:\n", report->viewpoint);
      print_indented (out, "#   ", result->transcript);
      break;
    }
}

static void
report_summary (SmtpkitHarnessReport       *report,
                const Entry                *entry,
                const SmtpkitHarnessResult *result)
{
  FILE *out = report->out;

  if (result->status == SMTPKIT_HARNESS_PASS)
    return;
  fprintf (out, "%s %s\n", result->status == SMTPKIT_HARNESS_FAIL ? "FAIL" : "SKIP", entry->id);
  fprintf (out, "  %s\n", entry->title);
  print_indented (out, "  ", result->message);
  if (result->status == SMTPKIT_HARNESS_FAIL)
    {
      fprintf (out, "  the conversation, as %s saw it:\n", report->viewpoint);
      print_indented (out, "    ", result->transcript);
    }
}

void
smtpkit_harness_report_add (SmtpkitHarnessReport       *report,
                            const SmtpkitHarnessCase   *test_case,
                            const SmtpkitHarnessResult *result)
{
  smtpkit_harness_report_add_entry (report, test_case->suite, test_case->id,
                                    smtpkit_scenario_get_title (test_case->scenario), result);
}

void
smtpkit_harness_report_add_entry (SmtpkitHarnessReport       *report,
                                  const char                 *suite,
                                  const char                 *id,
                                  const char                 *title,
                                  const SmtpkitHarnessResult *result)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->suite = g_strdup (suite);
  entry->id = g_strdup (id);
  entry->title = g_strdup (title);
  report->n_done++;
  report->counts[result->status]++;
  if (report->format == SMTPKIT_HARNESS_FORMAT_TAP)
    report_tap (report, entry, result);
  else
    report_summary (report, entry, result);
  fflush (report->out);

  entry->status = result->status;
  entry->message = g_strdup (result->message);
  entry->transcript = g_strdup (result->transcript);
  entry->seconds = result->seconds;
  g_ptr_array_add (report->entries, entry);
}

static void
append_escaped (GString    *xml,
                const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text ? text : "", -1);

  g_string_append (xml, escaped);
}

/* One <testsuite> per suite, in the order they came; each case a
 * <testcase> named by its id without the suite. */
static char *
junit_xml (SmtpkitHarnessReport *report)
{
  GString *xml = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  guint i = 0;

  g_string_append_printf (xml, "<testsuites name=\"smtpkit-harness\" tests=\"%u\" failures=\"%u\" "
                          "skipped=\"%u\">\n", report->n_done,
                          report->counts[SMTPKIT_HARNESS_FAIL],
                          report->counts[SMTPKIT_HARNESS_SKIP]);
  while (i < report->entries->len)
    {
      Entry *first = g_ptr_array_index (report->entries, i);
      guint end = i, failures = 0, skipped = 0;

      while (end < report->entries->len &&
             g_str_equal (((Entry *) g_ptr_array_index (report->entries, end))->suite, first->suite))
        {
          Entry *e = g_ptr_array_index (report->entries, end++);
          failures += e->status == SMTPKIT_HARNESS_FAIL;
          skipped += e->status == SMTPKIT_HARNESS_SKIP;
        }
      g_string_append (xml, "  <testsuite name=\"");
      append_escaped (xml, first->suite);
      g_string_append_printf (xml, "\" tests=\"%u\" failures=\"%u\" skipped=\"%u\">\n",
                              end - i, failures, skipped);
      for (; i < end; i++)
        {
          Entry *e = g_ptr_array_index (report->entries, i);
          const char *name = e->id + strlen (e->suite) + 1;

          g_string_append (xml, "    <testcase classname=\"");
          append_escaped (xml, e->suite);
          g_string_append (xml, "\" name=\"");
          append_escaped (xml, name);
          g_string_append_printf (xml, "\" time=\"%.3f\">\n", e->seconds);
          g_string_append (xml, "      <properties><property name=\"title\" value=\"");
          append_escaped (xml, e->title);
          g_string_append (xml, "\"/></properties>\n");
          if (e->status == SMTPKIT_HARNESS_FAIL)
            {
              g_string_append (xml, "      <failure message=\"");
              append_escaped (xml, e->message);
              g_string_append (xml, "\">");
              append_escaped (xml, e->message);
              g_string_append_printf (xml, "\n\nthe conversation, as %s saw it:\n",
                                      report->viewpoint);
              append_escaped (xml, e->transcript);
              g_string_append (xml, "</failure>\n");
            }
          else if (e->status == SMTPKIT_HARNESS_SKIP)
            {
              g_string_append (xml, "      <skipped message=\"");
              append_escaped (xml, e->message);
              g_string_append (xml, "\"/>\n");
            }
          g_string_append (xml, "    </testcase>\n");
        }
      g_string_append (xml, "  </testsuite>\n");
    }
  g_string_append (xml, "</testsuites>\n");
  return g_string_free (xml, FALSE);
}

gboolean
smtpkit_harness_report_finish (SmtpkitHarnessReport  *report,
                               const char            *junit,
                               GError               **error)
{
  if (report->format == SMTPKIT_HARNESS_FORMAT_SUMMARY)
    fprintf (report->out, "%u passed, %u failed, %u skipped\n",
             report->counts[SMTPKIT_HARNESS_PASS], report->counts[SMTPKIT_HARNESS_FAIL],
             report->counts[SMTPKIT_HARNESS_SKIP]);
  else
    fprintf (report->out, "# %u passed, %u failed, %u skipped\n",
             report->counts[SMTPKIT_HARNESS_PASS], report->counts[SMTPKIT_HARNESS_FAIL],
             report->counts[SMTPKIT_HARNESS_SKIP]);
  fflush (report->out);

  if (junit)
    {
      g_autofree char *xml = junit_xml (report);

      if (!g_file_set_contents (junit, xml, -1, error))
        return FALSE;
    }
  return TRUE;
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *x = *(const Entry *const *) a;
  const Entry *y = *(const Entry *const *) b;

  return strcmp (x->id, y->id);
}

gboolean
smtpkit_harness_report_write_outcomes (SmtpkitHarnessReport  *report,
                                       const char            *path,
                                       GError               **error)
{
  static const char *const names[] = { "pass", "fail", "skip" };
  g_autoptr (GPtrArray) sorted = g_ptr_array_sized_new (report->entries->len);
  g_autoptr (GString) text = g_string_new (NULL);

  /* The entries themselves stay the report's. */
  for (guint i = 0; i < report->entries->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (report->entries, i));
  g_ptr_array_sort (sorted, compare_entries);
  for (guint i = 0; i < sorted->len; i++)
    {
      Entry *e = g_ptr_array_index (sorted, i);
      g_string_append_printf (text, "%s\t%s\n", names[e->status], e->id);
    }
  return g_file_set_contents (path, text->str, text->len, error);
}
