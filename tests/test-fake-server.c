/* test-fake-server.c: the fake SMTP server, driven by a plain GSocketClient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sasl/sasl.h>

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

/* The helpers take a GSocketConnection or a GTlsConnection. */
static void
client_send (gpointer    connection,
             const char *data,
             gssize      len)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (out, data, len < 0 ? strlen (data) : (gsize) len, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads through the next LF; what was read before EOF otherwise. */
static char *
client_read_line (gpointer connection)
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
assert_reply (gpointer    connection,
              const char *expected)
{
  g_autofree char *line = client_read_line (connection);

  g_assert_cmpstr (line, ==, expected);
}

/* The server closed the connection: EOF, and nothing before it. */
static void
assert_closed (gpointer connection)
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
  /* @message whole, or followed by where the bytes first differ. */
  if (!g_str_equal (error->message, message) &&
      !(g_str_has_prefix (error->message, message) &&
        (g_str_has_prefix (error->message + strlen (message), "; first difference at byte ") ||
         g_str_has_prefix (error->message + strlen (message), "; the client's bytes end at byte ") ||
         g_str_has_prefix (error->message + strlen (message), "; the client sent more from byte "))))
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
                              "expect-data-size, expect-bdat-size, expect-close, close, shutdown, delay, starttls, "
                              "starttls-refused-by-client, expect-auth)",
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
    { "server:\n  send 421 bye\n  shutdown\n  expect QUIT\n",
      "t:4: 'expect' can never run: the server shuts down its side at line 3 "
      "(only expect-close may follow)" },
    { "server:\n  expect-data\n  |a\n  send 250\n",
      "t:2: the body of expect-data must end with the line '|.'" },
    { "server:\n  expect-data\n  |a\n",
      "t:2: the body of expect-data must end with the line '|.'" },
    { "server:\n  expect-data\n  |.\n  |more\n",
      "t:4: body line '|more' outside expect-data (a body ends with its '|.' line)" },
    { "server:\n  send 220\n  |a\n",
      "t:3: body line '|a' outside expect-data (a body ends with its '|.' line)" },
    { "server:\n  starttls cert=bogus\n",
      "t:2: 'starttls' takes an optional cert=good|expired|wrong-name|untrusted, found 'cert=bogus'" },
    { "server:\n  starttls-refused-by-client good\n",
      "t:2: 'starttls-refused-by-client' takes an optional cert=good|expired|wrong-name|untrusted, "
      "found 'good'" },
    { "server:\n  starttls-refused-by-client\n  expect-close\n  send 250\n",
      "t:4: 'send' can never run: the client refuses the TLS handshake at line 2 "
      "(only expect-close may follow)" },
    { "server:\n  starttls\n  send 220 x\n  starttls-refused-by-client\n",
      "t:4: 'starttls-refused-by-client': TLS is already started at line 2" },
    { "server:\n  expect-auth PLAIN alice\n",
      "t:2: 'expect-auth' needs MECHANISM USER PASSWORD [ok|fail] (quoted words without NUL), "
      "found 'PLAIN alice'" },
    { "server:\n  expect-auth PLAIN alice pw maybe\n",
      "t:2: 'expect-auth' needs MECHANISM USER PASSWORD [ok|fail] (quoted words without NUL), "
      "found 'PLAIN alice pw maybe'" },
    { "server:\n  expect-auth PLAIN \"a\\0b\" pw\n",
      "t:2: 'expect-auth' needs MECHANISM USER PASSWORD [ok|fail] (quoted words without NUL), "
      "found 'PLAIN \"a\\0b\" pw'" },
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
                     "test.scenario:4: expected 'MAIL FROM:<a@b>', client sent 'MAIL FROM:<a@c>'; "
                     "first difference at byte 13: 0x63 'c' where 0x62 'b' was expected");
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

/* After shutdown the client reads EOF, and what it still sends is seen. */
static void
test_scripted_shutdown (Fixture       *f,
                        gconstpointer  data)
{
  start_scripted (f,
                  "server:\n"
                  "  send 220 fake.test\n"
                  "  expect NOOP\n"
                  "  send 421 4.3.2 closing\n"
                  "  shutdown\n"
                  "  expect-close\n",
                  0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test\r\n");
  client_send (f->client, "NOOP\r\n", -1);
  assert_reply (f->client, "421 4.3.2 closing\r\n");
  assert_closed (f->client);
  client_send (f->client, "QUIT\r\n", -1);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:6: expected the client to close the connection, "
                     "client sent 'QUIT'");
}

static void
test_scripted_shutdown_closed (Fixture       *f,
                               gconstpointer  data)
{
  start_scripted (f, "server:\n  send 421 4.3.2 closing\n  shutdown\n  expect-close\n", 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "421 4.3.2 closing\r\n");
  assert_closed (f->client);
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
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

/* The file of the @n-th message received, from 1: SPOOL/new/NAME. */
static char *
received_path (Fixture *f,
               guint    n)
{
  g_autoptr (GPtrArray) received = smtpkit_fake_server_get_received (f->server);
  g_autofree char *new_dir = g_build_filename (f->tmpdir, "spool", "new", NULL);
  g_autofree char *dir = NULL;
  const char *path;

  g_assert_cmpuint (received->len, >=, n);
  path = smtpkit_fake_mail_get_path (received->pdata[n - 1]);
  dir = g_path_get_dirname (path);
  g_assert_cmpstr (dir, ==, new_dir);
  return g_strdup (path);
}

static void
test_sink_message (Fixture       *f,
                   gconstpointer  data)
{
  const char *const extensions[] = { "SIZE 1000", "PIPELINING", NULL };
  const char *message = ".leading dot\r\nSubject: t\r\n\r\n..\r\n\rx\r\n";
  const char *const size_40[] = { "SIZE=40", NULL };
  const char *const recipients[] = { "b@y", "c@z", NULL };
  g_autofree char *eml = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GPtrArray) received = NULL;
  SmtpkitFakeMail *mail;

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
  eml = received_path (f, 1);
  text = read_file (eml);
  g_assert_cmpstr (text, ==, message);
  received = smtpkit_fake_server_get_received (f->server);
  mail = received->pdata[0];
  g_assert_cmpstr (smtpkit_fake_mail_get_sender (mail), ==, "a@x");
  g_assert_cmpstrv (smtpkit_fake_mail_get_mail_parameters (mail), size_40);
  g_assert_cmpstrv (smtpkit_fake_mail_get_recipients (mail), recipients);
  g_assert_cmpstr (smtpkit_fake_mail_get_helo (mail), ==, "client.test");
  g_assert_true (g_file_test (smtpkit_fake_mail_get_envelope_path (mail), G_FILE_TEST_IS_REGULAR));
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
  g_autofree char *eml = NULL;
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
  eml = received_path (f, 2);
  text = read_file (eml);
  g_assert_cmpstr (text, ==, "two\r\n");
}

/* ---- the sink's faults ------------------------------------------------ */

static void
start_faulty_sink (Fixture    *f,
                   const char *rates,
                   guint32     seed)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);
  g_autoptr (GError) error = NULL;

  g_clear_object (&f->server);
  f->server = smtpkit_fake_server_new_sink (spool, NULL);
  g_assert_true (smtpkit_fake_server_set_faults (f->server, rates, seed, &error));
  g_assert_no_error (error);
  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);
}

static void
test_sink_faults_rates (Fixture       *f,
                        gconstpointer  data)
{
  static const char *const bad[] = { "4xx=2", "4xx=-0.1", "bogus=0.1", "4xx", "4xx=",
                                     "4xx=0.1x", "4xx=0.6,stall=0.6", "4xx=0.1,,stall=0.1" };
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (f->tmpdir, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("rates: %s", bad[i]);
      g_assert_false (smtpkit_fake_server_set_faults (server, bad[i], 1, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
  g_assert_true (smtpkit_fake_server_set_faults (server, "4xx=0.01,disconnect=0.005,stall=0.001",
                                                 1, NULL));
}

static void
test_sink_faults_each (Fixture       *f,
                       gconstpointer  data)
{
  /* Every reply a 451: the greeting, and the session ends. */
  start_faulty_sink (f, "4xx=1", 1);
  f->client = connect_tcp (f);
  assert_reply (f->client, "451 4.3.0 Error: fault injected, try again later\r\n");
  assert_closed (f->client);
  g_clear_object (&f->client);

  /* No reply: closed at once. */
  start_faulty_sink (f, "disconnect=1", 1);
  f->client = connect_tcp (f);
  assert_closed (f->client);
  g_clear_object (&f->client);

  /* No reply, and the connection stays open until the client goes. */
  start_faulty_sink (f, "stall=1", 1);
  f->client = connect_tcp (f);
  {
    GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (f->client));
    g_autoptr (GError) error = NULL;
    char c;

    g_socket_set_timeout (g_socket_connection_get_socket (f->client), 1);
    g_assert_cmpint (g_input_stream_read (in, &c, 1, NULL, &error), ==, -1);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
  g_assert_cmpuint (smtpkit_fake_server_get_fault_count (f->server, SMTPKIT_FAKE_FAULT_STALL), ==, 1);
  g_assert_cmpuint (smtpkit_fake_server_get_fault_count (f->server, SMTPKIT_FAKE_FAULT_4XX), ==, 0);
}

/* One session of NOOPs against a sink with 4xx faults: its replies. */
static char *
noop_session (Fixture *f,
              guint32  seed)
{
  g_autoptr (GString) replies = g_string_new (NULL);

  start_faulty_sink (f, "4xx=0.3", seed);
  f->client = connect_tcp (f);
  for (guint i = 0; i < 30; i++)
    client_send (f->client, "NOOP\r\n", -1);
  client_send (f->client, "QUIT\r\n", -1);
  while (TRUE)
    {
      g_autofree char *line = client_read_line (f->client);

      if (*line == '\0')
        break;
      g_string_append (replies, line);
    }
  g_clear_object (&f->client);
  return g_string_free (g_steal_pointer (&replies), FALSE);
}

static void
test_sink_faults_reproducible (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *first = noop_session (f, 42);
  guint n_4xx = smtpkit_fake_server_get_fault_count (f->server, SMTPKIT_FAKE_FAULT_4XX);
  g_autofree char *again = noop_session (f, 42);
  g_autofree char *other = noop_session (f, 43);
  guint n_451 = 0;

  g_assert_cmpstr (first, ==, again);
  g_assert_cmpstr (first, !=, other);
  for (const char *p = first; (p = strstr (p, "451 4.3.0")) != NULL; p++)
    n_451++;
  g_assert_cmpuint (n_451, ==, n_4xx);
  g_assert_cmpuint (n_4xx, >, 0);
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
  const char *line = ".a dot-stuffed line of the message body\r\n";
  g_autoptr (GString) chunk = g_string_new (NULL);
  g_autofree char *eml = NULL;
  g_autoptr (GFile) file = NULL;
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

  eml = received_path (f, 1);
  file = g_file_new_for_path (eml);
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

/* ---- TLS ---------------------------------------------------------------- */

static void
test_tls_certificates (void)
{
  static const struct
  {
    const char *kind;
    const char *host;
    GTlsCertificateFlags flags;
  } cases[] = {
    { "good", "localhost", 0 },
    { "good", "fake.test", 0 },
    { "good", "127.0.0.1", 0 },
    { "good", "::1", 0 },
    { "good", "other.example", G_TLS_CERTIFICATE_BAD_IDENTITY },
    { "expired", "localhost", G_TLS_CERTIFICATE_EXPIRED },
    { "wrong-name", "localhost", G_TLS_CERTIFICATE_BAD_IDENTITY },
    { "wrong-name", "other.example", 0 },
    { "untrusted", "localhost", G_TLS_CERTIFICATE_UNKNOWN_CA },
  };
  const char *ca_file = smtpkit_fake_server_get_ca_file ();
  g_autoptr (GTlsCertificate) ca = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (ca_file);
  /* Made once per process. */
  g_assert_true (ca_file == smtpkit_fake_server_get_ca_file ());
  g_assert_true (smtpkit_fake_server_get_certificate ("good") ==
                 smtpkit_fake_server_get_certificate ("good"));
  ca = g_tls_certificate_new_from_file (ca_file, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GTlsCertificate *certificate = smtpkit_fake_server_get_certificate (cases[i].kind);
      g_autoptr (GSocketConnectable) identity = g_network_address_new (cases[i].host, 25);

      g_test_message ("case %u: %s for %s", i, cases[i].kind, cases[i].host);
      g_assert_nonnull (certificate);
      g_assert_cmphex (g_tls_certificate_verify (certificate, identity, ca), ==, cases[i].flags);
    }
}

typedef struct
{
  gboolean accept;
  GTlsCertificateFlags errors;
  guint calls;
} Verification;

static gboolean
on_accept_certificate (GTlsConnection       *tls,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  Verification *v = user_data;

  v->errors = errors;
  v->calls++;
  return v->accept;
}

/* A GIO TLS client on @base that trusts the fake server's CA only, for
 * the server named @host. Returns the outcome of the handshake. */
static GIOStream *
tls_client_new (GIOStream    *base,
                const char   *host,
                Verification *v)
{
  g_autoptr (GSocketConnectable) identity = g_network_address_new (host, 25);
  g_autoptr (GTlsDatabase) database = NULL;
  g_autoptr (GError) error = NULL;
  GIOStream *tls;

  database = g_tls_file_database_new (smtpkit_fake_server_get_ca_file (), &error);
  g_assert_no_error (error);
  tls = g_tls_client_connection_new (base, identity, &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
  if (v != NULL)
    g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate), v);
  return tls;
}

static GIOStream *
tls_handshake (GIOStream  *base,
               const char *host)
{
  g_autoptr (GIOStream) tls = tls_client_new (base, host, NULL);
  g_autoptr (GError) error = NULL;

  g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmphex (g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls)), ==, 0);
  return g_steal_pointer (&tls);
}

static void
test_tls_implicit (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GIOStream) tls = NULL;
  g_autofree char *transcript = NULL;

  start_scripted (f,
                  "server:\n"
                  "  starttls\n"
                  "  send 220 fake.test ESMTP\n"
                  "  expect EHLO client.test\n"
                  "  send 250 fake.test\n"
                  "  expect QUIT\n"
                  "  send 221 bye\n"
                  "  close\n",
                  0);
  f->client = connect_tcp (f);
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");
  assert_reply (tls, "220 fake.test ESMTP\r\n");
  client_send (tls, "EHLO client.test\r\n", -1);
  assert_reply (tls, "250 fake.test\r\n");
  client_send (tls, "QUIT\r\n", -1);
  assert_reply (tls, "221 bye\r\n");
  /* The server closes with close_notify: a clean EOF. */
  assert_closed (tls);
  g_io_stream_close (tls, NULL, NULL);
  assert_wait_succeeds (f);

  transcript = smtpkit_fake_server_get_transcript (f->server);
  g_assert_cmpstr (transcript, ==,
                   "-- TLS handshake (cert=good) --\n"
                   "S: 220 fake.test ESMTP\n"
                   "C: EHLO client.test\n"
                   "S: 250 fake.test\n"
                   "C: QUIT\n"
                   "S: 221 bye\n"
                   "S: [close]\n");
}

static const char starttls_scenario[] =
  "server:\n"                       /* 1 */
  "  send 220 fake.test ESMTP\n"    /* 2 */
  "  expect EHLO client.test\n"     /* 3 */
  "  send 250-fake.test\n"          /* 4 */
  "  send 250 STARTTLS\n"           /* 5 */
  "  expect STARTTLS\n"             /* 6 */
  "  send 220 go ahead\n"           /* 7 */
  "  starttls\n"                    /* 8 */
  "  expect EHLO client.test\n"     /* 9 */
  "  send 250 fake.test\n";         /* 10 */

static void
test_tls_starttls (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr (GIOStream) tls = NULL;

  start_scripted (f, starttls_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "EHLO client.test\r\n", -1);
  assert_reply (f->client, "250-fake.test\r\n");
  assert_reply (f->client, "250 STARTTLS\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 go ahead\r\n");
  tls = tls_handshake (G_IO_STREAM (f->client), "127.0.0.1");
  client_send (tls, "EHLO client.test\r\n", -1);
  assert_reply (tls, "250 fake.test\r\n");
  g_io_stream_close (tls, NULL, NULL);
  assert_wait_succeeds (f);
}

typedef struct
{
  const char *cert;
  GTlsCertificateFlags flags;
} BadCertificate;

static const BadCertificate bad_certificates[] = {
  { "expired", G_TLS_CERTIFICATE_EXPIRED },
  { "wrong-name", G_TLS_CERTIFICATE_BAD_IDENTITY },
  { "untrusted", G_TLS_CERTIFICATE_UNKNOWN_CA },
};

static void
start_refused (Fixture    *f,
               const char *cert)
{
  g_autofree char *scenario = g_strdup_printf ("server:\n"
                                               "  send 220 fake.test ESMTP\n"
                                               "  expect STARTTLS\n"
                                               "  send 220 go ahead\n"
                                               "  starttls-refused-by-client cert=%s\n"
                                               "  expect-close\n",
                                               cert);

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 go ahead\r\n");
}

/* The client verifies the certificate and refuses it: the scenario passes. */
static void
test_tls_refused (Fixture       *f,
                  gconstpointer  data)
{
  const BadCertificate *bad = data;
  Verification v = { FALSE, };
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *transcript = NULL;
  g_autofree char *note = NULL;

  start_refused (f, bad->cert);
  tls = tls_client_new (G_IO_STREAM (f->client), "localhost", &v);
  g_assert_false (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_cmpuint (v.calls, ==, 1);
  g_assert_cmphex (v.errors, ==, bad->flags);
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);

  transcript = smtpkit_fake_server_get_transcript (f->server);
  note = g_strdup_printf ("-- TLS handshake (cert=%s), to be refused by the client --\n", bad->cert);
  g_assert_true (g_str_has_suffix (transcript, note));
}

static void
test_tls_refused_but_accepted (Fixture       *f,
                               gconstpointer  data)
{
  Verification v = { TRUE, };
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;

  start_refused (f, "expired");
  tls = tls_client_new (G_IO_STREAM (f->client), "localhost", &v);
  g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmphex (v.errors, ==, G_TLS_CERTIFICATE_EXPIRED);
  assert_closed (tls);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:5: expected the client to refuse the certificate "
                     "(cert=expired), but the TLS handshake succeeded");
}

static void
test_tls_handshake_fails (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  start_scripted (f, "server:\n  starttls\n  expect QUIT\n", 0);
  f->client = connect_tcp (f);
  client_send (f->client, "QUIT\r\n", -1);
  g_assert_false (smtpkit_fake_server_wait (f->server, 10000, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "test.scenario:2: TLS handshake failed: "));
}

/* A client silent during the handshake: the step timeout, in whole
 * seconds for the handshake. */
static void
test_tls_handshake_timeout (Fixture       *f,
                            gconstpointer  data)
{
  start_scripted (f, "server:\n  starttls cert=untrusted\n", 100);
  f->client = connect_tcp (f);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
                     "timed out waiting for the client at test.scenario:2 (starttls cert=untrusted)");
  assert_closed (f->client);
}

static void
test_tls_stop_during_handshake (Fixture       *f,
                                gconstpointer  data)
{
  gint64 start;

  start_scripted (f, "server:\n  starttls\n", 0);
  f->client = connect_tcp (f);
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  start = g_get_monotonic_time ();
  smtpkit_fake_server_stop (f->server);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_TIME_SPAN_SECOND);
  assert_closed (f->client);
}

/* A client that pipelines a command after STARTTLS would have it taken
 * as sent under TLS by a careless server. */
static void
test_tls_bytes_before_handshake (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *transcript = NULL;

  start_scripted (f, starttls_scenario, 0);
  f->client = connect_tcp (f);
  client_send (f->client, "EHLO client.test\r\n", -1);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  assert_reply (f->client, "250-fake.test\r\n");
  assert_reply (f->client, "250 STARTTLS\r\n");
  client_send (f->client, "STARTTLS\r\nNOOP\r\n", -1);
  assert_reply (f->client, "220 go ahead\r\n");
  assert_closed (f->client);
  assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
                     "test.scenario:8: client sent 'NOOP\\r\\n' before the TLS handshake");

  transcript = smtpkit_fake_server_get_transcript (f->server);
  g_assert_true (g_str_has_suffix (transcript, "S: 220 go ahead\nC: NOOP\\r\\n\n"));
}

static const char injected_scenario[] =
  "server:\n"
  "  send 220 fake.test ESMTP\n"
  "  expect STARTTLS\n"
  "  send 220 go ahead\n"
  "  send-raw \"250 injected\\r\\n\"\n"
  "  expect-close\n";

/* The server injects a reply after its 220: a client must not go on. */
static void
test_tls_injected_reply (Fixture       *f,
                         gconstpointer  data)
{
  start_scripted (f, injected_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 go ahead\r\n");
  assert_reply (f->client, "250 injected\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

/* A client that starts TLS all the same fails at once, not at a timeout. */
static void
test_tls_injected_reply_ignored (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;

  start_scripted (f, injected_scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 go ahead\r\n");
  tls = tls_client_new (G_IO_STREAM (f->client), "localhost", NULL);
  g_assert_false (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error));
  g_clear_error (&error);
  g_assert_false (smtpkit_fake_server_wait (f->server, 10000, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH);
  g_assert_true (g_str_has_prefix (error->message,
                                   "test.scenario:6: expected the client to close the connection, "
                                   "client started a TLS handshake ('\\x16\\x03"));
}

static void
test_sink_starttls (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);
  g_autofree char *eml = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GSocketConnection) pipelining = NULL;
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;

  f->server = smtpkit_fake_server_new_sink (spool, NULL);
  g_object_set (f->server, "tls-certificate", smtpkit_fake_server_get_certificate ("good"), NULL);
  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);

  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP smtpkit-fake-server\r\n");
  client_send (f->client, "EHLO client.test\r\nMAIL FROM:<a@x>\r\n", -1);
  assert_reply (f->client, "250-fake.test\r\n");
  assert_reply (f->client, "250 STARTTLS\r\n");
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 2.0.0 Ready to start TLS\r\n");
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");

  /* A new session: no STARTTLS offered, no transaction open. */
  client_send (tls, "EHLO client.test\r\n", -1);
  assert_reply (tls, "250 fake.test\r\n");
  client_send (tls, "STARTTLS\r\nRCPT TO:<b@y>\r\n", -1);
  assert_reply (tls, "503 5.5.1 Error: TLS already active\r\n");
  assert_reply (tls, "503 5.5.1 Error: need MAIL command\r\n");
  client_send (tls, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nsecret\r\n.\r\nQUIT\r\n", -1);
  assert_reply (tls, "250 2.1.0 Ok\r\n");
  assert_reply (tls, "250 2.1.5 Ok\r\n");
  assert_reply (tls, "354 End data with <CR><LF>.<CR><LF>\r\n");
  assert_reply (tls, "250 2.0.0 Ok: queued as 000001\r\n");
  assert_reply (tls, "221 2.0.0 Bye\r\n");
  assert_closed (tls);
  eml = received_path (f, 1);
  text = read_file (eml);
  g_assert_cmpstr (text, ==, "secret\r\n");

  /* Commands pipelined after STARTTLS are refused. */
  pipelining = connect_tcp (f);
  assert_reply (pipelining, "220 fake.test ESMTP smtpkit-fake-server\r\n");
  client_send (pipelining, "STARTTLS\r\nNOOP\r\n", -1);
  assert_reply (pipelining, "554 5.5.1 Error: commands sent after STARTTLS, before the TLS handshake\r\n");
  assert_closed (pipelining);
}

static void
test_sink_implicit_tls (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;

  f->server = smtpkit_fake_server_new_sink (f->tmpdir, NULL);
  g_object_set (f->server, "implicit-tls", TRUE, NULL);
  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);

  f->client = connect_tcp (f);
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");
  assert_reply (tls, "220 fake.test ESMTP smtpkit-fake-server\r\n");
  client_send (tls, "EHLO client.test\r\n", -1);
  assert_reply (tls, "250 fake.test\r\n");
  client_send (tls, "QUIT\r\n", -1);
  assert_reply (tls, "221 2.0.0 Bye\r\n");
  assert_closed (tls);
}

/* ---- AUTH --------------------------------------------------------------- */

/* A conversation after the greeting: "C:" lines the client sends, "S:"
 * lines it must get back. Then, without @mismatch, QUIT and 221. */
typedef struct
{
  const char *step;
  const char *lines[8];
  const char *mismatch; /* the error of the scenario, or NULL */
} AuthCase;

static const struct
{
  const char *name;
  AuthCase c;
} auth_cases[] = {
  { "plain/initial-response",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN AGFsaWNlAHMzY3JldA==", "S:235 2.7.0 Authentication successful" } } },
  { "plain/challenge",
    { "PLAIN alice s3cret ok",
      { "C:auth plain", "S:334 ", "C:YWxpY2UAYWxpY2UAczNjcmV0",
        "S:235 2.7.0 Authentication successful" } } },
  { "plain/quoted",
    { "plain \"al ice\" \"s3 cret\"",
      { "C:AUTH PLAIN AGFsIGljZQBzMyBjcmV0", "S:235 2.7.0 Authentication successful" } } },
  { "plain/fail",
    { "PLAIN alice s3cret fail",
      { "C:AUTH PLAIN AGFsaWNlAHdyb25n", "S:535 5.7.8 Authentication credentials invalid" } } },
  { "plain/wrong-password",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN AGFsaWNlAHdyb25n", "S:535 5.7.8 Authentication credentials invalid" },
      "test.scenario:3: AUTH failed: wrong password for 'alice'" } },
  { "plain/wrong-user",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN AGJvYgBzM2NyZXQ=", "S:535 5.7.8 Authentication credentials invalid" },
      "test.scenario:3: AUTH failed: user 'bob' is not 'alice'" } },
  { "plain/other-authzid",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN Ym9iAGFsaWNlAHMzY3JldA==", "S:535 5.7.8 Authentication credentials invalid" },
      "test.scenario:3: AUTH failed: authorization identity 'bob' is neither empty nor 'alice'" } },
  { "plain/success-unexpected",
    { "PLAIN alice s3cret fail",
      { "C:AUTH PLAIN AGFsaWNlAHMzY3JldA==", "S:235 2.7.0 Authentication successful" },
      "test.scenario:3: AUTH succeeded, but the scenario expects it to fail" } },
  { "plain/malformed",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN YWxpY2UAczNjcmV0" },
      "test.scenario:3: AUTH PLAIN: a PLAIN response is authzid\\0user\\0password, "
      "the client sent 'alice\\0s3cret'" } },
  { "plain/not-base64",
    { "PLAIN alice s3cret",
      { "C:AUTH PLAIN AGFsaWNlAHMzY3JldA" },
      "test.scenario:3: AUTH PLAIN: the initial response is not base64: 'AGFsaWNlAHMzY3JldA'" } },
  { "plain/other-mechanism",
    { "PLAIN alice s3cret",
      { "C:AUTH LOGIN YWxpY2U=" },
      "test.scenario:3: expected 'AUTH PLAIN [initial-response]', client sent 'AUTH LOGIN YWxpY2U='" } },
  { "login/challenges",
    { "LOGIN alice s3cret",
      { "C:AUTH LOGIN", "S:334 VXNlcm5hbWU6", "C:YWxpY2U=", "S:334 UGFzc3dvcmQ6", "C:czNjcmV0",
        "S:235 2.7.0 Authentication successful" } } },
  { "login/initial-response",
    { "LOGIN alice s3cret",
      { "C:AUTH LOGIN YWxpY2U=", "S:334 UGFzc3dvcmQ6", "C:czNjcmV0",
        "S:235 2.7.0 Authentication successful" } } },
  { "login/fail",
    { "LOGIN alice s3cret fail",
      { "C:AUTH LOGIN YWxpY2U=", "S:334 UGFzc3dvcmQ6", "C:d3Jvbmc=",
        "S:535 5.7.8 Authentication credentials invalid" } } },
  { "login/cancelled",
    { "LOGIN alice s3cret fail",
      { "C:AUTH LOGIN", "S:334 VXNlcm5hbWU6", "C:*", "S:501 5.7.0 cancelled" } } },
  { "login/cancelled-unexpected",
    { "LOGIN alice s3cret",
      { "C:AUTH LOGIN", "S:334 VXNlcm5hbWU6", "C:*", "S:501 5.7.0 cancelled" },
      "test.scenario:3: AUTH failed: the client cancelled the exchange" } },
  { "login/not-base64",
    { "LOGIN alice s3cret",
      { "C:AUTH LOGIN", "S:334 VXNlcm5hbWU6", "C:alice" },
      "test.scenario:3: AUTH LOGIN: the response is not base64: 'alice'" } },
};

static void
test_auth (Fixture       *f,
           gconstpointer  data)
{
  const AuthCase *c = data;
  g_autofree char *scenario = g_strdup_printf ("server:\n"
                                               "  send 220 fake.test ESMTP\n"
                                               "  expect-auth %s\n"
                                               "  expect QUIT\n"
                                               "  send 221 bye\n",
                                               c->step);
  g_autofree char *transcript = NULL;
  g_autoptr (GString) expected = g_string_new ("S: 220 fake.test ESMTP\n");

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  for (guint i = 0; i < G_N_ELEMENTS (c->lines) && c->lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strconcat (c->lines[i] + 2, "\r\n", NULL);

      if (c->lines[i][0] == 'C')
        client_send (f->client, line, -1);
      else
        assert_reply (f->client, line);
      g_string_append_printf (expected, "%c: %s\n", c->lines[i][0], c->lines[i] + 2);
    }

  if (c->mismatch != NULL)
    {
      assert_closed (f->client);
      assert_wait_fails (f, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH, c->mismatch);
    }
  else
    {
      client_send (f->client, "QUIT\r\n", -1);
      assert_reply (f->client, "221 bye\r\n");
      g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
      assert_wait_succeeds (f);
      g_string_append (expected, "C: QUIT\nS: 221 bye\n");
    }
  /* The exchange as sent: the fake server does not redact. */
  transcript = smtpkit_fake_server_get_transcript (f->server);
  g_assert_cmpstr (transcript, ==, expected->str);
}

/* RFC 2195 §2, computed by hand from the challenge received. */
static void
cram_md5 (Fixture    *f,
          const char *password)
{
  g_autofree char *line = NULL;
  g_autofree guint8 *challenge = NULL;
  g_autofree char *challenge_text = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *response = NULL;
  g_autofree char *encoded = NULL;
  gsize len;

  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  client_send (f->client, "AUTH CRAM-MD5\r\n", -1);
  line = client_read_line (f->client);
  g_assert_true (g_str_has_prefix (line, "334 ") && g_str_has_suffix (line, "\r\n"));
  line[strlen (line) - 2] = '\0';
  challenge = g_base64_decode (line + 4, &len);
  challenge_text = g_strndup ((const char *) challenge, len);
  g_assert_true (g_regex_match_simple ("^<[0-9]+\\.[0-9]+@fake\\.test>$", challenge_text, 0, 0));

  digest = g_compute_hmac_for_data (G_CHECKSUM_MD5, (const guint8 *) password, strlen (password),
                                    challenge, len);
  response = g_strconcat ("alice ", digest, NULL);
  encoded = g_base64_encode ((const guint8 *) response, strlen (response));
  client_send (f->client, encoded, -1);
  client_send (f->client, "\r\n", -1);
}

static const char cram_md5_scenario[] =
  "server:\n"
  "  send 220 fake.test ESMTP\n"
  "  expect-auth CRAM-MD5 alice s3cret %s\n";

static void
test_auth_cram_md5 (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *scenario = g_strdup_printf (cram_md5_scenario, "ok");

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  cram_md5 (f, "s3cret");
  assert_reply (f->client, "235 2.7.0 Authentication successful\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

static void
test_auth_cram_md5_fail (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *scenario = g_strdup_printf (cram_md5_scenario, "fail");

  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  cram_md5 (f, "wrong");
  assert_reply (f->client, "535 5.7.8 Authentication credentials invalid\r\n");
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

/* ---- AUTH through Cyrus SASL ------------------------------------------- */

typedef struct
{
  const char *user;
  const char *password;
  sasl_secret_t *secret;
} CyrusClient;

static int
cyrus_client_simple (void        *context,
                     int          id,
                     const char **result,
                     unsigned    *len)
{
  CyrusClient *c = context;

  *result = c->user;
  if (len != NULL)
    *len = strlen (*result);
  return SASL_OK;
}

static int
cyrus_client_secret (sasl_conn_t    *conn,
                     void           *context,
                     int             id,
                     sasl_secret_t **secret)
{
  CyrusClient *c = context;
  gsize len = strlen (c->password);

  if (c->secret == NULL)
    {
      c->secret = g_malloc0 (sizeof (sasl_secret_t) + len);
      c->secret->len = len;
      memcpy (c->secret->data, c->password, len);
    }
  *secret = c->secret;
  return SASL_OK;
}

static gboolean
cyrus_client_ready (const char *mechanism)
{
  static int ret = -1;
  g_autoptr (GError) error = NULL;

  /* The server side first: both sides share Cyrus's global state. */
  if (!smtpkit_fake_server_supports_auth (mechanism, &error))
    {
      g_test_skip (error->message);
      return FALSE;
    }
  if (ret == -1)
    ret = sasl_client_init (NULL);
  if (ret != SASL_OK)
    {
      g_test_skip_printf ("sasl_client_init failed: %s", sasl_errstring (ret, NULL, NULL));
      return FALSE;
    }
  return TRUE;
}

/* Drives a Cyrus client through AUTH, with an initial response or after
 * an empty 334; returns the final reply line. */
static char *
cyrus_authenticate (GIOStream  *stream,
                    const char *mechanism,
                    const char *password,
                    gboolean    initial_response)
{
  CyrusClient c = { "alice", password, NULL };
  const sasl_callback_t callbacks[] = {
    { SASL_CB_AUTHNAME, (int (*) (void)) cyrus_client_simple, &c },
    { SASL_CB_USER, (int (*) (void)) cyrus_client_simple, &c },
    { SASL_CB_PASS, (int (*) (void)) cyrus_client_secret, &c },
    { SASL_CB_LIST_END, NULL, NULL },
  };
  sasl_conn_t *sasl = NULL;
  const char *out = NULL;
  const char *chosen = NULL;
  unsigned out_len = 0;
  g_autofree char *encoded = NULL;
  g_autofree char *command = NULL;
  char *line;
  int ret;

  ret = sasl_client_new ("smtp", "fake.test", NULL, NULL, callbacks, 0, &sasl);
  g_assert_cmpint (ret, ==, SASL_OK);
  ret = sasl_client_start (sasl, mechanism, NULL, &out, &out_len, &chosen);
  g_assert_cmpint (ret, ==, SASL_CONTINUE);
  g_assert_cmpstr (chosen, ==, mechanism);
  encoded = g_base64_encode ((const guint8 *) out, out_len);
  command = g_strdup_printf ("AUTH %s%s%s\r\n", mechanism, initial_response ? " " : "",
                             initial_response ? encoded : "");
  client_send (stream, command, -1);
  if (!initial_response)
    {
      assert_reply (stream, "334 \r\n");
      client_send (stream, encoded, -1);
      client_send (stream, "\r\n", -1);
    }

  while (g_str_has_prefix ((line = client_read_line (stream)), "334 "))
    {
      g_autofree guint8 *challenge = NULL;
      g_autofree char *response = NULL;
      gsize len;

      line[strlen (line) - 2] = '\0';
      challenge = g_base64_decode (line + 4, &len);
      g_free (line);
      ret = sasl_client_step (sasl, (const char *) challenge, len, NULL, &out, &out_len);
      g_assert_true (ret == SASL_OK || ret == SASL_CONTINUE);
      response = g_base64_encode ((const guint8 *) out, out_len);
      client_send (stream, response, -1);
      client_send (stream, "\r\n", -1);
    }
  sasl_dispose (&sasl);
  g_free (c.secret);
  return line;
}

static void
test_auth_cyrus (Fixture       *f,
                 gconstpointer  data)
{
  const char *mechanism = data;
  g_autofree char *scenario = g_strdup_printf ("server:\n"
                                               "  send 220 fake.test ESMTP\n"
                                               "  expect-auth %s alice s3cret\n"
                                               "  expect-auth %s alice s3cret fail\n"
                                               "  expect QUIT\n",
                                               mechanism, mechanism);
  g_autofree char *reply = NULL;

  if (!cyrus_client_ready (mechanism))
    return;
  start_scripted (f, scenario, 0);
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP\r\n");
  reply = cyrus_authenticate (G_IO_STREAM (f->client), mechanism, "s3cret", TRUE);
  g_assert_cmpstr (reply, ==, "235 2.7.0 Authentication successful\r\n");
  g_free (reply);
  reply = cyrus_authenticate (G_IO_STREAM (f->client), mechanism, "wrong", FALSE);
  g_assert_cmpstr (reply, ==, "535 5.7.8 Authentication credentials invalid\r\n");
  client_send (f->client, "QUIT\r\n", -1);
  g_io_stream_close (G_IO_STREAM (f->client), NULL, NULL);
  assert_wait_succeeds (f);
}

/* The right password where the scenario expects a wrong one, the other
 * way round too. */
static void
test_auth_cyrus_unexpected (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *reply = NULL;
  g_autoptr (GError) error = NULL;

  if (!cyrus_client_ready ("SCRAM-SHA-256"))
    return;
  start_scripted (f, "server:\n  expect-auth SCRAM-SHA-256 alice s3cret\n", 0);
  f->client = connect_tcp (f);
  reply = cyrus_authenticate (G_IO_STREAM (f->client), "SCRAM-SHA-256", "wrong", TRUE);
  g_assert_cmpstr (reply, ==, "535 5.7.8 Authentication credentials invalid\r\n");
  g_assert_false (smtpkit_fake_server_wait (f->server, 10000, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_MISMATCH);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "test.scenario:2: AUTH failed: Cyrus SASL (SCRAM-SHA-256): "));
}

static void
test_auth_unsupported (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (smtpkit_fake_server_supports_auth ("PLAIN", &error));
  g_assert_true (smtpkit_fake_server_supports_auth ("cram-md5", &error));
  g_assert_no_error (error);
  g_assert_false (smtpkit_fake_server_supports_auth ("X-NO-SUCH-MECHANISM", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

/* ---- the sink for applications ---------------------------------------- */

/* A sink on SPOOL = TMPDIR/spool, configured by the test before
 * listen_sink(). */
static void
new_sink (Fixture           *f,
          const char *const *extensions)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);

  g_clear_object (&f->server);
  f->server = smtpkit_fake_server_new_sink (spool, extensions);
  g_object_set (f->server, "hostname", "sink.test", NULL);
}

static void
listen_sink (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  smtpkit_fake_server_listen_tcp (f->server, &error);
  g_assert_no_error (error);
}

static const char greeting[] = "220 sink.test ESMTP smtpkit-fake-server\r\n";

/* The lines of an EHLO reply, CRLFs included, up to the last one. */
static char *
read_ehlo_reply (gpointer connection)
{
  g_autoptr (GString) text = g_string_new (NULL);

  while (TRUE)
    {
      g_autofree char *line = client_read_line (connection);

      g_assert_true (g_str_has_prefix (line, "250"));
      g_string_append (text, line);
      if (line[3] == ' ')
        return g_strdup (text->str);
    }
}

static guint
count_files (const char *spool,
             const char *subdir)
{
  g_autofree char *path = g_build_filename (spool, subdir, NULL);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* One message, MAIL to the final reply, on @connection after EHLO. */
static void
send_message (gpointer    connection,
              const char *to,
              const char *body)
{
  g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>\r\n", to);
  g_autofree char *line = NULL;

  client_send (connection, "MAIL FROM:<a@x>\r\n", -1);
  assert_reply (connection, "250 2.1.0 Ok\r\n");
  client_send (connection, rcpt, -1);
  assert_reply (connection, "250 2.1.5 Ok\r\n");
  client_send (connection, "DATA\r\n", -1);
  assert_reply (connection, "354 End data with <CR><LF>.<CR><LF>\r\n");
  client_send (connection, body, -1);
  client_send (connection, ".\r\n", -1);
  line = client_read_line (connection);
  g_assert_true (g_str_has_prefix (line, "250 2.0.0 Ok: queued as "));
}

/* A sink restarted on the same spool numbers from 1 again, and yet keeps
 * the first run's message: unique Maildir names, never overwritten. */
static void
test_sink_maildir_restart (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *text = NULL;

  for (guint run = 0; run < 2; run++)
    {
      new_sink (f, NULL);
      listen_sink (f);
      g_clear_object (&f->client);
      f->client = connect_tcp (f);
      assert_reply (f->client, greeting);
      client_send (f->client, "HELO client.test\r\n", -1);
      assert_reply (f->client, "250 sink.test\r\n");
      send_message (f->client, "b@y", run == 0 ? "first\r\n" : "second\r\n");
      if (run == 0)
        first = received_path (f, 1);
      else
        second = received_path (f, 1);
      smtpkit_fake_server_stop (f->server);
    }

  g_assert_cmpstr (first, !=, second);
  g_assert_cmpuint (count_files (spool, "new"), ==, 2);
  g_assert_cmpuint (count_files (spool, "envelopes"), ==, 2);
  g_assert_cmpuint (count_files (spool, "tmp"), ==, 0);
  g_assert_cmpuint (count_files (spool, "cur"), ==, 0);
  text = read_file (first);
  g_assert_cmpstr (text, ==, "first\r\n");
  g_clear_pointer (&text, g_free);
  text = read_file (second);
  g_assert_cmpstr (text, ==, "second\r\n");
}

static JsonObject *
load_envelope (SmtpkitFakeMail *mail)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_file (parser, smtpkit_fake_mail_get_envelope_path (mail), &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static void
assert_received_time (JsonObject *envelope)
{
  g_autoptr (GDateTime) received = g_date_time_new_from_iso8601 (
    json_object_get_string_member (envelope, "received"), NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  g_assert_nonnull (received);
  g_assert_cmpint (g_date_time_difference (now, received), >=, 0);
  g_assert_cmpint (g_date_time_difference (now, received), <, 60 * G_TIME_SPAN_SECOND);
}

/* Everything the envelope file holds, for a message over STARTTLS after
 * AUTH, and for one in clear without it. */
static void
test_sink_envelope_json (Fixture       *f,
                         gconstpointer  data)
{
  const char *const plain[] = { "PLAIN", NULL };
  const char *const extensions[] = { "DSN", "8BITMIME", NULL };
  const char *body = "Subject: envelope\r\n\r\nhello\r\n";
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GPtrArray) received = NULL;
  g_autoptr (JsonObject) envelope = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *ehlo = NULL;
  JsonObject *parameters;
  JsonArray *recipients;

  new_sink (f, extensions);
  g_object_set (f->server, "tls-certificate", smtpkit_fake_server_get_certificate ("good"), NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, plain, &error));
  smtpkit_fake_server_add_user (f->server, "alice", "s3cret");
  listen_sink (f);

  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "EHLO before.tls\r\nSTARTTLS\r\n", -1);
  g_free (read_ehlo_reply (f->client));
  assert_reply (f->client, "220 2.0.0 Ready to start TLS\r\n");
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");
  client_send (tls, "EHLO client.test\r\n", -1);
  ehlo = read_ehlo_reply (tls);
  g_assert_cmpstr (ehlo, ==, "250-sink.test\r\n250-DSN\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n");
  client_send (tls, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n", -1);
  assert_reply (tls, "235 2.7.0 Authentication successful\r\n");
  client_send (tls, "MAIL FROM:<a@x> SIZE=30 body=8BITMIME\r\n"
                    "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@y\r\n"
                    "RCPT TO:<c@z>\r\nDATA\r\n", -1);
  assert_reply (tls, "250 2.1.0 Ok\r\n");
  assert_reply (tls, "250 2.1.5 Ok\r\n");
  assert_reply (tls, "250 2.1.5 Ok\r\n");
  assert_reply (tls, "354 End data with <CR><LF>.<CR><LF>\r\n");
  client_send (tls, body, -1);
  client_send (tls, ".\r\n", -1);
  assert_reply (tls, "250 2.0.0 Ok: queued as 000001\r\n");

  received = smtpkit_fake_server_get_received (f->server);
  g_assert_cmpuint (received->len, ==, 1);
  envelope = load_envelope (received->pdata[0]);
  name = g_path_get_basename (smtpkit_fake_mail_get_path (received->pdata[0]));
  g_assert_cmpstr (json_object_get_string_member (envelope, "message"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (envelope, "queue_id"), ==, "000001");
  g_assert_cmpstr (json_object_get_string_member (envelope, "sender"), ==, "a@x");
  parameters = json_object_get_object_member (envelope, "mail_parameters");
  g_assert_cmpuint (json_object_get_size (parameters), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (parameters, "SIZE"), ==, "30");
  g_assert_cmpstr (json_object_get_string_member (parameters, "BODY"), ==, "8BITMIME");
  recipients = json_object_get_array_member (envelope, "recipients");
  g_assert_cmpuint (json_array_get_length (recipients), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (recipients, 0), "address"),
                   ==, "b@y");
  parameters = json_object_get_object_member (json_array_get_object_element (recipients, 0), "parameters");
  g_assert_cmpstr (json_object_get_string_member (parameters, "NOTIFY"), ==, "SUCCESS,FAILURE");
  g_assert_cmpstr (json_object_get_string_member (parameters, "ORCPT"), ==, "rfc822;b@y");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (recipients, 1), "address"),
                   ==, "c@z");
  parameters = json_object_get_object_member (json_array_get_object_element (recipients, 1), "parameters");
  g_assert_cmpuint (json_object_get_size (parameters), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (envelope, "auth_user"), ==, "alice");
  g_assert_true (json_object_get_boolean_member (envelope, "tls"));
  g_assert_cmpstr (json_object_get_string_member (envelope, "helo"), ==, "client.test");
  g_assert_cmpint (json_object_get_int_member (envelope, "size"), ==, strlen (body));
  assert_received_time (envelope);
  g_assert_cmpstr (smtpkit_fake_mail_get_auth_user (received->pdata[0]), ==, "alice");
  g_assert_true (smtpkit_fake_mail_get_tls (received->pdata[0]));

  /* In clear, without AUTH: null and false. */
  g_clear_object (&tls);
  g_clear_object (&f->client);
  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "HELO plain.test\r\n", -1);
  assert_reply (f->client, "250 sink.test\r\n");
  /* An 8-bit address without SMTPUTF8: the JSON stays valid. */
  send_message (f->client, "d\xff@w", "x\r\n");
  g_clear_pointer (&received, g_ptr_array_unref);
  received = smtpkit_fake_server_get_received (f->server);
  g_assert_cmpuint (received->len, ==, 2);
  g_clear_pointer (&envelope, json_object_unref);
  envelope = load_envelope (received->pdata[1]);
  g_assert_true (json_object_get_null_member (envelope, "auth_user"));
  g_assert_false (json_object_get_boolean_member (envelope, "tls"));
  g_assert_cmpstr (json_object_get_string_member (envelope, "helo"), ==, "plain.test");
  recipients = json_object_get_array_member (envelope, "recipients");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (recipients, 0), "address"),
                   ==, "d\xef\xbf\xbd@w");
  g_assert_cmpstr (smtpkit_fake_mail_get_recipients (received->pdata[1])[0], ==, "d\xff@w");
  g_assert_null (smtpkit_fake_mail_get_auth_user (received->pdata[1]));
}

/* The authenticated user of the first message received. */
static void
assert_auth_user (Fixture    *f,
                  const char *user)
{
  g_autoptr (GPtrArray) received = smtpkit_fake_server_get_received (f->server);

  g_assert_cmpuint (received->len, >=, 1);
  g_assert_cmpstr (smtpkit_fake_mail_get_auth_user (received->pdata[0]), ==, user);
}

typedef struct
{
  const char *mechanism;
  gboolean implicit_tls;
  gboolean right_password;
} SinkAuthCase;

static const SinkAuthCase sink_auth_cases[] = {
  { "PLAIN", FALSE, TRUE }, { "PLAIN", FALSE, FALSE }, { "PLAIN", TRUE, TRUE }, { "PLAIN", TRUE, FALSE },
  { "LOGIN", FALSE, TRUE }, { "LOGIN", FALSE, FALSE }, { "LOGIN", TRUE, TRUE }, { "LOGIN", TRUE, FALSE },
};

/* A TLS session on the sink: implicit, or through STARTTLS; its EHLO
 * reply in @ehlo. */
static GIOStream *
start_tls_session (Fixture  *f,
                   gboolean  implicit_tls,
                   char    **ehlo)
{
  GIOStream *tls;

  f->client = connect_tcp (f);
  if (!implicit_tls)
    {
      assert_reply (f->client, greeting);
      client_send (f->client, "EHLO client.test\r\n", -1);
      g_free (read_ehlo_reply (f->client));
      client_send (f->client, "STARTTLS\r\n", -1);
      assert_reply (f->client, "220 2.0.0 Ready to start TLS\r\n");
    }
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");
  if (implicit_tls)
    assert_reply (tls, greeting);
  client_send (tls, "EHLO client.test\r\n", -1);
  *ehlo = read_ehlo_reply (tls);
  return tls;
}

static char *
base64_of (const char *text,
           gsize       len)
{
  g_autofree char *encoded = g_base64_encode ((const guint8 *) text, len);

  return g_strconcat (encoded, "\r\n", NULL);
}

/* PLAIN with an initial response; LOGIN through its two challenges. */
static void
client_auth (GIOStream  *tls,
             const char *mechanism,
             const char *password)
{
  g_autofree char *user = base64_of ("alice", 5);
  g_autofree char *secret = base64_of (password, strlen (password));

  if (strcmp (mechanism, "PLAIN") == 0)
    {
      g_autofree char *response = g_strdup_printf ("%c%s%c%s", 0, "alice", 0, password);
      g_autofree char *encoded = base64_of (response, 7 + strlen (password));
      g_autofree char *command = g_strconcat ("AUTH PLAIN ", encoded, NULL);

      client_send (tls, command, -1);
      return;
    }
  client_send (tls, "AUTH LOGIN\r\n", -1);
  assert_reply (tls, "334 VXNlcm5hbWU6\r\n");
  client_send (tls, user, -1);
  assert_reply (tls, "334 UGFzc3dvcmQ6\r\n");
  client_send (tls, secret, -1);
}

/* AUTH under TLS: 235 for the right password, and MAIL is then allowed
 * (--require-auth); 535 for a wrong one, and MAIL still refused. */
static void
test_sink_auth (Fixture       *f,
                gconstpointer  data)
{
  const SinkAuthCase *c = data;
  const char *const mechanisms[] = { "plain", "LOGIN", NULL };
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ehlo = NULL;
  g_autofree char *line = NULL;

  new_sink (f, NULL);
  g_object_set (f->server, "tls-certificate", smtpkit_fake_server_get_certificate ("good"),
                "implicit-tls", c->implicit_tls, "require-auth", TRUE, NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, mechanisms, &error));
  smtpkit_fake_server_add_user (f->server, "alice", "s3cret");
  smtpkit_fake_server_add_user (f->server, "bob", "other");
  listen_sink (f);

  tls = start_tls_session (f, c->implicit_tls, &ehlo);
  g_assert_cmpstr (ehlo, ==, "250-sink.test\r\n250 AUTH PLAIN LOGIN\r\n");
  client_auth (tls, c->mechanism, c->right_password ? "s3cret" : "wrong");
  line = client_read_line (tls);
  if (c->right_password)
    {
      g_assert_cmpstr (line, ==, "235 2.7.0 Authentication successful\r\n");
      send_message (tls, "b@y", "authenticated\r\n");
      assert_auth_user (f, "alice");
    }
  else
    {
      g_assert_cmpstr (line, ==, "535 5.7.8 Error: authentication failed: wrong password for 'alice'\r\n");
      client_send (tls, "MAIL FROM:<a@x>\r\n", -1);
      assert_reply (tls, "530 5.7.0 Authentication required\r\n");
    }
  client_send (tls, "QUIT\r\n", -1);
  assert_reply (tls, "221 2.0.0 Bye\r\n");
}

/* The reported bug: "AUTH PLAIN" among the extensions was offered and
 * then answered with 500. It is AUTH, accepting any credentials. */
static void
test_sink_auth_extension (Fixture       *f,
                          gconstpointer  data)
{
  const char *const extensions[] = { "PIPELINING", "AUTH PLAIN", NULL };
  g_autofree char *ehlo = NULL;

  new_sink (f, extensions);
  listen_sink (f);
  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "EHLO client.test\r\n", -1);
  ehlo = read_ehlo_reply (f->client);
  g_assert_cmpstr (ehlo, ==, "250-sink.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
  client_send (f->client, "AUTH PLAIN AGFueW9uZQBhbnl0aGluZw==\r\n", -1);
  assert_reply (f->client, "235 2.7.0 Authentication successful\r\n");
  send_message (f->client, "b@y", "x\r\n");
  assert_auth_user (f, "anyone");
}

/* Mistakes in the AUTH configuration are told when listening: AUTH with
 * no user, require-auth without AUTH, SCRAM with any credentials. */
static void
test_sink_auth_misconfigured (Fixture       *f,
                              gconstpointer  data)
{
  const char *const plain[] = { "PLAIN", NULL };
  const char *const scram[] = { "SCRAM-SHA-256", NULL };
  g_autoptr (GError) error = NULL;

  new_sink (f, NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, plain, &error));
  g_assert_false (smtpkit_fake_server_listen_tcp (f->server, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* AUTH required, and not offered. */
  new_sink (f, NULL);
  g_object_set (f->server, "require-auth", TRUE, NULL);
  g_assert_false (smtpkit_fake_server_listen_tcp (f->server, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  if (!smtpkit_fake_server_supports_auth ("SCRAM-SHA-256", NULL))
    return;
  new_sink (f, NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, scram, &error));
  smtpkit_fake_server_set_accept_any_credentials (f->server, TRUE);
  g_assert_false (smtpkit_fake_server_listen_tcp (f->server, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

/* --require-tls: before STARTTLS, no AUTH offered, and MAIL and AUTH
 * refused with 530; after it, both work. */
static void
test_sink_require_tls (Fixture       *f,
                       gconstpointer  data)
{
  const char *const plain[] = { "PLAIN", NULL };
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ehlo = NULL;

  new_sink (f, NULL);
  g_object_set (f->server, "tls-certificate", smtpkit_fake_server_get_certificate ("good"),
                "require-tls", TRUE, NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, plain, &error));
  smtpkit_fake_server_add_user (f->server, "alice", "s3cret");
  listen_sink (f);

  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "EHLO client.test\r\nMAIL FROM:<a@x>\r\nAUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n", -1);
  ehlo = read_ehlo_reply (f->client);
  g_assert_cmpstr (ehlo, ==, "250-sink.test\r\n250 STARTTLS\r\n");
  assert_reply (f->client, "530 5.7.0 Must issue a STARTTLS command first\r\n");
  assert_reply (f->client, "530 5.7.0 Must issue a STARTTLS command first\r\n");
  client_send (f->client, "STARTTLS\r\n", -1);
  assert_reply (f->client, "220 2.0.0 Ready to start TLS\r\n");
  tls = tls_handshake (G_IO_STREAM (f->client), "localhost");
  client_send (tls, "EHLO client.test\r\n", -1);
  g_free (ehlo);
  ehlo = read_ehlo_reply (tls);
  g_assert_cmpstr (ehlo, ==, "250-sink.test\r\n250 AUTH PLAIN\r\n");
  client_send (tls, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n", -1);
  assert_reply (tls, "235 2.7.0 Authentication successful\r\n");
  send_message (tls, "b@y", "secure\r\n");
}

/* --require-auth: MAIL refused with 530 until AUTH. */
static void
test_sink_require_auth (Fixture       *f,
                        gconstpointer  data)
{
  const char *const login[] = { "LOGIN", NULL };
  g_autoptr (GError) error = NULL;

  new_sink (f, NULL);
  g_object_set (f->server, "require-auth", TRUE, NULL);
  g_assert_true (smtpkit_fake_server_set_auth_mechanisms (f->server, login, &error));
  smtpkit_fake_server_set_accept_any_credentials (f->server, TRUE);
  listen_sink (f);

  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "HELO client.test\r\nMAIL FROM:<a@x>\r\nAUTH LOGIN Ym9i\r\n", -1);
  assert_reply (f->client, "250 sink.test\r\n");
  assert_reply (f->client, "530 5.7.0 Authentication required\r\n");
  assert_reply (f->client, "334 UGFzc3dvcmQ6\r\n");
  client_send (f->client, "YW55\r\nAUTH LOGIN\r\n", -1);
  assert_reply (f->client, "235 2.7.0 Authentication successful\r\n");
  assert_reply (f->client, "503 5.5.1 Error: already authenticated\r\n");
  send_message (f->client, "b@y", "x\r\n");
  assert_auth_user (f, "bob");
}

static void
add_reply (Fixture    *f,
           const char *rule)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (smtpkit_fake_server_add_reply (f->server, rule, &error));
  g_assert_no_error (error);
}

/* Replies set by pattern, on the wire; the first rule that matches wins,
 * in any case; a message refused after its data is not stored. */
static void
test_sink_replies (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *spool = g_build_filename (f->tmpdir, "spool", NULL);

  new_sink (f, NULL);
  add_reply (f, "rcpt:*@bad.test=550 5.1.1 No such user");
  add_reply (f, "rcpt:later@*=450 4.2.0 Try later");
  add_reply (f, "RCPT:*=452 4.5.3 Too many recipients");
  add_reply (f, "mail:spam=me@*=553 5.7.1 Not you");
  add_reply (f, "ehlo:*.invalid=550 5.7.1 Who are you?");
  add_reply (f, "dot=554 5.6.0 Message refused");
  listen_sink (f);

  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "EHLO x.invalid\r\nEHLO client.test\r\n"
                          "MAIL FROM:<spam=me@x>\r\nMAIL FROM:<a@x>\r\n"
                          "RCPT TO:<Bob@BAD.test>\r\nRCPT TO:<later@y>\r\nRCPT TO:<ok@y>\r\n", -1);
  assert_reply (f->client, "550 5.7.1 Who are you?\r\n");
  assert_reply (f->client, "250 sink.test\r\n");
  assert_reply (f->client, "553 5.7.1 Not you\r\n");
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  assert_reply (f->client, "550 5.1.1 No such user\r\n");
  assert_reply (f->client, "450 4.2.0 Try later\r\n");
  assert_reply (f->client, "452 4.5.3 Too many recipients\r\n");
  client_send (f->client, "DATA\r\n", -1);
  assert_reply (f->client, "503 5.5.1 Error: need RCPT command\r\n");
  g_clear_object (&f->client);

  /* "dot": the message read, refused, and not stored. */
  new_sink (f, NULL);
  add_reply (f, "dot=554 5.6.0 Message refused");
  add_reply (f, "greeting=554 5.3.2 Not now");
  listen_sink (f);
  f->client = connect_tcp (f);
  assert_reply (f->client, "554 5.3.2 Not now\r\n");
  client_send (f->client, "HELO client.test\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
                          "x\r\n.\r\nQUIT\r\n", -1);
  assert_reply (f->client, "250 sink.test\r\n");
  assert_reply (f->client, "250 2.1.0 Ok\r\n");
  assert_reply (f->client, "250 2.1.5 Ok\r\n");
  assert_reply (f->client, "354 End data with <CR><LF>.<CR><LF>\r\n");
  assert_reply (f->client, "554 5.6.0 Message refused\r\n");
  assert_reply (f->client, "221 2.0.0 Bye\r\n");
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->server), ==, 0);
  g_assert_cmpuint (count_files (spool, "new"), ==, 0);
  g_assert_cmpuint (count_files (spool, "tmp"), ==, 0);
}

static void
test_sink_replies_invalid (void)
{
  const char *const rules[] = {
    "rcpt:*@x",             /* no reply */
    "rcpt=250 Ok",          /* not a refusal */
    "quit=550 No",          /* no such step */
    "dot:*@x=550 No",       /* dot takes no pattern */
    "rcpt:x=550 a\r\nb",    /* one line */
  };
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (smtpkit_fake_server_add_reply (server, rules[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

/* The delay of one connection's replies does not hold up another's:
 * with six NOOPs pending on A, B gets its greeting and a reply first. */
static void
test_sink_delay_concurrent (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr (GSocketConnection) other = NULL;
  GSocket *socket;
  const gssize noop_reply = strlen ("250 2.0.0 Ok\r\n");

  new_sink (f, NULL);
  g_object_set (f->server, "reply-delay", 400, NULL);
  listen_sink (f);
  f->client = connect_tcp (f);
  assert_reply (f->client, greeting);
  client_send (f->client, "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n", -1);

  other = connect_tcp (f);
  assert_reply (other, greeting);
  client_send (other, "NOOP\r\n", -1);
  assert_reply (other, "250 2.0.0 Ok\r\n");

  /* A has had two replies at most by then: they came one delay apart. */
  socket = g_socket_connection_get_socket (f->client);
  g_assert_cmpint (g_socket_get_available_bytes (socket), <, 6 * noop_reply);
  for (guint i = 0; i < 6; i++)
    assert_reply (f->client, "250 2.0.0 Ok\r\n");
}

/* The client's commands, and the sink's replies, through to the message
 * stored. */
static const char *const session_commands[] = {
  NULL, "EHLO client.test\r\n", "MAIL FROM:<a@x>\r\n", "RCPT TO:<b@y>\r\n", "DATA\r\n",
  "body\r\n.\r\n",
};
static const char *const session_replies[] = {
  greeting, "250 sink.test\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n",
  "354 End data with <CR><LF>.<CR><LF>\r\n", "250 2.0.0 Ok: queued as 000001\r\n",
};
static const char *const step_names[] = { "greeting", "ehlo", "mail", "rcpt", "data", "dot" };

/* --close-after STEP: the reply to STEP, then the end of the connection;
 * only "dot" stores the message. */
static void
test_sink_close_after (Fixture       *f,
                       gconstpointer  data)
{
  guint step = GPOINTER_TO_UINT (data);
  g_autoptr (GError) error = NULL;

  new_sink (f, NULL);
  g_assert_true (smtpkit_fake_server_set_close_after (f->server, step_names[step], &error));
  listen_sink (f);
  f->client = connect_tcp (f);
  for (guint i = 0; i <= step; i++)
    {
      if (session_commands[i] != NULL)
        client_send (f->client, session_commands[i], -1);
      assert_reply (f->client, session_replies[i]);
    }
  assert_closed (f->client);
  g_assert_cmpuint (smtpkit_fake_server_get_message_count (f->server), ==,
                    step == G_N_ELEMENTS (step_names) - 1 ? 1 : 0);
}

static void
test_sink_close_after_invalid (void)
{
  g_autoptr (SmtpkitFakeServer) server = smtpkit_fake_server_new_sink (NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (smtpkit_fake_server_set_close_after (server, "quit", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* A sink without a spool of the caller's makes its own and removes it. */
static void
test_sink_own_spool (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *spool = NULL;

  f->server = smtpkit_fake_server_new_sink (NULL, NULL);
  listen_sink (f);
  spool = g_strdup (smtpkit_fake_server_get_spool_dir (f->server));
  g_assert_true (g_file_test (spool, G_FILE_TEST_IS_DIR));
  f->client = connect_tcp (f);
  assert_reply (f->client, "220 fake.test ESMTP smtpkit-fake-server\r\n");
  send_message (f->client, "b@y", "x\r\n");
  g_assert_true (smtpkit_fake_server_wait_for_messages (f->server, 1, 1000, &error));
  g_assert_false (smtpkit_fake_server_wait_for_messages (f->server, 2, 10, &error));
  g_assert_error (error, SMTPKIT_FAKE_SERVER_ERROR, SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT);
  g_clear_object (&f->client);
  g_clear_object (&f->server);
  g_assert_false (g_file_test (spool, G_FILE_TEST_EXISTS));
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
  ADD ("/fake-server/scripted/shutdown", test_scripted_shutdown);
  ADD ("/fake-server/scripted/shutdown-closed", test_scripted_shutdown_closed);
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
  ADD ("/fake-server/sink/faults/rates", test_sink_faults_rates);
  ADD ("/fake-server/sink/faults/each", test_sink_faults_each);
  ADD ("/fake-server/sink/faults/reproducible", test_sink_faults_reproducible);
  ADD ("/fake-server/sink/large", test_sink_large);
  ADD ("/fake-server/sink/unix", test_sink_unix);
  ADD ("/fake-server/stop/wakes-workers", test_stop_wakes_workers);
  g_test_add_func ("/fake-server/tls/certificates", test_tls_certificates);
  ADD ("/fake-server/tls/implicit", test_tls_implicit);
  ADD ("/fake-server/tls/starttls", test_tls_starttls);
  for (guint i = 0; i < G_N_ELEMENTS (bad_certificates); i++)
    {
      g_autofree char *path = g_strconcat ("/fake-server/tls/refused/", bad_certificates[i].cert, NULL);

      g_test_add (path, Fixture, &bad_certificates[i], fixture_setup, test_tls_refused, fixture_teardown);
    }
  ADD ("/fake-server/tls/refused-but-accepted", test_tls_refused_but_accepted);
  ADD ("/fake-server/tls/handshake-fails", test_tls_handshake_fails);
  ADD ("/fake-server/tls/handshake-timeout", test_tls_handshake_timeout);
  ADD ("/fake-server/tls/stop-during-handshake", test_tls_stop_during_handshake);
  ADD ("/fake-server/tls/bytes-before-handshake", test_tls_bytes_before_handshake);
  ADD ("/fake-server/tls/injected-reply", test_tls_injected_reply);
  ADD ("/fake-server/tls/injected-reply-ignored", test_tls_injected_reply_ignored);
  ADD ("/fake-server/sink/starttls", test_sink_starttls);
  ADD ("/fake-server/sink/implicit-tls", test_sink_implicit_tls);
  for (guint i = 0; i < G_N_ELEMENTS (auth_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/fake-server/auth/", auth_cases[i].name, NULL);

      g_test_add (path, Fixture, &auth_cases[i].c, fixture_setup, test_auth, fixture_teardown);
    }
  ADD ("/fake-server/auth/cram-md5", test_auth_cram_md5);
  ADD ("/fake-server/auth/cram-md5-fail", test_auth_cram_md5_fail);
  g_test_add ("/fake-server/auth/scram-sha-256", Fixture, "SCRAM-SHA-256", fixture_setup,
              test_auth_cyrus, fixture_teardown);
  g_test_add ("/fake-server/auth/scram-sha-1", Fixture, "SCRAM-SHA-1", fixture_setup,
              test_auth_cyrus, fixture_teardown);
  ADD ("/fake-server/auth/scram-unexpected", test_auth_cyrus_unexpected);
  g_test_add_func ("/fake-server/auth/unsupported", test_auth_unsupported);
  ADD ("/fake-server/sink/maildir/restart", test_sink_maildir_restart);
  ADD ("/fake-server/sink/envelope-json", test_sink_envelope_json);
  for (guint i = 0; i < G_N_ELEMENTS (sink_auth_cases); i++)
    {
      const SinkAuthCase *c = &sink_auth_cases[i];
      g_autofree char *path = g_strdup_printf ("/fake-server/sink/auth/%s/%s/%s", c->mechanism,
                                               c->implicit_tls ? "implicit-tls" : "starttls",
                                               c->right_password ? "right" : "wrong");

      g_test_add (path, Fixture, c, fixture_setup, test_sink_auth, fixture_teardown);
    }
  ADD ("/fake-server/sink/auth/extension", test_sink_auth_extension);
  ADD ("/fake-server/sink/auth/misconfigured", test_sink_auth_misconfigured);
  ADD ("/fake-server/sink/require-tls", test_sink_require_tls);
  ADD ("/fake-server/sink/require-auth", test_sink_require_auth);
  ADD ("/fake-server/sink/replies", test_sink_replies);
  g_test_add_func ("/fake-server/sink/replies-invalid", test_sink_replies_invalid);
  ADD ("/fake-server/sink/delay-concurrent", test_sink_delay_concurrent);
  for (guint i = 0; i < G_N_ELEMENTS (step_names); i++)
    {
      g_autofree char *path = g_strconcat ("/fake-server/sink/close-after/", step_names[i], NULL);

      g_test_add (path, Fixture, GUINT_TO_POINTER (i), fixture_setup, test_sink_close_after,
                  fixture_teardown);
    }
  g_test_add_func ("/fake-server/sink/close-after-invalid", test_sink_close_after_invalid);
  ADD ("/fake-server/sink/own-spool", test_sink_own_spool);
#undef ADD

  return g_test_run ();
}
