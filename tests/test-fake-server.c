/* test-fake-server.c: the fake SMTP server, driven by a plain GSocketClient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "smtpkit-fake-server.h"

typedef struct
{
  SmtpkitFakeServer *server;
  GSocketConnection *client;
  char *tmpdir;
  GThread *test_thread;
  GMutex lock;
  GPtrArray *messages; /* "INDEX PATH SENDER RCPT,RCPT SIZE", from the signal */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("test-fake-server-XXXXXX", &error);
  g_assert_no_error (error);
  f->test_thread = g_thread_self ();
  g_mutex_init (&f->lock);
  f->messages = g_ptr_array_new_with_free_func (g_free);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->client);
  if (f->server != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (f->server), (gpointer *) &f->server);
      g_object_unref (f->server);
      g_assert_null (f->server);
    }
  remove_tree (f->tmpdir);
  g_free (f->tmpdir);
  g_mutex_clear (&f->lock);
  g_ptr_array_unref (f->messages);
}

/* ---- helpers ---------------------------------------------------------- */

static void
start_scripted (Fixture    *f,
                const char *text,
                guint       step_timeout)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("test.scenario", text, &error);

  g_assert_no_error (error);
  f->server = smtpkit_fake_server_new_scripted (scenario);
  if (step_timeout > 0)
    g_object_set (f->server, "step-timeout", step_timeout, NULL);
  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);
}

static GSocketConnection *
connect_tcp (Fixture *f)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                smtpkit_fake_server_get_port (f->server),
                                                NULL, &error);
  g_assert_no_error (error);
  /* A broken server makes a test fail, not hang. */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 10);
  return connection;
}

static void
client_send (GSocketConnection *connection,
             const char        *data,
             gssize             len)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (out, data, len < 0 ? strlen (data) : (gsize) len, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads through the next LF; what was read before EOF otherwise. */
static char *
client_read_line (GSocketConnection *connection)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  char c;

  while (g_input_stream_read (in, &c, 1, NULL, &error) == 1)
    {
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }
  g_assert_no_error (error);
  return g_strdup (line->str);
}

static void
assert_reply (GSocketConnection *connection,
              const char        *expected)
{
  g_autofree char *line = client_read_line (connection);

  g_assert_cmpstr (line, ==, expected);
}

/* The server closed the connection: EOF, and nothing before it. */
static void
assert_closed (GSocketConnection *connection)
{
  assert_reply (connection, "");
}

static void
assert_wait_fails (Fixture    *f,
                   gint        code,
                   const char *message)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (smtpkit_fake_server_wait (f->server, 10000, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
assert_wait_succeeds (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_wait (f->server, 10000, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* ---- the scenario parser ---------------------------------------------- */

static const char ehlo_scenario[] =
  "# RFC 5321 §4.1.1.1 — ehlo() records the feature table\n"      /* 1 */
  "client:\n"                                                      /* 2 */
  "  connect                 => 220\n"                             /* 3 */
  "\n"                                                             /* 4 */
  "  ehlo                    => 250\n"                             /* 5 */
  "  # a comment among the steps\n"                                /* 6 */
  "  quit                    => 221   \n"                          /* 7 */
  "server:\n"                                                      /* 8 */
  "  send   220 fake.test ESMTP\n"                                 /* 9 */
  "  expect EHLO *\n"                                              /* 10 */
  "  send   250-fake.test\n"                                       /* 11 */
  "  send   250 SIZE 1000\n"                                       /* 12 */
  "  expect QUIT\n"                                                /* 13 */
  "  send   221 2.0.0 Bye\n";                                      /* 14 */

static void
test_scenario_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("ehlo", ehlo_scenario, &error);
  GPtrArray *steps;
  SmtpkitScenarioLine *line;

  g_assert_no_error (error);
  g_assert_cmpstr (smtpkit_scenario_get_name (scenario), ==, "ehlo");
  g_assert_null (smtpkit_scenario_get_path (scenario));
  g_assert_cmpstr (smtpkit_scenario_get_title (scenario), ==,
                   "RFC 5321 §4.1.1.1 — ehlo() records the feature table");

  steps = smtpkit_scenario_get_client_steps (scenario);
  g_assert_cmpuint (steps->len, ==, 3);
  line = steps->pdata[0];
  g_assert_cmpuint (line->lineno, ==, 3);
  g_assert_cmpstr (line->text, ==, "connect                 => 220");
  line = steps->pdata[2];
  g_assert_cmpuint (line->lineno, ==, 7);
  g_assert_cmpstr (line->text, ==, "quit                    => 221");
}

static void
test_scenario_file (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *good = g_build_filename (f->tmpdir, "good.scenario", NULL);
  g_autofree char *bad = g_build_filename (f->tmpdir, "bad.scenario", NULL);
  g_autofree char *missing = g_build_filename (f->tmpdir, "missing.scenario", NULL);
  g_autofree char *expected = NULL;
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autoptr (GError) error = NULL;

  g_file_set_contents (good, ehlo_scenario, -1, &error);
  g_assert_no_error (error);
  scenario = smtpkit_scenario_new_from_file (good, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (smtpkit_scenario_get_path (scenario), ==, good);
  g_assert_cmpstr (smtpkit_scenario_get_name (scenario), ==, good);

  g_file_set_contents (bad, "# bad\r\nserver:\r\n  send 220 x\r\n  expect\tQUIT\r\n  sned 221\r\n", -1, &error);
  g_assert_no_error (error);
  g_assert_null (smtpkit_scenario_new_from_file (bad, &error));
  expected = g_strdup_printf ("%s:5: unknown server step 'sned' (known: send, send-raw, "
                              "send-bytewise, expect, expect-raw, expect-data, "
                              "expect-data-size, expect-close, close, delay)",
                              bad);
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  g_assert_null (smtpkit_scenario_new_from_file (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_scenario_syntax_errors (void)
{
  static const struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "server:\nsend 220\n",
      "t:2: expected 'client:' or 'server:' (steps are indented), found 'send 220'" },
    { "# title\n  send 220\n",
      "t:2: 'send 220' is outside a 'client:' or 'server:' section" },
    { "server:\n  send 220\nserver:\n",
      "t:3: a second 'server:' section" },
    { "server:\n  send-raw 220\n",
      "t:2: send-raw: expected a quoted string, found '220'" },
    { "server:\n  send-raw \"220\\r\\n\n",
      "t:2: send-raw: unterminated quoted string" },
    { "server:\n  expect-raw \"a\\qb\"\n",
      "t:2: expect-raw: unknown escape '\\q' (known: \\r \\n \\t \\\\ \\\" \\0 \\xHH)" },
    { "server:\n  send-bytewise \"a\\x4\"\n",
      "t:2: send-bytewise: '\\x' needs two hex digits" },
    { "server:\n  send-raw \"a\" b\n",
      "t:2: send-raw: unexpected text after the closing quote: ' b'" },
    { "server:\n  delay soon\n",
      "t:2: 'delay' needs a number of milliseconds, found 'soon'" },
    { "server:\n  expect-data-size\n",
      "t:2: 'expect-data-size' needs a number of bytes, found ''" },
    { "server:\n  expect-close now\n",
      "t:2: 'expect-close' takes no argument" },
    { "server:\n  close\n\n  send 221\n",
      "t:4: 'send' can never run: the server closes the connection at line 2" },
    { "server:\n  expect-data\n  |a\n  send 250\n",
      "t:2: the body of expect-data must end with the line '|.'" },
    { "server:\n  expect-data\n  |a\n",
      "t:2: the body of expect-data must end with the line '|.'" },
    { "server:\n  expect-data\n  |.\n  |more\n",
      "t:4: body line '|more' outside expect-data (a body ends with its '|.' line)" },
    { "server:\n  send 220\n  |a\n",
      "t:3: body line '|a' outside expect-data (a body ends with its '|.' line)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SmtpkitScenario) scenario = smtpkit_scenario_new_from_data ("t", cases[i].text, &error);

      g_test_message ("case %u: %s", i, cases[i].text);
      g_assert_null (scenario);
      g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static void
test_scenario_unescape (void)
{
  static const struct
  {
    const char *quoted;
    const char *bytes; /* NULL: an error */
    gsize len;
  } cases[] = {
    { "\"\"", "", 0 },
    { "\"plain text\"", "plain text", 10 },
    { "\"\\r\\n\\t\\\\\\\"\\0x\"", "\r\n\t\\\"\0x", 7 },
    { "\"\\x00\\xfF\\x41\"", "\0\xff" "A", 3 },
    { "\"a\"b", NULL },
    { "a", NULL },
    { "\"a", NULL },
    { "\"a\\\"", NULL },
    { "\"\\x1\"", NULL },
    { "\"\\e\"", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gsize len = 0;
      g_autofree guint8 *bytes = smtpkit_scenario_unescape (cases[i].quoted, &len, &error);

      g_test_message ("case %u: %s", i, cases[i].quoted);
      if (cases[i].bytes == NULL)
        {
          g_assert_null (bytes);
          g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpmem (bytes, len, cases[i].bytes, cases[i].len);
      g_assert_cmpint (bytes[len], ==, 0);
    }
}

static void
test_scenario_escape (void)
{
  static const guint8 data[] = "a\r\n\t\\\"\0\x7f\xc3 z";
  g_autofree char *escaped = smtpkit_scenario_escape (data, sizeof data - 1);
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", escaped);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *back = NULL;
  gsize len;

  g_assert_cmpstr (escaped, ==, "a\\r\\n\\t\\\\\\\"\\0\\x7f\\xc3 z");
  back = smtpkit_scenario_unescape (quoted, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back, len, data, sizeof data - 1);
}

static void
test_scenario_split_args (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = smtpkit_scenario_split_args ("  sendmail a@b\t\"x y\\r\\n\\0\" \"\" =>  250 ", &error);
  static const struct
  {
    const char *bytes;
    gsize len;
  } expected[] = {
    { "sendmail", 8 }, { "a@b", 3 }, { "x y\r\n\0", 6 }, { "", 0 }, { "=>", 2 }, { "250", 3 },
  };

  g_assert_no_error (error);
  g_assert_cmpuint (words->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < words->len; i++)
    {
      gsize len;
      const char *data = g_bytes_get_data (words->pdata[i], &len);

      g_assert_cmpmem (data, len, expected[i].bytes, expected[i].len);
      g_assert_cmpint (data[len], ==, 0);
    }
  g_clear_pointer (&words, g_ptr_array_unref);

  words = smtpkit_scenario_split_args ("", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (words->len, ==, 0);
  g_clear_pointer (&words, g_ptr_array_unref);

  words = smtpkit_scenario_split_args ("a \"b\"c", &error);
  g_assert_null (words);
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
  g_assert_cmpstr (error->message, ==, "expected white space after a quoted word, found 'c'");
  g_clear_error (&error);

  words = smtpkit_scenario_split_args ("a \"b", &error);
  g_assert_null (words);
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_SCRIPT);
}

/* ---- scripted mode ---------------------------------------------------- */

static void
test_scripted_match (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *transcript = NULL;
  g_autoptr (GSocketConnection) second = NULL;

  start_scripted (f, ehlo_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "EHLO client.test\r\n", -1);
  assert_reply (f->client, "250-fake.test\r\n");
  assert_reply (f->client, "250 SIZE 1000\r\n");

  /* Only the first connection plays the scenario. */
  second = connect_tcp (f);
  assert_closed (second);

  client_send (f->client, "QUIT\r\n", -1);
  assert_reply (f->client, "221 2.0.0 Bye\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);

  transcript = smtpkit_fake_server_get_transcript (f->server);
  g_assert_cmpstr (transcript, ==,
                   "S: 220 fake.test ESMTP\n"
                   "C: EHLO client.test\n"
                   "S: 250-fake.test\n"
                   "S: 250 SIZE 1000\n"
                   "C: QUIT\n"
                   "S: 221 2.0.0 Bye\n");
}

static const char mail_scenario[] =
  "server:\n"                        /* 1 */
  "  send 220 fake.test\n"           /* 2 */
  "  # the sender\n"                 /* 3 */
  "  expect MAIL FROM:<a@b>\n"       /* 4 */
  "  send 250 ok\n"                  /* 5 */
  "  expect QUIT\n"                  /* 6 */
  "  send 221 bye\n";                /* 7 */

static void
test_scripted_wrong_line (Fixture       *f,
                          gconstpointer  data)
{
  start_scripted (f, mail_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test\r\n");
  client_send (f->client, "MAIL FROM:<a@c>\r\n", -1);
  /* A mismatch ends the script and closes the connection. */
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:4: expected 'MAIL FROM:<a@b>', client sent 'MAIL FROM:<a@c>'");
}

static void
test_scripted_bare_lf (Fixture       *f,
                       gconstpointer  data)
{
  start_scripted (f, mail_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test\r\n");
  client_send (f->client, "MAIL FROM:<a@b>\n", -1);
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:4: expected 'MAIL FROM:<a@b>', client sent 'MAIL FROM:<a@b>\\n'");
}

static void
test_scripted_client_closes (Fixture       *f,
                             gconstpointer  data)
{
  start_scripted (f, mail_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test\r\n");
  client_send (f->client, "MAIL FROM:<a@b>\r\n", -1);
  assert_reply (f->client, "250 ok\r\n");
  client_send (f->client, "QU", -1);
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:6: expected 'QUIT', client sent 'QU' and closed the connection");
}

static void
test_scripted_after_end (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *transcript = NULL;

  start_scripted (f, mail_scenario, 0);
  f->client = connect_tcp (f);
  client_send (f->client, "MAIL FROM:<a@b>\r\nQUIT\r\nQUIT\r\n", -1);
  assert_reply (f->client, "220 fake.test\r\n");
  assert_reply (f->client, "250 ok\r\n");
  assert_reply (f->client, "221 bye\r\n");
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:7: client sent 'QUIT' after the end of the script");

  transcript = smtpkit_fake_server_get_transcript (f->server);
  g_assert_true (g_str_has_suffix (transcript, "S: 221 bye\nC: QUIT\n"));
}

static void
test_scripted_timeout (Fixture       *f,
                       gconstpointer  data)
{
  start_scripted (f, mail_scenario, 100);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test\r\n");
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
                     "timed out waiting for the client at test.scenario:4 (expect MAIL FROM:<a@b>)");
  assert_closed (f->client);
}

static void
test_scripted_no_client (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  start_scripted (f, mail_scenario, 0);
  g_assert_false (smtpkit_fake_server_wait (f->server, 50, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "test.scenario: no client connected within 50 ms");
}

static void
test_scripted_send_raw (Fixture       *f,
                        gconstpointer  data)
{
  static const char expected[] = "250-a\n250\0b\xff\r\n" "220 slowly, byte by byte\r\n";
  const gsize len = sizeof expected - 1;
  GInputStream *in;
  char buffer[sizeof expected];
  gsize got = 0;
  guint reads = 0;

  start_scripted (f,
                  "server:\n"
                  "  send-raw \"250-a\\n250\\0b\\xff\\r\\n\"\n"
                  "  send-bytewise \"220 slowly, byte by byte\\r\\n\"\n"
                  "  expect-close\n",
                  0);
  f->client = connect_tcp (f);
  in = g_io_stream_get_input_stream (G_IO_STREAM (f->client));
  while (got < len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_input_stream_read (in, buffer + got, len - got, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += n;
      reads++;
    }
  g_assert_cmpmem (buffer, got, expected, len);
  /* 26 bytes, 1 ms apart: they cannot all come in one read. */
  g_assert_cmpuint (reads, >, 2);

  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

static void
test_scripted_expect_raw (Fixture       *f,
                          gconstpointer  data)
{
  static const char scenario[] =
    "server:\n"
    "  expect-raw \"AUTH\\0x\\n\"\n"
    "  send 235 ok\n"
    "  expect-raw \"end\"\n";

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  client_send (f->client, "AUTH\0x\n", 7);
  assert_reply (f->client, "235 ok\r\n");
  client_send (f->client, "END", -1);
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:4: expected 'end', client sent 'END'");
}

static const char data_scenario[] =
  "server:\n"               /* 1 */
  "  send 354 go ahead\n"   /* 2 */
  "  expect-data\n"         /* 3 */
  "  |Subject: hi\n"        /* 4 */
  "  |\n"                   /* 5 */
  "  |..dot  \n"            /* 6: trailing blanks are part of the body */
  "  |.\n"                  /* 7 */
  "  send 250 queued\n"     /* 8 */
  "  expect QUIT\n";        /* 9 */

static void
test_scripted_expect_data (Fixture       *f,
                           gconstpointer  data)
{
  start_scripted (f, data_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "354 go ahead\r\n");
  /* QUIT, pipelined after the body, is read by the next step. */
  client_send (f->client, "Subject: hi\r\n\r\n..dot  \r\n.\r\nQUIT\r\n", -1);
  assert_reply (f->client, "250 queued\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

static void
test_scripted_expect_data_mismatch (Fixture       *f,
                                    gconstpointer  data)
{
  start_scripted (f, data_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "354 go ahead\r\n");
  client_send (f->client, "Subject: hi\r\n\r\n.dot  \r\n.\r\n", -1);
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:3: expected data 'Subject: hi\\r\\n\\r\\n..dot  \\r\\n.\\r\\n', "
                     "client sent 'Subject: hi\\r\\n\\r\\n.dot  \\r\\n.\\r\\n'");
}

static void
test_scripted_expect_data_size (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr (GString) body = g_string_new (NULL);
  g_autofree char *scenario = NULL;

  /* "\r\n.\r\n" split across writes, and lines that only start like it. */
  while (body->len < 1000000)
    g_string_append (body, "a line of the body\r\n..stuffed\r\n.\r");
  g_string_append (body, "x\r\n.\r\n");
  scenario = g_strdup_printf ("server:\n  expect-data-size %" G_GSIZE_FORMAT "\n  send 250 ok\n",
                              body->len);

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  client_send (f->client, body->str, body->len - 3);
  client_send (f->client, ".\r\n", 3);
  assert_reply (f->client, "250 ok\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

static void
test_scripted_expect_data_size_mismatch (Fixture       *f,
                                         gconstpointer  data)
{
  start_scripted (f, "server:\n  expect-data-size 10\n", 0);
  f->client = connect_tcp (f);
  client_send (f->client, ".\r\n", -1);
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:2: expected 10 bytes of data, client sent 3");
}

static void
test_scripted_close (Fixture       *f,
                     gconstpointer  data)
{
  start_scripted (f, "server:\n  send 421 going away\n  close\n", 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "421 going away\r\n");
  assert_closed (f->client);
  assert_wait_succeeds (f);
}

static void
test_scripted_expect_close (Fixture       *f,
                            gconstpointer  data)
{
  start_scripted (f, "server:\n  send 554 no\n  expect-close\n  send 220 never\n", 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "554 no\r\n");
  client_send (f->client, "QUIT\r\n", -1);
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:3: expected the client to close the connection, client sent 'QUIT'");
}

static void
test_scripted_delay (Fixture       *f,
                     gconstpointer  data)
{
  gint64 start;

  start_scripted (f, "server:\n  send 220 a\n  delay 200\n  send 250 b\n", 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 a\r\n");
  start = g_get_monotonic_time ();
  assert_reply (f->client, "250 b\r\n");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * G_TIME_SPAN_MILLISECOND);
}

static void
test_scripted_unix (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmpdir, "smtp.sock", NULL);
  g_autoptr (SmtpkitScenario) scenario = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr (GError) error = NULL;

  scenario = smtpkit_scenario_new_from_data ("unix", "server:\n  send 220 unix\n  expect QUIT\n", &error);
  g_assert_no_error (error);
  f->server = smtpkit_fake_server_new_scripted (scenario);
  smtpkit_fake_server_listen_unix (f->server, path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (smtpkit_fake_server_get_listen_address (f->server), ==, path);

  f->client = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  assert_reply (f->client, "220 unix\r\n");
  client_send (f->client, "QUIT\r\n", -1);
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);

  smtpkit_fake_server_stop (f->server);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_listen_refuses_remote (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  f->server = smtpkit_fake_server_new_sink (f->tmpdir, NULL);
  g_object_set (f->server, "address", "0.0.0.0:2525", NULL);
  g_assert_false (smtpkit_fake_server_listen_tcp (f->server, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- sink mode -------------------------------------------------------- */

static void
on_message_received (SmtpkitFakeServer *server,
                     guint              index,
                     const char        *path,
                     const char        *sender,
                     char             **recipients,
                     guint64            size,
                     gpointer           user_data)
{
  Fixture *f = user_data;
  g_autofree char *to = g_strjoinv (",", recipients);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&f->lock);

  /* Documented: the signal comes from the worker that serves the client. */
  g_assert_true (g_thread_self () != f->test_thread);
  g_ptr_array_add (f->messages, g_strdup_printf ("%u %s %s %s %" G_GUINT64_FORMAT,
                                                 index, path, sender, to, size));
}

static void
start_sink (Fixture           *f,
            const char *const *extensions)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);
  g_autoptr (GError) error = NULL;

  f->server = smtpkit_fake_server_new_sink (spool, extensions);
  g_object_set (f->server, "hostname", "sink.test", NULL);
  g_signal_connect (f->server, "message-received", G_CALLBACK (on_message_received), f);
  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 sink.test ESMTP smtpkit-fake-server\r\n");
}

static void
test_sink_message (Fixture       *f,
                   gconstpointer  data)
{
  const char *const extensions[] = { "SIZE 1000", "PIPELINING", NULL };
  const char *message = ".leading dot\r\nSubject: t\r\n\r\n..\r\n\rx\r\n";
  g_autofree char *eml = g_build_filename (f->tmpdir, "spool", "000001.eml", NULL);
  g_autofree char *envelope = g_build_filename (f->tmpdir, "spool", "000001.envelope", NULL);
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;

  start_sink (f, extensions);
  client_send (f->client, "EHLO client.test\r\n", -1);
  assert_reply (f->client, "250-sink.test\r\n");
  assert_reply (f->client, "250-SIZE 1000\r\n");
  assert_reply (f->client, "250 PIPELINING\r\n");

  client_send (f->client, "MAIL FROM:<a@x> SIZE=1001\r\n", -1);
  assert_reply (f->client, "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
  client_send (f->client, "MAIL FROM:<a@x> SIZE=40\r\n", -1);
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  client_send (f->client, "RCPT TO:<b@y>\r\n", -1);
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  client_send (f->client, "rcpt to:<c@z>\r\n", -1);
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  client_send (f->client, "DATA\r\n", -1);
  assert_reply (f->client, "354 End data with <CR><LF>.<CR><LF>\r\n");
  client_send (f->client, "..leading dot\r\n", -1);
  client_send (f->client, "Subject: t\r\n\r\n...\r\n.\r", -1);
  client_send (f->client, "x\r\n.\r\n", -1);
  assert_reply (f->client, "250 2.0.0 Ok: queued as 000001\r\n");

  /* In place by the time of the 250. */
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->server), ==, 1);
  text = read_file (eml);
  g_assert_cmpstr (text, ==, message);
  g_clear_pointer (&text, g_free);
  text = read_file (envelope);
  g_assert_cmpstr (text, ==, "MAIL FROM:<a@x> SIZE=40\nRCPT TO:<b@y>\nRCPT TO:<c@z>\n");
  g_assert_cmpuint (f->messages->len, ==, 1);
  expected = g_strdup_printf ("1 %s a@x b@y,c@z %" G_GSIZE_FORMAT, eml, strlen (message));
  g_assert_cmpstr (f->messages->pdata[0], ==, expected);

  client_send (f->client, "QUIT\r\n", -1);
  assert_reply (f->client, "221 2.0.0 Bye\r\n");
  assert_closed (f->client);
}

static void
test_sink_pipelining (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *eml = g_build_filename (f->tmpdir, "spool", "000002.eml", NULL);
  g_autofree char *text = NULL;

  start_sink (f, NULL);
  client_send (f->client,
               "EHLO me\r\nMAIL FROM:<>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
               "one\r\n.\r\n"
               "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
               "two\r\n.\r\n"
               "NOOP\r\nVRFY u\r\nEXPN l\r\nHELP\r\nRSET\r\nFOO\r\nQUIT\r\n",
               -1);
  assert_reply (f->client, "250 sink.test\r\n");
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  assert_reply (f->client, "354 End data with <CR><LF>.<CR><LF>\r\n");
  assert_reply (f->client, "250 2.0.0 Ok: queued as 000001\r\n");
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  assert_reply (f->client, "354 End data with <CR><LF>.<CR><LF>\r\n");
  assert_reply (f->client, "250 2.0.0 Ok: queued as 000002\r\n");
  assert_reply (f->client, "250 2.0.0 Ok\r\n");
  assert_reply (f->client, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  assert_reply (f->client, "502 5.5.1 EXPN not supported\r\n");
  assert_reply (f->client, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY EXPN HELP QUIT\r\n");
  assert_reply (f->client, "250 2.0.0 Ok\r\n");
  assert_reply (f->client, "500 5.5.2 Error: command not recognized\r\n");
  assert_reply (f->client, "221 2.0.0 Bye\r\n");
  assert_closed (f->client);

  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->server), ==, 2);
  text = read_file (eml);
  g_assert_cmpstr (text, ==, "two\r\n");
}

static void
test_sink_bad_sequence (Fixture       *f,
                        gconstpointer  data)
{
  start_sink (f, NULL);
  client_send (f->client, "HELO me\r\n", -1);
  assert_reply (f->client, "250 sink.test\r\n");
  client_send (f->client, "RCPT TO:<b@y>\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: need MAIL command\r\n");
  client_send (f->client, "DATA\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: need MAIL command\r\n");
  client_send (f->client, "MAIL FROM:a@x\r\n", -1);
  assert_reply (f->client, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  client_send (f->client, "MAIL\r\n", -1);
  assert_reply (f->client, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  client_send (f->client, "MAIL FROM:<a@x>\r\n", -1);
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  client_send (f->client, "MAIL FROM:<a@x>\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: nested MAIL command\r\n");
  client_send (f->client, "DATA\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: need RCPT command\r\n");
  client_send (f->client, "RSET\r\n", -1);
  assert_reply (f->client, "250 2.0.0 Ok\r\n");
  client_send (f->client, "RCPT TO:<b@y>\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: need MAIL command\r\n");
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->server), ==, 0);
}

static void
test_sink_large (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *eml = g_build_filename (f->tmpdir, "spool", "000001.eml", NULL);
  const char *line = ".a dot-stuffed line of the message body\r\n";
  g_autoptr (GString) chunk = g_string_new (NULL);
  g_autoptr (GFile) file = g_file_new_for_path (eml);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  const guint chunks = 200;

  while (chunk->len < 50000)
    g_string_append (chunk, line);

  start_sink (f, NULL);
  client_send (f->client, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n", -1);
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  assert_reply (f->client, "354 End data with <CR><LF>.<CR><LF>\r\n");
  for (guint i = 0; i < chunks; i++)
    client_send (f->client, chunk->str, chunk->len);
  client_send (f->client, ".\r\n", -1);
  assert_reply (f->client, "250 2.0.0 Ok: queued as 000001\r\n");

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  /* One dot less per line. */
  g_assert_cmpuint (g_file_info_get_size (info), ==, chunks * (chunk->len - chunk->len / strlen (line)));
}

static void
test_sink_unix (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmpdir, "sink.sock", NULL);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr (GError) error = NULL;

  f->server = smtpkit_fake_server_new_sink (f->tmpdir, NULL);
  smtpkit_fake_server_listen_unix (f->server, path, &error);
  g_assert_no_error (error);
  f->client = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  assert_reply (f->client, "220 fake.test ESMTP smtpkit-fake-server\r\n");
  client_send (f->client, "NOOP\r\n", -1);
  assert_reply (f->client, "250 2.0.0 Ok\r\n");
}

static void
test_stop_wakes_workers (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr (GSocketConnection) idle = NULL;
  gint64 start;

  start_sink (f, NULL);
  idle = connect_tcp (f);
  assert_reply (idle, "220 sink.test ESMTP smtpkit-fake-server\r\n");

  /* Both workers are blocked reading from a silent client. */
  start = g_get_monotonic_time ();
  smtpkit_fake_server_stop (f->server);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND);
  assert_closed (f->client);
  assert_closed (idle);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  g_test_add_func ("/fake-server/scenario/parse", test_scenario_parse);
  g_test_add_func ("/fake-server/scenario/syntax-errors", test_scenario_syntax_errors);
  g_test_add_func ("/fake-server/scenario/unescape", test_scenario_unescape);
  g_test_add_func ("/fake-server/scenario/escape", test_scenario_escape);
  g_test_add_func ("/fake-server/scenario/split-args", test_scenario_split_args);
  ADD ("/fake-server/scenario/file", test_scenario_file);
  ADD ("/fake-server/scripted/match", test_scripted_match);
  ADD ("/fake-server/scripted/wrong-line", test_scripted_wrong_line);
  ADD ("/fake-server/scripted/bare-lf", test_scripted_bare_lf);
  ADD ("/fake-server/scripted/client-closes", test_scripted_client_closes);
  ADD ("/fake-server/scripted/after-end", test_scripted_after_end);
  ADD ("/fake-server/scripted/timeout", test_scripted_timeout);
  ADD ("/fake-server/scripted/no-client", test_scripted_no_client);
  ADD ("/fake-server/scripted/send-raw", test_scripted_send_raw);
  ADD ("/fake-server/scripted/expect-raw", test_scripted_expect_raw);
  ADD ("/fake-server/scripted/expect-data", test_scripted_expect_data);
  ADD ("/fake-server/scripted/expect-data-mismatch", test_scripted_expect_data_mismatch);
  ADD ("/fake-server/scripted/expect-data-size", test_scripted_expect_data_size);
  ADD ("/fake-server/scripted/expect-data-size-mismatch", test_scripted_expect_data_size_mismatch);
  ADD ("/fake-server/scripted/close", test_scripted_close);
  ADD ("/fake-server/scripted/expect-close", test_scripted_expect_close);
  ADD ("/fake-server/scripted/delay", test_scripted_delay);
  ADD ("/fake-server/scripted/unix", test_scripted_unix);
  ADD ("/fake-server/listen/refuses-remote", test_listen_refuses_remote);
  ADD ("/fake-server/sink/message", test_sink_message);
  ADD ("/fake-server/sink/pipelining", test_sink_pipelining);
  ADD ("/fake-server/sink/bad-sequence", test_sink_bad_sequence);
  ADD ("/fake-server/sink/large", test_sink_large);
  ADD ("/fake-server/sink/unix", test_sink_unix);
  ADD ("/fake-server/stop/wakes-workers", test_stop_wakes_workers);
#undef ADD

  return g_test_run ();
}
