/* smtpkit-harness.h: the conformance harness's runner (internal)
 *
 * One runner serves the test suite (tests/test-scenarios.c) and the
 * smtpkit-harness program: it loads the scenario suites, selects cases,
 * plays each against a client while the fake server plays the server
 * side byte for byte, and reports the results (TAP, JUnit XML, a
 * summary). A case is one scenario file in one mode: through the
 * blocking API or the asynchronous one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>

#include <gio/gio.h>

#include "smtpkit-scenario.h"

G_BEGIN_DECLS

#define SMTPKIT_HARNESS_ERROR (smtpkit_harness_error_quark ())

typedef enum
{
  SMTPKIT_HARNESS_ERROR_SCENARIO,  /* a scenario cannot be read or is wrong */
  SMTPKIT_HARNESS_ERROR_SELECTION, /* a suite or file named does not exist */
} SmtpkitHarnessError;

GQuark smtpkit_harness_error_quark (void);

typedef struct
{
  char *id;                     /* "rfc5321/ehlo-421/sync" */
  char *suite;                  /* "rfc5321": the folder under the scenarios */
  SmtpkitScenario *scenario;
  gboolean async;
} SmtpkitHarnessCase;

typedef enum
{
  SMTPKIT_HARNESS_PASS,
  SMTPKIT_HARNESS_FAIL,
  SMTPKIT_HARNESS_SKIP,
} SmtpkitHarnessStatus;

typedef struct
{
  SmtpkitHarnessStatus status;
  char *message;                /* why it failed or was skipped, "FILE:LINE: ..." */
  char *transcript;             /* the conversation as the server saw it */
  double seconds;
} SmtpkitHarnessResult;

void smtpkit_harness_case_free (SmtpkitHarnessCase *test_case);
void smtpkit_harness_result_clear (SmtpkitHarnessResult *result);

/* $SMTPKIT_SCENARIO_DIR, else the installed suites. */
const char *smtpkit_harness_get_scenario_dir (void);

/* The cases of @selectors, in order: each a suite (a folder under
 * @scenario_dir, such as "rfc5321"), a folder or a .scenario file; all
 * suites when there is none. Fails on a selector that names nothing and
 * on a scenario that cannot be read (the error says FILE:LINE). */
GPtrArray *smtpkit_harness_load (const char         *scenario_dir,
                                 const char *const  *selectors,
                                 GError            **error);

/* @pattern: a glob (with * or ?) or a substring of the case's id; @rfc:
 * a number the scenario's title names ("RFC 5321 ...") or its suite
 * (rfc5321). NULL matches all. */
gboolean smtpkit_harness_case_matches (const SmtpkitHarnessCase *test_case,
                                       const char               *pattern,
                                       const char               *rfc);

/* Plays the case through libsmtpkit in-process. */
void smtpkit_harness_play_libsmtpkit (const SmtpkitHarnessCase *test_case,
                                      SmtpkitHarnessResult     *result);

/* Plays the case and times it. */
void smtpkit_harness_run_case (const SmtpkitHarnessCase *test_case,
                               SmtpkitHarnessResult     *result);

/* ---- reports ------------------------------------------------------------ */

typedef struct _SmtpkitHarnessReport SmtpkitHarnessReport;

typedef enum
{
  SMTPKIT_HARNESS_FORMAT_TAP,
  SMTPKIT_HARNESS_FORMAT_SUMMARY,
} SmtpkitHarnessFormat;

SmtpkitHarnessReport *smtpkit_harness_report_new (FILE                 *out,
                                                  SmtpkitHarnessFormat  format,
                                                  guint                 n_cases);
void smtpkit_harness_report_add (SmtpkitHarnessReport       *report,
                                 const SmtpkitHarnessCase   *test_case,
                                 const SmtpkitHarnessResult *result);
/* Ends the report (TAP's plan, the summary's counts) and, when @junit is
 * not NULL, writes the JUnit XML there. */
gboolean smtpkit_harness_report_finish (SmtpkitHarnessReport  *report,
                                        const char            *junit,
                                        GError               **error);
guint smtpkit_harness_report_get_n_failed (SmtpkitHarnessReport *report);
void smtpkit_harness_report_free (SmtpkitHarnessReport *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitHarnessReport, smtpkit_harness_report_free)

G_END_DECLS
