/* smtpkit-reply.c: a server reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-reply.h"

#include <string.h>

#include "smtpkit-reply-private.h"

/**
 * SmtpkitReply:
 *
 * A reply from an SMTP or LMTP server: its three-digit code and the text of
 * each of its lines.
 *
 * `SmtpkitReply` is immutable and reference counted. Its text follows
 * Python smtplib's `getreply()`: [method@Reply.get_text] joins the lines
 * with `"\n"`, each stripped of surrounding white space. The RFC 3463
 * enhanced status code, when the server sent one, is parsed out for you by
 * [method@Reply.get_enhanced_status].
 */
struct _SmtpkitReply
{
  gatomicrefcount ref_count;
  guint code;
  char **lines;
  char *text;
  char *enhanced_status; /* nullable */
  /* One allocation holds it all: the line pointers, the lines, the
   * text and the enhanced status follow the structure. */
};

/* "5.999.999" and its NUL, the longest enhanced status code */
#define MAX_ENHANCED_STATUS 10

G_DEFINE_BOXED_TYPE (SmtpkitReply, smtpkit_reply, smtpkit_reply_ref, smtpkit_reply_unref)

/* smtplib strips reply lines of ' \t\r\n' (not of all white space). */
static gboolean
is_reply_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends @line without the blanks around it; returns the end. */
static char *
append_stripped (char       *out,
                 const char *line)
{
  const char *start = line;
  const char *end = line + strlen (line);

  while (start < end && is_reply_blank (*start))
    start++;
  while (end > start && is_reply_blank (end[-1]))
    end--;
  memcpy (out, start, end - start);
  return out + (end - start);
}

/* Parses up to three digits; returns how many there were, 0 when there were
 * none or more than three. */
static gsize
skip_status_number (const char *p)
{
  gsize n = 0;

  while (g_ascii_isdigit (p[n]))
    n++;

  return n <= 3 ? n : 0;
}

/* RFC 3463 §2: "class.subject.detail" at the start of the text, followed
 * by a space or the end of the text. The class must agree with the reply
 * code, so that "250 5.1.1 ..." is not taken for a failure. */
static gsize
parse_enhanced_status (guint       code,
                       const char *text,
                       const char *end)
{
  const char *p = text;
  gsize n;

  if (end - text < 5)
    return 0;

  if (p[0] != '2' && p[0] != '4' && p[0] != '5')
    return 0;
  if ((guint) (p[0] - '0') != code / 100)
    return 0;
  if (p[1] != '.')
    return 0;
  p += 2;

  n = skip_status_number (p);
  if (n == 0 || p[n] != '.')
    return 0;
  p += n + 1;

  n = skip_status_number (p);
  if (n == 0 || (p + n != end && p[n] != ' '))
    return 0;
  p += n;

  return p - text;
}

SmtpkitReply *
smtpkit_reply_new_packed (guint       code,
                          const char *packed,
                          gsize       length,
                          gsize       n_lines)
{
  SmtpkitReply *reply;
  char **lines;
  char *texts, *text, *out, *first_end = NULL;
  gsize status_length;

  g_return_val_if_fail (code >= 100 && code <= 999, NULL);

  /* The text is at most as long as the lines and their NULs. */
  reply = g_malloc (sizeof *reply + (n_lines + 1) * sizeof (char *) + 2 * length + 1 +
                    MAX_ENHANCED_STATUS);
  lines = (char **) (reply + 1);
  texts = (char *) (lines + n_lines + 1);
  text = texts + length;
  memcpy (texts, packed, length);

  out = text;
  for (gsize i = 0, offset = 0; i < n_lines; i++)
    {
      lines[i] = texts + offset;
      offset += strlen (lines[i]) + 1;
      if (i > 0)
        *out++ = '\n';
      out = append_stripped (out, lines[i]);
      if (i == 0)
        first_end = out;
    }
  lines[n_lines] = NULL;
  *out++ = '\0';

  g_atomic_ref_count_init (&reply->ref_count);
  reply->code = code;
  reply->lines = lines;
  reply->text = text;
  reply->enhanced_status = NULL;
  /* RFC 3463: on the first line */
  status_length = first_end ? parse_enhanced_status (code, text, first_end) : 0;
  if (status_length > 0)
    {
      reply->enhanced_status = out;
      memcpy (out, text, status_length);
      out[status_length] = '\0';
    }

  return reply;
}

/**
 * smtpkit_reply_new:
 * @code: the reply code, a three-digit number (100 to 999)
 * @lines: (nullable) (array zero-terminated=1): the text of each line of
 *   the reply, what follows `"NNN-"` or `"NNN "`, without the line end;
 *   %NULL or an empty array for none
 *
 * Creates a reply, as if the server had sent it. Mostly useful to
 * tests and to code that synthesises replies.
 *
 * The enhanced status code is parsed once, here: see
 * [method@Reply.get_enhanced_status].
 *
 * Returns: (transfer full): a new reply
 */
SmtpkitReply *
smtpkit_reply_new (guint              code,
                   const char *const *lines)
{
  g_autoptr (GString) packed = g_string_new (NULL);
  gsize n_lines = 0;

  g_return_val_if_fail (code >= 100 && code <= 999, NULL);

  for (; lines != NULL && lines[n_lines] != NULL; n_lines++)
    g_string_append_len (packed, lines[n_lines], strlen (lines[n_lines]) + 1);
  return smtpkit_reply_new_packed (code, packed->str, packed->len, n_lines);
}

/**
 * smtpkit_reply_ref:
 * @reply: a reply
 *
 * Takes a reference to @reply. Replies are immutable, so a reference may be
 * shared between threads.
 *
 * Returns: (transfer full): @reply
 */
SmtpkitReply *
smtpkit_reply_ref (SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  g_atomic_ref_count_inc (&reply->ref_count);

  return reply;
}

/**
 * smtpkit_reply_unref:
 * @reply: (transfer full): a reply
 *
 * Drops a reference to @reply, freeing it when that was the last one.
 */
void
smtpkit_reply_unref (SmtpkitReply *reply)
{
  g_return_if_fail (reply != NULL);

  if (!g_atomic_ref_count_dec (&reply->ref_count))
    return;

  g_free (reply);
}

/**
 * smtpkit_reply_get_code:
 * @reply: a reply
 *
 * The reply code, for example 250 or 550.
 *
 * Returns: the three-digit reply code
 */
guint
smtpkit_reply_get_code (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, 0);

  return reply->code;
}

/**
 * smtpkit_reply_get_enhanced_status:
 * @reply: a reply
 *
 * The RFC 3463 enhanced status code at the start of the first line, such
 * as `"2.1.0"` or `"5.7.1"`.
 *
 * It is only recognised when it is followed by a space or ends the line,
 * when its class is 2, 4 or 5 and agrees with the first digit of the reply
 * code, and when its subject and detail have one to three digits each.
 * So `"250 5.1.1 ok"` has none: a server contradicting itself is not
 * trusted.
 *
 * Returns: (nullable): the enhanced status code, or %NULL when the reply
 *   does not start with a valid one
 */
const char *
smtpkit_reply_get_enhanced_status (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return reply->enhanced_status;
}

/**
 * smtpkit_reply_get_text:
 * @reply: a reply
 *
 * The text of the reply as Python smtplib gives it: the lines, each
 * stripped of leading and trailing spaces, tabs, CR and LF, joined with
 * `"\n"`. The code is not included. A reply without text (`"250"`) gives
 * `""`.
 *
 * Returns: the text of the reply
 */
const char *
smtpkit_reply_get_text (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return reply->text;
}

/**
 * smtpkit_reply_get_lines:
 * @reply: a reply
 *
 * The text of each line of the reply, as the server sent it: what follows
 * `"NNN-"` or `"NNN "`, without the line end and not stripped. A line that
 * was only a code (`"250"`) gives `""`.
 *
 * Returns: (array zero-terminated=1) (transfer none): the lines
 */
const char *const *
smtpkit_reply_get_lines (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, NULL);

  return (const char *const *) reply->lines;
}

/**
 * smtpkit_reply_is_positive:
 * @reply: a reply
 *
 * Whether the reply is a positive completion (2xx) or positive
 * intermediate (3xx) reply.
 *
 * Returns: %TRUE for a 2xx or 3xx reply
 */
gboolean
smtpkit_reply_is_positive (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);

  return reply->code / 100 == 2 || reply->code / 100 == 3;
}

/**
 * smtpkit_reply_is_transient:
 * @reply: a reply
 *
 * Whether the reply is a transient negative completion (4xx): the same
 * command may succeed later.
 *
 * Returns: %TRUE for a 4xx reply
 */
gboolean
smtpkit_reply_is_transient (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);

  return reply->code / 100 == 4;
}

/**
 * smtpkit_reply_is_permanent:
 * @reply: a reply
 *
 * Whether the reply is a permanent negative completion (5xx): the same
 * command will fail again.
 *
 * Returns: %TRUE for a 5xx reply
 */
gboolean
smtpkit_reply_is_permanent (const SmtpkitReply *reply)
{
  g_return_val_if_fail (reply != NULL, FALSE);

  return reply->code / 100 == 5;
}
