/* fuzz-seeds.c: seed corpora for the fuzz targets, from the scenarios
 *
 *   fuzz-seeds SCENARIO_DIR OUTPUT_DIR
 *
 * reads every *.scenario below SCENARIO_DIR with the fake server's own
 * parser and writes OUTPUT_DIR/TARGET/NAME for each target that the
 * scenario has something for:
 *
 *   scenario      the file itself
 *   reply-parser  all the server sends, in one piece (header byte 0)
 *   ehlo-parser   what the server answers to EHLO or LHLO
 *   session       the client configuration (two bytes: LMTP when the
 *                 scenario expects LHLO, login when it expects AUTH),
 *                 then the server's turns: its send steps, grouped
 *                 between steps that wait for the client
 *   fake-sink     what the client sends: expected command lines (a '*'
 *                 pattern made concrete), raw bytes and DATA bodies
 *   sasl          the mechanism of an "expect AUTH MECH ..." and the
 *                 decoded 334 challenges that follow it
 *   data-encoder  each DATA body the scenario expects, as a message
 *   command       each MAIL and RCPT command the scenario expects, its
 *                 words separated by NUL (verb, argument, options)
 *
 * The input formats are those described at the top of each target.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "smtpkit-scenario-private.h"

/* The session target's configuration bits (fuzz-session.c). */
#define SESSION_LMTP  (1 << 0)
#define SESSION_LOGIN (1 << 5)

typedef struct
{
  GByteArray *all_sent;    /* reply-parser */
  GByteArray *ehlo;        /* ehlo-parser */
  GByteArray *session;     /* session: configuration, then turns */
  GByteArray *turn;        /* the turn being gathered */
  guint n_turns;
  GByteArray *client;      /* fake-sink */
  GByteArray *sasl;        /* sasl */
  guint n_challenges;
  GPtrArray *bodies;       /* data-encoder: (element-type GByteArray) */
  GPtrArray *commands;     /* command: (element-type GByteArray) */
  gboolean after_ehlo;     /* the next sends answer EHLO/LHLO */
  gboolean in_auth;        /* the next 334 replies are challenges */
} Seeds;

static gboolean
write_seed (const char   *out_dir,
            const char   *target,
            const char   *name,
            const guint8 *data,
            gsize         len,
            GError      **error)
{
  g_autofree char *dir = g_build_filename (out_dir, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  return g_file_set_contents (path, (const char *) data, len, error);
}

static void
end_turn (Seeds *seeds)
{
  if (seeds->turn->len == 0)
    return;
  if (seeds->n_turns > 0)
    g_byte_array_append (seeds->session, (const guint8 *) "", 1);
  g_byte_array_append (seeds->session, seeds->turn->data, seeds->turn->len);
  g_byte_array_set_size (seeds->turn, 0);
  seeds->n_turns++;
}

/* "334 <base64>" lines in @bytes become challenges of the sasl seed,
 * with '%' and NUL escaped as that target reads them. */
static void
add_challenges (Seeds        *seeds,
                const guint8 *bytes,
                gsize         len)
{
  g_autofree char *text = g_strndup ((const char *) bytes, len);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree guchar *challenge = NULL;
      gsize challenge_len;

      if (!g_str_has_prefix (lines[i], "334 "))
        continue;
      g_strchomp (lines[i]);
      challenge = g_base64_decode (lines[i] + 4, &challenge_len);
      g_byte_array_append (seeds->sasl, (const guint8 *) "", 1);
      for (gsize j = 0; j < challenge_len; j++)
        {
          if (challenge[j] == '%' || challenge[j] == '\0')
            g_byte_array_append (seeds->sasl, (const guint8 *) (challenge[j] ? "%%" : "%0"), 2);
          else
            g_byte_array_append (seeds->sasl, challenge + j, 1);
        }
      seeds->n_challenges++;
    }
}

static void
add_send (Seeds        *seeds,
          const guint8 *bytes,
          gsize         len)
{
  g_byte_array_append (seeds->all_sent, bytes, len);
  g_byte_array_append (seeds->turn, bytes, len);
  if (seeds->after_ehlo)
    g_byte_array_append (seeds->ehlo, bytes, len);
  if (seeds->in_auth)
    add_challenges (seeds, bytes, len);
}

/* An expected command line, its patterns made concrete. */
static void
add_expect (Seeds      *seeds,
            const char *pattern)
{
  g_auto (GStrv) words = g_strsplit (pattern, " ", -1);

  for (const char *p = pattern; *p != '\0'; p++)
    g_byte_array_append (seeds->client, (const guint8 *) (*p == '*' ? "x" : p), 1);
  g_byte_array_append (seeds->client, (const guint8 *) "\r\n", 2);

  if (g_ascii_strncasecmp (pattern, "MAIL ", 5) == 0 ||
      g_ascii_strncasecmp (pattern, "RCPT ", 5) == 0)
    {
      GByteArray *command = g_byte_array_new ();

      for (const char *p = pattern; *p != '\0'; p++)
        g_byte_array_append (command, (const guint8 *) (*p == ' ' ? "" : p), 1);
      g_ptr_array_add (seeds->commands, command);
    }

  seeds->after_ehlo = g_ascii_strncasecmp (pattern, "EHLO", 4) == 0 ||
                      g_ascii_strncasecmp (pattern, "LHLO", 4) == 0;
  if (g_ascii_strncasecmp (pattern, "LHLO", 4) == 0)
    seeds->session->data[0] |= SESSION_LMTP;
  if (g_ascii_strncasecmp (pattern, "AUTH ", 5) == 0 && words[1] != NULL &&
      seeds->sasl->len == 0)
    {
      seeds->session->data[0] |= SESSION_LOGIN;
      g_byte_array_append (seeds->sasl, (const guint8 *) words[1], strlen (words[1]));
      seeds->in_auth = TRUE;
    }
  else
    seeds->in_auth = seeds->in_auth && !g_str_has_prefix (pattern, "MAIL");
}

static void
add_step (Seeds                     *seeds,
          const SmtpkitScenarioStep *step)
{
  gsize len = 0;
  const guint8 *bytes = step->bytes != NULL ? g_bytes_get_data (step->bytes, &len) : NULL;
  guint8 filler[4096];

  switch (step->kind)
    {
    case SMTPKIT_STEP_SEND:
    case SMTPKIT_STEP_SEND_BYTEWISE:
      add_send (seeds, bytes, len);
      return;
    case SMTPKIT_STEP_EXPECT:
      add_expect (seeds, step->arg);
      break;
    case SMTPKIT_STEP_EXPECT_RAW:
      g_byte_array_append (seeds->client, bytes, len);
      break;
    case SMTPKIT_STEP_EXPECT_DATA:
      g_byte_array_append (seeds->client, bytes, len);
      /* The message without its terminator. */
      g_ptr_array_add (seeds->bodies,
                       g_byte_array_append (g_byte_array_new (), bytes, len >= 3 ? len - 3 : 0));
      break;
    case SMTPKIT_STEP_EXPECT_BDAT_SIZE:
      {
        g_autofree char *command = g_strdup_printf ("BDAT %" G_GUINT64_FORMAT " LAST\r\n",
                                                    MIN (step->number, sizeof filler));

        memset (filler, 'x', sizeof filler);
        g_byte_array_append (seeds->client, (const guint8 *) command, strlen (command));
        g_byte_array_append (seeds->client, filler, MIN (step->number, sizeof filler));
      }
      break;
    default:
      break;
    }
  end_turn (seeds);
}

static gboolean
write_seeds (const char  *path,
             const char  *name,
             const char  *out_dir,
             GError     **error)
{
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autofree char *text = NULL;
  GPtrArray *steps;
  gsize text_len;
  guint8 zero = 0;
  Seeds seeds = { 0 };
  gboolean ok;

  if (!g_file_get_contents (path, &text, &text_len, error))
    return FALSE;
  scenario = smtpkit_scenario_new_from_data (name, text, error);
  if (scenario == NULL)
    return FALSE;

  seeds.all_sent = g_byte_array_append (g_byte_array_new (), &zero, 1);
  seeds.ehlo = g_byte_array_new ();
  seeds.session = g_byte_array_append (g_byte_array_new (), (const guint8 *) "\0", 2);
  seeds.turn = g_byte_array_new ();
  seeds.client = g_byte_array_new ();
  seeds.sasl = g_byte_array_new ();
  seeds.bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  seeds.commands = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);

  steps = smtpkit_scenario_get_server_steps (scenario);
  for (guint i = 0; i < steps->len; i++)
    add_step (&seeds, steps->pdata[i]);
  end_turn (&seeds);

  ok = write_seed (out_dir, "scenario", name, (const guint8 *) text, text_len, error);
  ok = ok && write_seed (out_dir, "reply-parser", name, seeds.all_sent->data,
                         seeds.all_sent->len, error);
  if (ok && seeds.ehlo->len > 0)
    ok = write_seed (out_dir, "ehlo-parser", name, seeds.ehlo->data, seeds.ehlo->len, error);
  if (ok && seeds.n_turns > 0)
    ok = write_seed (out_dir, "session", name, seeds.session->data, seeds.session->len, error);
  if (ok && seeds.client->len > 0)
    ok = write_seed (out_dir, "fake-sink", name, seeds.client->data, seeds.client->len, error);
  if (ok && seeds.n_challenges > 0)
    ok = write_seed (out_dir, "sasl", name, seeds.sasl->data, seeds.sasl->len, error);
  for (guint i = 0; ok && i < seeds.bodies->len; i++)
    {
      GByteArray *body = seeds.bodies->pdata[i];
      g_autofree char *body_name = g_strdup_printf ("%s-%u", name, i);
      /* Header: no cuts, convert-newlines. */
      g_autoptr (GByteArray) seed = g_byte_array_append (g_byte_array_new (),
                                                         (const guint8 *) "\x08", 1);

      g_byte_array_append (seed, body->data, body->len);
      ok = write_seed (out_dir, "data-encoder", body_name, seed->data, seed->len, error);
    }
  for (guint i = 0; ok && i < seeds.commands->len; i++)
    {
      GByteArray *command = seeds.commands->pdata[i];
      g_autofree char *command_name = g_strdup_printf ("%s-%u", name, i);

      ok = write_seed (out_dir, "command", command_name, command->data, command->len, error);
    }

  g_byte_array_unref (seeds.all_sent);
  g_byte_array_unref (seeds.ehlo);
  g_byte_array_unref (seeds.session);
  g_byte_array_unref (seeds.turn);
  g_byte_array_unref (seeds.client);
  g_byte_array_unref (seeds.sasl);
  g_ptr_array_unref (seeds.bodies);
  g_ptr_array_unref (seeds.commands);
  return ok;
}

/* Every *.scenario below @dir; the seed's name is its path below the
 * top with '/' as '-'. */
static gboolean
walk (const char  *top,
      const char  *dir,
      const char  *out_dir,
      guint       *count,
      GError     **error)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, error);
  const char *entry;

  if (listing == NULL)
    return FALSE;
  while ((entry = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!walk (top, path, out_dir, count, error))
            return FALSE;
        }
      else if (g_str_has_suffix (entry, ".scenario"))
        {
          g_autofree char *name = g_strdup (path + strlen (top) + 1);

          g_strdelimit (name, "/", '-');
          if (!write_seeds (path, name, out_dir, error))
            {
              g_prefix_error (error, "%s: ", path);
              return FALSE;
            }
          (*count)++;
        }
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr (GError) error = NULL;
  guint count = 0;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s SCENARIO_DIR OUTPUT_DIR\n", argv[0]);
      return 2;
    }
  if (!walk (argv[1], argv[1], argv[2], &count, &error))
    {
      fprintf (stderr, "fuzz-seeds: %s\n", error->message);
      return 1;
    }
  printf ("fuzz-seeds: %u scenarios, seeds in %s\n", count, argv[2]);
  return 0;
}
