/* fuzz-command.c: the command formatter and the address helpers of the
 * codec
 *
 * The input is pieces separated by NUL bytes: a verb, an argument and
 * options for smtpkit_codec_format_command(), each piece also being an
 * address or a text for the helpers. Checked:
 *
 * - smtpkit_codec_check_argument() of the raw input fails exactly when it
 *   holds CR, LF or NUL;
 * - the formatter succeeds exactly when the verb is not empty, no piece
 *   holds CR or LF and the line fits 512 octets with its CRLF; it then
 *   appends "VERB[ ARG][ OPT]...\r\n" and nothing else, and on error it
 *   leaves the buffer as it was;
 * - smtpkit_codec_quote_address() gives "<...>";
 * - smtpkit_codec_xtext_encode() gives printable ASCII without '=' whose
 *   "+HH" decode back to the text;
 * - smtpkit_codec_address_to_ascii() gives ASCII or NULL, and an ASCII
 *   address unchanged;
 * - smtpkit_codec_find_ascii_case() finds what a lower-cased strstr()
 *   finds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "smtpkit-codec-private.h"

static char *
piece_string (GPtrArray *pieces,
              guint      i)
{
  gsize len;
  const char *data = i < pieces->len ? g_bytes_get_data (pieces->pdata[i], &len) : NULL;

  return data != NULL ? g_strndup (data, len) : g_strdup ("");
}

static gboolean
has_line_break (const char *text)
{
  return strpbrk (text, "\r\n") != NULL;
}

static void
check_argument (const guint8 *data,
                gsize         size)
{
  g_autoptr (GError) error = NULL;
  gboolean bad = memchr (data, '\r', size) || memchr (data, '\n', size) || memchr (data, 0, size);

  fuzz_check (smtpkit_codec_check_argument ("fuzz", (const char *) data, size, &error) == !bad);
  fuzz_check ((error != NULL) == bad);
}

static void
check_format (GPtrArray *pieces)
{
  g_autofree char *verb = piece_string (pieces, 0);
  g_autofree char *arg = piece_string (pieces, 1);
  g_autoptr (GPtrArray) options = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) expected = g_string_new (verb);
  g_autoptr (GString) out = g_string_new ("before");
  g_autoptr (GError) error = NULL;
  gboolean valid = *verb != '\0' && !has_line_break (verb) && !has_line_break (arg);
  gboolean ok;

  if (*arg != '\0')
    g_string_append_printf (expected, " %s", arg);
  for (guint i = 2; i < pieces->len; i++)
    {
      char *option = piece_string (pieces, i);

      valid = valid && !has_line_break (option);
      g_string_append_printf (expected, " %s", option);
      g_ptr_array_add (options, option);
    }
  g_ptr_array_add (options, NULL);
  g_string_append (expected, "\r\n");
  valid = valid && expected->len <= SMTPKIT_MAX_COMMAND_LINE;

  ok = smtpkit_codec_format_command (out, verb, pieces->len > 1 ? arg : NULL,
                                     (const char *const *) options->pdata, &error);
  fuzz_check (ok == valid);
  fuzz_check ((error == NULL) == ok);
  if (ok)
    {
      fuzz_check (g_str_has_prefix (out->str, "before"));
      fuzz_check (strcmp (out->str + strlen ("before"), expected->str) == 0);
    }
  else
    fuzz_check (strcmp (out->str, "before") == 0);
}

static void
check_xtext (const char *text)
{
  g_autofree char *encoded = smtpkit_codec_xtext_encode (text);
  g_autoptr (GString) decoded = g_string_new (NULL);

  for (const char *p = encoded; *p != '\0'; p++)
    {
      fuzz_check (*p >= 33 && *p <= 126 && *p != '=');
      if (*p != '+')
        {
          g_string_append_c (decoded, *p);
          continue;
        }
      fuzz_check (g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]));
      fuzz_check (!g_ascii_islower (p[1]) && !g_ascii_islower (p[2]));
      g_string_append_c (decoded, g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]));
      p += 2;
    }
  fuzz_check (strcmp (decoded->str, text) == 0);
}

static void
check_address (const char *address)
{
  g_autofree char *quoted = smtpkit_codec_quote_address (address);
  g_autofree char *ascii = smtpkit_codec_address_to_ascii (address);
  gsize len = strlen (quoted);

  fuzz_check (len >= 2 && quoted[0] == '<' && quoted[len - 1] == '>');
  fuzz_check (ascii == NULL || smtpkit_codec_is_ascii (ascii));
  if (smtpkit_codec_is_ascii (address))
    fuzz_check (ascii != NULL && strcmp (ascii, address) == 0);
}

static void
check_find (const char *haystack,
            const char *needle)
{
  g_autofree char *lower_haystack = g_ascii_strdown (haystack, -1);
  g_autofree char *lower_needle = g_ascii_strdown (needle, -1);
  const char *expected = strstr (lower_haystack, lower_needle);
  const char *found = smtpkit_codec_find_ascii_case (haystack, needle);

  /* An empty needle is found at once, except in an empty haystack. */
  if (*haystack == '\0')
    expected = NULL;
  fuzz_check (found == (expected != NULL ? haystack + (expected - lower_haystack) : NULL));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr (GPtrArray) pieces = fuzz_split (data, size);
  g_autofree char *first = piece_string (pieces, 0);
  g_autofree char *second = piece_string (pieces, 1);

  check_argument (data, size);
  check_format (pieces);
  for (guint i = 0; i < pieces->len; i++)
    {
      g_autofree char *text = piece_string (pieces, i);

      check_xtext (text);
      check_address (text);
    }
  check_find (first, second);

  return 0;
}
