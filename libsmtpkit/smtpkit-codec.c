/* smtpkit-codec.c: the pure protocol codec (no I/O)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#endif

#include "smtpkit-codec-private.h"
#include "smtpkit-error-private.h"
#include "smtpkit-reply-private.h"

/* ---- command formatter ------------------------------------------------ */

gboolean
smtpkit_codec_check_argument (const char  *what,
                              const char  *value,
                              gssize       length,
                              GError     **error)
{
  gsize len;

  g_return_val_if_fail (what != NULL, FALSE);
  g_return_val_if_fail (value != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = length < 0 ? strlen (value) : (gsize) length;
  for (gsize i = 0; i < len; i++)
    {
      if (value[i] == '\r' || value[i] == '\n')
        {
          g_propagate_error (error,
                             smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                      "%s contains a line break (CR or LF); "
                                                      "refusing to send it",
                                                      what));
          return FALSE;
        }
      if (value[i] == '\0')
        {
          g_propagate_error (error,
                             smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                      "%s contains a NUL byte; "
                                                      "refusing to send it",
                                                      what));
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_named_piece (const char  *verb,
                   const char  *kind,
                   const char  *value,
                   GError     **error)
{
  g_autofree char *what = NULL;

  /* A NUL ends a C string: only CR and LF can be in @value. The error's
   * wording is made only for an error. */
  if (value[strcspn (value, "\r\n")] == '\0')
    return TRUE;
  what = g_strdup_printf ("%s %s", verb, kind);
  return smtpkit_codec_check_argument (what, value, -1, error);
}

/* Copies @separator (when not NULL: one character) and @text to @p;
 * returns the end. */
static char *
put_piece (char       *p,
           const char *separator,
           const char *text)
{
  gsize length = strlen (text);

  if (separator)
    *p++ = *separator;
  memcpy (p, text, length);
  return p + length;
}

gboolean
smtpkit_codec_format_command (GString            *out,
                              const char         *verb,
                              const char         *arg,
                              const char *const  *options,
                              GError            **error)
{
  gsize line_length;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (verb != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Everything is checked before anything is appended, so that @out is
   * left as it was on error. */
  if (*verb == '\0')
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "command verb is empty; refusing to send "
                                                  "an empty command"));
      return FALSE;
    }
  if (!smtpkit_codec_check_argument ("command verb", verb, -1, error))
    return FALSE;
  line_length = strlen (verb) + 2;

  /* As smtplib's putcmd(): an empty argument adds no space. */
  if (arg != NULL && *arg != '\0')
    {
      if (!check_named_piece (verb, "argument", arg, error))
        return FALSE;
      line_length += 1 + strlen (arg);
    }

  for (gsize i = 0; options != NULL && options[i] != NULL; i++)
    {
      if (!check_named_piece (verb, "option", options[i], error))
        return FALSE;
      line_length += 1 + strlen (options[i]);
    }

  if (line_length > SMTPKIT_MAX_COMMAND_LINE)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_INVALID_ARGUMENT, NULL,
                                                  "%s command line would be %" G_GSIZE_FORMAT
                                                  " octets long with its CRLF, over the limit "
                                                  "of %d (RFC 5321 section 4.5.3.1.4); "
                                                  "refusing to send it",
                                                  verb, line_length,
                                                  SMTPKIT_MAX_COMMAND_LINE));
      return FALSE;
    }

  /* Written in place: the length is known. */
  {
    gsize start = out->len;
    char *p;

    g_string_set_size (out, start + line_length);
    p = out->str + start;
    p = put_piece (p, NULL, verb);
    if (arg != NULL && *arg != '\0')
      p = put_piece (p, " ", arg);
    for (gsize i = 0; options != NULL && options[i] != NULL; i++)
      p = put_piece (p, " ", options[i]);
    memcpy (p, "\r\n", 2);
  }

  return TRUE;
}

char *
smtpkit_codec_quote_address (const char *address)
{
  return smtpkit_codec_path_argument ("", address);
}

char *
smtpkit_codec_path_argument (const char *keyword,
                             const char *address)
{
  gsize keyword_len;
  const char *start;
  const char *close = NULL;
  const char *inner;
  gsize len, inner_len;
  char *quoted;

  g_return_val_if_fail (keyword != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);

  /* Only spaces and tabs: a CR or LF must survive to be refused by the
   * formatter, never be dropped into a valid-looking command. */
  start = address + strspn (address, " \t");
  len = strlen (start);
  while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
    len--;

  /* The last complete <...> pair: the last '>' and the nearest '<' before
   * it. This covers "<>", "<a@b>" and "Name <a@b>". */
  inner = start;
  inner_len = len;
  for (gsize i = len; i > 0 && close == NULL; i--)
    if (start[i - 1] == '>')
      close = start + i - 1;
  if (close != NULL)
    {
      for (const char *p = close; p > start; p--)
        {
          if (p[-1] == '<')
            {
              inner = p;
              inner_len = close - p;
              break;
            }
        }
    }

  keyword_len = strlen (keyword);
  quoted = g_malloc (keyword_len + inner_len + 3);
  memcpy (quoted, keyword, keyword_len);
  quoted[keyword_len] = '<';
  memcpy (quoted + keyword_len + 1, inner, inner_len);
  quoted[keyword_len + inner_len + 1] = '>';
  quoted[keyword_len + inner_len + 2] = '\0';
  return quoted;
}

/* ---- reply parser ----------------------------------------------------- */

/* How much of an offending line an error message quotes. */
#define QUOTED_LINE_MAX 80

struct _SmtpkitReplyParser
{
  GByteArray *line; /* the line being read, without its LF */
  GString *texts;   /* texts of the complete lines of the reply being read, each
                     * ended by a NUL */
  gsize n_lines;
  guint code;       /* of the reply being read, 0 before its first line */
  gsize size;       /* octets of the reply being read, line ends included */
  gboolean failed;  /* an error was returned; reset() is required */
};

SmtpkitReplyParser *
smtpkit_reply_parser_new (void)
{
  SmtpkitReplyParser *parser = g_new0 (SmtpkitReplyParser, 1);

  parser->line = g_byte_array_new ();
  parser->texts = g_string_new (NULL);

  return parser;
}

void
smtpkit_reply_parser_free (SmtpkitReplyParser *parser)
{
  if (parser == NULL)
    return;

  g_byte_array_unref (parser->line);
  g_string_free (parser->texts, TRUE);
  g_free (parser);
}

static void
forget_reply (SmtpkitReplyParser *parser)
{
  g_byte_array_set_size (parser->line, 0);
  g_string_truncate (parser->texts, 0);
  parser->n_lines = 0;
  parser->code = 0;
  parser->size = 0;
}

void
smtpkit_reply_parser_reset (SmtpkitReplyParser *parser)
{
  g_return_if_fail (parser != NULL);

  forget_reply (parser);
  parser->failed = FALSE;
}

gboolean
smtpkit_reply_parser_has_partial (SmtpkitReplyParser *parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);

  return parser->line->len > 0 || parser->n_lines > 0;
}

static char *
quote_line (const guint8 *line,
            gsize         length)
{
  gsize head_length = MIN (length, QUOTED_LINE_MAX);
  /* An empty GByteArray may have no data at all. */
  g_autofree char *head = g_strndup (head_length > 0 ? (const char *) line : "", head_length);
  g_autofree char *escaped = g_strescape (head, NULL);

  return g_strdup_printf ("\"%s\"%s", escaped, length > QUOTED_LINE_MAX ? "..." : "");
}

static gboolean
is_code_line (const guint8 *line,
              gsize         length)
{
  if (length < 3)
    return FALSE;
  if (line[0] < '2' || line[0] > '5')
    return FALSE;
  if (!g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]))
    return FALSE;

  return length == 3 || line[3] == ' ' || line[3] == '-';
}

/* Takes a complete line, its LF already dropped. Sets *last when it
 * ends the reply. */
static gboolean
take_line (SmtpkitReplyParser  *parser,
           const guint8        *line,
           gsize                length,
           gboolean            *last,
           GError             **error)
{
  guint code;

  if (length > 0 && line[length - 1] == '\r')
    length--;

  if (!is_code_line (line, length))
    {
      g_autofree char *quoted = quote_line (line, length);

      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                                  "server sent a malformed reply line %s "
                                                  "(expected a code from 200 to 599 followed "
                                                  "by a space, a '-' or the end of the line); "
                                                  "this is not an SMTP server",
                                                  quoted));
      return FALSE;
    }

  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (parser->code != 0 && code != parser->code)
    {
      g_propagate_error (error,
                         smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                                  "server sent a malformed reply: lines of one "
                                                  "reply disagree: %u then %u",
                                                  parser->code, code));
      return FALSE;
    }

  parser->code = code;
  *last = length == 3 || line[3] == ' ';
  if (length > 4)
    g_string_append_len (parser->texts, (const char *) line + 4, length - 4);
  g_string_append_c (parser->texts, '\0');
  parser->n_lines++;

  return TRUE;
}

static SmtpkitReplyParserStatus
parser_fail (SmtpkitReplyParser  *parser,
             GError             **error,
             GError              *failure)
{
  forget_reply (parser);
  parser->failed = TRUE;
  g_propagate_error (error, failure);

  return SMTPKIT_REPLY_PARSER_ERROR;
}

SmtpkitReplyParserStatus
smtpkit_reply_parser_feed (SmtpkitReplyParser  *parser,
                           const guint8        *data,
                           gsize                length,
                           gsize               *consumed,
                           SmtpkitReply       **reply,
                           GError             **error)
{
  gsize pos = 0;

  g_return_val_if_fail (parser != NULL, SMTPKIT_REPLY_PARSER_ERROR);
  g_return_val_if_fail (data != NULL || length == 0, SMTPKIT_REPLY_PARSER_ERROR);
  g_return_val_if_fail (reply != NULL, SMTPKIT_REPLY_PARSER_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, SMTPKIT_REPLY_PARSER_ERROR);

  if (consumed != NULL)
    *consumed = 0;

  if (parser->failed)
    return parser_fail (parser, error,
                        smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                                 "reply parser used after an error; "
                                                 "reset it first"));

  while (pos < length)
    {
      const guint8 *start = data + pos;
      const guint8 *lf = memchr (start, '\n', length - pos);
      gsize segment = lf != NULL ? (gsize) (lf - start) + 1 : length - pos;
      gsize line_room = SMTPKIT_MAX_REPLY_LINE - parser->line->len;
      gsize reply_room = SMTPKIT_MAX_REPLY_SIZE - parser->size;
      gsize room = MIN (line_room, reply_room);
      gboolean last = FALSE;
      gboolean taken;
      GError *failure = NULL;
      const guint8 *nul;

      /* The outcome must not depend on how the input was split, so the
       * checks are those of feeding one byte at a time: a NUL is reported
       * if it comes no later than the first octet over a limit. */
      nul = memchr (start, '\0', MIN (segment, room + 1));
      if (nul != NULL)
        {
          if (consumed != NULL)
            *consumed = pos + (gsize) (nul - start) + 1;
          return parser_fail (parser, error,
                              smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                                       "server sent a NUL byte in a reply; "
                                                       "this is not an SMTP server"));
        }
      if (segment > room)
        {
          if (consumed != NULL)
            *consumed = pos + room + 1;
          if (line_room <= reply_room)
            failure = smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                               "server sent a reply line longer than %d "
                                               "octets; giving up on it",
                                               SMTPKIT_MAX_REPLY_LINE);
          else
            failure = smtpkit_error_new_reply (SMTPKIT_ERROR_PROTOCOL, NULL,
                                               "server sent a reply longer than %d "
                                               "octets; giving up on it",
                                               SMTPKIT_MAX_REPLY_SIZE);
          return parser_fail (parser, error, failure);
        }

      parser->size += segment;
      pos += segment;
      if (lf == NULL)
        {
          g_byte_array_append (parser->line, start, segment);
          break;
        }

      /* A line that came whole is read where it is. */
      if (parser->line->len == 0)
        taken = take_line (parser, start, segment - 1, &last, &failure);
      else
        {
          g_byte_array_append (parser->line, start, segment - 1);
          taken = take_line (parser, parser->line->data, parser->line->len, &last, &failure);
          g_byte_array_set_size (parser->line, 0);
        }
      if (!taken)
        {
          if (consumed != NULL)
            *consumed = pos;
          return parser_fail (parser, error, failure);
        }

      if (last)
        {
          *reply = smtpkit_reply_new_packed (parser->code, parser->texts->str,
                                             parser->texts->len, parser->n_lines);
          forget_reply (parser);
          if (consumed != NULL)
            *consumed = pos;
          return SMTPKIT_REPLY_PARSER_REPLY;
        }
    }

  if (consumed != NULL)
    *consumed = pos;

  return SMTPKIT_REPLY_PARSER_NEED_MORE;
}

/* ---- EHLO parser ------------------------------------------------------ */

/* Python's str.strip() on smtplib's latin-1 text, restricted to ASCII:
 * stripping 0x85 or 0xA0 would cut UTF-8 sequences in two. */
static gboolean
is_python_space (char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

static char *
python_strip (const char *start,
              const char *end)
{
  while (start < end && is_python_space (*start))
    start++;
  while (end > start && is_python_space (end[-1]))
    end--;

  return g_strndup (start, end - start);
}

static void
append_auth (GHashTable *features,
             const char *params)
{
  const char *old = g_hash_table_lookup (features, "auth");

  g_hash_table_insert (features, g_strdup ("auth"),
                       g_strconcat (old != NULL ? old : "", " ", params, NULL));
}

static void
parse_ehlo_line (GHashTable *features,
                 const char *line)
{
  const char *end = line + strlen (line);
  const char *p = line;
  g_autofree char *keyword = NULL;
  g_autofree char *params = NULL;

  /* OLDSTYLE_AUTH = re.compile(r"auth=(.*)", re.I) */
  if (g_ascii_strncasecmp (line, "auth=", 5) == 0)
    {
      append_auth (features, line + 5);
      return;
    }

  /* re.match(r'(?P<feature>[A-Za-z0-9][A-Za-z0-9\-]*) ?', each) */
  if (!g_ascii_isalnum (*p))
    return;
  while (g_ascii_isalnum (*p) || *p == '-')
    p++;

  keyword = g_ascii_strdown (line, p - line);
  params = python_strip (p, end);
  if (strcmp (keyword, "auth") == 0)
    append_auth (features, params);
  else
    g_hash_table_insert (features, g_steal_pointer (&keyword), g_steal_pointer (&params));
}

GHashTable *
smtpkit_codec_parse_ehlo (const SmtpkitReply *reply)
{
  GHashTable *features;
  g_auto (GStrv) lines = NULL;

  g_return_val_if_fail (reply != NULL, NULL);

  features = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* smtplib works on the reply text (stripped lines joined with "\n"). */
  lines = g_strsplit (smtpkit_reply_get_text (reply), "\n", -1);
  for (gsize i = 1; lines[0] != NULL && lines[i] != NULL; i++)
    parse_ehlo_line (features, lines[i]);

  return features;
}

/* ---- DATA encoder ----------------------------------------------------- */

/* pending_cr means "the last byte fed was CR". When converting, that CR has
 * already gone out as CRLF, and an LF starting the next chunk is its own. */

void
smtpkit_data_encoder_init (SmtpkitDataEncoder *encoder,
                           gboolean            convert_newlines)
{
  g_return_if_fail (encoder != NULL);

  encoder->convert_newlines = !!convert_newlines;
  encoder->at_line_start = TRUE;
  encoder->pending_cr = FALSE;
  encoder->ends_with_crlf = FALSE;
  encoder->chunked = FALSE;
  encoder->bytes_out = 0;
}

/* Appends to @out, or only counts when @out is NULL. */
static inline void
put (SmtpkitDataEncoder *encoder,
     GByteArray         *out,
     const guint8       *bytes,
     gsize               length)
{
  if (length == 0)
    return;
  if (out != NULL)
    g_byte_array_append (out, bytes, length);
  encoder->bytes_out += length;
}

static const guint8 dot = '.';
static const guint8 crlf[] = { '\r', '\n' };
static const guint8 terminator[] = { '.', '\r', '\n' };

/* The next CR or LF at or after @p, or @end. @cr and @lf cache the last
 * memchr() results (NULL: not searched yet), so that each byte is scanned
 * once for each. */
static const guint8 *
next_line_end (const guint8  *p,
               const guint8  *end,
               const guint8 **cr,
               const guint8 **lf)
{
  if (*cr == NULL || *cr < p)
    {
      *cr = memchr (p, '\r', end - p);
      if (*cr == NULL)
        *cr = end;
    }
  if (*lf == NULL || *lf < p)
    {
      *lf = memchr (p, '\n', end - p);
      if (*lf == NULL)
        *lf = end;
    }

  return MIN (*cr, *lf);
}

/* Runs of ordinary bytes and of CRLFs that need no change are appended in
 * one call; output is only split for a dot to stuff or a bare CR or LF. */
static void
encode_converting (SmtpkitDataEncoder *encoder,
                   const guint8       *data,
                   gsize               length,
                   GByteArray         *out)
{
  const guint8 *end = data + length;
  const guint8 *p = data;
  const guint8 *run;
  const guint8 *cr = NULL;
  const guint8 *lf = NULL;
  gboolean at_line_start = encoder->at_line_start;
  gboolean ends_with_crlf = encoder->ends_with_crlf;

  if (encoder->pending_cr)
    {
      encoder->pending_cr = FALSE;
      if (*p == '\n')
        p++;
    }

  run = p;
  while (p < end)
    {
      const guint8 *q;

      if (at_line_start && *p == '.' && !encoder->chunked)
        {
          put (encoder, out, run, p - run);
          put (encoder, out, &dot, 1);
          run = p;
        }

      q = next_line_end (p, end, &cr, &lf);
      if (q > p)
        {
          at_line_start = FALSE;
          ends_with_crlf = FALSE;
        }
      if (q == end)
        break;

      at_line_start = TRUE;
      ends_with_crlf = TRUE;
      if (*q == '\r' && q + 1 < end && q[1] == '\n')
        {
          /* CRLF stays as it is, in the run. */
          p = q + 2;
          continue;
        }

      /* A bare LF, or a CR not followed by LF in this chunk. */
      put (encoder, out, run, q - run);
      put (encoder, out, crlf, sizeof crlf);
      if (*q == '\r' && q + 1 == end)
        encoder->pending_cr = TRUE;
      p = q + 1;
      run = p;
    }
  put (encoder, out, run, end - run);

  encoder->at_line_start = at_line_start;
  encoder->ends_with_crlf = ends_with_crlf;
}

static void
encode_verbatim (SmtpkitDataEncoder *encoder,
                 const guint8       *data,
                 gsize               length,
                 GByteArray         *out)
{
  const guint8 *end = data + length;
  const guint8 *p = data;
  const guint8 *run = data;
  const guint8 *q;

  if (encoder->at_line_start && *p == '.' && !encoder->chunked)
    put (encoder, out, &dot, 1);

  while ((q = memchr (p, '\n', end - p)) != NULL)
    {
      p = q + 1;
      if (p < end && *p == '.' && !encoder->chunked)
        {
          put (encoder, out, run, p - run);
          put (encoder, out, &dot, 1);
          run = p;
        }
    }
  put (encoder, out, run, end - run);

  /* A stuffed dot is never the last byte out, so the output ends as the
   * input does. */
  encoder->ends_with_crlf = end[-1] == '\n' && (length >= 2 ? end[-2] == '\r' : encoder->pending_cr);
  encoder->at_line_start = end[-1] == '\n';
  encoder->pending_cr = end[-1] == '\r';
}

static void
encode (SmtpkitDataEncoder *encoder,
        const guint8       *data,
        gsize               length,
        GByteArray         *out)
{
  if (length == 0)
    return;

  if (encoder->convert_newlines)
    encode_converting (encoder, data, length, out);
  else
    encode_verbatim (encoder, data, length, out);
}

void
smtpkit_data_encoder_feed (SmtpkitDataEncoder *encoder,
                           const guint8       *data,
                           gsize               length,
                           GByteArray         *out)
{
  g_return_if_fail (encoder != NULL);
  g_return_if_fail (data != NULL || length == 0);
  g_return_if_fail (out != NULL);

  encode (encoder, data, length, out);
}

void
smtpkit_data_encoder_finish (SmtpkitDataEncoder *encoder,
                             GByteArray         *out)
{
  g_return_if_fail (encoder != NULL);
  g_return_if_fail (out != NULL);

  if (!encoder->ends_with_crlf)
    put (encoder, out, crlf, sizeof crlf);
  put (encoder, out, terminator, sizeof terminator);

  encoder->ends_with_crlf = TRUE;
  encoder->at_line_start = TRUE;
  encoder->pending_cr = FALSE;
}

void
smtpkit_data_encoder_init_chunked (SmtpkitDataEncoder *encoder,
                                   gboolean            convert_newlines)
{
  smtpkit_data_encoder_init (encoder, convert_newlines);
  encoder->chunked = TRUE;
}

void
smtpkit_data_encoder_finish_chunked (SmtpkitDataEncoder *encoder,
                                     GByteArray         *out)
{
  g_return_if_fail (encoder != NULL && encoder->chunked);

  /* Exact bytes stay exact; converted text ends with a line break. */
  if (encoder->convert_newlines && encoder->bytes_out > 0 && !encoder->ends_with_crlf)
    put (encoder, out, crlf, sizeof crlf);
  encoder->ends_with_crlf = TRUE;
}

static inline gboolean
ends_with_crlf (const guint8 *data,
                gsize         length)
{
  return length >= 2 && data[length - 2] == '\r' && data[length - 1] == '\n';
}

/* The CR or LF at @i: a bare one when converting spoils both forms; a
 * dot after an LF, DATA's. */
static inline SmtpkitWireForm
wire_form_at (const guint8    *data,
              gsize            length,
              gsize            i,
              gboolean         convert_newlines,
              SmtpkitWireForm  form)
{
  if (data[i] == '\n')
    {
      if (convert_newlines && (i == 0 || data[i - 1] != '\r'))
        return 0;
      if (i + 1 < length && data[i + 1] == '.')
        form &= ~SMTPKIT_WIRE_DATA;
    }
  else if (convert_newlines && (i + 1 == length || data[i + 1] != '\n'))
    return 0;
  return form;
}

#if defined(__SSE2__) && defined(__GNUC__)
/* How far ahead of the block under way the scans ask for memory: a long
 * message comes from memory, not the cache, and the processor's own
 * prefetcher alone leaves the scan waiting for it (asking 2 KiB ahead
 * makes a scan of cold text about 20% faster; a prefetch past the end
 * is harmless). */
#define SCAN_PREFETCH 2048

/* What the block scans of smtpkit_codec_wire_form() found: each LF must
 * have a CR just before it and each CR an LF just after (the LFs are the
 * CRs moved one place on: @stray marks where they differ), and no dot may
 * follow an LF (@dotted). The carries are what moves past the last
 * block's end. */
typedef struct
{
  guint64 stray;
  guint64 dotted;
  guint64 cr_carry;
  guint64 lf_carry;
} BlockScan;

/* Thirty-two bytes at a time, without a branch per line; returns where
 * the blocks end. A bare CR or LF spoils both forms: the scan stops at
 * the next kilobyte once it saw one. */
static gsize
scan_blocks_sse2 (const guint8 *data,
                  gsize         length,
                  BlockScan    *scan)
{
  const __m128i cr = _mm_set1_epi8 ('\r');
  const __m128i lf = _mm_set1_epi8 ('\n');
  const __m128i dot = _mm_set1_epi8 ('.');
  guint32 cr_carry = 0, lf_carry = 0, stray = 0, dotted = 0;
  gsize i;

  for (i = 0; i + 32 <= length; i += 32)
    {
      __builtin_prefetch (data + i + SCAN_PREFETCH);
      __m128i a = _mm_loadu_si128 ((const __m128i *) (data + i));
      __m128i b = _mm_loadu_si128 ((const __m128i *) (data + i + 16));
      guint32 crs = (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (a, cr)) |
                    (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (b, cr)) << 16;
      guint32 lfs = (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (a, lf)) |
                    (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (b, lf)) << 16;
      guint32 dots = (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (a, dot)) |
                     (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (b, dot)) << 16;

      stray |= lfs ^ (crs << 1 | cr_carry);
      dotted |= dots & (lfs << 1 | lf_carry);
      cr_carry = crs >> 31;
      lf_carry = lfs >> 31;
      if ((i & 1023) == 0 && stray != 0)
        break;
    }
  scan->stray = stray;
  scan->dotted = dotted;
  scan->cr_carry = cr_carry;
  scan->lf_carry = lf_carry;
  return i;
}

#if defined(__x86_64__)
/* The same, sixty-four bytes at a time, where the processor has AVX2. */
__attribute__ ((target ("avx2"))) static gsize
scan_blocks_avx2 (const guint8 *data,
                  gsize         length,
                  BlockScan    *scan)
{
  const __m256i cr = _mm256_set1_epi8 ('\r');
  const __m256i lf = _mm256_set1_epi8 ('\n');
  const __m256i dot = _mm256_set1_epi8 ('.');
  guint64 cr_carry = 0, lf_carry = 0, stray = 0, dotted = 0;
  gsize i;

  for (i = 0; i + 64 <= length; i += 64)
    {
      __builtin_prefetch (data + i + SCAN_PREFETCH);
      __m256i a = _mm256_loadu_si256 ((const __m256i *) (data + i));
      __m256i b = _mm256_loadu_si256 ((const __m256i *) (data + i + 32));
      guint64 crs = (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (a, cr)) |
                    (guint64) (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (b, cr)) << 32;
      guint64 lfs = (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (a, lf)) |
                    (guint64) (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (b, lf)) << 32;
      guint64 dots = (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (a, dot)) |
                     (guint64) (guint32) _mm256_movemask_epi8 (_mm256_cmpeq_epi8 (b, dot)) << 32;

      stray |= lfs ^ (crs << 1 | cr_carry);
      dotted |= dots & (lfs << 1 | lf_carry);
      cr_carry = crs >> 63;
      lf_carry = lfs >> 63;
      if ((i & 1023) == 0 && stray != 0)
        break;
    }
  scan->stray = stray;
  scan->dotted = dotted;
  scan->cr_carry = cr_carry;
  scan->lf_carry = lf_carry;
  return i;
}

/* The same, sixty-four bytes at a time with AVX-512BW, where the
 * processor has it, and in another way: each block is compared with
 * itself one byte back (a second load), so that its CRs, LFs and dots
 * stay in mask registers and nothing moves between blocks. The blocks
 * start at 1 and look back at 0; an LF at 0 has no CR before it. The
 * carries are the last block's last byte. */
__attribute__ ((target ("avx512bw"))) static gsize
scan_blocks_avx512 (const guint8 *data,
                    gsize         length,
                    BlockScan    *scan)
{
  const __m512i cr = _mm512_set1_epi8 ('\r');
  const __m512i lf = _mm512_set1_epi8 ('\n');
  const __m512i dot = _mm512_set1_epi8 ('.');
  guint64 stray = 0, dotted = 0;
  gsize i;

  if (length < 65)
    return 0;
  stray = data[0] == '\n';
  for (i = 1; i + 64 <= length; i += 64)
    {
      __builtin_prefetch (data + i + SCAN_PREFETCH);
      __m512i here = _mm512_loadu_si512 ((const void *) (data + i));
      __m512i before = _mm512_loadu_si512 ((const void *) (data + i - 1));

      stray |= _mm512_cmpeq_epi8_mask (here, lf) ^ _mm512_cmpeq_epi8_mask (before, cr);
      dotted |= _mm512_mask_cmpeq_epi8_mask (_mm512_cmpeq_epi8_mask (before, lf), here, dot);
      if ((i & 1023) == 1 && stray != 0)
        break;
    }
  scan->stray = stray;
  scan->dotted = dotted;
  scan->cr_carry = data[i - 1] == '\r';
  scan->lf_carry = data[i - 1] == '\n';
  return i;
}

/* 0: not looked at yet; else the best scan the processor has, plus one. */
static gsize best_scan = 0;
static SmtpkitCodecScan scan_level;

static inline SmtpkitCodecScan
wire_scan (void)
{
  if (g_once_init_enter (&best_scan))
    {
      SmtpkitCodecScan best = SMTPKIT_CODEC_SCAN_SSE2;

      __builtin_cpu_init ();
      if (__builtin_cpu_supports ("avx512bw"))
        best = SMTPKIT_CODEC_SCAN_AVX512BW;
      else if (__builtin_cpu_supports ("avx2"))
        best = SMTPKIT_CODEC_SCAN_AVX2;
      scan_level = best;
      g_once_init_leave (&best_scan, best + 1);
    }
  return scan_level;
}
#endif
#endif

SmtpkitCodecScan
smtpkit_codec_set_scan (SmtpkitCodecScan scan)
{
#if defined(__SSE2__) && defined(__GNUC__) && defined(__x86_64__)
  SmtpkitCodecScan had = wire_scan ();

  scan_level = MIN (scan, (SmtpkitCodecScan) (best_scan - 1));
  return had;
#elif defined(__SSE2__) && defined(__GNUC__)
  return SMTPKIT_CODEC_SCAN_SSE2;
#else
  return SMTPKIT_CODEC_SCAN_BYTES;
#endif
}

SmtpkitWireForm
smtpkit_codec_wire_form (const guint8 *data,
                         gsize         length,
                         gboolean      convert_newlines)
{
  SmtpkitWireForm form = SMTPKIT_WIRE_CHUNK | SMTPKIT_WIRE_DATA;
  gsize i = 0;

  g_return_val_if_fail (data != NULL || length == 0, 0);

  if (!ends_with_crlf (data, length))
    {
      form &= ~SMTPKIT_WIRE_DATA;
      if (convert_newlines && length > 0)
        form &= ~SMTPKIT_WIRE_CHUNK;
    }
  if (length > 0 && data[0] == '.')
    form &= ~SMTPKIT_WIRE_DATA;
  if (!convert_newlines)
    {
      /* Only the dots matter, and only to DATA. */
      const guint8 *p = data, *end = data + length;

      while (form & SMTPKIT_WIRE_DATA && (p = memchr (p, '\n', end - p)) != NULL)
        form = wire_form_at (data, length, p++ - data, FALSE, form);
      return form;
    }

#if defined(__SSE2__) && defined(__GNUC__)
  {
    BlockScan scan = { 0, };

#if defined(__x86_64__)
    SmtpkitCodecScan level = wire_scan ();

    if (level == SMTPKIT_CODEC_SCAN_AVX512BW)
      i = scan_blocks_avx512 (data, length, &scan);
    else if (level == SMTPKIT_CODEC_SCAN_AVX2)
      i = scan_blocks_avx2 (data, length, &scan);
    else if (level == SMTPKIT_CODEC_SCAN_SSE2)
#endif
      i = scan_blocks_sse2 (data, length, &scan);
    if (scan.stray != 0)
      return 0;
    if (scan.dotted != 0)
      form &= ~SMTPKIT_WIRE_DATA;
    /* The rest one at a time (each CR or LF looks at its neighbours
     * wherever they are), after what the last block carried out: a CR
     * at its end wants an LF next, an LF at its end no dot next. */
    if (i > 0)
      {
        if (scan.cr_carry && (i == length || data[i] != '\n'))
          return 0;
        if (scan.lf_carry && i < length && data[i] == '.')
          form &= ~SMTPKIT_WIRE_DATA;
      }
  }
#endif
  /* The CRs, then the LFs, each found with memchr(): a short message
   * has few. */
  for (guint k = 0; k < 2; k++)
    {
      const guint8 *p = data + i, *end = data + length;

      while (form != 0 && p < end && (p = memchr (p, k == 0 ? '\r' : '\n', end - p)) != NULL)
        form = wire_form_at (data, length, p++ - data, TRUE, form);
    }
  return form;
}

gboolean
smtpkit_data_encoder_pass (SmtpkitDataEncoder *encoder,
                           const guint8       *data,
                           gsize               length)
{
  SmtpkitWireForm needed;

  g_return_val_if_fail (encoder != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  /* Only from a line start with nothing held back: what came before
   * ended a line, so a dot or a line end at the start of @data means
   * what it means at the start of a message. */
  if (!encoder->at_line_start || encoder->pending_cr || !ends_with_crlf (data, length))
    return FALSE;
  needed = encoder->chunked ? SMTPKIT_WIRE_CHUNK : SMTPKIT_WIRE_DATA;
  if (!(smtpkit_codec_wire_form (data, length, encoder->convert_newlines) & needed))
    return FALSE;
  encoder->bytes_out += length;
  encoder->ends_with_crlf = TRUE;
  return TRUE;
}

gboolean
smtpkit_codec_chunk_is_exact (const guint8 *data,
                              gsize         length,
                              gboolean      convert_newlines)
{
  return (smtpkit_codec_wire_form (data, length, convert_newlines) & SMTPKIT_WIRE_CHUNK) != 0;
}

guint64
smtpkit_codec_message_size_in_form (const guint8    *data,
                                    gsize            length,
                                    SmtpkitWireForm  form,
                                    gboolean         convert_newlines)
{
  SmtpkitDataEncoder encoder;

  g_return_val_if_fail (data != NULL || length == 0, 0);

  /* A message in its wire form, ending with CRLF, is its own size; one
   * ending otherwise gets a CRLF, counted below. */
  if (form & SMTPKIT_WIRE_CHUNK && ends_with_crlf (data, length))
    return length;

  /* Counted as BDAT would carry it: the dots that DATA's stuffing adds
   * are not part of the message (RFC 1870 §3). */
  smtpkit_data_encoder_init_chunked (&encoder, convert_newlines);
  encode (&encoder, data, length, NULL);

  return encoder.bytes_out + (encoder.ends_with_crlf ? 0 : sizeof crlf);
}

guint64
smtpkit_codec_message_size (const guint8 *data,
                            gsize         length,
                            gboolean      convert_newlines)
{
  g_return_val_if_fail (data != NULL || length == 0, 0);

  return smtpkit_codec_message_size_in_form (data, length,
                                             ends_with_crlf (data, length)
                                               ? smtpkit_codec_wire_form (data, length,
                                                                          convert_newlines)
                                               : 0,
                                             convert_newlines);
}

/* ---- addresses and parameters ----------------------------------------- */

char *
smtpkit_codec_xtext_encode (const char *text)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
        g_string_append_printf (out, "+%02X", *p);
      else
        g_string_append_c (out, (char) *p);
    }

  return g_string_free (out, FALSE);
}

gboolean
smtpkit_codec_is_ascii (const char *text)
{
  g_return_val_if_fail (text != NULL, FALSE);

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p > 127)
        return FALSE;
    }

  return TRUE;
}

char *
smtpkit_codec_address_to_ascii (const char *address)
{
  g_autofree char *domain = NULL;
  g_autofree char *ascii_domain = NULL;
  g_autofree char *result = NULL;
  const char *end;
  const char *at = NULL;

  g_return_val_if_fail (address != NULL, NULL);

  if (smtpkit_codec_is_ascii (address))
    return g_strdup (address);

  /* The domain runs from the last '@' to the closing '>' or the end. */
  end = address + strlen (address);
  if (end > address && end[-1] == '>')
    end--;
  for (const char *p = end; p > address; p--)
    {
      if (p[-1] == '@')
        {
          at = p - 1;
          break;
        }
      if (p[-1] == '<')
        break;
    }
  if (at == NULL)
    return NULL;

  domain = g_strndup (at + 1, end - (at + 1));
  if (smtpkit_codec_is_ascii (domain))
    return NULL; /* the non-ASCII is in the local part (or the name) */
  /* g_hostname_to_ascii() wants UTF-8: given other bytes it reads past
   * the end of the string, or makes ASCII of an overlong form. */
  if (!g_utf8_validate (domain, -1, NULL))
    return NULL;

  ascii_domain = g_hostname_to_ascii (domain);
  if (ascii_domain == NULL)
    return NULL;

  result = g_strdup_printf ("%.*s%s%s", (int) (at + 1 - address), address,
                            ascii_domain, end);
  if (!smtpkit_codec_is_ascii (result))
    return NULL;

  return g_steal_pointer (&result);
}

const char *
smtpkit_codec_find_ascii_case (const char *haystack,
                               const char *needle)
{
  gsize n = strlen (needle);

  for (const char *p = haystack; *p != '\0'; p++)
    if (g_ascii_strncasecmp (p, needle, n) == 0)
      return p;
  return NULL;
}
