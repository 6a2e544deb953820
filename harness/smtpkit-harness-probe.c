/* smtpkit-harness-probe.c: conformance checks of a real server
 *
 * Each check opens a connection of its own (greeting, EHLO or LHLO, and
 * STARTTLS first when asked), sends what it needs through libsmtpkit's
 * engine at the command level — out-of-sequence commands, an over-long
 * line, a command pipelined after STARTTLS — and judges the replies,
 * which the codec's parser reads. Nothing is delivered unless the probe
 * is allowed to (--send), and then only to the --to addresses: every
 * other transaction ends with RSET, or with the connection closed before
 * the end of the data.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "smtpkit-harness.h"

#include "smtpkit-private.h"

/* How long to wait for replies a server should not send at all. */
#define QUIET_MS 500

typedef struct
{
  const SmtpkitHarnessProbeOptions *options;
  GSocketConnectable *address;  /* host and port, or the Unix socket */
  char *host;                   /* for TLS's server identity */
  guint16 port;
  gboolean lmtp;
  gboolean implicit_tls;
} Probe;

/* One connection of one check. */
typedef struct
{
  Probe *probe;
  GIOStream *stream;
  SmtpkitEngine *engine;
  GString *transcript;
  GHashTable *extensions;       /* the last EHLO's: keyword -> parameters */
  gboolean secure;
} Session;

typedef enum
{
  VERDICT_PASS = SMTPKIT_HARNESS_PASS,
  VERDICT_FAIL = SMTPKIT_HARNESS_FAIL,
  VERDICT_SKIP = SMTPKIT_HARNESS_SKIP,
} Verdict;

typedef struct
{
  Session *session;
  Verdict verdict;
  GString *message;             /* the verdict's reasons, the replies judged */
  const char *mechanism;        /* for the AUTH checks */
} Check;

typedef void (*CheckFunc) (Check *check);

typedef struct
{
  const char *id;               /* SUITE/NAME */
  const char *title;            /* the RFC section, and what is checked */
  CheckFunc func;
  const char *mechanism;
} CheckDef;

/* ---- the session --------------------------------------------------------- */

static void
on_trace (gpointer          user_data,
          SmtpkitTraceKind  kind,
          const guint8     *shown,
          gsize             size,
          SmtpkitReply     *reply)
{
  Session *session = user_data;
  const char *bytes = (const char *) shown;

  if (kind == SMTPKIT_TRACE_REPLY)
    {
      const char *const *lines = smtpkit_reply_get_lines (reply);

      for (guint i = 0; lines[i]; i++)
        g_string_append_printf (session->transcript, "S: %u%c%s\n", smtpkit_reply_get_code (reply),
                                lines[i + 1] ? '-' : ' ', lines[i]);
      return;
    }
  /* Long lines (the over-long one, message data) are cut short. */
  if (kind == SMTPKIT_TRACE_DATA)
    {
      g_string_append_printf (session->transcript, "C: [%" G_GSIZE_FORMAT " octets of data]\n",
                              size);
      return;
    }
  while (size > 0)
    {
      const char *end = memchr (bytes, '\n', size);
      gsize len = end ? (gsize) (end - bytes) + 1 : size;
      gsize text = len;

      while (text > 0 && (bytes[text - 1] == '\n' || bytes[text - 1] == '\r'))
        text--;
      if (text > 100)
        g_string_append_printf (session->transcript, "C: %.60s… [%" G_GSIZE_FORMAT " octets]\n",
                                bytes, len);
      else
        g_string_append_printf (session->transcript, "C: %.*s\n", (int) text, bytes);
      bytes += len;
      size -= len;
    }
}

/* "250-first\n250 last": the reply as it came. */
static char *
reply_to_string (SmtpkitReply *reply)
{
  const char *const *lines = smtpkit_reply_get_lines (reply);
  GString *text = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++)
    g_string_append_printf (text, "%s%u%c%s", i ? "\n" : "", smtpkit_reply_get_code (reply),
                            lines[i + 1] ? '-' : ' ', lines[i]);
  return g_string_free (text, FALSE);
}

static GPtrArray *
session_exchange (Session              *session,
                  SmtpkitCommandBatch  *batch,
                  GError              **error)
{
  SmtpkitSync *sync = SMTPKIT_PRIVATE_CALL (sync_begin) ();
  GPtrArray *replies;

  SMTPKIT_PRIVATE_CALL (engine_exchange_async) (session->engine, batch,
                                 session->probe->options->timeout * 1000, NULL,
                                 SMTPKIT_PRIVATE_CALL (sync_callback), sync);
  replies = SMTPKIT_PRIVATE_CALL (engine_exchange_finish) (session->engine, SMTPKIT_PRIVATE_CALL (sync_wait) (sync), NULL,
                                            error);
  SMTPKIT_PRIVATE_CALL (sync_end) (sync);
  return replies;
}

/* Adds "LINE\r\n", as it is: the probe sends what the formatter refuses. */
static void
batch_add_line (SmtpkitCommandBatch *batch,
                const char          *line)
{
  g_autoptr (GString) wire = g_string_new (line);

  g_string_append (wire, "\r\n");
  SMTPKIT_PRIVATE_CALL (command_batch_add) (batch, wire, -1);
}

/* Sends the NULL-terminated lines in one write and returns their replies. */
static GPtrArray *
session_send (Session     *session,
              GError     **error,
              const char  *first,
              ...) G_GNUC_NULL_TERMINATED;

static GPtrArray *
session_send (Session     *session,
              GError     **error,
              const char  *first,
              ...)
{
  SmtpkitCommandBatch *batch = SMTPKIT_PRIVATE_CALL (command_batch_new) ();
  va_list args;

  va_start (args, first);
  for (const char *line = first; line; line = va_arg (args, const char *))
    batch_add_line (batch, line);
  va_end (args);
  return session_exchange (session, batch, error);
}

/* One command, one reply (transfer full), or NULL and @error. */
static SmtpkitReply *
session_command (Session     *session,
                 const char  *line,
                 GError     **error)
{
  g_autoptr (GPtrArray) replies = session_send (session, error, line, NULL);

  if (replies == NULL)
    return NULL;
  if (replies->len == 0)
    {
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                   "the connection closed after “%s”", line);
      return NULL;
    }
  return smtpkit_reply_ref (g_ptr_array_index (replies, 0));
}

static gboolean
session_handshake (Session  *session,
                   GError  **error)
{
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GSocketConnectable) identity = NULL;
  const SmtpkitHarnessProbeOptions *options = session->probe->options;

  identity = g_network_address_new (session->probe->host ? session->probe->host : "localhost",
                                    session->probe->port);
  tls = g_tls_client_connection_new (session->stream, identity, error);
  if (tls == NULL)
    return FALSE;
  if (options->ca_file)
    {
      g_autoptr (GTlsDatabase) database = g_tls_file_database_new (options->ca_file, error);

      if (database == NULL)
        return FALSE;
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
    }
  /* Bounded by the socket's timeout (g_socket_client_set_timeout). */
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, error))
    return FALSE;
  g_set_object (&session->stream, tls);
  SMTPKIT_PRIVATE_CALL (engine_set_stream) (session->engine, tls);
  session->secure = TRUE;
  g_string_append (session->transcript, "(TLS handshake done)\n");
  return TRUE;
}

/* The greeting, and the TLS handshake first on an smtps:// URI. */
static Session *
session_connect (Probe   *probe,
                 GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  Session *session = g_new0 (Session, 1);

  session->probe = probe;
  session->transcript = g_string_new (NULL);
  g_socket_client_set_timeout (client, probe->options->timeout);
  connection = g_socket_client_connect (client, probe->address, NULL, error);
  if (connection == NULL)
    return session;
  session->stream = G_IO_STREAM (g_steal_pointer (&connection));
  session->engine = SMTPKIT_PRIVATE_CALL (engine_new) (session->stream, on_trace, session);
  if (probe->implicit_tls && !session_handshake (session, error))
    return session;
  return session;
}

static void
session_free (Session *session)
{
  if (session->engine)
    {
      if (SMTPKIT_PRIVATE_CALL (engine_is_open) (session->engine))
        {
          g_autoptr (SmtpkitReply) reply = session_command (session, "QUIT", NULL);
          SMTPKIT_PRIVATE_CALL (engine_close) (session->engine);
        }
      SMTPKIT_PRIVATE_CALL (engine_unref) (session->engine);
    }
  g_clear_object (&session->stream);
  g_clear_pointer (&session->extensions, g_hash_table_unref);
  g_string_free (session->transcript, TRUE);
  g_free (session);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

static SmtpkitReply *
session_greeting (Session  *session,
                  GError  **error)
{
  SmtpkitCommandBatch *batch = SMTPKIT_PRIVATE_CALL (command_batch_new) ();
  g_autoptr (GPtrArray) replies = NULL;

  SMTPKIT_PRIVATE_CALL (command_batch_set_replies) (batch, 1);
  replies = session_exchange (session, batch, error);
  if (replies == NULL)
    return NULL;
  if (replies->len == 0)
    {
      g_set_error_literal (error, SMTPKIT_ERROR, SMTPKIT_ERROR_SERVER_DISCONNECTED,
                           "the connection closed before the greeting");
      return NULL;
    }
  return smtpkit_reply_ref (g_ptr_array_index (replies, 0));
}

static const char *
hello_verb (Session *session)
{
  return session->probe->lmtp ? "LHLO probe.invalid" : "EHLO probe.invalid";
}

/* EHLO (LHLO), which must be answered 250: the reply (transfer full). */
static SmtpkitReply *
session_hello (Session  *session,
               GError  **error)
{
  g_autoptr (SmtpkitReply) reply = session_command (session, hello_verb (session), error);

  if (reply == NULL)
    return NULL;
  if (smtpkit_reply_get_code (reply) != 250)
    {
      g_autofree char *text = reply_to_string (reply);
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_HELO, "%s answered %s",
                   hello_verb (session), text);
      return NULL;
    }
  g_clear_pointer (&session->extensions, g_hash_table_unref);
  session->extensions = SMTPKIT_PRIVATE_CALL (codec_parse_ehlo) (reply);
  return g_steal_pointer (&reply);
}

static gboolean
session_has (Session    *session,
             const char *keyword)
{
  return session->extensions && g_hash_table_contains (session->extensions, keyword);
}

/* STARTTLS, the handshake and a new EHLO. */
static gboolean
session_starttls (Session  *session,
                  GError  **error)
{
  g_autoptr (SmtpkitReply) reply = session_command (session, "STARTTLS", error);
  g_autoptr (SmtpkitReply) hello = NULL;

  if (reply == NULL)
    return FALSE;
  if (smtpkit_reply_get_code (reply) != 220)
    {
      g_autofree char *text = reply_to_string (reply);
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED, "STARTTLS answered %s",
                   text);
      return FALSE;
    }
  if (!SMTPKIT_PRIVATE_CALL (engine_check_quiet) (session->engine, error) || !session_handshake (session, error))
    return FALSE;
  hello = session_hello (session, error);
  return hello != NULL;
}

/* A connection ready for a check: greeted, EHLO answered, TLS when asked. */
static Session *
session_open (Probe     *probe,
              gboolean   starttls,
              GError   **error)
{
  g_autoptr (Session) session = session_connect (probe, error);
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (SmtpkitReply) hello = NULL;

  if (session->engine == NULL || (probe->implicit_tls && !session->secure))
    return g_steal_pointer (&session);
  greeting = session_greeting (session, error);
  if (greeting == NULL)
    return g_steal_pointer (&session);
  if (smtpkit_reply_get_code (greeting) != 220)
    {
      g_autofree char *text = reply_to_string (greeting);
      g_set_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_CONNECT, "the greeting was %s", text);
      return g_steal_pointer (&session);
    }
  hello = session_hello (session, error);
  if (hello && starttls && !session->secure)
    session_starttls (session, error);
  return g_steal_pointer (&session);
}

/* ---- verdicts ------------------------------------------------------------ */

static void G_GNUC_PRINTF (3, 4)
verdict (Check      *check,
         Verdict     value,
         const char *format,
         ...)
{
  va_list args;

  /* A failure stays one, whatever comes after it. */
  if (check->verdict != VERDICT_FAIL)
    check->verdict = value;
  va_start (args, format);
  if (check->message->len > 0)
    g_string_append_c (check->message, '\n');
  g_string_append_vprintf (check->message, format, args);
  va_end (args);
}

static void
fail_error (Check        *check,
            const char   *what,
            const GError *error)
{
  verdict (check, VERDICT_FAIL, "%s: %s", what, error->message);
}

/* Judges @reply to @command: one of the NUL-ended @codes passes it. */
static gboolean
expect_reply (Check        *check,
              const char   *command,
              SmtpkitReply *reply,
              const guint  *codes)
{
  g_autofree char *text = reply_to_string (reply);
  g_autoptr (GString) wanted = g_string_new (NULL);
  guint code = smtpkit_reply_get_code (reply);

  for (guint i = 0; codes[i]; i++)
    {
      if (codes[i] == code)
        {
          verdict (check, VERDICT_PASS, "%s answered %s", command, text);
          return TRUE;
        }
      g_string_append_printf (wanted, "%s%u", i ? " or " : "", codes[i]);
    }
  verdict (check, VERDICT_FAIL, "%s answered %s; expected %s", command, text, wanted->str);
  return FALSE;
}

#define CODES(...) ((const guint[]){ __VA_ARGS__, 0 })

/* Sends @line and judges its reply; FALSE when it was not one of @codes
 * or there was none. */
static gboolean
command_expect (Check       *check,
                const char  *line,
                const guint *codes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = session_command (check->session, line, &error);

  if (reply == NULL)
    {
      fail_error (check, line, error);
      return FALSE;
    }
  return expect_reply (check, line, reply, codes);
}

static gboolean
skip_unless (Check      *check,
             const char *keyword,
             const char *name)
{
  if (session_has (check->session, keyword))
    return TRUE;
  verdict (check, VERDICT_SKIP, "%s not advertised", name);
  return FALSE;
}

static char *
mail_from (const SmtpkitHarnessProbeOptions *options,
           const char                       *parameters)
{
  g_autofree char *from = SMTPKIT_PRIVATE_CALL (codec_quote_address) (options->from ? options->from : "<>");

  return g_strdup_printf ("MAIL FROM:%s%s%s", from, parameters ? " " : "",
                          parameters ? parameters : "");
}

/* Someone every server must accept mail for (RFC 5321 §4.5.1), unless
 * --to names someone. */
static char *
rcpt_to (const SmtpkitHarnessProbeOptions *options,
         guint                             i)
{
  g_autofree char *to = NULL;

  if (options->to && options->to[0])
    to = SMTPKIT_PRIVATE_CALL (codec_quote_address) (options->to[MIN (i, g_strv_length (options->to) - 1)]);
  else
    to = g_strdup ("<postmaster>");
  return g_strdup_printf ("RCPT TO:%s", to);
}

/* ---- the checks: RFC 5321 ---------------------------------------------- */

static gboolean
is_keyword (const char *line)
{
  if (!g_ascii_isalnum (line[0]))
    return FALSE;
  for (const char *p = line; *p && *p != ' '; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static void
check_greeting (Check *check)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = session_greeting (check->session, &error);

  if (greeting == NULL)
    fail_error (check, "the greeting", error);
  else
    expect_reply (check, "the greeting", greeting, CODES (220));
}

static void
check_ehlo (Check *check)
{
  Session *session = check->session;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = session_greeting (session, &error);
  g_autoptr (SmtpkitReply) reply = NULL;
  const char *const *lines;

  if (greeting == NULL)
    {
      fail_error (check, "the greeting", error);
      return;
    }
  /* The parser refuses a reply whose lines' codes differ. */
  reply = session_command (session, hello_verb (session), &error);
  if (reply == NULL)
    {
      fail_error (check, hello_verb (session), error);
      return;
    }
  if (!expect_reply (check, hello_verb (session), reply, CODES (250)))
    return;
  lines = smtpkit_reply_get_lines (reply);
  for (guint i = 1; lines[i]; i++)
    if (!is_keyword (lines[i]))
      verdict (check, VERDICT_FAIL, "line %u, “%s”, is not an EHLO keyword (RFC 5321 §4.1.1.1)",
               i + 1, lines[i]);
}

static void
check_helo (Check *check)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;

  if (check->session->probe->lmtp)
    {
      verdict (check, VERDICT_SKIP, "LMTP has no HELO (RFC 2033 §4.1)");
      return;
    }
  greeting = session_greeting (check->session, &error);
  if (greeting == NULL)
    fail_error (check, "the greeting", error);
  else
    command_expect (check, "HELO probe.invalid", CODES (250));
}

static void
check_noop (Check *check)
{
  command_expect (check, "NOOP", CODES (250));
}

static void
check_rset (Check *check)
{
  command_expect (check, "RSET", CODES (250));
}

/* The codes RFC 5321 §4.3.2 lists for each command. */
static void
check_vrfy (Check *check)
{
  command_expect (check, "VRFY postmaster", CODES (250, 251, 252, 550, 551, 553, 502, 504, 500, 501));
}

static void
check_expn (Check *check)
{
  command_expect (check, "EXPN postmaster", CODES (250, 252, 550, 500, 502, 504, 501));
}

static void
check_help (Check *check)
{
  command_expect (check, "HELP", CODES (211, 214, 502, 504, 500, 501));
}

static void
check_syntax_error (Check *check)
{
  command_expect (check, "MAIL FROM:<probe@", CODES (500, 501));
  command_expect (check, "RSET", CODES (250));
}

static void
check_rcpt_before_mail (Check *check)
{
  g_autofree char *rcpt = rcpt_to (check->session->probe->options, 0);

  command_expect (check, rcpt, CODES (503));
  command_expect (check, "RSET", CODES (250));
}

static void
check_data_without_rcpt (Check *check)
{
  g_autofree char *mail = mail_from (check->session->probe->options, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;

  if (!command_expect (check, mail, CODES (250)))
    return;
  reply = session_command (check->session, "DATA", &error);
  if (reply == NULL)
    {
      fail_error (check, "DATA", error);
      return;
    }
  /* On a 354, the connection is dropped before any data: nothing is sent. */
  if (!expect_reply (check, "DATA", reply, CODES (503, 554)))
    SMTPKIT_PRIVATE_CALL (engine_close) (check->session->engine);
  else
    command_expect (check, "RSET", CODES (250));
}

static void
check_rset_clears (Check *check)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autofree char *mail = mail_from (options, NULL);
  g_autofree char *rcpt = rcpt_to (options, 0);

  if (command_expect (check, mail, CODES (250)) && command_expect (check, "RSET", CODES (250)))
    command_expect (check, rcpt, CODES (503));
  command_expect (check, "RSET", CODES (250));
}

static void
check_unknown_parameter (Check *check)
{
  g_autofree char *mail = mail_from (check->session->probe->options, "X-PROBE=1");

  command_expect (check, mail, CODES (555, 501));
  command_expect (check, "RSET", CODES (250));
}

/* Replies after the ones a batch expected: a line split in two. */
static void
expect_quiet (Check      *check,
              const char *after)
{
  g_autoptr (GError) error = NULL;

  g_usleep (QUIET_MS * 1000);
  if (!SMTPKIT_PRIVATE_CALL (engine_check_quiet) (check->session->engine, &error))
    verdict (check, VERDICT_FAIL, "the server sent more replies than commands after %s: %s",
             after, error->message);
}

static void
check_long_line (Check *check)
{
  SmtpkitCommandBatch *batch = SMTPKIT_PRIVATE_CALL (command_batch_new) ();
  g_autoptr (GString) line = g_string_new ("NOOP ");
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;

  while (line->len < 600)
    g_string_append_c (line, 'x');
  g_string_append (line, "\r\n");
  SMTPKIT_PRIVATE_CALL (command_batch_add) (batch, line, -1);
  batch_add_line (batch, "NOOP");
  replies = session_exchange (check->session, batch, &error);
  if (replies == NULL)
    {
      fail_error (check, "a 602-octet NOOP line, then NOOP", error);
      return;
    }
  if (replies->len == 2)
    {
      g_autofree char *first = reply_to_string (g_ptr_array_index (replies, 0));
      g_autofree char *second = reply_to_string (g_ptr_array_index (replies, 1));
      guint code = smtpkit_reply_get_code (g_ptr_array_index (replies, 0));

      verdict (check, code == 250 || code == 500 ? VERDICT_PASS : VERDICT_FAIL,
               "a 602-octet NOOP line answered %s (refused with 500, or one command)", first);
      verdict (check, VERDICT_PASS, "the NOOP after it answered %s", second);
    }
  else
    verdict (check, VERDICT_FAIL, "%u replies to two lines", replies->len);
  expect_quiet (check, "the over-long line");
}

/* ---- RFC 2920 PIPELINING ----------------------------------------------- */

static void
check_pipelining (Check *check)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autofree char *mail = mail_from (options, NULL);
  g_autofree char *rcpt1 = rcpt_to (options, 0);
  g_autofree char *rcpt2 = rcpt_to (options, 1);
  const char *lines[] = { mail, rcpt1, rcpt2, "RSET" };
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;

  if (!skip_unless (check, "pipelining", "PIPELINING"))
    return;
  replies = session_send (check->session, &error, mail, rcpt1, rcpt2, "RSET", NULL);
  if (replies == NULL)
    {
      fail_error (check, "MAIL, RCPT, RCPT, RSET in one write", error);
      return;
    }
  if (replies->len != G_N_ELEMENTS (lines))
    {
      verdict (check, VERDICT_FAIL, "%u replies to 4 pipelined commands", replies->len);
      return;
    }
  for (guint i = 0; i < replies->len; i++)
    if (i == 0 || i == 3)
      expect_reply (check, lines[i], g_ptr_array_index (replies, i), CODES (250));
    else
      expect_reply (check, lines[i], g_ptr_array_index (replies, i),
                    CODES (250, 251, 252, 450, 451, 452, 550, 551, 552, 553, 554, 555));
  expect_quiet (check, "the pipelined commands");
}

/* ---- RFC 1870 SIZE --------------------------------------------------------- */

static void
check_size (Check *check)
{
  const char *limit;
  guint64 value;
  g_autofree char *parameter = NULL;
  g_autofree char *mail = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;

  if (!skip_unless (check, "size", "SIZE"))
    return;
  limit = g_hash_table_lookup (check->session->extensions, "size");
  value = g_ascii_strtoull (limit, NULL, 10);
  if (value == 0)
    {
      verdict (check, VERDICT_SKIP, "SIZE advertised without a limit");
      return;
    }
  parameter = g_strdup_printf ("SIZE=%" G_GUINT64_FORMAT, value + 1);
  mail = mail_from (check->session->probe->options, parameter);
  reply = session_command (check->session, mail, &error);
  if (reply == NULL)
    fail_error (check, mail, error);
  else if (smtpkit_reply_get_code (reply) == 552 || smtpkit_reply_get_code (reply) / 100 == 5)
    expect_reply (check, mail, reply, CODES (smtpkit_reply_get_code (reply)));
  else
    expect_reply (check, mail, reply, CODES (552));
  command_expect (check, "RSET", CODES (250));
}

/* ---- extensions accepted when advertised, and delivered with --send ------ */

static GBytes *
probe_message (const SmtpkitHarnessProbeOptions *options,
               const char                       *subject,
               const char                       *body)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *to = g_strjoinv (", ", options->to);
  char *text = g_strdup_printf ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                                "Message-ID: <%" G_GINT64_FORMAT ".probe@smtpkit.invalid>\r\n"
                                "\r\n%s\r\n",
                                options->from ? options->from : "<>", to, subject, date,
                                g_get_real_time (), body);

  return g_bytes_new_take (text, strlen (text));
}

/* RCPT for each --to; how many were accepted. */
static guint
send_recipients (Check *check)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  guint accepted = 0;

  for (guint i = 0; options->to[i]; i++)
    {
      g_autofree char *rcpt = rcpt_to (options, i);
      if (command_expect (check, rcpt, CODES (250, 251)))
        accepted++;
    }
  return accepted;
}

/* DATA and the body; the replies after the data (one, or one per
 * recipient for LMTP). */
static GPtrArray *
send_data (Check   *check,
           GBytes  *message,
           guint    n_replies,
           GError **error)
{
  g_autoptr (GInputStream) body = NULL;
  guint timeout = check->session->probe->options->timeout * 1000;
  SmtpkitSync *sync;
  GPtrArray *replies;

  if (!command_expect (check, "DATA", CODES (354)))
    return NULL;
  body = g_memory_input_stream_new_from_bytes (message);
  sync = SMTPKIT_PRIVATE_CALL (sync_begin) ();
  SMTPKIT_PRIVATE_CALL (engine_send_body_async) (check->session->engine, body, TRUE, n_replies, timeout, timeout,
                                  NULL, SMTPKIT_PRIVATE_CALL (sync_callback), sync);
  replies = SMTPKIT_PRIVATE_CALL (engine_send_body_finish) (check->session->engine, SMTPKIT_PRIVATE_CALL (sync_wait) (sync),
                                             NULL, error);
  SMTPKIT_PRIVATE_CALL (sync_end) (sync);
  return replies;
}

/* The replies at the end of the data: one, or for LMTP one per accepted
 * recipient, where a recipient's own refusal (a full mailbox) is an
 * answer too, as long as one recipient got the message. */
static void
expect_final_replies (Check      *check,
                      const char *what,
                      GPtrArray  *replies,
                      guint       accepted)
{
  gboolean lmtp = check->session->probe->lmtp;
  guint delivered = 0;

  if (replies->len != (lmtp ? accepted : 1))
    {
      verdict (check, VERDICT_FAIL, "%u replies after the data for %u recipients", replies->len,
               lmtp ? accepted : 1);
      return;
    }
  for (guint i = 0; i < replies->len; i++)
    {
      SmtpkitReply *reply = g_ptr_array_index (replies, i);
      guint code = smtpkit_reply_get_code (reply);

      delivered += code == 250;
      expect_reply (check, what, reply, lmtp && code >= 400 ? CODES (code) : CODES (250));
    }
  if (delivered == 0)
    verdict (check, VERDICT_FAIL, "no recipient got the message");
}

/* MAIL with @parameter, answered 250; then RSET, or with --send the
 * message delivered to the --to addresses. */
static void
check_mail_parameter (Check      *check,
                      const char *keyword,
                      const char *name,
                      const char *parameter,
                      const char *subject,
                      const char *body)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autofree char *mail = mail_from (options, parameter);
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;
  guint accepted;

  if (!skip_unless (check, keyword, name) || !command_expect (check, mail, CODES (250)))
    return;
  if (!options->send || options->to == NULL || options->to[0] == NULL)
    {
      command_expect (check, "RSET", CODES (250));
      return;
    }
  accepted = send_recipients (check);
  if (accepted == 0)
    return;
  message = probe_message (options, subject, body);
  replies = send_data (check, message, check->session->probe->lmtp ? accepted : 1, &error);
  if (error)
    fail_error (check, "the message", error);
  else if (replies)
    expect_final_replies (check, "the end of the data", replies, accepted);
}

static void
check_8bitmime (Check *check)
{
  check_mail_parameter (check, "8bitmime", "8BITMIME", "BODY=8BITMIME",
                        "smtpkit-harness probe: 8BITMIME", "8-bit text: gr\xc3\xbc\xc3\x9f dich");
}

static void
check_smtputf8 (Check *check)
{
  check_mail_parameter (check, "smtputf8", "SMTPUTF8", "SMTPUTF8",
                        "smtpkit-harness probe: SMTPUTF8 \xe2\x9c\x93", "UTF-8 headers");
}

static void
check_dsn (Check *check)
{
  check_mail_parameter (check, "dsn", "DSN", "RET=HDRS ENVID=smtpkit-probe",
                        "smtpkit-harness probe: DSN", "RET=HDRS");
}

static void
check_smtputf8_not_offered (Check *check)
{
  g_autofree char *mail = mail_from (check->session->probe->options, "SMTPUTF8");

  if (session_has (check->session, "smtputf8"))
    {
      verdict (check, VERDICT_SKIP, "SMTPUTF8 is advertised");
      return;
    }
  command_expect (check, mail, CODES (555, 501, 504));
  command_expect (check, "RSET", CODES (250));
}

/* ---- RFC 3030 CHUNKING ----------------------------------------------------- */

static void
check_bdat_without_mail (Check *check)
{
  if (!skip_unless (check, "chunking", "CHUNKING"))
    return;
  command_expect (check, "BDAT 0 LAST", CODES (503));
  command_expect (check, "RSET", CODES (250));
}

static void
check_chunking (Check *check)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autofree char *mail = mail_from (options, NULL);
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) bdat = NULL;
  SmtpkitCommandBatch *batch;
  guint accepted;

  if (!skip_unless (check, "chunking", "CHUNKING") || !command_expect (check, mail, CODES (250)))
    return;
  if (!options->send || options->to == NULL || options->to[0] == NULL)
    {
      command_expect (check, "RSET", CODES (250));
      return;
    }
  accepted = send_recipients (check);
  if (accepted == 0)
    return;
  message = probe_message (options, "smtpkit-harness probe: CHUNKING", "sent with BDAT");
  bdat = g_string_new (NULL);
  g_string_printf (bdat, "BDAT %" G_GSIZE_FORMAT " LAST\r\n", g_bytes_get_size (message));
  batch = SMTPKIT_PRIVATE_CALL (command_batch_new) ();
  SMTPKIT_PRIVATE_CALL (command_batch_add) (batch, bdat, -1);
  SMTPKIT_PRIVATE_CALL (command_batch_add_data) (batch, message);
  SMTPKIT_PRIVATE_CALL (command_batch_set_final) (batch);
  if (check->session->probe->lmtp)
    {
      SMTPKIT_PRIVATE_CALL (command_batch_set_per_recipient) (batch);
      SMTPKIT_PRIVATE_CALL (command_batch_set_replies) (batch, accepted);
    }
  replies = session_exchange (check->session, batch, &error);
  if (replies == NULL)
    fail_error (check, "BDAT LAST", error);
  else
    expect_final_replies (check, "BDAT LAST", replies, accepted);
}

/* ---- RFC 3207 STARTTLS ----------------------------------------------------- */

/* The connection as far as STARTTLS: greeting and EHLO, on plain text. */
static gboolean
starttls_ready (Check *check)
{
  Session *session = check->session;

  if (session->probe->implicit_tls)
    {
      verdict (check, VERDICT_SKIP, "TLS from the first byte (smtps://)");
      return FALSE;
    }
  return skip_unless (check, "starttls", "STARTTLS");
}

static void
check_starttls (Check *check)
{
  Session *session = check->session;
  g_autoptr (GError) error = NULL;

  if (!starttls_ready (check))
    return;
  if (!session_starttls (session, &error))
    {
      fail_error (check, "STARTTLS", error);
      return;
    }
  verdict (check, VERDICT_PASS, "the handshake, then %s answered 250", hello_verb (session));
  if (session_has (session, "starttls"))
    verdict (check, VERDICT_FAIL, "STARTTLS advertised again inside TLS (RFC 3207 §4.2)");
  command_expect (check, "NOOP", CODES (250));
}

static void
check_starttls_injection (Check *check)
{
  Session *session = check->session;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;
  SmtpkitCommandBatch *batch;

  if (!starttls_ready (check))
    return;
  /* Two commands in one write, but one reply expected: the NOOP is the
   * one an attacker injects on the way. */
  batch = SMTPKIT_PRIVATE_CALL (command_batch_new) ();
  batch_add_line (batch, "STARTTLS");
  batch_add_line (batch, "NOOP");
  SMTPKIT_PRIVATE_CALL (command_batch_set_replies) (batch, 1);
  replies = session_exchange (session, batch, &error);
  if (replies == NULL || replies->len == 0)
    {
      fail_error (check, "STARTTLS", error);
      return;
    }
  if (!expect_reply (check, "STARTTLS (with NOOP in the same write)",
                     g_ptr_array_index (replies, 0), CODES (220)))
    return;
  if (!SMTPKIT_PRIVATE_CALL (engine_check_quiet) (session->engine, &error))
    {
      fail_error (check, "the NOOP was answered before the handshake", error);
      return;
    }
  if (!session_handshake (session, &error))
    {
      fail_error (check, "the handshake", error);
      return;
    }
  g_usleep (QUIET_MS * 1000);
  if (!SMTPKIT_PRIVATE_CALL (engine_check_quiet) (session->engine, &error))
    verdict (check, VERDICT_FAIL, "inside TLS, the server answered the NOOP sent before the "
             "handshake (CVE-2011-0411): %s", error->message);
  else
    {
      g_autoptr (SmtpkitReply) hello = session_hello (session, &error);

      if (hello == NULL)
        fail_error (check, hello_verb (session), error);
      else
        verdict (check, VERDICT_PASS, "nothing answered inside TLS before %s, which answered 250",
                 hello_verb (session));
    }
}

/* ---- RFC 4954 AUTH ------------------------------------------------------- */

static char *
password (const SmtpkitHarnessProbeOptions  *options,
          GError                           **error)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (options->password_file, &contents, NULL, error))
    return NULL;
  contents[strcspn (contents, "\r\n")] = '\0';
  return g_steal_pointer (&contents);
}

static gboolean
auth_offered (Session    *session,
              const char *mechanism)
{
  const char *auth = session->extensions ? g_hash_table_lookup (session->extensions, "auth") : NULL;
  g_auto (GStrv) offered = g_strsplit (auth ? auth : "", " ", -1);

  for (guint i = 0; offered[i]; i++)
    if (g_ascii_strcasecmp (offered[i], mechanism) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
auth_ready (Check      *check,
            const char *name)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
  g_autoptr (GError) error = NULL;

  if (!auth_offered (check->session, name))
    {
      verdict (check, VERDICT_SKIP, "AUTH %s not advertised", name);
      return FALSE;
    }
  if (options->user == NULL || options->password_file == NULL)
    {
      verdict (check, VERDICT_SKIP, "needs --user and --password-file");
      return FALSE;
    }
  /* The mechanisms are plugins: one may not be installed. */
  mechanism = smtpkit_auth_mechanism_new_for_name (name, &error);
  if (mechanism == NULL)
    {
      verdict (check, VERDICT_SKIP, "libsmtpkit cannot run %s here: %s", name, error->message);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
decode_challenge (SmtpkitReply *reply)
{
  gsize size;
  guchar *data = g_base64_decode (smtpkit_reply_get_text (reply), &size);

  return g_bytes_new_take (data, size);
}

/* Base64; empty is "=" in the AUTH command (RFC 4954 §4), an empty
 * line after a 334. */
static char *
encode_response (GBytes   *response,
                 gboolean  initial)
{
  gsize size = 0;
  const guchar *data = response ? g_bytes_get_data (response, &size) : NULL;

  if (data && size)
    return g_base64_encode (data, size);
  return g_strdup (initial ? "=" : "");
}

/* Runs the mechanism's exchange with @secret as the password; the final
 * reply (transfer full). */
static SmtpkitReply *
authenticate (Check       *check,
              const char  *name,
              const char  *secret,
              GError     **error)
{
  Session *session = check->session;
  g_autoptr (SmtpkitAuthMechanism) mechanism = smtpkit_auth_mechanism_new_for_name (name, error);
  g_autoptr (GBytes) initial = NULL;
  g_autofree char *line = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autofree char *encoded = NULL;

  if (mechanism == NULL)
    return NULL;
  g_object_set (mechanism, "username", session->probe->options->user, "password", secret,
                "server-name", session->probe->host, "server-port", (guint) session->probe->port,
                "secure", session->secure, NULL);
  if (!smtpkit_auth_mechanism_step (mechanism, NULL, &initial, error))
    return NULL;
  encoded = initial ? encode_response (initial, TRUE) : NULL;
  line = g_strconcat ("AUTH ", name, encoded ? " " : "", encoded, NULL);
  reply = session_command (session, line, error);
  for (guint round = 0; reply && smtpkit_reply_get_code (reply) == 334 && round < 10; round++)
    {
      g_autoptr (GBytes) challenge = decode_challenge (reply);
      g_autoptr (GBytes) response = NULL;
      g_autofree char *answer = NULL;

      if (!smtpkit_auth_mechanism_step (mechanism, challenge, &response, error))
        {
          g_autoptr (SmtpkitReply) cancelled = session_command (session, "*", NULL);
          return NULL;
        }
      answer = encode_response (response, FALSE);
      g_clear_pointer (&reply, smtpkit_reply_unref);
      reply = session_command (session, answer, error);
    }
  return g_steal_pointer (&reply);
}

static void
check_auth_with (Check      *check,
                 const char *name,
                 gboolean    wrong)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autofree char *what = g_strdup_printf ("AUTH %s%s", name, wrong ? " with a wrong password" : "");

  secret = password (check->session->probe->options, &error);
  if (secret == NULL)
    {
      fail_error (check, "--password-file", error);
      return;
    }
  if (wrong)
    {
      g_autofree char *right = g_steal_pointer (&secret);
      secret = g_strconcat (right, "-wrong", NULL);
    }
  reply = authenticate (check, name, secret, &error);
  if (reply == NULL)
    fail_error (check, what, error);
  else
    expect_reply (check, what, reply, wrong ? CODES (535) : CODES (235));
}

static void
check_auth (Check *check)
{
  if (auth_ready (check, check->mechanism))
    check_auth_with (check, check->mechanism, FALSE);
}

/* PLAIN when offered, else the first offered mechanism the probe runs. */
static const char *
auth_any (Check *check)
{
  const char *candidates[] = { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-1" };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (auth_offered (check->session, candidates[i]))
      return candidates[i];
  return "PLAIN";
}

static void
check_auth_wrong (Check *check)
{
  const char *name = auth_any (check);

  if (auth_ready (check, name))
    check_auth_with (check, name, TRUE);
}

static void
check_auth_cancel (Check *check)
{
  const char *name = auth_any (check);
  g_autofree char *line = g_strconcat ("AUTH ", name, NULL);

  if (!auth_offered (check->session, name))
    {
      verdict (check, VERDICT_SKIP, "AUTH not advertised");
      return;
    }
  if (command_expect (check, line, CODES (334)))
    command_expect (check, "*", CODES (501));
}

/* ---- RFC 2033 LMTP ----------------------------------------------------- */

static void
check_lmtp_replies (Check *check)
{
  const SmtpkitHarnessProbeOptions *options = check->session->probe->options;
  g_autofree char *mail = mail_from (options, NULL);
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  g_autoptr (GError) error = NULL;
  guint accepted;

  if (!check->session->probe->lmtp)
    {
      verdict (check, VERDICT_SKIP, "not an LMTP server");
      return;
    }
  if (!options->send || options->to == NULL || g_strv_length (options->to) < 2)
    {
      verdict (check, VERDICT_SKIP, "needs --send and two --to or more");
      return;
    }
  if (!command_expect (check, mail, CODES (250)))
    return;
  accepted = send_recipients (check);
  check->verdict = accepted > 0 ? VERDICT_PASS : VERDICT_FAIL;
  if (accepted == 0)
    return;
  message = probe_message (options, "smtpkit-harness probe: LMTP", "one reply per recipient");
  replies = send_data (check, message, accepted, &error);
  if (error)
    fail_error (check, "the replies after the data", error);
  else if (replies)
    {
      expect_final_replies (check, "the end of the data", replies, accepted);
      expect_quiet (check, "the replies after the data");
    }
}

/* ---- the checks, in order ---------------------------------------------- */

static const CheckDef checks[] = {
  { "rfc5321/greeting", "RFC 5321 §4.2, §3.1 — the greeting is a 220 reply", check_greeting },
  { "rfc5321/ehlo", "RFC 5321 §4.1.1.1, §4.2.1 — EHLO answered 250, its lines one code, "
    "each an EHLO keyword", check_ehlo },
  { "rfc5321/helo", "RFC 5321 §4.1.1.1 — HELO answered 250 on a fresh connection", check_helo },
  { "rfc5321/noop", "RFC 5321 §4.1.1.9 — NOOP answered 250", check_noop },
  { "rfc5321/rset", "RFC 5321 §4.1.1.5 — RSET answered 250", check_rset },
  { "rfc5321/vrfy", "RFC 5321 §3.5.3, §4.3.2 — VRFY answered with a code §4.3.2 allows",
    check_vrfy },
  { "rfc5321/expn", "RFC 5321 §3.5.3, §4.3.2 — EXPN answered with a code §4.3.2 allows",
    check_expn },
  { "rfc5321/help", "RFC 5321 §4.1.1.8, §4.3.2 — HELP answered with a code §4.3.2 allows",
    check_help },
  { "rfc5321/syntax-error", "RFC 5321 §4.2.2, §4.3.2 — a syntax error in MAIL answered 500 or 501",
    check_syntax_error },
  { "rfc5321/rcpt-before-mail", "RFC 5321 §3.3, §4.1.4 — RCPT before MAIL answered 503",
    check_rcpt_before_mail },
  { "rfc5321/data-without-rcpt", "RFC 5321 §3.3 — DATA without an accepted recipient answered "
    "503 or 554", check_data_without_rcpt },
  { "rfc5321/rset-clears", "RFC 5321 §4.1.1.5 — RSET clears the transaction: RCPT after MAIL and "
    "RSET answered 503", check_rset_clears },
  { "rfc5321/unknown-parameter", "RFC 5321 §4.1.1.11, §4.3.2 — MAIL with an unknown parameter "
    "(X-PROBE=1) answered 555 or 501", check_unknown_parameter },
  { "rfc5321/long-line", "RFC 5321 §4.5.3.1.4 — a command line over 512 octets refused (500) or "
    "taken as one command, never split in two", check_long_line },
  { "rfc1870/size", "RFC 1870 §6.1 — MAIL with SIZE= over the advertised limit answered 552 or 5xx",
    check_size },
  { "rfc2920/pipelining", "RFC 2920 §3.1 — MAIL, RCPT, RCPT, RSET in one write: every reply, in "
    "order", check_pipelining },
  { "rfc3030/bdat-without-mail", "RFC 3030 §2, RFC 5321 §3.3 — BDAT before MAIL answered 503",
    check_bdat_without_mail },
  { "rfc3030/chunking", "RFC 3030 §2 — MAIL answered 250, with --send the message sent with BDAT "
    "LAST", check_chunking },
  { "rfc3207/starttls", "RFC 3207 §4, §4.2 — STARTTLS: the handshake, then a new EHLO reply "
    "without STARTTLS", check_starttls },
  { "rfc3207/starttls-injection", "RFC 3207 §4.2, CVE-2011-0411 — a command pipelined after "
    "STARTTLS is discarded, not answered inside TLS", check_starttls_injection },
  { "rfc3461/dsn", "RFC 3461 §4.3, §4.4 — MAIL with RET=HDRS ENVID= answered 250, with --send "
    "delivered", check_dsn },
  { "rfc4954/auth-plain", "RFC 4954 §4, RFC 4616 — AUTH PLAIN answered 235", check_auth, "PLAIN" },
  { "rfc4954/auth-login", "RFC 4954 §4 — AUTH LOGIN answered 235", check_auth, "LOGIN" },
  { "rfc4954/auth-cram-md5", "RFC 4954 §4, RFC 2195 — AUTH CRAM-MD5 answered 235", check_auth,
    "CRAM-MD5" },
  { "rfc4954/auth-scram-sha-1", "RFC 4954 §4, RFC 5802 — AUTH SCRAM-SHA-1 answered 235",
    check_auth, "SCRAM-SHA-1" },
  { "rfc4954/auth-scram-sha-256", "RFC 4954 §4, RFC 7677 — AUTH SCRAM-SHA-256 answered 235",
    check_auth, "SCRAM-SHA-256" },
  { "rfc4954/auth-wrong-password", "RFC 4954 §6 — AUTH with a wrong password answered 535",
    check_auth_wrong },
  { "rfc4954/auth-cancel", "RFC 4954 §4 — an exchange cancelled with “*” answered 501",
    check_auth_cancel },
  { "rfc6152/8bitmime", "RFC 6152 §3 — MAIL with BODY=8BITMIME answered 250, with --send "
    "delivered", check_8bitmime },
  { "rfc6531/smtputf8", "RFC 6531 §3.4 — MAIL with SMTPUTF8 answered 250, with --send delivered",
    check_smtputf8 },
  { "rfc6531/smtputf8-not-offered", "RFC 6531 §3.4, RFC 5321 §4.1.1.11 — MAIL with SMTPUTF8 "
    "refused when it is not advertised", check_smtputf8_not_offered },
  { "rfc2033/per-recipient", "RFC 2033 §4.2 — after the data, one reply per accepted recipient",
    check_lmtp_replies },
};

/* The checks that speak before EHLO, or before STARTTLS. */
static gboolean
check_opens_itself (CheckFunc func)
{
  return func == check_greeting || func == check_ehlo || func == check_helo;
}

static gboolean
check_before_tls (CheckFunc func)
{
  return func == check_starttls || func == check_starttls_injection;
}

static void
run_check (Probe                *probe,
           const CheckDef       *def,
           SmtpkitHarnessResult *result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Session) session = NULL;
  Check check = { NULL, VERDICT_PASS, g_string_new (NULL), def->mechanism };
  gint64 start = g_get_monotonic_time ();

  if (check_opens_itself (def->func))
    session = session_connect (probe, &error);
  else
    /* The STARTTLS checks start from plain text, whatever --starttls says. */
    session = session_open (probe, probe->options->starttls && !check_before_tls (def->func),
                            &error);
  check.session = session;
  if (error)
    fail_error (&check, "the connection", error);
  else
    def->func (&check);

  result->status = (SmtpkitHarnessStatus) check.verdict;
  result->message = g_string_free (check.message, FALSE);
  result->transcript = g_strdup (session->transcript->str);
  result->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* ---- the URI ------------------------------------------------------------ */

gboolean
smtpkit_harness_probe_parse_uri (SmtpkitHarnessProbeOptions  *options,
                                 const char                  *uri,
                                 GError                     **error)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, error);
  const char *scheme;

  if (parsed == NULL)
    return FALSE;
  scheme = g_uri_get_scheme (parsed);
  g_clear_pointer (&options->host, g_free);
  g_clear_pointer (&options->socket, g_free);
  options->lmtp = g_str_equal (scheme, "lmtp");
  options->implicit_tls = g_str_equal (scheme, "smtps");
  if (!options->lmtp && !options->implicit_tls && !g_str_equal (scheme, "smtp"))
    {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
                   "“%s”: the scheme is smtp, smtps or lmtp", uri);
      return FALSE;
    }
  if (g_uri_get_host (parsed) == NULL || g_uri_get_host (parsed)[0] == '\0')
    {
      const char *path = g_uri_get_path (parsed);

      if (!options->lmtp || path[0] != '/' || path[1] == '\0')
        {
          g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST,
                       "“%s”: no host (only lmtp:///path names a Unix socket)", uri);
          return FALSE;
        }
      options->socket = g_strdup (path);
      return TRUE;
    }
  options->host = g_strdup (g_uri_get_host (parsed));
  options->port = g_uri_get_port (parsed);
  if (options->port == -1)
    {
      if (options->lmtp)
        {
          g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PORT,
                       "“%s”: lmtp://host needs a port", uri);
          return FALSE;
        }
      options->port = options->implicit_tls ? 465 : 25;
    }
  return TRUE;
}

guint
smtpkit_harness_probe_count (const char *pattern)
{
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    n += smtpkit_harness_id_matches (checks[i].id, pattern);
  return n;
}

void
smtpkit_harness_probe_list (const char *pattern)
{
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    if (smtpkit_harness_id_matches (checks[i].id, pattern))
      g_print ("%s\t%s\n", checks[i].id, checks[i].title);
}

void
smtpkit_harness_probe_run (const SmtpkitHarnessProbeOptions *options,
                           SmtpkitHarnessReport             *report)
{
  Probe probe = { options };

  probe.lmtp = options->lmtp;
  probe.implicit_tls = options->implicit_tls;
  if (options->socket)
    probe.address = G_SOCKET_CONNECTABLE (g_unix_socket_address_new (options->socket));
  else
    {
      probe.host = g_strdup (options->host);
      probe.port = options->port;
      probe.address = g_network_address_new (options->host, options->port);
    }

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      const CheckDef *def = &checks[i];
      g_autofree char *suite = g_strndup (def->id, strchr (def->id, '/') - def->id);
      SmtpkitHarnessResult result = { 0 };

      if (!smtpkit_harness_id_matches (def->id, options->pattern))
        continue;
      run_check (&probe, def, &result);
      smtpkit_harness_report_add_entry (report, suite, def->id, def->title, &result);
      smtpkit_harness_result_clear (&result);
    }
  g_object_unref (probe.address);
  g_free (probe.host);
}
