/* fuzz-ehlo-parser.c: the EHLO parser
 *
 * The input is an EHLO reply as the server sends it. When the reply
 * parser takes it, its first reply is used; otherwise each line becomes
 * a line of a 250 reply, so that texts the reply parser refuses reach the
 * EHLO parser too. The feature table must hold exactly smtplib's
 * keywords: one per line after the greeting that starts with a letter or
 * a digit (lower-cased, letters, digits and '-' only), "auth" for the
 * old-style "AUTH=" lines, and parameters without surrounding space.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "smtpkit-codec-private.h"
#include "smtpkit-reply.h"

static SmtpkitReply *
reply_from_bytes (const guint8 *data,
                  gsize         size)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  SmtpkitReply *reply = NULL;
  g_autoptr (GError) error = NULL;
  gsize consumed;

  if (smtpkit_reply_parser_feed (parser, data, size, &consumed, &reply, &error) !=
      SMTPKIT_REPLY_PARSER_REPLY)
    {
      g_autofree char *text = g_strndup ((const char *) data, size);
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

      reply = smtpkit_reply_new (250, (const char *const *) lines);
    }
  smtpkit_reply_parser_free (parser);

  return reply;
}

static gboolean
is_keyword (const char *key)
{
  if (!g_ascii_isalnum (key[0]))
    return FALSE;
  for (const char *p = key; *p != '\0'; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
is_space (char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

/* The keyword smtplib finds on @line, or NULL. */
static char *
expected_keyword (const char *line)
{
  gsize n = 0;

  if (g_ascii_strncasecmp (line, "auth=", 5) == 0)
    return g_strdup ("auth");
  while (g_ascii_isalnum (line[n]) || (n > 0 && line[n] == '-'))
    n++;
  return n > 0 ? g_ascii_strdown (line, n) : NULL;
}

static void
check_features (const SmtpkitReply *reply,
                GHashTable         *features)
{
  g_auto (GStrv) lines = g_strsplit (smtpkit_reply_get_text (reply), "\n", -1);
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  for (gsize i = 1; lines[0] != NULL && lines[i] != NULL; i++)
    {
      char *keyword = expected_keyword (lines[i]);

      if (keyword != NULL)
        g_hash_table_add (expected, keyword);
    }

  g_hash_table_iter_init (&iter, features);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *params = value;
      gsize len = strlen (params);

      fuzz_check (is_keyword (key));
      fuzz_check (g_hash_table_contains (expected, key));
      /* "auth" gathers its lines, each after a space, as smtplib does. */
      if (strcmp (key, "auth") == 0)
        fuzz_check (params[0] == ' ');
      else
        fuzz_check (len == 0 || (!is_space (params[0]) && !is_space (params[len - 1])));
    }
  fuzz_check (g_hash_table_size (features) == g_hash_table_size (expected));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr (SmtpkitReply) reply = reply_from_bytes (data, size);
  g_autoptr (GHashTable) features = smtpkit_codec_parse_ehlo (reply);

  fuzz_check (features != NULL);
  check_features (reply, features);

  return 0;
}
