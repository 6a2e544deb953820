/* interop-message.c: messages to send, and the same messages delivered
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server.h"

#include <string.h>

/* The longest line RFC 5321 §4.5.3.1.6 allows, without its CRLF. */
#define MAX_LINE 998

static void
append_body_line (GString *body,
                  guint    n)
{
  switch (n % 8)
    {
    case 0:
      g_string_append_printf (body, "line %u: the quick brown fox jumps over the lazy dog", n);
      break;
    case 1:
      g_string_append (body, "."); /* would end DATA if not stuffed */
      break;
    case 2:
      g_string_append_printf (body, ".leading dot on line %u", n);
      break;
    case 3:
      break; /* an empty line */
    case 4:
      g_string_append_printf (body, "From the start of line %u (mbox would quote it)", n);
      break;
    case 5:
      g_string_append (body, "..two dots");
      break;
    case 6:
      {
        gsize start = body->len;

        g_string_append_printf (body, "line %u, as long as a line can be: ", n);
        while (body->len - start < MAX_LINE)
          g_string_append_c (body, 'a' + (body->len - start) % 26);
      }
      break;
    default:
      g_string_append_printf (body, " \tindented line %u ", n);
      break;
    }
  g_string_append (body, "\r\n");
}

GBytes *
interop_message_new (const char *from,
                     const char *to,
                     const char *subject,
                     gsize       body_size)
{
  static guint serial;
  GString *message = g_string_new (NULL);
  gsize body_start;

  g_string_append_printf (message,
                          "From: %s\r\n"
                          "To: %s\r\n"
                          "Subject: %s\r\n"
                          "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
                          "Message-ID: <%u.%u@" INTEROP_DOMAIN ">\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "\r\n",
                          from, to, subject, g_random_int (), ++serial);
  body_start = message->len;
  for (guint n = 0; message->len - body_start < body_size; n++)
    append_body_line (message, n);
  return g_string_free_to_bytes (message);
}

static gboolean
is_trace_field (const char *line)
{
  static const char *const names[] = {
    "Return-Path:", "Delivered-To:", "X-Original-To:", "Received:",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strncasecmp (line, names[i], strlen (names[i])) == 0)
      return TRUE;
  return FALSE;
}

GBytes *
interop_read_delivered (const char  *path,
                        char       **trace,
                        GError     **error)
{
  char *contents = NULL;
  gsize len = 0;
  gsize offset = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;

  /* The fields the server put on top, each with its folded lines. */
  while (offset < len && is_trace_field (contents + offset))
    {
      do
        {
          const char *eol = memchr (contents + offset, '\n', len - offset);

          offset = eol != NULL ? (gsize) (eol - contents) + 1 : len;
        }
      while (offset < len && (contents[offset] == ' ' || contents[offset] == '\t'));
    }
  if (trace != NULL)
    *trace = g_strndup (contents, offset);
  memmove (contents, contents + offset, len - offset);
  return g_bytes_new_take (contents, len - offset);
}

/* @sent as a Maildir stores it: LF line ends. */
static GByteArray *
as_stored (GBytes *sent)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (sent, &len);
  GByteArray *stored = g_byte_array_sized_new (len);

  for (gsize i = 0; i < len; i++)
    if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
      g_byte_array_append (stored, data + i, 1);
  return stored;
}

static char *
excerpt (const guint8 *data,
         gsize         len,
         gsize         at)
{
  gsize start = at > 40 ? at - 40 : 0;
  gsize end = MIN (len, at + 40);
  g_autofree char *raw = g_strndup ((const char *) data + start, end - start);

  return g_strescape (raw, NULL);
}

void
interop_assert_delivered_impl (const char *file,
                               int         line,
                               const char *func,
                               const char *path,
                               GBytes     *sent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) delivered = interop_read_delivered (path, NULL, &error);
  g_autoptr (GByteArray) expected = as_stored (sent);
  g_autofree char *message = NULL;
  const guint8 *got;
  gsize got_len, at = 0;

  if (delivered == NULL)
    {
      message = g_strdup_printf ("cannot read the delivered message: %s", error->message);
      g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
      return;
    }
  got = g_bytes_get_data (delivered, &got_len);
  while (at < got_len && at < expected->len && got[at] == expected->data[at])
    at++;
  if (at == got_len && at == expected->len)
    return;

  {
    g_autofree char *want = excerpt (expected->data, expected->len, at);
    g_autofree char *have = excerpt (got, got_len, at);

    message = g_strdup_printf ("%s: the message delivered (%" G_GSIZE_FORMAT " octets under its "
                               "trace fields) differs from the one sent (%u octets with LF line "
                               "ends) at octet %" G_GSIZE_FORMAT ": sent \"%s\", delivered \"%s\"",
                               path, got_len, expected->len, at, want, have);
  }
  g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
}
