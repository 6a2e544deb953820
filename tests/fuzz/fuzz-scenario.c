/* fuzz-scenario.c: the scenario-file parser of the fake server
 *
 * The input is a scenario file (text up to its first NUL byte). Parsing
 * must succeed, or fail with SMTPKIT_FAKE_SERVER_ERROR_SCRIPT; what it
 * parsed must be readable (title, client lines in order, server steps of
 * known kinds). The quoting functions are checked on the raw bytes too:
 * smtpkit_scenario_unescape() of smtpkit_scenario_escape() gives the
 * bytes back, and smtpkit_scenario_split_args() of the text succeeds or
 * fails cleanly.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "smtpkit-scenario-private.h"

static void
check_error (const GError *error)
{
  fuzz_check (error != NULL);
  fuzz_check (error->domain == SMTPKIT_FAKE_SERVER_ERROR);
  fuzz_check (error->code == SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
  fuzz_check (error->message != NULL && error->message[0] != '\0');
}

static void
check_round_trip (const guint8 *data,
                  gsize         size)
{
  g_autofree char *escaped = smtpkit_scenario_escape (data, size);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", escaped);
  g_autofree guint8 *decoded = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  /* Printable ASCII only, so that it fits on a line of a scenario. */
  for (const char *p = escaped; *p != '\0'; p++)
    fuzz_check (*p >= 0x20 && *p < 0x7f);

  decoded = smtpkit_scenario_unescape (quoted, &len, &error);
  fuzz_check (error == NULL && decoded != NULL);
  fuzz_check (len == size && (size == 0 || memcmp (decoded, data, size) == 0));
  fuzz_check (decoded[len] == '\0');
}

static void
check_split_args (const char *text)
{
  g_autoptr (GPtrArray) words = NULL;
  g_autoptr (GError) error = NULL;

  words = smtpkit_scenario_split_args (text, &error);
  if (words == NULL)
    {
      check_error (error);
      return;
    }
  for (guint i = 0; i < words->len; i++)
    {
      gsize len;
      const guint8 *word = g_bytes_get_data (words->pdata[i], &len);

      fuzz_check (word != NULL && word[len] == '\0');
    }
}

static void
check_scenario (const char *text)
{
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *client;
  GPtrArray *server;
  guint lineno = 0;

  scenario = smtpkit_scenario_new_from_data ("fuzz", text, &error);
  if (scenario == NULL)
    {
      check_error (error);
      return;
    }
  fuzz_check (error == NULL);
  fuzz_check (g_strcmp0 (smtpkit_scenario_get_name (scenario), "fuzz") == 0);
  (void) smtpkit_scenario_get_title (scenario);
  (void) smtpkit_scenario_get_path (scenario);

  client = smtpkit_scenario_get_client_steps (scenario);
  for (guint i = 0; i < client->len; i++)
    {
      SmtpkitScenarioLine *line = client->pdata[i];

      fuzz_check (line->text != NULL && line->lineno > lineno);
      lineno = line->lineno;
    }

  server = smtpkit_scenario_get_server_steps (scenario);
  for (guint i = 0; i < server->len; i++)
    {
      SmtpkitScenarioStep *step = server->pdata[i];

      fuzz_check (step->kind <= SMTPKIT_STEP_EXPECT_AUTH);
      fuzz_check (step->keyword != NULL && step->lineno > 0);
      if (step->bytes != NULL)
        {
          gsize len;
          const guint8 *bytes = g_bytes_get_data (step->bytes, &len);

          check_round_trip (bytes, len);
        }
      if (step->kind == SMTPKIT_STEP_STARTTLS || step->kind == SMTPKIT_STEP_STARTTLS_REFUSED)
        fuzz_check (step->cert < SMTPKIT_N_CERTS);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);

  check_round_trip (data, size);
  check_split_args (text);
  check_scenario (text);

  return 0;
}
