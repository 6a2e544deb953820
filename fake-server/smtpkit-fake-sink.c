/* smtpkit-fake-sink.c: a minimal SMTP server that spools every message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include "smtpkit-fake-server-private.h"

typedef struct
{
  GOutputStream *out;
  GError *error;
  guint64 size;
  guint index;
  char *path;          /* SPOOL/NNNNNN.eml */
} Spool;

typedef struct
{
  SmtpkitFakeServer *server;
  SmtpkitFakeConn *conn;
  const char *hostname;
  const char *spool_dir;
  const char *const *extensions;
  GTlsCertificate *certificate; /* offers STARTTLS */
  guint64 size_limit;    /* from the SIZE extension; 0: none */
  char *sender;          /* NULL outside a mail transaction */
  GPtrArray *recipients; /* NULL-terminated: a GStrv */
  GString *envelope;     /* the MAIL and RCPT commands */
  Spool *bdat;           /* the message BDAT chunks go to, if any */
  GRand *faults;         /* NULL: no fault injection */
  SmtpkitFakeFault fault; /* drawn for the command being handled */
  gboolean stalled;      /* a stall fault: wait for the client to go */
} Sink;

static void spool_discard (Spool *spool);

static gboolean G_GNUC_PRINTF (2, 3)
reply (Sink       *sink,
       const char *format,
       ...)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strconcat (text, "\r\n", NULL);

  return smtpkit_fake_conn_write (sink->conn, line, strlen (line), NULL);
}

/* Does @fault instead of a reply. FALSE when it ends the session. */
static gboolean
inject (Sink             *sink,
        SmtpkitFakeFault  fault)
{
  switch (fault)
    {
    case SMTPKIT_FAKE_FAULT_4XX:
      return reply (sink, "451 4.3.0 Error: fault injected, try again later");
    case SMTPKIT_FAKE_FAULT_STALL:
      sink->stalled = TRUE;
      return FALSE;
    case SMTPKIT_FAKE_FAULT_DISCONNECT:
    default:
      return FALSE;
    }
}

/* With @may_refuse FALSE, a 4xx drawn is no fault. */
static SmtpkitFakeFault
draw_fault (Sink     *sink,
            gboolean  may_refuse)
{
  return smtpkit_fake_server_draw_fault (sink->server, sink->faults, may_refuse);
}

static void
reset_transaction (Sink *sink)
{
  g_clear_pointer (&sink->bdat, spool_discard);
  g_clear_pointer (&sink->sender, g_free);
  g_ptr_array_set_size (sink->recipients, 0);
  g_string_truncate (sink->envelope, 0);
}

/* " FROM:<a@b> SIZE=10" with @keyword "FROM:" gives "a@b", and @params
 * points to " SIZE=10". NULL when the syntax is wrong. */
static char *
parse_path (const char  *arg,
            const char  *keyword,
            const char **params)
{
  gsize n = strlen (keyword);
  const char *end;

  arg += strspn (arg, " ");
  if (g_ascii_strncasecmp (arg, keyword, n) != 0)
    return NULL;
  arg += n;
  arg += strspn (arg, " ");
  if (*arg != '<' || (end = strchr (arg, '>')) == NULL)
    return NULL;
  *params = end + 1;
  return g_strndup (arg + 1, end - arg - 1);
}

static gboolean
size_param_too_big (Sink       *sink,
                    const char *params)
{
  g_auto (GStrv) words = g_strsplit (params, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strncasecmp (words[i], "SIZE=", 5) == 0)
      return sink->size_limit > 0 && g_ascii_strtoull (words[i] + 5, NULL, 10) > sink->size_limit;
  return FALSE;
}

static gboolean
handle_ehlo (Sink       *sink,
             const char *line)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();

  reset_transaction (sink);
  g_ptr_array_add (lines, (char *) sink->hostname);
  for (guint i = 0; sink->extensions[i] != NULL; i++)
    g_ptr_array_add (lines, (char *) sink->extensions[i]);
  if (sink->certificate != NULL && !smtpkit_fake_conn_is_tls (sink->conn))
    g_ptr_array_add (lines, "STARTTLS");
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (text, "%s250%c%s", i > 0 ? "\r\n" : "",
                            i + 1 < lines->len ? '-' : ' ', (char *) lines->pdata[i]);
  return reply (sink, "%s", text->str);
}

static gboolean
handle_helo (Sink       *sink,
             const char *line)
{
  reset_transaction (sink);
  return reply (sink, "250 %s", sink->hostname);
}

static gboolean
handle_rset (Sink       *sink,
             const char *line)
{
  reset_transaction (sink);
  return reply (sink, "250 2.0.0 Ok");
}

/* RFC 3207. Commands pipelined after STARTTLS would be taken as sent
 * under TLS: refused. After the handshake the session starts afresh. */
static gboolean
handle_starttls (Sink       *sink,
                 const char *line)
{
  gsize unread;

  if (sink->certificate == NULL || line[8] != '\0')
    return reply (sink, sink->certificate == NULL ? "500 5.5.2 Error: command not recognized"
                                                  : "501 5.5.4 Syntax: STARTTLS");
  if (smtpkit_fake_conn_is_tls (sink->conn))
    return reply (sink, "503 5.5.1 Error: TLS already active");
  smtpkit_fake_conn_peek_unread (sink->conn, &unread);
  if (unread > 0)
    {
      reply (sink, "554 5.5.1 Error: commands sent after STARTTLS, before the TLS handshake");
      return FALSE;
    }
  reset_transaction (sink);
  return reply (sink, "220 2.0.0 Ready to start TLS") &&
         smtpkit_fake_conn_start_tls (sink->conn, sink->certificate, NULL);
}

static gboolean
handle_quit (Sink       *sink,
             const char *line)
{
  reply (sink, "221 2.0.0 Bye");
  return FALSE;
}

static gboolean
handle_mail (Sink       *sink,
             const char *line)
{
  const char *params;
  g_autofree char *sender = parse_path (line + 4, "FROM:", &params);

  if (sink->sender != NULL)
    return reply (sink, "503 5.5.1 Error: nested MAIL command");
  if (sender == NULL)
    return reply (sink, "501 5.5.4 Syntax: MAIL FROM:<address>");
  if (size_param_too_big (sink, params))
    return reply (sink, "552 5.3.4 Message size exceeds fixed maximum message size");

  g_string_append_printf (sink->envelope, "MAIL FROM:<%s>%s\n", sender, params);
  sink->sender = g_steal_pointer (&sender);
  return reply (sink, "250 2.1.0 Ok");
}

static gboolean
handle_rcpt (Sink       *sink,
             const char *line)
{
  const char *params;
  g_autofree char *recipient = parse_path (line + 4, "TO:", &params);

  if (sink->sender == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (recipient == NULL)
    return reply (sink, "501 5.5.4 Syntax: RCPT TO:<address>");

  g_string_append_printf (sink->envelope, "RCPT TO:<%s>%s\n", recipient, params);
  g_ptr_array_add (sink->recipients, g_steal_pointer (&recipient));
  return reply (sink, "250 2.1.5 Ok");
}

static void
spool_write (const guint8 *data,
             gsize         len,
             gpointer      user_data)
{
  Spool *spool = user_data;

  /* After a write error, read the rest of the body all the same. */
  if (spool->error == NULL)
    g_output_stream_write_all (spool->out, data, len, NULL, NULL, &spool->error);
  spool->size += len;
}

/* The file a message is streamed into, SPOOL/NNNNNN.eml. */
static Spool *
spool_open (Sink *sink)
{
  Spool *spool = g_new0 (Spool, 1);
  g_autoptr (GFile) file = NULL;

  spool->index = smtpkit_fake_server_next_message_index (sink->server);
  spool->path = g_strdup_printf ("%s/%06u.eml", sink->spool_dir, spool->index);
  file = g_file_new_for_path (spool->path);
  spool->out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                                &spool->error));
  return spool;
}

static char *
envelope_path (Spool *spool)
{
  g_autofree char *base = g_strndup (spool->path, strlen (spool->path) - strlen (".eml"));

  return g_strconcat (base, ".envelope", NULL);
}

static void
spool_discard (Spool *spool)
{
  g_autofree char *envelope = envelope_path (spool);

  g_clear_object (&spool->out);
  g_unlink (spool->path);
  g_unlink (envelope);
  g_clear_error (&spool->error);
  g_free (spool->path);
  g_free (spool);
}

/* Ends the message: closes the file, writes SPOOL/NNNNNN.envelope and
 * answers; @received is FALSE when the connection was lost on the way. */
static gboolean
spool_finish (Sink     *sink,
              Spool    *spool,
              gboolean  received)
{
  g_autofree char *envelope = envelope_path (spool);
  guint index = spool->index;
  gboolean ok = received;

  if (spool->out != NULL && spool->error == NULL)
    g_output_stream_close (spool->out, NULL, &spool->error);
  if (spool->error == NULL)
    g_file_set_contents (envelope, sink->envelope->str, -1, &spool->error);

  if (!received || spool->error != NULL)
    {
      if (received)
        ok = reply (sink, "451 4.3.0 Error: cannot store the message: %s", spool->error->message);
      spool_discard (spool);
      reset_transaction (sink);
      return ok;
    }

  /* Counted and signalled before the reply, so that a client that has
   * its 250 finds the message in place. */
  smtpkit_fake_server_message_received (sink->server, index, spool->path, sink->sender,
                                        (char **) sink->recipients->pdata, spool->size);
  g_clear_object (&spool->out);
  g_free (spool->path);
  g_free (spool);
  reset_transaction (sink);
  return reply (sink, "250 2.0.0 Ok: queued as %06u", index);
}

/* Streams the body into the spool. FALSE when the connection is lost. */
static gboolean
handle_data (Sink       *sink,
             const char *line)
{
  Spool *spool;
  gboolean ok;

  if (sink->sender == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (sink->recipients->len == 0)
    return reply (sink, "503 5.5.1 Error: need RCPT command");

  spool = spool_open (sink);
  if (!reply (sink, "354 End data with <CR><LF>.<CR><LF>"))
    {
      spool_discard (spool);
      return FALSE;
    }
  ok = smtpkit_fake_conn_read_data (sink->conn, TRUE, spool_write, spool, NULL) &&
       !smtpkit_fake_conn_is_eof (sink->conn);
  /* A fault instead of the final reply: the message is not stored. */
  if (ok && (sink->fault = draw_fault (sink, TRUE)) != SMTPKIT_FAKE_FAULT_NONE)
    {
      spool_discard (spool);
      reset_transaction (sink);
      return inject (sink, sink->fault);
    }
  return spool_finish (sink, spool, ok);
}

/* RFC 3030: "BDAT n [LAST]" and n octets, streamed into the spool. The
 * chunk is read even when the command is refused, to stay in step. */
static gboolean
handle_bdat (Sink       *sink,
             const char *line)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  const char *arg = line + strlen ("BDAT");
  char *end;
  guint64 size = g_ascii_strtoull (arg, &end, 10);
  gboolean last = g_ascii_strcasecmp (end, " LAST") == 0;

  if (end == arg || (!last && *end != '\0'))
    return reply (sink, "501 5.5.4 Syntax: BDAT size [LAST]");
  if (sink->bdat == NULL && sink->sender != NULL && sink->recipients->len > 0)
    sink->bdat = spool_open (sink);

  for (guint64 left = size; left > 0;)
    {
      gsize take = MIN (left, 65536);

      if (!smtpkit_fake_conn_read_exact (sink->conn, take, buffer, NULL) || buffer->len < take)
        {
          g_clear_pointer (&sink->bdat, spool_discard);
          return FALSE;
        }
      if (sink->bdat)
        spool_write (buffer->data, buffer->len, sink->bdat);
      left -= take;
    }

  /* A fault instead of the reply to a chunk fails the transaction. */
  if (sink->fault != SMTPKIT_FAKE_FAULT_NONE)
    {
      reset_transaction (sink);
      return inject (sink, sink->fault);
    }
  if (sink->sender == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (sink->recipients->len == 0)
    return reply (sink, "503 5.5.1 Error: need RCPT command");
  if (!last)
    return reply (sink, "250 2.0.0 %" G_GUINT64_FORMAT " octets received", size);
  return spool_finish (sink, g_steal_pointer (&sink->bdat), TRUE);
}

static const struct
{
  const char *verb;
  gboolean (*handle) (Sink *sink, const char *line); /* FALSE: the end */
  const char *reply;                                 /* when no @handle */
} commands[] = {
  { "EHLO", handle_ehlo },
  { "HELO", handle_helo },
  { "MAIL", handle_mail },
  { "RCPT", handle_rcpt },
  { "DATA", handle_data },
  { "BDAT", handle_bdat },
  { "RSET", handle_rset },
  { "QUIT", handle_quit },
  { "STARTTLS", handle_starttls },
  { "NOOP", NULL, "250 2.0.0 Ok" },
  { "VRFY", NULL, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery" },
  { "EXPN", NULL, "502 5.5.1 EXPN not supported" },
  { "HELP", NULL, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY EXPN HELP QUIT" },
};

static gboolean
handle_command (Sink       *sink,
                const char *line)
{
  gsize verb = strcspn (line, " ");
  guint i;

  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    if (verb == strlen (commands[i].verb) && g_ascii_strncasecmp (line, commands[i].verb, verb) == 0)
      break;

  /* A fault instead of the reply; BDAT reads its chunk first. RSET and
   * QUIT cannot be refused (RFC 5321 §4.1.1.5, §4.1.1.10). */
  sink->fault = draw_fault (sink, i == G_N_ELEMENTS (commands) ||
                                    (commands[i].handle != handle_rset &&
                                     commands[i].handle != handle_quit));
  if (sink->fault != SMTPKIT_FAKE_FAULT_NONE &&
      (i == G_N_ELEMENTS (commands) || commands[i].handle != handle_bdat))
    return inject (sink, sink->fault);
  if (i == G_N_ELEMENTS (commands))
    return reply (sink, "500 5.5.2 Error: command not recognized");
  if (commands[i].handle != NULL)
    return commands[i].handle (sink, line);
  return reply (sink, "%s", commands[i].reply);
}

/* Serves one client until it quits, goes away or times out. Commands are
 * read one line at a time, so pipelined commands are answered in order.
 * With @implicit_tls the TLS handshake comes first, with @certificate or
 * else the good one; otherwise @certificate, when set, is offered through
 * STARTTLS. With @faults, replies are replaced by faults at random (see
 * smtpkit_fake_server_set_faults()). */
void
smtpkit_fake_sink_serve (SmtpkitFakeServer  *server,
                         SmtpkitFakeConn    *conn,
                         const char         *hostname,
                         const char         *spool_dir,
                         const char *const  *extensions,
                         GTlsCertificate    *certificate,
                         gboolean            implicit_tls,
                         GRand              *faults)
{
  g_autoptr (GByteArray) line = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  Sink sink = { server, conn, hostname, spool_dir, extensions, certificate, };
  gboolean more;

  if (implicit_tls && certificate == NULL)
    certificate = smtpkit_fake_tls_get_certificate (SMTPKIT_CERT_GOOD, NULL);
  if (implicit_tls && !smtpkit_fake_conn_start_tls (conn, certificate, NULL))
    return;

  for (guint i = 0; extensions[i] != NULL; i++)
    if (g_ascii_strncasecmp (extensions[i], "SIZE ", 5) == 0)
      sink.size_limit = g_ascii_strtoull (extensions[i] + 5, NULL, 10);
  sink.recipients = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  sink.envelope = g_string_new (NULL);

  sink.faults = faults;
  sink.fault = draw_fault (&sink, TRUE);
  if (sink.fault != SMTPKIT_FAKE_FAULT_NONE)
    {
      /* A greeting refused ends the session. */
      inject (&sink, sink.fault);
      more = FALSE;
    }
  else
    more = reply (&sink, "220 %s ESMTP smtpkit-fake-server", hostname);
  while (more && smtpkit_fake_conn_read_line (conn, line, &error) &&
         !smtpkit_fake_conn_is_eof (conn))
    {
      g_autofree char *text = NULL;

      if (line->data[line->len - 1] != '\n')
        {
          reply (&sink, line->data[0] == SMTPKIT_FAKE_TLS_HANDSHAKE
                          ? "500 5.5.2 Error: a TLS handshake without STARTTLS"
                          : "500 5.5.2 Error: line too long");
          break;
        }
      g_byte_array_set_size (line, line->len - 1);
      if (line->len > 0 && line->data[line->len - 1] == '\r')
        g_byte_array_set_size (line, line->len - 1);
      text = g_strndup ((const char *) line->data, line->len);
      more = handle_command (&sink, text);
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    reply (&sink, "421 4.4.2 %s Error: timeout exceeded", hostname);
  if (sink.stalled)
    smtpkit_fake_conn_drain (conn);

  reset_transaction (&sink);
  g_ptr_array_unref (sink.recipients);
  g_string_free (sink.envelope, TRUE);
}
