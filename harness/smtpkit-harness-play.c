/* smtpkit-harness-play.c: one case played, whatever the client
 *
 * The fake server plays the server side and checks every byte the client
 * sends; here each client step is read, performed by the client (libsmtpkit
 * or an adapter) and its outcome compared with the one the scenario
 * expects. The step language is described in docs/scenario-format.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <smtpkit.h>

#include "smtpkit-harness.h"

#include "smtpkit-fake-server.h"

#define OTHER_CLIENT_STEP_TIMEOUT_MS 2000

/* ---- outcomes ------------------------------------------------------------- */

void
smtpkit_harness_outcome_clear (SmtpkitHarnessOutcome *outcome)
{
  g_clear_pointer (&outcome->reply, smtpkit_reply_unref);
  g_clear_pointer (&outcome->refused, g_hash_table_unref);
  g_clear_pointer (&outcome->error, g_free);
  g_clear_pointer (&outcome->error_message, g_free);
  g_clear_pointer (&outcome->error_recipients, g_hash_table_unref);
  g_clear_pointer (&outcome->value, g_free);
  g_clear_pointer (&outcome->unsupported, g_free);
}

/* The class of @error, as scenarios name it. */
static char *
error_class (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_strdup ("timed-out");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    return g_strdup ("pending");
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    return g_strdup ("bad-certificate");
  if (error->domain == SMTPKIT_ERROR)
    {
      GEnumClass *klass = g_type_class_ref (SMTPKIT_TYPE_ERROR);
      GEnumValue *value = g_enum_get_value (klass, error->code);
      char *nick = g_strdup (value ? value->value_nick : "?");

      g_type_class_unref (klass);
      return nick;
    }
  return g_strdup_printf ("%s:%d", g_quark_to_string (error->domain), error->code);
}

void
smtpkit_harness_outcome_set_error (SmtpkitHarnessOutcome *outcome,
                                   const GError          *error)
{
  SmtpkitReply *reply = smtpkit_error_get_reply (error);
  GHashTable *recipients = smtpkit_error_get_recipients (error);

  outcome->error = error_class (error);
  outcome->error_message = g_strdup (error->message);
  g_clear_pointer (&outcome->reply, smtpkit_reply_unref);
  outcome->reply = reply ? smtpkit_reply_ref (reply) : NULL;
  outcome->error_recipients = recipients ? g_hash_table_ref (recipients) : NULL;
}

/* ---- reading client steps ---------------------------------------------------- */

const char *
smtpkit_harness_word (GPtrArray *words,
                      guint      i)
{
  return i < words->len ? g_bytes_get_data (g_ptr_array_index (words, i), NULL) : NULL;
}

static gboolean
word_has_nul (GPtrArray *words,
              guint      i)
{
  gsize size;
  const char *data = g_bytes_get_data (g_ptr_array_index (words, i), &size);

  return memchr (data, '\0', size) != NULL;
}

char **
smtpkit_harness_split_list (const char *list)
{
  if (list == NULL || *list == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (list, ",", -1);
}

void
smtpkit_harness_collect_options (GPtrArray *words,
                                 guint      first,
                                 guint      last,
                                 GPtrArray *mail_options,
                                 GPtrArray *rcpt_options)
{
  for (guint i = first; i < last; i++)
    {
      const char *w = smtpkit_harness_word (words, i);
      if (g_str_has_prefix (w, "mail:"))
        g_ptr_array_add (mail_options, g_strdup (w + 5));
      else if (g_str_has_prefix (w, "rcpt:"))
        g_ptr_array_add (rcpt_options, g_strdup (w + 5));
    }
  g_ptr_array_add (mail_options, NULL);
  g_ptr_array_add (rcpt_options, NULL);
}

GBytes *
smtpkit_harness_message_word (GPtrArray *words,
                              guint      i)
{
  const char *w = smtpkit_harness_word (words, i);
  guint64 size;
  char *data;

  if (w == NULL)
    return g_bytes_new_static ("", 0);
  if (!g_str_has_prefix (w, "generate:"))
    return g_bytes_ref (g_ptr_array_index (words, i));
  size = g_ascii_strtoull (w + strlen ("generate:"), NULL, 10);
  data = g_malloc (size);
  for (guint64 j = 0; j < size; j++)
    data[j] = j % 80 == 78 ? '\r' : j % 80 == 79 ? '\n' : 'a' + (j / 80) % 26;
  return g_bytes_new_take (data, size);
}

/* ---- comparing outcomes ------------------------------------------------------ */

static char *
describe (const SmtpkitHarnessOutcome *out)
{
  GString *s = g_string_new (NULL);

  if (out->error)
    {
      g_string_append_printf (s, "error %s “%s”", out->error,
                              out->error_message ? out->error_message : "");
      if (out->reply)
        g_string_append_printf (s, " with reply %u", smtpkit_reply_get_code (out->reply));
    }
  else if (out->reply)
    g_string_append_printf (s, "reply %u “%s”", smtpkit_reply_get_code (out->reply),
                            smtpkit_reply_get_text (out->reply));
  else if (out->refused)
    g_string_append_printf (s, "refused map of %u", g_hash_table_size (out->refused));
  else if (out->has_value)
    g_string_append_printf (s, "value %s", out->value ? out->value : "null");
  else
    g_string_append (s, "success");
  return g_string_free (s, FALSE);
}

/* "addr:code" words against a map address -> SmtpkitReply, exactly. */
static gboolean
map_matches (GHashTable *map,
             GPtrArray  *words,
             guint       first)
{
  guint expected = 0;

  for (guint i = first; i < words->len; i++, expected++)
    {
      const char *w = smtpkit_harness_word (words, i);
      const char *colon = strrchr (w, ':');
      g_autofree char *address = colon ? g_strndup (w, colon - w) : NULL;
      SmtpkitReply *reply;

      if (!colon || !map)
        return FALSE;
      /* "address:unknown": present, with no reply (outcome not known). */
      if (!g_hash_table_lookup_extended (map, address, NULL, (gpointer *) &reply))
        return FALSE;
      if (g_str_equal (colon + 1, "unknown") ? reply != NULL
          : !reply || smtpkit_reply_get_code (reply) != g_ascii_strtoull (colon + 1, NULL, 10))
        return FALSE;
    }
  return map == NULL ? expected == 0 : g_hash_table_size (map) == expected;
}

static gboolean
reply_matches (SmtpkitReply *reply,
               GPtrArray    *words,
               guint         i)
{
  if (reply == NULL ||
      smtpkit_reply_get_code (reply) != g_ascii_strtoull (smtpkit_harness_word (words, i), NULL, 10))
    return FALSE;
  /* An optional exact text, and an optional enhanced status "es:X.Y.Z". */
  for (i++; i < words->len; i++)
    {
      const char *w = smtpkit_harness_word (words, i);
      if (g_str_has_prefix (w, "es:"))
        {
          const char *status = smtpkit_reply_get_enhanced_status (reply);
          if (g_strcmp0 (status, g_str_equal (w + 3, "none") ? NULL : w + 3) != 0)
            return FALSE;
        }
      else if (!g_str_equal (smtpkit_reply_get_text (reply), w))
        return FALSE;
    }
  return TRUE;
}

static gboolean
outcome_matches (const SmtpkitHarnessOutcome *out,
                 GPtrArray                   *words,
                 guint                        first)
{
  const char *kind = smtpkit_harness_word (words, first);

  if (kind == NULL)
    return out->error == NULL;
  if (g_str_equal (kind, "error"))
    {
      const char *code = smtpkit_harness_word (words, first + 2);
      guint rest = first + 2;

      if (out->error == NULL || g_strcmp0 (out->error, smtpkit_harness_word (words, first + 1)) != 0)
        return FALSE;
      if (code && g_ascii_isdigit (code[0]))
        {
          if (!out->reply || smtpkit_reply_get_code (out->reply) != g_ascii_strtoull (code, NULL, 10))
            return FALSE;
          rest++;
        }
      if (rest < words->len)
        return map_matches (out->error_recipients, words, rest);
      return TRUE;
    }
  if (out->error)
    return FALSE;
  if (out->has_value)
    return g_strcmp0 (out->value, g_str_equal (kind, "null") ? NULL : kind) == 0;
  if (g_str_equal (kind, "ok"))
    return out->refused == NULL || g_hash_table_size (out->refused) == 0;
  if (g_str_equal (kind, "refused"))
    return out->refused != NULL && map_matches (out->refused, words, first + 1);
  return g_ascii_isdigit (kind[0]) && reply_matches (out->reply, words, first);
}

/* ---- one case ------------------------------------------------------------------ */

typedef struct
{
  const SmtpkitHarnessCase *test_case;
  SmtpkitHarnessClient *client;
  GString *failure;             /* the first failure, or NULL */
  char *skipped;                /* why the client cannot play the case */
  GHashTable *refused;          /* the last refused map, for "transient" */
  guint lineno;
} Run;

/* Records the first failure, "FILE:LINE: message"; later ones are
 * consequences of it. */
static void G_GNUC_PRINTF (2, 3)
run_fail (Run        *run,
          const char *format,
          ...)
{
  va_list args;

  if (run->failure)
    return;
  run->failure = g_string_new (NULL);
  g_string_append (run->failure, smtpkit_scenario_get_path (run->test_case->scenario));
  if (run->lineno > 0)
    g_string_append_printf (run->failure, ":%u", run->lineno);
  g_string_append (run->failure, ": ");
  va_start (args, format);
  g_string_append_vprintf (run->failure, format, args);
  va_end (args);
}

/* Queries the player answers itself, whatever the client. */
static gboolean
perform_common (Run                   *run,
                GPtrArray             *words,
                guint                  last,
                SmtpkitHarnessOutcome *out)
{
  const char *call = smtpkit_harness_word (words, 0);

  if (g_str_equal (call, "transient") && last > 1)
    {
      /* transient ADDRESS: whether the last refusal of ADDRESS is 4xx. */
      SmtpkitReply *reply = run->refused ? g_hash_table_lookup (run->refused,
                                                                smtpkit_harness_word (words, 1))
                                         : NULL;

      out->has_value = TRUE;
      out->value = g_strdup (reply == NULL ? "null"
                             : smtpkit_reply_is_transient (reply) ? "true" : "false");
      return TRUE;
    }
  return FALSE;
}

static void
run_step (Run                       *run,
          const SmtpkitScenarioLine *line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = NULL;
  g_autofree char *got = NULL;
  SmtpkitHarnessOutcome out = { 0 };
  guint arrow;

  run->lineno = line->lineno;
  words = smtpkit_scenario_split_args (line->text, &error);
  if (words == NULL || words->len == 0)
    {
      run_fail (run, "cannot read the client step: %s", error ? error->message : "empty");
      return;
    }

  for (arrow = 0; arrow < words->len; arrow++)
    if (g_str_equal (smtpkit_harness_word (words, arrow), "=>") && !word_has_nul (words, arrow))
      break;

  if (!perform_common (run, words, arrow, &out) &&
      !run->client->perform (run->client, line->lineno, words, arrow, &out))
    run_fail (run, "unknown client step “%s”", smtpkit_harness_word (words, 0));
  else if (out.unsupported)
    run->skipped = g_strdup_printf ("%s:%u: %s", smtpkit_scenario_get_path (run->test_case->scenario),
                                    run->lineno, out.unsupported);
  else if (!outcome_matches (&out, words, arrow + 1))
    {
      got = describe (&out);
      run_fail (run, "expected %s, got %s", line->text, got);
    }
  if (out.refused)
    {
      g_clear_pointer (&run->refused, g_hash_table_unref);
      run->refused = g_hash_table_ref (out.refused);
    }
  smtpkit_harness_outcome_clear (&out);
}

void
smtpkit_harness_play (const SmtpkitHarnessCase *test_case,
                      SmtpkitHarnessClientNew   new_client,
                      gpointer                  data,
                      SmtpkitHarnessResult     *result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitFakeServer) server = NULL;
  GPtrArray *steps = smtpkit_scenario_get_client_steps (test_case->scenario);
  gint64 start = g_get_monotonic_time ();
  Run run = { test_case };
  g_autofree char *left = NULL;

  if (new_client != smtpkit_harness_libsmtpkit_new && test_case->libsmtpkit_only)
    {
      result->status = SMTPKIT_HARNESS_SKIP;
      result->message = g_strdup_printf ("libsmtpkit only: %s", test_case->libsmtpkit_only);
      return;
    }

  server = smtpkit_fake_server_new_scripted (test_case->scenario);
  /* Another client is held to the RFCs, not to libsmtpkit's spelling;
   * and one that waits where a scenario expects it to go on (a client
   * that does not pipeline) is given up on sooner: no scenario waits
   * more than a fraction of a second on purpose. */
  if (new_client != smtpkit_harness_libsmtpkit_new)
    {
      smtpkit_fake_server_set_any_case (server, TRUE);
      g_object_set (server, "step-timeout", OTHER_CLIENT_STEP_TIMEOUT_MS, NULL);
    }
  if (!smtpkit_fake_server_listen_tcp (server, &error) ||
      !(run.client = new_client (test_case, smtpkit_fake_server_get_port (server), data, &error)))
    {
      result->status = SMTPKIT_HARNESS_FAIL;
      result->message = g_strdup_printf ("%s: cannot play the case: %s",
                                         smtpkit_scenario_get_path (test_case->scenario),
                                         error->message);
      smtpkit_fake_server_stop (server);
      return;
    }

  for (guint i = 0; i < steps->len && run.failure == NULL && run.skipped == NULL; i++)
    run_step (&run, g_ptr_array_index (steps, i));

  /* The client goes first: its end closes the connection. */
  left = run.client->finish ? run.client->finish (run.client) : NULL;
  run.client->free (run.client);
  run.lineno = 0;
  if (left)
    run_fail (&run, "%s", left);

  /* A skipped case never plays out, nor one without server steps (its
   * client never reaches the server): no wait. After a failure the
   * server side is only a clue: a short one. */
  if (run.skipped == NULL && smtpkit_scenario_get_n_server_steps (test_case->scenario) > 0 &&
      !smtpkit_fake_server_wait (server, run.failure ? 2000 : 15000, &error))
    {
      if (run.failure)
        g_string_append_printf (run.failure, "\nand the server side: %s", error->message);
      else
        run_fail (&run, "the server side did not play out: %s", error->message);
    }
  smtpkit_fake_server_stop (server);

  if (run.failure)
    {
      result->status = SMTPKIT_HARNESS_FAIL;
      result->message = g_string_free (g_steal_pointer (&run.failure), FALSE);
    }
  else if (run.skipped)
    {
      result->status = SMTPKIT_HARNESS_SKIP;
      result->message = g_steal_pointer (&run.skipped);
    }
  else
    result->status = SMTPKIT_HARNESS_PASS;
  result->transcript = smtpkit_fake_server_get_transcript (server);
  result->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_clear_pointer (&run.refused, g_hash_table_unref);
}

void
smtpkit_harness_run_case (const SmtpkitHarnessCase *test_case,
                          SmtpkitHarnessResult     *result)
{
  smtpkit_harness_play (test_case, smtpkit_harness_libsmtpkit_new, NULL, result);
}
