/* smtpkit-fake-sink.c: a minimal SMTP server that spools every message
 *
 * The spool is a Maildir: a message is written in SPOOL/tmp/ under a name
 * no other message can have, its envelope in SPOOL/envelopes/NAME.json,
 * and only then is it linked into SPOOL/new/, so that a reader of new/
 * (or of the envelopes) never sees a message half written, and a sink
 * restarted on the same spool never overwrites what is there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "smtpkit-fake-server-private.h"

typedef struct
{
  GOutputStream *out;
  GError *error;
  guint64 size;
  guint index;
  char *name;     /* unique, as Maildir names are */
  char *tmp_path; /* SPOOL/tmp/NAME */
} Spool;

typedef struct
{
  SmtpkitFakeServer *server;
  const SmtpkitFakeSinkConfig *config;
  SmtpkitFakeConn *conn;
  guint64 size_limit;     /* from the SIZE extension; 0: none */
  char *helo;             /* the name of the last EHLO or HELO */
  char *auth_user;        /* once AUTH succeeded */
  SmtpkitFakeMail *mail;  /* NULL outside a mail transaction */
  Spool *bdat;            /* the message BDAT chunks go to, if any */
  GRand *faults;          /* NULL: no fault injection */
  SmtpkitFakeFault fault; /* drawn for the command being handled */
  gboolean stalled;       /* a stall fault: wait for the client to go */
  GError *error;          /* why reading from the client failed */
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

  /* A delay in this connection's worker: other clients are not held up.
   * Each delayed reply goes out on its own, after its delay. */
  if (sink->config->reply_delay > 0)
    return smtpkit_fake_conn_sleep (sink->conn, sink->config->reply_delay, NULL) &&
           smtpkit_fake_conn_write (sink->conn, line, strlen (line), NULL);
  return smtpkit_fake_conn_write_pipelined (sink->conn, line, strlen (line), NULL);
}

/* FALSE, to end the session, once @step is answered with --close-after. */
static gboolean
step_done (Sink            *sink,
           SmtpkitFakeStep  step,
           gboolean         more)
{
  return more && (step == SMTPKIT_FAKE_STEP_NONE || sink->config->close_after != step);
}

/* The reply set for @step and @subject (smtpkit_fake_server_add_reply()),
 * or NULL. */
static const char *
rule_for (Sink            *sink,
          SmtpkitFakeStep  step,
          const char      *subject)
{
  return smtpkit_fake_rules_match (sink->config->rules, step, subject);
}

static gboolean
is_tls (Sink *sink)
{
  return smtpkit_fake_conn_is_tls (sink->conn);
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
  g_clear_object (&sink->mail);
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

/* RFC 4954 §4: AUTH is offered where it can be used; with --require-tls,
 * only under TLS. */
static gboolean
offers_auth (Sink *sink)
{
  return sink->config->auth_mechanisms != NULL && (!sink->config->require_tls || is_tls (sink));
}

/* EHLO and HELO: the client's name is kept for the envelope. FALSE when
 * a rule refused it: the reply is sent. */
static gboolean
greet (Sink       *sink,
       const char *line,
       gboolean   *more)
{
  const char *name = line + strlen ("EHLO");
  const char *refusal;

  name += strspn (name, " ");
  reset_transaction (sink);
  refusal = rule_for (sink, SMTPKIT_FAKE_STEP_EHLO, name);
  if (refusal != NULL)
    {
      *more = reply (sink, "%s", refusal);
      return FALSE;
    }
  g_free (sink->helo);
  sink->helo = g_strdup (name);
  return TRUE;
}

static gboolean
handle_ehlo (Sink       *sink,
             const char *line)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const SmtpkitFakeSinkConfig *config = sink->config;
  gboolean more;

  if (!greet (sink, line, &more))
    return more;
  g_ptr_array_add (lines, g_strdup (config->hostname));
  for (guint i = 0; config->extensions[i] != NULL; i++)
    g_ptr_array_add (lines, g_strdup (config->extensions[i]));
  if (offers_auth (sink))
    {
      g_autofree char *mechanisms = g_strjoinv (" ", (char **) config->auth_mechanisms);

      g_ptr_array_add (lines, g_strconcat ("AUTH ", mechanisms, NULL));
    }
  if (config->certificate != NULL && !is_tls (sink))
    g_ptr_array_add (lines, g_strdup ("STARTTLS"));
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (text, "%s250%c%s", i > 0 ? "\r\n" : "",
                            i + 1 < lines->len ? '-' : ' ', (char *) lines->pdata[i]);
  return reply (sink, "%s", text->str);
}

static gboolean
handle_helo (Sink       *sink,
             const char *line)
{
  gboolean more;

  if (!greet (sink, line, &more))
    return more;
  return reply (sink, "250 %s", sink->config->hostname);
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
  GTlsCertificate *certificate = sink->config->certificate;
  gsize unread;

  if (certificate == NULL || line[8] != '\0')
    return reply (sink, certificate == NULL ? "500 5.5.2 Error: command not recognized"
                                            : "501 5.5.4 Syntax: STARTTLS");
  if (is_tls (sink))
    return reply (sink, "503 5.5.1 Error: TLS already active");
  smtpkit_fake_conn_peek_unread (sink->conn, &unread);
  if (unread > 0)
    {
      reply (sink, "554 5.5.1 Error: commands sent after STARTTLS, before the TLS handshake");
      return FALSE;
    }
  reset_transaction (sink);
  g_clear_pointer (&sink->helo, g_free);
  return reply (sink, "220 2.0.0 Ready to start TLS") &&
         smtpkit_fake_conn_start_tls (sink->conn, certificate, NULL);
}

static gboolean
handle_quit (Sink       *sink,
             const char *line)
{
  reply (sink, "221 2.0.0 Bye");
  return FALSE;
}

/* Reads the next command line into @text, CRLF removed. FALSE when the
 * session ends: the client went (sink->error says how, when it failed),
 * or sent a line too long, which is answered. */
static gboolean
read_command (Sink        *sink,
              GByteArray  *line,
              char       **text)
{
  if (!smtpkit_fake_conn_read_line (sink->conn, line, &sink->error) ||
      smtpkit_fake_conn_is_eof (sink->conn))
    return FALSE;
  if (line->data[line->len - 1] != '\n')
    {
      reply (sink, line->data[0] == SMTPKIT_FAKE_TLS_HANDSHAKE
                     ? "500 5.5.2 Error: a TLS handshake without STARTTLS"
                     : "500 5.5.2 Error: line too long");
      return FALSE;
    }
  g_byte_array_set_size (line, line->len - 1);
  if (line->len > 0 && line->data[line->len - 1] == '\r')
    g_byte_array_set_size (line, line->len - 1);
  *text = g_strndup ((const char *) line->data, line->len);
  return TRUE;
}

/* Why AUTH cannot start now, as a reply; NULL when it can. */
static const char *
auth_refusal (Sink       *sink,
              const char *mechanism)
{
  if (sink->config->auth_mechanisms == NULL)
    return "500 5.5.2 Error: command not recognized";
  if (sink->config->require_tls && !is_tls (sink))
    return "530 5.7.0 Must issue a STARTTLS command first";
  if (sink->auth_user != NULL)
    return "503 5.5.1 Error: already authenticated";
  if (sink->mail != NULL)
    return "503 5.5.1 Error: MAIL transaction in progress";
  if (mechanism == NULL)
    return "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
  if (!g_strv_contains (sink->config->auth_mechanisms, mechanism))
    return "504 5.5.4 Unrecognized authentication type";
  return NULL;
}

/* The 334 exchange (RFC 4954 §4), carried for the mechanism's step
 * function (smtpkit-fake-auth.c), which checks the credentials. */
static gboolean
run_auth (Sink            *sink,
          SmtpkitFakeAuth *auth,
          const char      *initial)
{
  g_autoptr (GByteArray) line = g_byte_array_new ();
  g_autoptr (GBytes) response = NULL;
  SmtpkitFakeAuthResult result;

  if (initial != NULL && (response = smtpkit_fake_auth_decode_response (initial, TRUE)) == NULL)
    return reply (sink, "501 5.5.2 Error: the initial response is not base64");
  while (TRUE)
    {
      g_autoptr (GBytes) challenge = NULL;
      g_autofree char *message = NULL;
      g_autofree char *encoded = NULL;
      g_autofree char *text = NULL;

      result = smtpkit_fake_auth_step (auth, response, &challenge, &message);
      if (result == SMTPKIT_FAKE_AUTH_OK)
        break;
      if (result == SMTPKIT_FAKE_AUTH_FAILED)
        return reply (sink, "535 5.7.8 Error: authentication failed: %s", message);
      if (result == SMTPKIT_FAKE_AUTH_ERROR)
        return reply (sink, "501 5.5.2 Error: %s", message);

      encoded = g_base64_encode (g_bytes_get_data (challenge, NULL), g_bytes_get_size (challenge));
      if (!reply (sink, "334 %s", encoded) || !read_command (sink, line, &text))
        return FALSE;
      if (strcmp (text, "*") == 0)
        return reply (sink, "501 5.7.0 Authentication cancelled");
      g_clear_pointer (&response, g_bytes_unref);
      response = smtpkit_fake_auth_decode_response (text, FALSE);
      if (response == NULL)
        return reply (sink, "501 5.5.2 Error: the response is not base64");
    }

  sink->auth_user = g_strdup (smtpkit_fake_auth_get_user (auth));
  return reply (sink, "235 2.7.0 Authentication successful");
}

static gboolean
handle_auth (Sink       *sink,
             const char *line)
{
  g_auto (GStrv) words = g_strsplit (line, " ", 3);
  g_autofree char *mechanism = words[1] != NULL ? g_ascii_strup (words[1], -1) : NULL;
  const char *refusal = auth_refusal (sink, mechanism);
  g_autoptr (SmtpkitFakeAuth) auth = NULL;
  g_autoptr (GError) error = NULL;

  if (refusal != NULL)
    return reply (sink, "%s", refusal);
  auth = smtpkit_fake_auth_new_for_users (mechanism, sink->config->users,
                                          sink->config->any_credentials, &error);
  if (auth == NULL)
    return reply (sink, "454 4.7.0 Temporary authentication failure: %s", error->message);
  return run_auth (sink, auth, words[2]);
}

/* Why MAIL is refused before anything else, as a reply; NULL if it is
 * not. */
static const char *
mail_refusal (Sink *sink)
{
  if (sink->config->require_tls && !is_tls (sink))
    return "530 5.7.0 Must issue a STARTTLS command first";
  if (sink->config->require_auth && sink->auth_user == NULL)
    return "530 5.7.0 Authentication required";
  if (sink->mail != NULL)
    return "503 5.5.1 Error: nested MAIL command";
  return NULL;
}

static gboolean
handle_mail (Sink       *sink,
             const char *line)
{
  const char *params;
  g_autofree char *sender = parse_path (line + 4, "FROM:", &params);
  const char *refusal = mail_refusal (sink);

  if (refusal == NULL && sender == NULL)
    refusal = "501 5.5.4 Syntax: MAIL FROM:<address>";
  if (refusal == NULL && size_param_too_big (sink, params))
    refusal = "552 5.3.4 Message size exceeds fixed maximum message size";
  if (refusal == NULL)
    refusal = rule_for (sink, SMTPKIT_FAKE_STEP_MAIL, sender);
  if (refusal != NULL)
    return reply (sink, "%s", refusal);

  sink->mail = smtpkit_fake_mail_new (sender, params);
  return reply (sink, "250 2.1.0 Ok");
}

static gboolean
handle_rcpt (Sink       *sink,
             const char *line)
{
  const char *params;
  g_autofree char *recipient = parse_path (line + 4, "TO:", &params);
  const char *refusal;

  if (sink->mail == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (recipient == NULL)
    return reply (sink, "501 5.5.4 Syntax: RCPT TO:<address>");
  refusal = rule_for (sink, SMTPKIT_FAKE_STEP_RCPT, recipient);
  if (refusal != NULL)
    return reply (sink, "%s", refusal);

  smtpkit_fake_mail_add_recipient (sink->mail, recipient, params);
  return reply (sink, "250 2.1.5 Ok");
}

static gboolean
has_recipients (Sink *sink)
{
  return smtpkit_fake_mail_get_recipients (sink->mail)[0] != NULL;
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

/* The Maildir convention: TIME.PID_COUNTER_RANDOM.HOST, with "/" and ":"
 * of the host name escaped as \057 and \072. */
static char *
unique_name (void)
{
  static gint counter;
  g_autoptr (GString) host = g_string_new (NULL);

  for (const char *p = g_get_host_name (); *p != '\0'; p++)
    if (*p == '/' || *p == ':')
      g_string_append_printf (host, "\\%03o", *p);
    else
      g_string_append_c (host, *p);
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%d_%d_%08x.%s",
                          g_get_real_time () / G_USEC_PER_SEC, (int) getpid (),
                          g_atomic_int_add (&counter, 1), g_random_int (), host->str);
}

/* The file a message is streamed into, SPOOL/tmp/NAME, created: never an
 * existing file replaced. */
static Spool *
spool_open (Sink *sink)
{
  Spool *spool = g_new0 (Spool, 1);
  g_autoptr (GFile) file = NULL;

  spool->index = smtpkit_fake_server_next_message_index (sink->server);
  spool->name = unique_name ();
  spool->tmp_path = g_build_filename (sink->config->spool_dir, "tmp", spool->name, NULL);
  file = g_file_new_for_path (spool->tmp_path);
  spool->out = G_OUTPUT_STREAM (g_file_create (file, G_FILE_CREATE_NONE, NULL, &spool->error));
  return spool;
}

static void
spool_free (Spool *spool)
{
  g_clear_object (&spool->out);
  g_clear_error (&spool->error);
  g_free (spool->name);
  g_free (spool->tmp_path);
  g_free (spool);
}

static void
spool_discard (Spool *spool)
{
  g_clear_object (&spool->out);
  g_unlink (spool->tmp_path);
  spool_free (spool);
}

static gboolean
set_errno_error (GError     **error,
                 const char  *what,
                 const char  *path)
{
  int errsv = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "cannot %s %s: %s", what, path,
               g_strerror (errsv));
  return FALSE;
}

/* link() rather than rename(), as Maildir has it: it never replaces a
 * message already there. Where the filesystem has no hard links, the
 * unique name has to do. */
static gboolean
move_into_new (const char *from,
               const char *to)
{
  if (link (from, to) == 0)
    {
      g_unlink (from);
      return TRUE;
    }
  if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS)
    return FALSE;
  if (g_file_test (to, G_FILE_TEST_EXISTS))
    {
      errno = EEXIST;
      return FALSE;
    }
  return g_rename (from, to) == 0;
}

/* The envelope first, then the message into new/: a reader that finds a
 * message finds its envelope. */
static gboolean
deliver (Spool            *spool,
         SmtpkitFakeMail  *mail,
         GError          **error)
{
  g_autofree char *json = smtpkit_fake_mail_to_json (mail);

  if (!g_file_set_contents (mail->envelope_path, json, -1, error))
    return FALSE;
  if (!move_into_new (spool->tmp_path, mail->path))
    {
      set_errno_error (error, "move the message into", mail->path);
      g_unlink (mail->envelope_path);
      return FALSE;
    }
  return TRUE;
}

/* The envelope as it stands, for the message of @spool. */
static SmtpkitFakeMail *
complete_mail (Sink  *sink,
               Spool *spool)
{
  SmtpkitFakeMail *mail = g_steal_pointer (&sink->mail);
  g_autofree char *json_name = g_strconcat (spool->name, ".json", NULL);

  mail->index = spool->index;
  mail->path = g_build_filename (sink->config->spool_dir, "new", spool->name, NULL);
  mail->envelope_path = g_build_filename (sink->config->spool_dir, "envelopes", json_name, NULL);
  mail->auth_user = g_strdup (sink->auth_user);
  mail->tls = is_tls (sink);
  mail->helo = g_strdup (sink->helo);
  mail->size = spool->size;
  mail->received = g_date_time_new_now_utc ();
  return mail;
}

/* Ends the message: closes the file, delivers it with its envelope and
 * answers; @received is FALSE when the connection was lost on the way. */
static gboolean
spool_finish (Sink     *sink,
              Spool    *spool,
              gboolean  received)
{
  g_autoptr (SmtpkitFakeMail) mail = NULL;
  guint index = spool->index;

  if (spool->out != NULL && spool->error == NULL)
    g_output_stream_close (spool->out, NULL, &spool->error);
  if (received && spool->error == NULL)
    {
      mail = complete_mail (sink, spool);
      deliver (spool, mail, &spool->error);
    }

  if (!received || spool->error != NULL)
    {
      gboolean ok = received &&
                    reply (sink, "451 4.3.0 Error: cannot store the message: %s", spool->error->message);

      spool_discard (spool);
      reset_transaction (sink);
      return ok;
    }

  /* Counted and signalled before the reply, so that a client that has
   * its 250 finds the message in place. */
  smtpkit_fake_server_message_received (sink->server, mail);
  spool_free (spool);
  reset_transaction (sink);
  return step_done (sink, SMTPKIT_FAKE_STEP_DOT, reply (sink, "250 2.0.0 Ok: queued as %06u", index));
}

/* Instead of the final reply, @fault or a rule's reply: the message is
 * not stored, and @more says whether the session goes on. FALSE when
 * there is neither. */
static gboolean
refuse_message (Sink             *sink,
                Spool            *spool,
                SmtpkitFakeFault  fault,
                gboolean         *more)
{
  const char *refusal = rule_for (sink, SMTPKIT_FAKE_STEP_DOT, NULL);

  if (fault == SMTPKIT_FAKE_FAULT_NONE && refusal == NULL)
    return FALSE;
  spool_discard (spool);
  reset_transaction (sink);
  if (fault != SMTPKIT_FAKE_FAULT_NONE)
    *more = inject (sink, fault);
  else
    *more = step_done (sink, SMTPKIT_FAKE_STEP_DOT, reply (sink, "%s", refusal));
  return TRUE;
}

/* Streams the body into the spool. FALSE when the connection is lost. */
static gboolean
handle_data (Sink       *sink,
             const char *line)
{
  const char *refusal = rule_for (sink, SMTPKIT_FAKE_STEP_DATA, NULL);
  Spool *spool;
  gboolean ok;

  if (sink->mail == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (!has_recipients (sink))
    return reply (sink, "503 5.5.1 Error: need RCPT command");
  if (refusal != NULL)
    return step_done (sink, SMTPKIT_FAKE_STEP_DATA, reply (sink, "%s", refusal));

  spool = spool_open (sink);
  if (!step_done (sink, SMTPKIT_FAKE_STEP_DATA, reply (sink, "354 End data with <CR><LF>.<CR><LF>")))
    {
      spool_discard (spool);
      return FALSE;
    }
  ok = smtpkit_fake_conn_read_data (sink->conn, TRUE, spool_write, spool, NULL) &&
       !smtpkit_fake_conn_is_eof (sink->conn);
  if (ok && refuse_message (sink, spool, (sink->fault = draw_fault (sink, TRUE)), &ok))
    return ok;
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
  gboolean more;
  Spool *spool;

  if (end == arg || (!last && *end != '\0'))
    return reply (sink, "501 5.5.4 Syntax: BDAT size [LAST]");
  if (sink->bdat == NULL && sink->mail != NULL && has_recipients (sink))
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
  if (sink->mail == NULL)
    return reply (sink, "503 5.5.1 Error: need MAIL command");
  if (!has_recipients (sink))
    return reply (sink, "503 5.5.1 Error: need RCPT command");
  if (!last)
    {
      /* A refused "data" step refuses the chunks before the last: the
       * transaction ends, so the chunks after it find no MAIL. */
      const char *refusal = rule_for (sink, SMTPKIT_FAKE_STEP_DATA, NULL);

      if (refusal == NULL)
        return reply (sink, "250 2.0.0 %" G_GUINT64_FORMAT " octets received", size);
      reset_transaction (sink);
      return step_done (sink, SMTPKIT_FAKE_STEP_DATA, reply (sink, "%s", refusal));
    }
  /* The fault of the last chunk was drawn with its command. */
  spool = g_steal_pointer (&sink->bdat);
  if (refuse_message (sink, spool, SMTPKIT_FAKE_FAULT_NONE, &more))
    return more;
  return spool_finish (sink, spool, TRUE);
}

static const struct
{
  const char *verb;
  gboolean (*handle) (Sink *sink, const char *line); /* FALSE: the end */
  const char *reply;                                 /* when no @handle */
  SmtpkitFakeStep step;                              /* for --close-after */
} commands[] = {
  { "EHLO", handle_ehlo, NULL, SMTPKIT_FAKE_STEP_EHLO },
  { "HELO", handle_helo, NULL, SMTPKIT_FAKE_STEP_EHLO },
  { "MAIL", handle_mail, NULL, SMTPKIT_FAKE_STEP_MAIL },
  { "RCPT", handle_rcpt, NULL, SMTPKIT_FAKE_STEP_RCPT },
  { "DATA", handle_data },
  { "BDAT", handle_bdat },
  { "RSET", handle_rset },
  { "QUIT", handle_quit },
  { "AUTH", handle_auth },
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
    return step_done (sink, commands[i].step, commands[i].handle (sink, line));
  return reply (sink, "%s", commands[i].reply);
}

/* The greeting, or what replaces it. FALSE when the session ends. */
static gboolean
send_greeting (Sink *sink)
{
  const char *refusal = rule_for (sink, SMTPKIT_FAKE_STEP_GREETING, NULL);

  sink->fault = draw_fault (sink, TRUE);
  if (sink->fault != SMTPKIT_FAKE_FAULT_NONE)
    {
      /* A greeting refused ends the session. */
      inject (sink, sink->fault);
      return FALSE;
    }
  /* RFC 5321 §3.1: after a 554 greeting the client may still QUIT; a 421
   * closes. */
  if (refusal != NULL)
    return step_done (sink, SMTPKIT_FAKE_STEP_GREETING, reply (sink, "%s", refusal)) &&
           !g_str_has_prefix (refusal, "421");
  return step_done (sink, SMTPKIT_FAKE_STEP_GREETING,
                    reply (sink, "220 %s ESMTP smtpkit-fake-server", sink->config->hostname));
}

/* Serves one client until it quits, goes away or times out, as the
 * server's sink configuration says. Commands are read one line at a
 * time, so pipelined commands are answered in order. With @faults,
 * replies are replaced by faults at random (see
 * smtpkit_fake_server_set_faults()). */
void
smtpkit_fake_sink_serve (SmtpkitFakeServer *server,
                         SmtpkitFakeConn   *conn,
                         GRand             *faults)
{
  const SmtpkitFakeSinkConfig *config = smtpkit_fake_server_get_sink_config (server);
  g_autoptr (GByteArray) line = g_byte_array_new ();
  Sink sink = { server, config, conn, };
  GTlsCertificate *certificate = config->certificate;
  gboolean more;

  if (config->implicit_tls && certificate == NULL)
    certificate = smtpkit_fake_tls_get_certificate (SMTPKIT_CERT_GOOD, NULL);
  if (config->implicit_tls && !smtpkit_fake_conn_start_tls (conn, certificate, NULL))
    return;

  for (guint i = 0; config->extensions[i] != NULL; i++)
    if (g_ascii_strncasecmp (config->extensions[i], "SIZE ", 5) == 0)
      sink.size_limit = g_ascii_strtoull (config->extensions[i] + 5, NULL, 10);
  sink.faults = faults;

  more = send_greeting (&sink);
  while (more)
    {
      g_autofree char *text = NULL;

      more = read_command (&sink, line, &text) && handle_command (&sink, text);
    }
  if (g_error_matches (sink.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    reply (&sink, "421 4.4.2 %s Error: timeout exceeded", config->hostname);
  if (sink.stalled)
    smtpkit_fake_conn_drain (conn);

  reset_transaction (&sink);
  g_free (sink.helo);
  g_free (sink.auth_user);
  g_clear_error (&sink.error);
}

static gboolean
make_dir (const char  *path,
          GError     **error)
{
  return g_mkdir_with_parents (path, 0700) == 0 || set_errno_error (error, "create the spool directory", path);
}

gboolean
smtpkit_fake_sink_make_spool (const char  *spool_dir,
                              GError     **error)
{
  static const char *const subdirs[] = { "tmp", "new", "cur", "envelopes" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (spool_dir, subdirs[i], NULL);

      if (!make_dir (path, error))
        return FALSE;
    }
  return TRUE;
}
