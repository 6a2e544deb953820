/* test-app-sends-mail.c: an application's GTest suite with the fake SMTP
 * server as its sink
 *
 * The application's code under test is send_report(), a small SMTP
 * client written with GIO. The tests start a sink in-process, let the
 * application send, and check what the sink received: the envelope and
 * the message, and the error the application reports when a recipient is
 * refused or the server goes away.
 *
 *   cc test-app-sends-mail.c $(pkg-config --cflags --libs smtpkit-fake-server-1)
 *   ./a.out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <smtpkit-fake-server.h>

/* ---- the application's code ------------------------------------------- */

static gboolean
expect_reply (GDataInputStream  *in,
              const char        *code,
              GError           **error)
{
  while (TRUE)
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, error);

      if (line == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                         "the server closed the connection");
          return FALSE;
        }
      g_strchomp (line);
      if (strlen (line) >= 4 && line[3] == '-')
        continue;
      if (g_str_has_prefix (line, code))
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the server answered: %s", line);
      return FALSE;
    }
}

static gboolean
command (GOutputStream     *out,
         GDataInputStream  *in,
         const char        *text,
         const char        *code,
         GError           **error)
{
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);

  return g_output_stream_write_all (out, line, strlen (line), NULL, NULL, error) &&
         expect_reply (in, code, error);
}

/* Sends a one-line report from @from to @to through the server at
 * @host:@port. */
static gboolean
send_report (const char  *host,
             guint16      port,
             const char  *from,
             const char  *to,
             const char  *text,
             GError     **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autofree char *mail = g_strdup_printf ("MAIL FROM:<%s>", from);
  g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>", to);
  g_autofree char *body = g_strdup_printf ("From: <%s>\r\nTo: <%s>\r\nSubject: report\r\n\r\n%s\r\n.",
                                           from, to, text);
  GOutputStream *out;

  connection = g_socket_client_connect_to_host (client, host, port, NULL, error);
  if (connection == NULL)
    return FALSE;
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  return expect_reply (in, "220", error) &&
         command (out, in, "EHLO app.example", "250", error) &&
         command (out, in, mail, "250", error) &&
         command (out, in, rcpt, "250", error) &&
         command (out, in, "DATA", "354", error) &&
         command (out, in, body, "250", error) &&
         command (out, in, "QUIT", "221", error);
}

/* ---- its tests --------------------------------------------------------- */

typedef struct
{
  SmtpkitFakeServer *sink;
} Fixture;

/* A sink of the test's own: a temporary Maildir, removed with it, on a
 * free port of 127.0.0.1. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *const extensions[] = { "PIPELINING", "8BITMIME", NULL };

  f->sink = smtpkit_fake_server_new_sink (NULL, extensions);
}

static void
start_sink (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_listen_tcp (f->sink, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->sink);
}

static void
test_report_delivered (Fixture       *f,
                       gconstpointer  data)
{
  const char *const recipients[] = { "boss@example.org", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autofree char *text = NULL;
  SmtpkitFakeMail *mail;

  start_sink (f);
  send_report ("127.0.0.1", smtpkit_fake_server_get_port (f->sink), "app@example.org",
               "boss@example.org", "all is well", &error);
  g_assert_no_error (error);

  /* The sink stored the message before its 250: no waiting needed. */
  received = smtpkit_fake_server_get_received (f->sink);
  g_assert_cmpuint (received->len, ==, 1);
  mail = received->pdata[0];
  g_assert_cmpstr (smtpkit_fake_mail_get_sender (mail), ==, "app@example.org");
  g_assert_cmpstrv (smtpkit_fake_mail_get_recipients (mail), recipients);
  g_assert_cmpstr (smtpkit_fake_mail_get_helo (mail), ==, "app.example");
  g_assert_false (smtpkit_fake_mail_get_tls (mail));
  g_assert_null (smtpkit_fake_mail_get_auth_user (mail));
  g_assert_true (g_file_test (smtpkit_fake_mail_get_envelope_path (mail), G_FILE_TEST_IS_REGULAR));

  message = smtpkit_fake_mail_load (mail, &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_assert_true (g_str_has_prefix (text, "From: <app@example.org>\r\n"));
  g_assert_nonnull (strstr (text, "\r\n\r\nall is well\r\n"));
}

/* The application's error path: a recipient the server refuses. */
static void
test_report_refused (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_add_reply (f->sink, "rcpt:*@gone.example=550 5.1.1 No such user", &error);
  g_assert_no_error (error);
  start_sink (f);

  g_assert_false (send_report ("127.0.0.1", smtpkit_fake_server_get_port (f->sink),
                               "app@example.org", "old@gone.example", "hello", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "the server answered: 550 5.1.1 No such user");
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->sink), ==, 0);
}

/* And a server that goes away after accepting the recipient. */
static void
test_report_connection_lost (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_set_close_after (f->sink, "rcpt", &error);
  g_assert_no_error (error);
  start_sink (f);

  g_assert_false (send_report ("127.0.0.1", smtpkit_fake_server_get_port (f->sink),
                               "app@example.org", "boss@example.org", "hello", &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->sink), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/app/report/delivered", Fixture, NULL, fixture_setup, test_report_delivered,
              fixture_teardown);
  g_test_add ("/app/report/refused", Fixture, NULL, fixture_setup, test_report_refused,
              fixture_teardown);
  g_test_add ("/app/report/connection-lost", Fixture, NULL, fixture_setup,
              test_report_connection_lost, fixture_teardown);
  return g_test_run ();
}
