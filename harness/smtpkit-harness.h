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

#include <smtpkit.h>

#include "smtpkit-scenario.h"

G_BEGIN_DECLS

#define SMTPKIT_HARNESS_ERROR (smtpkit_harness_error_quark ())

typedef enum
{
  SMTPKIT_HARNESS_ERROR_SCENARIO,  /* a scenario cannot be read or is wrong */
  SMTPKIT_HARNESS_ERROR_SELECTION, /* a suite or file named does not exist */
  SMTPKIT_HARNESS_ERROR_ADAPTER,   /* the adapter did not start or answer */
} SmtpkitHarnessError;

GQuark smtpkit_harness_error_quark (void);

typedef struct
{
  char *id;                     /* "rfc5321/ehlo-421/sync" */
  char *suite;                  /* "rfc5321": the folder under the scenarios */
  SmtpkitScenario *scenario;
  gboolean async;
  char *libsmtpkit_only;        /* why the case is not for other clients, or NULL */
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
/* The same @pattern, for any name of the same form (a probe's check). */
gboolean smtpkit_harness_id_matches (const char *id,
                                     const char *pattern);

/* ---- the client side ------------------------------------------------------
 *
 * A case is played by a client: libsmtpkit in-process, or another client
 * through an adapter. The player (smtpkit-harness-play.c) reads each
 * client step, has the client perform it, and compares the outcome with
 * the one the scenario expects; the fake server checks the bytes. */

typedef struct
{
  SmtpkitReply *reply;          /* a reply returned, or the one an error carries */
  GHashTable *refused;          /* a refused map returned: address -> reply */
  char *error;                  /* the error's class: an SmtpkitError nick,
                                 * timed-out, pending, bad-certificate */
  char *error_message;
  GHashTable *error_recipients; /* the error's map: address -> reply or NULL */
  gboolean has_value;           /* a query's answer: value */
  char *value;
  char *unsupported;            /* the client cannot express the step: why */
} SmtpkitHarnessOutcome;

void smtpkit_harness_outcome_clear (SmtpkitHarnessOutcome *outcome);
/* Fills the error fields from @error (an SmtpkitError or GIO's). */
void smtpkit_harness_outcome_set_error (SmtpkitHarnessOutcome *outcome,
                                        const GError          *error);

typedef struct _SmtpkitHarnessClient SmtpkitHarnessClient;

struct _SmtpkitHarnessClient
{
  /* Performs words[0 .. last-1] (the call and its arguments), the step
   * of scenario line @lineno; FALSE for a step the client does not know. */
  gboolean (*perform) (SmtpkitHarnessClient  *client,
                       guint                  lineno,
                       GPtrArray             *words,
                       guint                  last,
                       SmtpkitHarnessOutcome *out);
  /* After the last step: a failure to report, or NULL. */
  char *(*finish) (SmtpkitHarnessClient *client);
  void (*free) (SmtpkitHarnessClient *client);
};

/* Makes the client for one case; NULL and @error when it cannot start. */
typedef SmtpkitHarnessClient *(*SmtpkitHarnessClientNew) (const SmtpkitHarnessCase  *test_case,
                                                          guint16                    port,
                                                          gpointer                   data,
                                                          GError                   **error);

/* libsmtpkit in-process (smtpkit-harness-steps.c). */
SmtpkitHarnessClient *smtpkit_harness_libsmtpkit_new (const SmtpkitHarnessCase  *test_case,
                                                      guint16                    port,
                                                      gpointer                   data,
                                                      GError                   **error);
/* Another client: @data is the adapter's command line
 * (smtpkit-harness-adapter.c, docs/harness.md). */
SmtpkitHarnessClient *smtpkit_harness_adapter_new (const SmtpkitHarnessCase  *test_case,
                                                   guint16                    port,
                                                   gpointer                   data,
                                                   GError                   **error);

/* Plays the case with the client @new_client makes, and times it. */
void smtpkit_harness_play (const SmtpkitHarnessCase *test_case,
                           SmtpkitHarnessClientNew   new_client,
                           gpointer                  data,
                           SmtpkitHarnessResult     *result);

/* Plays the case through libsmtpkit in-process. */
void smtpkit_harness_run_case (const SmtpkitHarnessCase *test_case,
                               SmtpkitHarnessResult     *result);

/* ---- reading client steps (shared by the clients) -------------------------- */

/* Word @i, or NULL past the end. */
const char *smtpkit_harness_word (GPtrArray *words,
                                  guint      i);
/* A comma-separated list ("a@x,b@y"): a new GStrv, empty for NULL. */
char **smtpkit_harness_split_list (const char *list);
/* A message word: the word itself, or "generate:N", N bytes of lines. */
GBytes *smtpkit_harness_message_word (GPtrArray *words,
                                      guint      i);
/* The "mail:OPT" and "rcpt:OPT" words in [first, last), each array
 * NULL-terminated. */
void smtpkit_harness_collect_options (GPtrArray *words,
                                      guint      first,
                                      guint      last,
                                      GPtrArray *mail_options,
                                      GPtrArray *rcpt_options);

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
/* The same for anything with a name, SUITE/NAME, and a title: a probe's
 * check. A passed entry's message, when it has one, is shown too. */
void smtpkit_harness_report_add_entry (SmtpkitHarnessReport       *report,
                                       const char                 *suite,
                                       const char                 *id,
                                       const char                 *title,
                                       const SmtpkitHarnessResult *result);
/* Whose view the transcripts are: "the server" (the default) or "the
 * probe". */
void smtpkit_harness_report_set_viewpoint (SmtpkitHarnessReport *report,
                                           const char           *who);
/* Ends the report (TAP's plan, the summary's counts) and, when @junit is
 * not NULL, writes the JUnit XML there. */
gboolean smtpkit_harness_report_finish (SmtpkitHarnessReport  *report,
                                        const char            *junit,
                                        GError               **error);
/* Writes "pass|fail|skip<TAB>CASE" lines, sorted by case: a list to keep
 * and compare. */
gboolean smtpkit_harness_report_write_outcomes (SmtpkitHarnessReport  *report,
                                                const char            *path,
                                                GError               **error);
guint smtpkit_harness_report_get_n_failed (SmtpkitHarnessReport *report);
void smtpkit_harness_report_free (SmtpkitHarnessReport *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitHarnessReport, smtpkit_harness_report_free)

/* ---- the probe: checks of a real server (smtpkit-harness-probe.c) -------- */

typedef struct
{
  /* Where: from the URI (smtpkit_harness_probe_parse_uri). */
  char *host;                   /* NULL for a Unix socket */
  int port;
  char *socket;                 /* lmtp:///path */
  gboolean lmtp;
  gboolean implicit_tls;        /* smtps:// */
  /* The options. */
  gboolean starttls;
  char *ca_file;
  char *user;
  char *password_file;
  char *from;
  char **to;
  gboolean send;                /* the checks that deliver may run */
  guint timeout;                /* seconds, each wait */
  char *pattern;                /* only the checks whose name matches */
} SmtpkitHarnessProbeOptions;

/* smtp://host[:port], smtps://host[:port], lmtp:///path, lmtp://host:port. */
gboolean smtpkit_harness_probe_parse_uri (SmtpkitHarnessProbeOptions  *options,
                                          const char                  *uri,
                                          GError                     **error);
/* How many checks @pattern (NULL: all) selects. */
guint smtpkit_harness_probe_count (const char *pattern);
/* Prints "ID<TAB>TITLE" for each check @pattern selects. */
void smtpkit_harness_probe_list (const char *pattern);
/* Runs the selected checks, each on a connection of its own, and adds
 * each to @report. */
void smtpkit_harness_probe_run (const SmtpkitHarnessProbeOptions *options,
                                SmtpkitHarnessReport             *report);

G_END_DECLS
