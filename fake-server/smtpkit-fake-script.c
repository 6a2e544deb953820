/* smtpkit-fake-script.c: plays the server side of a scenario
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "smtpkit-fake-server-private.h"

/* Longest piece of client input quoted in a message or the transcript. */
#define DISPLAY_MAX 1024

typedef struct
{
  SmtpkitFakeServer *server;
  SmtpkitScenario *scenario;
  SmtpkitFakeConn *conn;
  GByteArray *input; /* what the current step read */
  guint64 total;     /* its size: only the start of a DATA body is kept */
  gboolean line;     /* whether it was read as a line */
} Player;

typedef struct
{
  GByteArray *data;
  gsize keep;
  guint64 total;
} Collector;

static void
collect (const guint8 *data,
         gsize         len,
         gpointer      user_data)
{
  Collector *c = user_data;

  if (c->data->len < c->keep)
    g_byte_array_append (c->data, data, MIN (len, c->keep - c->data->len));
  c->total += len;
}

/* The length of @data without the CRLF that ends a line. */
static gsize
line_length (const guint8 *data,
             gsize         len)
{
  return len >= 2 && memcmp (data + len - 2, "\r\n", 2) == 0 ? len - 2 : len;
}

/* @data escaped, cut after DISPLAY_MAX bytes; "..." marks a cut. */
static char *
display (const guint8 *data,
         gsize         len,
         gboolean      cut)
{
  g_autofree char *text = smtpkit_scenario_escape (data, MIN (len, DISPLAY_MAX));

  return g_strconcat (text, cut || len > DISPLAY_MAX ? "..." : "", NULL);
}

/* The input as messages and the transcript show it: a line without its
 * CRLF, other input byte for byte. */
static char *
display_input (Player *pl)
{
  GByteArray *in = pl->input;

  return display (in->data, pl->line ? line_length (in->data, in->len) : in->len,
                  pl->total > in->len);
}

static void
log_sent (Player       *pl,
          const guint8 *data,
          gsize         len)
{
  g_autofree char *text = display (data, line_length (data, len), FALSE);
  g_autofree char *line = g_strconcat ("S: ", text, NULL);

  smtpkit_fake_server_add_transcript (pl->server, line);
}

static void
log_input (Player *pl)
{
  g_autofree char *text = display_input (pl);
  g_autofree char *line = g_strconcat ("C: ", text, NULL);

  if (pl->input->len > 0)
    smtpkit_fake_server_add_transcript (pl->server, line);
}

/* What the client did instead of what the step expects. */
static char *
describe_input (Player *pl)
{
  g_autofree char *text = display_input (pl);
  GByteArray *in = pl->input;

  if (smtpkit_fake_conn_is_eof (pl->conn))
    return in->len == 0 ? g_strdup ("client closed the connection")
                        : g_strdup_printf ("client sent '%s' and closed the connection", text);
  if (in->len > 0 && in->data[0] == SMTPKIT_FAKE_TLS_HANDSHAKE)
    return g_strdup_printf ("client started a TLS handshake ('%s')", text);
  if (pl->line && in->len > SMTPKIT_FAKE_MAX_LINE && in->data[in->len - 1] != '\n')
    return g_strdup_printf ("client sent a line longer than %u bytes: '%s'",
                            SMTPKIT_FAKE_MAX_LINE, text);
  return g_strdup_printf ("client sent '%s'", text);
}

static gboolean G_GNUC_PRINTF (4, 5)
mismatch (Player                    *pl,
          const SmtpkitScenarioStep *step,
          GError                   **error,
          const char                *format,
          ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
               "%s:%u: %s", smtpkit_scenario_get_name (pl->scenario), step->lineno, message);
  return FALSE;
}

static gboolean
io_failed (Player                    *pl,
           const SmtpkitScenarioStep *step,
           GError                    *io_error,
           GError                   **error)
{
  const char *space = *step->arg != '\0' ? " " : "";

  if (!g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return mismatch (pl, step, error, "connection failed during '%s%s%s': %s",
                     step->keyword, space, step->arg, io_error->message);

  g_set_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
               "timed out waiting for the client at %s:%u (%s%s%s)",
               smtpkit_scenario_get_name (pl->scenario), step->lineno,
               step->keyword, space, step->arg);
  return FALSE;
}

/* Upper-cases what RFC 5321 §2.4 says is case-insensitive in a command:
 * the verb; for MAIL and RCPT the FROM: or TO: and each parameter's
 * keyword; for BDAT its LAST. Addresses and other arguments are left. */
static char *
fold_command (const char *line)
{
  g_auto (GStrv) words = g_strsplit (line, " ", -1);
  gboolean path = FALSE;

  for (guint i = 0; words[i]; i++)
    {
      char *w = words[i];
      char *equals = strchr (w, '=');

      if (i == 0)
        {
          g_autofree char *upper = g_ascii_strup (w, -1);

          path = g_str_equal (upper, "MAIL") || g_str_equal (upper, "RCPT");
          memcpy (w, upper, strlen (w));
        }
      else if (path && i == 1 && strchr (w, ':'))
        for (char *p = w; *p != ':'; p++)
          *p = g_ascii_toupper (*p);
      else if (path && equals)
        for (char *p = w; p < equals; p++)
          *p = g_ascii_toupper (*p);
      else if (i == 2 && g_ascii_strcasecmp (words[0], "BDAT") == 0 &&
               g_ascii_strcasecmp (w, "LAST") == 0)
        memcpy (w, "LAST", 4);
    }
  return g_strjoinv (" ", words);
}

static gboolean
line_matches (Player     *pl,
              GByteArray *line,
              const char *pattern)
{
  gsize len = line_length (line->data, line->len);
  g_autofree char *text = g_strndup ((const char *) line->data, len);
  g_autofree char *folded_text = NULL;
  g_autofree char *folded_pattern = NULL;

  /* A NUL would end the text early; and the line must end in CRLF. */
  if (len != line->len - 2 || strlen (text) != len)
    return FALSE;
  if (!smtpkit_fake_server_get_any_case (pl->server))
    return g_pattern_match_simple (pattern, text);
  folded_text = fold_command (text);
  folded_pattern = fold_command (pattern);
  return g_pattern_match_simple (folded_pattern, folded_text);
}

/* Where @got first differs from @want ("; first difference at byte
 * 3: 'e' (0x65) where 'E' (0x45) was expected"), looking at no more than
 * @want_len bytes of @want; "" when they agree that far. @literal_only:
 * @want is a pattern's literal start, so @got may go on past it. */
static char *
first_difference (const guint8 *got,
                  gsize         got_len,
                  const guint8 *want,
                  gsize         want_len,
                  gboolean      literal_only)
{
  for (gsize i = 0; i < want_len; i++)
    {
      if (i == got_len)
        return g_strdup_printf ("; the client's bytes end at byte %" G_GSIZE_FORMAT
                                ", where 0x%02x was expected", i, want[i]);
      if (got[i] != want[i])
        return g_strdup_printf ("; first difference at byte %" G_GSIZE_FORMAT
                                ": 0x%02x%s%c%s where 0x%02x%s%c%s was expected", i,
                                got[i], g_ascii_isprint (got[i]) ? " '" : "",
                                g_ascii_isprint (got[i]) ? got[i] : ' ',
                                g_ascii_isprint (got[i]) ? "'" : "",
                                want[i], g_ascii_isprint (want[i]) ? " '" : "",
                                g_ascii_isprint (want[i]) ? want[i] : ' ',
                                g_ascii_isprint (want[i]) ? "'" : "");
    }
  if (!literal_only && got_len > want_len)
    return g_strdup_printf ("; the client sent more from byte %" G_GSIZE_FORMAT, want_len);
  return g_strdup ("");
}

/* first_difference() for a line against an expect pattern: as far as the
 * pattern is literal, folded as line_matches() folds it. */
static char *
line_difference (Player     *pl,
                 GByteArray *line,
                 const char *pattern)
{
  gsize len = line_length (line->data, line->len);
  g_autofree char *text = NULL;
  g_autofree char *want = NULL;
  gsize literal;

  /* What the line says, without its line end (a bare LF, a lone CR: the
   * message shows those). */
  while (len > 0 && (line->data[len - 1] == '\n' || line->data[len - 1] == '\r'))
    len--;
  text = len > 0 ? g_strndup ((const char *) line->data, len) : g_strdup ("");

  if (smtpkit_fake_server_get_any_case (pl->server))
    {
      g_autofree char *folded = fold_command (text);
      g_free (text);
      text = g_steal_pointer (&folded);
      want = fold_command (pattern);
    }
  else
    want = g_strdup (pattern);
  literal = strcspn (want, "*?");
  return first_difference ((const guint8 *) text, strlen (text), (const guint8 *) want, literal,
                           want[literal] != '\0');
}

static gboolean
run_send (Player                    *pl,
          const SmtpkitScenarioStep *step,
          GError                   **error)
{
  g_autoptr (GError) io_error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (step->bytes, &len);
  gboolean ok = TRUE;

  log_sent (pl, data, len);
  if (step->kind == SMTPKIT_STEP_SEND)
    ok = smtpkit_fake_conn_write (pl->conn, data, len, &io_error);
  else
    for (gsize i = 0; ok && i < len; i++)
      ok = (i == 0 || smtpkit_fake_conn_sleep (pl->conn, 1, &io_error)) &&
           smtpkit_fake_conn_write (pl->conn, data + i, 1, &io_error);

  return ok || io_failed (pl, step, io_error, error);
}

static gboolean
run_expect (Player                    *pl,
            const SmtpkitScenarioStep *step,
            GError                   **error)
{
  g_autoptr (GError) io_error = NULL;
  g_autofree char *received = NULL;
  g_autofree char *expected = NULL;
  const guint8 *data = NULL;
  gsize len = 0;
  Collector c = { pl->input, 0, 0 };
  gboolean ok;

  switch (step->kind)
    {
    case SMTPKIT_STEP_EXPECT:
    case SMTPKIT_STEP_EXPECT_CLOSE:
      pl->line = TRUE;
      ok = smtpkit_fake_conn_read_line (pl->conn, pl->input, &io_error);
      break;
    case SMTPKIT_STEP_EXPECT_RAW:
      data = g_bytes_get_data (step->bytes, &len);
      ok = smtpkit_fake_conn_read_exact (pl->conn, len, pl->input, &io_error);
      break;
    case SMTPKIT_STEP_EXPECT_DATA:
    case SMTPKIT_STEP_EXPECT_DATA_SIZE:
      if (step->bytes != NULL)
        data = g_bytes_get_data (step->bytes, &len);
      /* Enough to show where a body differs, not a copy of a huge one. */
      c.keep = len + DISPLAY_MAX;
      g_byte_array_set_size (pl->input, 0);
      ok = smtpkit_fake_conn_read_data (pl->conn, FALSE, collect, &c, &io_error);
      break;
    default:
      g_assert_not_reached ();
    }
  pl->total = MAX (c.total, pl->input->len);
  if (!ok)
    return io_failed (pl, step, io_error, error);
  log_input (pl);

  received = describe_input (pl);
  if (data != NULL)
    expected = display (data, len, FALSE);

  switch (step->kind)
    {
    case SMTPKIT_STEP_EXPECT:
      if (!line_matches (pl, pl->input, step->arg))
        {
          g_autofree char *where = line_difference (pl, pl->input, step->arg);
          return mismatch (pl, step, error, "expected '%s', %s%s", step->arg, received, where);
        }
      break;
    case SMTPKIT_STEP_EXPECT_CLOSE:
      if (pl->input->len > 0 || !smtpkit_fake_conn_is_eof (pl->conn))
        return mismatch (pl, step, error, "expected the client to close the connection, %s",
                         received);
      break;
    case SMTPKIT_STEP_EXPECT_RAW:
    case SMTPKIT_STEP_EXPECT_DATA:
      if (smtpkit_fake_conn_is_eof (pl->conn) || pl->total != len ||
          (len > 0 && memcmp (pl->input->data, data, len) != 0))
        {
          g_autofree char *where = first_difference (pl->input->data, pl->input->len, data, len,
                                                     FALSE);
          return mismatch (pl, step, error, "expected %s'%s', %s%s",
                           step->kind == SMTPKIT_STEP_EXPECT_DATA ? "data " : "",
                           expected, received, where);
        }
      break;
    case SMTPKIT_STEP_EXPECT_DATA_SIZE:
      if (smtpkit_fake_conn_is_eof (pl->conn))
        return mismatch (pl, step, error, "expected %" G_GUINT64_FORMAT " bytes of data, %s",
                         step->number, received);
      if (pl->total != step->number)
        return mismatch (pl, step, error,
                         "expected %" G_GUINT64_FORMAT " bytes of data, client sent %" G_GUINT64_FORMAT,
                         step->number, pl->total);
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* The TLS handshake. Input the client sent before it, and that no step
 * has read, would be taken as sent under TLS (the command injection of
 * CVE-2011-0411): a mismatch. */
static gboolean
run_starttls (Player                    *pl,
              const SmtpkitScenarioStep *step,
              GError                   **error)
{
  g_autoptr (GError) tls_error = NULL;
  gboolean refused = step->kind == SMTPKIT_STEP_STARTTLS_REFUSED;
  const char *cert = smtpkit_cert_kind_names[step->cert];
  g_autofree char *note = g_strdup_printf ("-- TLS handshake (cert=%s)%s --", cert,
                                           refused ? ", to be refused by the client" : "");
  GTlsCertificate *certificate;
  gsize len;
  const guint8 *unread = smtpkit_fake_conn_peek_unread (pl->conn, &len);

  if (len > 0)
    {
      g_autofree char *received = NULL;

      g_byte_array_append (g_byte_array_set_size (pl->input, 0), unread, len);
      log_input (pl);
      received = describe_input (pl);
      return mismatch (pl, step, error, "%s before the TLS handshake", received);
    }

  smtpkit_fake_server_add_transcript (pl->server, note);
  certificate = smtpkit_fake_tls_get_certificate (step->cert, &tls_error);
  if (certificate == NULL)
    return mismatch (pl, step, error, "%s", tls_error->message);
  if (smtpkit_fake_conn_start_tls (pl->conn, certificate, &tls_error))
    return !refused ||
           mismatch (pl, step, error, "expected the client to refuse the certificate "
                     "(cert=%s), but the TLS handshake succeeded", cert);
  if (g_error_matches (tls_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
      g_error_matches (tls_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return io_failed (pl, step, tls_error, error);
  return refused || mismatch (pl, step, error, "TLS handshake failed: %s", tls_error->message);
}

static gboolean
send_line (Player                    *pl,
           const SmtpkitScenarioStep *step,
           const char                *text,
           GError                   **error)
{
  g_autoptr (GError) io_error = NULL;
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);

  log_sent (pl, (const guint8 *) line, strlen (line));
  return smtpkit_fake_conn_write (pl->conn, line, strlen (line), &io_error) ||
         io_failed (pl, step, io_error, error);
}

/* Reads a line that must end in CRLF; @text is it without CRLF. */
static gboolean
read_line (Player                    *pl,
           const SmtpkitScenarioStep *step,
           const char                *expected,
           char                     **text,
           GError                   **error)
{
  g_autoptr (GError) io_error = NULL;
  g_autofree char *received = NULL;

  pl->line = TRUE;
  if (!smtpkit_fake_conn_read_line (pl->conn, pl->input, &io_error))
    return io_failed (pl, step, io_error, error);
  log_input (pl);
  if (!line_matches (pl, pl->input, "*"))
    {
      received = describe_input (pl);
      return mismatch (pl, step, error, "expected %s, %s", expected, received);
    }
  *text = g_strndup ((const char *) pl->input->data, pl->input->len - 2);
  return TRUE;
}

static gboolean
not_base64 (Player                    *pl,
            const SmtpkitScenarioStep *step,
            const char                *what,
            const char                *text,
            GError                   **error)
{
  g_autofree char *shown = display ((const guint8 *) text, strlen (text), FALSE);

  return mismatch (pl, step, error, "AUTH %s: the %s is not base64: '%s'",
                   step->mechanism, what, shown);
}

/* AUTH MECHANISM [initial-response], then 334 challenges and responses as
 * long as the mechanism needs, and the verdict: 235, 535, or 501 for a
 * client that cancels with "*". */
static gboolean
run_expect_auth (Player                    *pl,
                 const SmtpkitScenarioStep *step,
                 GError                   **error)
{
  g_autofree char *expected = g_strdup_printf ("'AUTH %s [initial-response]'", step->mechanism);
  g_autofree char *line = NULL;
  g_autofree char *message = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (SmtpkitFakeAuth) auth = NULL;
  g_autoptr (GBytes) response = NULL;
  g_autoptr (GError) local_error = NULL;
  SmtpkitFakeAuthResult result;

  if (!read_line (pl, step, expected, &line, error))
    return FALSE;
  words = g_strsplit (line, " ", 3);
  if (g_strv_length (words) < 2 || g_ascii_strcasecmp (words[0], "AUTH") != 0 ||
      g_ascii_strcasecmp (words[1], step->mechanism) != 0)
    {
      g_autofree char *received = describe_input (pl);

      return mismatch (pl, step, error, "expected %s, %s", expected, received);
    }
  if (words[2] != NULL && (response = smtpkit_fake_auth_decode_response (words[2], TRUE)) == NULL)
    return not_base64 (pl, step, "initial response", words[2], error);

  auth = smtpkit_fake_auth_new (step->mechanism, step->user, step->password, &local_error);
  if (auth == NULL)
    return mismatch (pl, step, error, "%s", local_error->message);

  while (TRUE)
    {
      g_autoptr (GBytes) challenge = NULL;
      g_autofree char *encoded = NULL;
      g_autofree char *text = NULL;

      g_clear_pointer (&message, g_free);
      result = smtpkit_fake_auth_step (auth, response, &challenge, &message);
      if (result != SMTPKIT_FAKE_AUTH_CONTINUE)
        break;

      encoded = g_base64_encode (g_bytes_get_data (challenge, NULL), g_bytes_get_size (challenge));
      text = g_strconcat ("334 ", encoded, NULL);
      g_clear_pointer (&line, g_free);
      if (!send_line (pl, step, text, error) ||
          !read_line (pl, step, "a response to the challenge", &line, error))
        return FALSE;
      if (strcmp (line, "*") == 0)
        return send_line (pl, step, "501 5.7.0 cancelled", error) &&
               (!step->auth_ok ||
                mismatch (pl, step, error, "AUTH failed: the client cancelled the exchange"));
      g_clear_pointer (&response, g_bytes_unref);
      response = smtpkit_fake_auth_decode_response (line, FALSE);
      if (response == NULL)
        return not_base64 (pl, step, "response", line, error);
    }

  if (result == SMTPKIT_FAKE_AUTH_ERROR)
    return mismatch (pl, step, error, "AUTH %s: %s", step->mechanism, message);
  if (!send_line (pl, step,
                  result == SMTPKIT_FAKE_AUTH_OK ? "235 2.7.0 Authentication successful"
                                                 : "535 5.7.8 Authentication credentials invalid",
                  error))
    return FALSE;
  if (result == SMTPKIT_FAKE_AUTH_OK && !step->auth_ok)
    return mismatch (pl, step, error, "AUTH succeeded, but the scenario expects it to fail");
  if (result == SMTPKIT_FAKE_AUTH_FAILED && step->auth_ok)
    return mismatch (pl, step, error, "AUTH failed: %s", message);
  return TRUE;
}

/* BDAT chunks (RFC 3030) up to the one marked LAST, each but the last
 * answered with 250, their sizes added up and the data discarded: for
 * messages too large to write into a scenario. The reply to BDAT LAST is
 * the scenario's next step. */
static gboolean
run_expect_bdat (Player                    *pl,
                 const SmtpkitScenarioStep *step,
                 GError                   **error)
{
  static const char chunk_reply[] = "250 2.0.0 chunk received\r\n";
  g_autoptr (GError) io_error = NULL;
  guint64 total = 0;
  guint chunks = 0;

  for (;;)
    {
      g_autofree char *received = NULL;
      g_autofree char *line = NULL;
      guint64 size;
      char *end;
      gboolean last;

      pl->line = TRUE;
      if (!smtpkit_fake_conn_read_line (pl->conn, pl->input, &io_error))
        return io_failed (pl, step, io_error, error);
      received = describe_input (pl);
      line = g_strndup ((const char *) pl->input->data, pl->input->len);
      g_strchomp (line);
      if (!g_str_has_prefix (line, "BDAT "))
        return mismatch (pl, step, error, "expected 'BDAT', %s", received);
      size = g_ascii_strtoull (line + 5, &end, 10);
      last = g_str_equal (end, " LAST");
      if (end == line + 5 || (!last && *end != '\0'))
        return mismatch (pl, step, error, "expected 'BDAT n [LAST]', %s", received);
      chunks++;
      for (guint64 left = size; left > 0;)
        {
          gsize take = MIN (left, 65536);

          if (!smtpkit_fake_conn_read_exact (pl->conn, take, pl->input, &io_error))
            return io_failed (pl, step, io_error, error);
          if (pl->input->len < take)
            return mismatch (pl, step, error, "the client closed the connection in a BDAT chunk");
          left -= take;
        }
      total += size;
      if (last)
        break;
      if (!smtpkit_fake_conn_write (pl->conn, chunk_reply, strlen (chunk_reply), &io_error))
        return io_failed (pl, step, io_error, error);
    }
  {
    g_autofree char *note = g_strdup_printf ("C: [%u BDAT chunks, %" G_GUINT64_FORMAT " octets]",
                                             chunks, total);
    smtpkit_fake_server_add_transcript (pl->server, note);
  }
  g_byte_array_set_size (pl->input, 0);
  if (total != step->number)
    return mismatch (pl, step, error,
                     "expected %" G_GUINT64_FORMAT " octets in BDAT chunks, client sent %"
                     G_GUINT64_FORMAT, step->number, total);
  return TRUE;
}

static gboolean
run_step (Player                    *pl,
          const SmtpkitScenarioStep *step,
          GError                   **error)
{
  g_autoptr (GError) io_error = NULL;

  pl->total = 0;
  pl->line = FALSE;
  switch (step->kind)
    {
    case SMTPKIT_STEP_SEND:
    case SMTPKIT_STEP_SEND_BYTEWISE:
      return run_send (pl, step, error);
    case SMTPKIT_STEP_DELAY:
      return smtpkit_fake_conn_sleep (pl->conn, step->number, &io_error) ||
             io_failed (pl, step, io_error, error);
    case SMTPKIT_STEP_CLOSE:
      smtpkit_fake_server_add_transcript (pl->server, "S: [close]");
      return TRUE;
    case SMTPKIT_STEP_SHUTDOWN:
      smtpkit_fake_server_add_transcript (pl->server, "S: [shutdown]");
      return smtpkit_fake_conn_shutdown (pl->conn, &io_error) ||
             io_failed (pl, step, io_error, error);
    case SMTPKIT_STEP_STARTTLS:
    case SMTPKIT_STEP_STARTTLS_REFUSED:
      return run_starttls (pl, step, error);
    case SMTPKIT_STEP_EXPECT_AUTH:
      return run_expect_auth (pl, step, error);
    case SMTPKIT_STEP_EXPECT_BDAT_SIZE:
      return run_expect_bdat (pl, step, error);
    default:
      return run_expect (pl, step, error);
    }
}

/* After the last step the client should close the connection. Keeping it
 * open is not an error (the wait ends after the step timeout); sending
 * something is. */
static gboolean
expect_end (Player                    *pl,
            const SmtpkitScenarioStep *last,
            GError                   **error)
{
  g_autofree char *received = NULL;

  pl->total = 0;
  pl->line = TRUE;
  if (!smtpkit_fake_conn_read_line (pl->conn, pl->input, NULL) || pl->input->len == 0)
    return TRUE;

  log_input (pl);
  received = describe_input (pl);
  return mismatch (pl, last, error, "%s after the end of the script", received);
}

/*
 * Plays @scenario on @conn. Returns FALSE with the first mismatch; the
 * caller closes the connection either way.
 */
gboolean
smtpkit_fake_script_play (SmtpkitFakeServer  *server,
                          SmtpkitScenario    *scenario,
                          SmtpkitFakeConn    *conn,
                          GError            **error)
{
  static const SmtpkitScenarioStep start = { .keyword = "start", .arg = (char *) "" };
  GPtrArray *steps = smtpkit_scenario_get_server_steps (scenario);
  g_autoptr (GByteArray) input = g_byte_array_new ();
  Player pl = { server, scenario, conn, input };
  const SmtpkitScenarioStep *step = &start;

  for (guint i = 0; i < steps->len; i++)
    {
      step = steps->pdata[i];
      if (!run_step (&pl, step, error))
        return FALSE;
      if (step->kind == SMTPKIT_STEP_CLOSE)
        return TRUE;
    }
  return expect_end (&pl, step, error);
}
