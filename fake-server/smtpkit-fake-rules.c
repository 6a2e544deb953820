/* smtpkit-fake-rules.c: the sink's steps, and the replies set for them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "smtpkit-fake-server-private.h"

static const char *const step_names[SMTPKIT_FAKE_N_STEPS] = {
  [SMTPKIT_FAKE_STEP_GREETING] = "greeting",
  [SMTPKIT_FAKE_STEP_EHLO] = "ehlo",
  [SMTPKIT_FAKE_STEP_MAIL] = "mail",
  [SMTPKIT_FAKE_STEP_RCPT] = "rcpt",
  [SMTPKIT_FAKE_STEP_DATA] = "data",
  [SMTPKIT_FAKE_STEP_DOT] = "dot",
};

/* @len bytes of @name, as in "rcpt:*@x=550": the step before the colon. */
static gboolean
parse_step (const char       *name,
            gsize             len,
            SmtpkitFakeStep  *step,
            GError          **error)
{
  for (guint i = SMTPKIT_FAKE_STEP_GREETING; i < SMTPKIT_FAKE_N_STEPS; i++)
    if (strlen (step_names[i]) == len && g_ascii_strncasecmp (name, step_names[i], len) == 0)
      {
        *step = i;
        return TRUE;
      }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "unknown step '%.*s': expected greeting, ehlo, mail, rcpt, data or dot",
               (int) len, name);
  return FALSE;
}

gboolean
smtpkit_fake_step_parse (const char       *name,
                         SmtpkitFakeStep  *step,
                         GError          **error)
{
  return parse_step (name, strlen (name), step, error);
}

/* "=550", "=450 4.2.0 Try later": where the reply of a rule starts, the
 * first "=" followed by a refusal, so that the pattern may hold "=" (VERP
 * and SRS addresses do). */
static const char *
find_reply (const char *text)
{
  for (const char *eq = strchr (text, '='); eq != NULL; eq = strchr (eq + 1, '='))
    if ((eq[1] == '4' || eq[1] == '5') && g_ascii_isdigit (eq[2]) && g_ascii_isdigit (eq[3]) &&
        (eq[4] == '\0' || eq[4] == ' '))
      return eq + 1;
  return NULL;
}

static gboolean
takes_pattern (SmtpkitFakeStep step)
{
  return step == SMTPKIT_FAKE_STEP_EHLO || step == SMTPKIT_FAKE_STEP_MAIL ||
         step == SMTPKIT_FAKE_STEP_RCPT;
}

SmtpkitFakeRule *
smtpkit_fake_rule_parse (const char  *text,
                         GError     **error)
{
  g_autoptr (SmtpkitFakeRule) rule = g_new0 (SmtpkitFakeRule, 1);
  const char *reply = find_reply (text);
  const char *step_end = reply != NULL ? strpbrk (text, ":=") : NULL;

  if (reply == NULL || strpbrk (reply, "\r\n") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad reply rule '%s': expected STEP=CODE TEXT or STEP:PATTERN=CODE TEXT, "
                   "CODE a 4xx or 5xx reply code, such as rcpt:*@bad.test=550 5.1.1 No such user",
                   text);
      return NULL;
    }
  if (!parse_step (text, step_end - text, &rule->step, error))
    return NULL;
  if (*step_end == ':' && !takes_pattern (rule->step))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad reply rule '%s': only ehlo, mail and rcpt take a pattern", text);
      return NULL;
    }
  if (*step_end == ':')
    {
      g_autofree char *pattern = g_strndup (step_end + 1, reply - 1 - (step_end + 1));
      g_autofree char *folded = g_utf8_casefold (pattern, -1);

      rule->pattern = g_pattern_spec_new (folded);
    }
  rule->reply = g_strdup (reply);
  return g_steal_pointer (&rule);
}

void
smtpkit_fake_rule_free (SmtpkitFakeRule *rule)
{
  g_clear_pointer (&rule->pattern, g_pattern_spec_free);
  g_free (rule->reply);
  g_free (rule);
}

/* The reply of the first rule for @step whose pattern matches @subject
 * (the EHLO name, or the address of MAIL or RCPT), in any case; NULL when
 * none does. */
const char *
smtpkit_fake_rules_match (GPtrArray       *rules,
                          SmtpkitFakeStep  step,
                          const char      *subject)
{
  g_autofree char *valid = subject != NULL ? g_utf8_make_valid (subject, -1) : NULL;
  g_autofree char *folded = valid != NULL ? g_utf8_casefold (valid, -1) : NULL;

  for (guint i = 0; i < rules->len; i++)
    {
      SmtpkitFakeRule *rule = rules->pdata[i];

      if (rule->step == step &&
          (rule->pattern == NULL || (folded != NULL && g_pattern_spec_match_string (rule->pattern, folded))))
        return rule->reply;
    }
  return NULL;
}
