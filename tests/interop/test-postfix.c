/* test-postfix.c: libsmtpkit against a real Postfix smtpd
 *
 * Each test starts a private Postfix (interop-postfix.c), sends through
 * libsmtpkit, and compares what Postfix delivered into its Maildirs with
 * what was sent, byte for byte under the trace fields Postfix prepends.
 * What Postfix itself saw (the SASL mechanism, BDAT or DATA) is read from
 * its log.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smtpkit.h>

#include <string.h>

#include "interop-server.h"

#define ADDRESS(user) user "@" INTEROP_DOMAIN

typedef struct
{
  InteropServer *server;
  SmtpkitClient *client;
} Fixture;

static void
setup (Fixture       *fixture,
       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->server = interop_postfix_start (&error);
  if (fixture->server == NULL)
    interop_server_unavailable ("Postfix", error);
}

static void
teardown (Fixture       *fixture,
          gconstpointer  data)
{
  interop_client_release (&fixture->client);
  if (fixture->server != NULL)
    {
      g_autofree char *log = interop_server_get_log (fixture->server);

      /* Postfix notices a client that sends ahead of a reply it needs. */
      g_assert_null (strstr (log, "improper command pipelining"));
    }
  g_clear_pointer (&fixture->server, interop_server_stop);
}

/* A client of @type (SmtpkitClient, or implicit TLS), trusting the test
 * CA, connected to the port of its kind. */
static SmtpkitClient *
connect_client (Fixture        *fixture,
                SmtpkitTlsMode  mode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  SmtpkitClient *client =
    mode == SMTPKIT_TLS_MODE_IMPLICIT ? smtpkit_ssl_client_new () : smtpkit_client_new ();
  guint16 port = mode == SMTPKIT_TLS_MODE_IMPLICIT ? interop_postfix_get_tls_port (fixture->server)
                                                   : interop_postfix_get_port (fixture->server);

  interop_client_prepare (client);
  smtpkit_client_set_tls_mode (client, mode);
  smtpkit_client_set_tls_ca_file (client, interop_postfix_get_ca_file (fixture->server));

  greeting = smtpkit_client_connect (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
  g_assert_nonnull (strstr (smtpkit_reply_get_text (greeting), "mx." INTEROP_DOMAIN " ESMTP"));
  fixture->client = client;
  return client;
}

/* Sends @message from alice to @to with sendmail(): nobody refused. */
static void
sendmail_all_accepted (SmtpkitClient      *client,
                       const char *const  *to,
                       GBytes             *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;

  refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                     &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
}

/* The trace fields of the one message @user got, which is @sent. */
static char *
assert_one_delivered (Fixture    *fixture,
                      const char *user,
                      GBytes     *sent)
{
  char *trace = interop_assert_one_delivered (fixture->server, user, sent);

  g_assert_nonnull (strstr (trace, "Delivered-To: "));
  return trace;
}

/* The line Postfix's smtpd logs when the client leaves, with the count of
 * each command it got ("ehlo=2 starttls=1 auth=1 mail=1 ..."). */
static char *
wait_for_disconnect_line (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  char *line = interop_server_wait_for_log_line (fixture->server, &error, "postfix/smtpd",
                                                 "disconnect from", NULL);

  g_assert_no_error (error);
  return line;
}

#define REQUIRE_SERVER(fixture) \
  if ((fixture)->server == NULL) \
    return

/* ---- in clear ------------------------------------------------------------ */

static void
test_plain (Fixture       *fixture,
            gconstpointer  data)
{
  const char *to[] = { ADDRESS ("bob"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *trace = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  g_assert_true (smtpkit_client_ehlo_or_helo_if_needed (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (smtpkit_client_get_does_esmtp (client));
  g_assert_false (smtpkit_client_is_secure (client));
  for (guint i = 0; i < 7; i++)
    {
      const char *name[] = { "pipelining", "size", "starttls", "8bitmime", "dsn", "smtputf8",
                             "chunking" };

      g_assert_true (smtpkit_client_has_extn (client, name[i]));
    }
  g_assert_cmpstr (smtpkit_client_get_extension_parameter (client, "size"), ==, "16777216");
  /* smtpd_tls_auth_only: no AUTH before TLS. */
  g_assert_false (smtpkit_client_has_extn (client, "auth"));

  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("bob"), "in clear", 64 * 1024);
  sendmail_all_accepted (client, to, message);
  interop_client_quit (client);

  trace = assert_one_delivered (fixture, "bob", message);
  g_assert_nonnull (strstr (trace, "Return-Path: <" ADDRESS ("alice") ">"));
  g_assert_nonnull (strstr (trace, "with ESMTP id "));
}

/* Postfix offers AUTH only under TLS: login() in clear finds none, and
 * sends no AUTH. */
static void
test_plain_login (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  reply = smtpkit_client_login (client, INTEROP_SASL_USER, INTEROP_SASL_PASSWORD, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED);
  g_assert_null (smtpkit_client_get_auth_mechanism (client));
  interop_client_quit (client);

  line = wait_for_disconnect_line (fixture);
  g_assert_null (strstr (line, " auth="));
}

/* ---- STARTTLS and SASL ----------------------------------------------------- */

static SmtpkitClient *
connect_starttls (Fixture *fixture)
{
  SmtpkitClient *client = connect_client (fixture, SMTPKIT_TLS_MODE_STARTTLS);

  g_assert_true (smtpkit_client_is_secure (client));
  g_assert_nonnull (smtpkit_client_get_tls_connection (client));
  g_assert_true (smtpkit_client_has_extn (client, "auth"));
  return client;
}

static void
login (SmtpkitClient *client)
{
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = smtpkit_client_login (client, INTEROP_SASL_USER, INTEROP_SASL_PASSWORD, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);
}

/* After authentication: a message to @user, delivered; Postfix logged
 * @mechanism and the SASL user, and its Received field says ESMTPSA
 * (ESMTP, TLS, authenticated). */
static void
assert_authenticated_delivery (Fixture    *fixture,
                               const char *mechanism,
                               const char *user)
{
  g_autofree char *address = g_strdup_printf ("%s@" INTEROP_DOMAIN, user);
  const char *to[] = { address, NULL };
  g_autoptr (GBytes) message = interop_message_new (ADDRESS ("alice"), address, mechanism, 8192);
  g_autoptr (GError) error = NULL;
  g_autofree char *method = g_strdup_printf ("sasl_method=%s,", mechanism);
  g_autofree char *line = NULL;
  g_autofree char *trace = NULL;

  g_assert_cmpstr (smtpkit_client_get_auth_mechanism (fixture->client), ==, mechanism);
  sendmail_all_accepted (fixture->client, to, message);
  interop_client_quit (fixture->client);

  trace = assert_one_delivered (fixture, user, message);
  g_assert_nonnull (strstr (trace, "with ESMTPSA id "));
  line = interop_server_wait_for_log_line (fixture->server, &error, "postfix/smtpd", method,
                                           "sasl_username=" INTEROP_SASL_USER, NULL);
  g_assert_no_error (error);
}

/* smtpkit_client_auth() with each mechanism Postfix's Cyrus SASL offers. */
static void
test_starttls_mechanism (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *name = data;
  g_autoptr (SmtpkitAuthMechanism) mechanism = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) offered = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_starttls (fixture);
  offered = g_strsplit (smtpkit_client_get_extension_parameter (client, "auth"), " ", -1);
  g_assert_true (g_strv_contains ((const char *const *) offered, name));

  mechanism = smtpkit_auth_mechanism_new_for_name (name, &error);
  g_assert_no_error (error);
  g_object_set (mechanism, "username", INTEROP_SASL_USER, "password", INTEROP_SASL_PASSWORD,
                NULL);
  reply = smtpkit_client_auth (client, mechanism, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 235);

  assert_authenticated_delivery (fixture, name, "carol");
}

/* login() picks the strongest mechanism both sides have. */
static void
test_starttls_login (Fixture       *fixture,
                     gconstpointer  data)
{
  REQUIRE_SERVER (fixture);
  login (connect_starttls (fixture));
  assert_authenticated_delivery (fixture, "SCRAM-SHA-256", "carol");
}

static void
test_starttls_wrong_password (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  SmtpkitClient *client;
  SmtpkitReply *refusal;

  REQUIRE_SERVER (fixture);
  client = connect_starttls (fixture);
  reply = smtpkit_client_login (client, INTEROP_SASL_USER, "not the password", NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_AUTHENTICATION);
  refusal = smtpkit_error_get_reply (error);
  g_assert_nonnull (refusal);
  g_assert_cmpuint (smtpkit_reply_get_code (refusal), ==, 535);
  g_assert_cmpstr (smtpkit_reply_get_enhanced_status (refusal), ==, "5.7.8");
  g_assert_null (smtpkit_client_get_auth_mechanism (client));
  interop_client_quit (client);

  /* One failed login, one AUTH command: the password is not tried again
   * with the next mechanism. */
  line = wait_for_disconnect_line (fixture);
  g_assert_nonnull (strstr (line, " auth=0/1 "));
}

/* Postfix's certificate comes from the test CA: without tls-ca-file the
 * system's authorities do not know it. */
static void
test_starttls_untrusted (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr (SmtpkitClient) client = smtpkit_client_new ();
  g_autoptr (SmtpkitReply) greeting = NULL;
  g_autoptr (GError) error = NULL;

  REQUIRE_SERVER (fixture);
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  greeting = smtpkit_client_connect (client, "127.0.0.1",
                                     interop_postfix_get_port (fixture->server), NULL, &error);
  g_assert_null (greeting);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "unknown issuer"));
  g_assert_false (smtpkit_client_is_connected (client));
}

/* ---- implicit TLS --------------------------------------------------------- */

static void
test_implicit_tls (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_IMPLICIT);
  g_assert_true (smtpkit_client_is_secure (client));
  g_assert_true (smtpkit_client_ehlo_or_helo_if_needed (client, NULL, &error));
  g_assert_no_error (error);
  /* Under TLS from the first byte: AUTH, and no STARTTLS to offer. */
  g_assert_true (smtpkit_client_has_extn (client, "auth"));
  g_assert_false (smtpkit_client_has_extn (client, "starttls"));

  login (client);
  assert_authenticated_delivery (fixture, "SCRAM-SHA-256", "dave");
}

/* ---- a large message, by DATA and by BDAT ------------------------------------ */

#define LARGE_SIZE (8 * 1024 * 1024)

typedef struct
{
  gboolean chunking;
  gboolean streamed; /* from a GInputStream, with sendmail_stream() */
} LargeWay;

static const LargeWay by_data = { FALSE, FALSE };
static const LargeWay by_bdat = { TRUE, FALSE };
static const LargeWay streamed_by_data = { FALSE, TRUE };
static const LargeWay streamed_by_bdat = { TRUE, TRUE };

static void
count_bdat (SmtpkitClient *client,
            GBytes        *bytes,
            gpointer       user_data)
{
  guint *n_bdat = user_data;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  if (size > 5 && memcmp (data, "BDAT ", 5) == 0)
    (*n_bdat)++;
}

static void
test_large (Fixture       *fixture,
            gconstpointer  data)
{
  const LargeWay *way = data;
  const char *to[] = { ADDRESS ("erin"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *line = NULL;
  g_autofree char *commands = NULL;
  SmtpkitClient *client;
  guint n_bdat = 0;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  g_object_set (client, "chunking", way->chunking, NULL);
  g_signal_connect (client, "sending", G_CALLBACK (count_bdat), &n_bdat);
  subject = g_strdup_printf ("8 MB%s by %s", way->streamed ? " streamed" : "",
                             way->chunking ? "BDAT" : "DATA");
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("erin"), subject, LARGE_SIZE);
  g_assert_cmpuint (g_bytes_get_size (message), >, LARGE_SIZE);
  if (way->streamed)
    {
      g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (message);
      g_autoptr (GHashTable) refused = NULL;
      g_autoptr (GError) error = NULL;

      refused = smtpkit_client_sendmail_stream (client, ADDRESS ("alice"), to, stream, NULL, NULL,
                                                NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
    }
  else
    sendmail_all_accepted (client, to, message);
  interop_client_quit (client);

  g_free (assert_one_delivered (fixture, "erin", message));
  /* What Postfix counted: one DATA; one BDAT of the whole message; or,
   * from a stream, chunks from 64 KiB growing to 2 MiB and the last one
   * with the rest: as many as were sent. */
  if (!way->chunking)
    commands = g_strdup (" data=1 ");
  else if (!way->streamed)
    commands = g_strdup (" bdat=1 ");
  else
    {
      g_assert_cmpuint (n_bdat, >=, g_bytes_get_size (message) / (2 * 1024 * 1024));
      g_assert_cmpuint (n_bdat, <=, g_bytes_get_size (message) / 65536 + 1);
      commands = g_strdup_printf (" bdat=%u ", n_bdat);
    }
  line = wait_for_disconnect_line (fixture);
  if (strstr (line, commands) == NULL)
    g_error ("expected '%s' in Postfix's log line: %s", commands, line);
  g_assert_null (strstr (line, way->chunking ? " data=" : " bdat="));
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* The asynchronous calls, on the thread-default main context. */
static void
test_async (Fixture       *fixture,
            gconstpointer  data)
{
  const char *to[] = { ADDRESS ("bob"), ADDRESS ("nobody"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  SmtpkitClient *client;
  SmtpkitReply *reply;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("bob"), "asynchronously", 256 * 1024);
  smtpkit_client_sendmail_async (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                 on_sent, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  refused = smtpkit_client_sendmail_finish (client, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  reply = g_hash_table_lookup (refused, ADDRESS ("nobody"));
  g_assert_nonnull (reply);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 550);
  interop_client_quit (client);

  g_free (assert_one_delivered (fixture, "bob", message));
}

/* A message over SIZE is not offered: the client says so before MAIL. */
static void
test_over_size (Fixture       *fixture,
                gconstpointer  data)
{
  const char *to[] = { ADDRESS ("erin"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *maildir = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("erin"), "too large",
                                 16 * 1024 * 1024);
  refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                     &error);
  g_assert_null (refused);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "16777216"));
  g_clear_error (&error);

  reply = smtpkit_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
  interop_client_quit (client);

  line = wait_for_disconnect_line (fixture);
  g_assert_null (strstr (line, " mail="));
  maildir = interop_server_get_maildir (fixture->server, "erin");
  g_assert_cmpuint (interop_count_messages (maildir), ==, 0);
}

/* ---- SMTPUTF8 ------------------------------------------------------------------ */

/* send_message() finds the addresses in the headers, sees they are not
 * ASCII and asks for SMTPUTF8. */
static void
test_smtputf8 (Fixture       *fixture,
               gconstpointer  data)
{
  GMimeMessage *message = NULL;
  GMimeTextPart *body = NULL;
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *trace = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GBytes) sent = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  message = g_mime_message_new (TRUE);
  body = g_mime_text_part_new_with_subtype ("plain");
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM, "Zoë", ADDRESS ("zoë"));
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, "Jörg", ADDRESS ("jörg"));
  g_mime_message_set_subject (message, "Grüße, 你好", "utf-8");
  /* Postfix adds the two to a message from a local client without them. */
  g_mime_message_set_message_id (message, "smtputf8." INTEROP_DOMAIN);
  date = g_date_time_new_utc (2026, 12, 1, 10, 0, 0);
  g_mime_message_set_date (message, date);
  g_mime_text_part_set_text (body, "Liebe Grüße aus Köln.\n.\n..\nΚαλημέρα κόσμε\n");
  g_mime_message_set_mime_part (message, GMIME_OBJECT (body));
  g_object_unref (body);

  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  refused = smtpkit_client_send_message (client, message, NULL, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  interop_client_quit (client);

  /* GMime writes LF line ends, as a Maildir keeps them. */
  text = g_mime_object_to_string (GMIME_OBJECT (message), NULL);
  sent = g_bytes_new (text, strlen (text));
  g_object_unref (message);
  trace = assert_one_delivered (fixture, "joerg", sent);
  g_assert_nonnull (strstr (trace, "Return-Path: <" ADDRESS ("zoë") ">"));
  g_assert_nonnull (strstr (trace, "Delivered-To: " ADDRESS ("jörg")));
  g_assert_nonnull (strstr (trace, "with UTF8SMTP id "));
  line = wait_for_disconnect_line (fixture);
  g_assert_nonnull (strstr (line, " mail=1 "));
}

/* ---- refused recipients --------------------------------------------------------- */

static void
test_refused_recipients (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *to[] = { ADDRESS ("bob"), ADDRESS ("mallory"), ADDRESS ("carol"),
                       ADDRESS ("trent"), ADDRESS ("erin"), NULL };
  const char *delivered[] = { "bob", "carol", "erin" };
  const char *unknown[] = { ADDRESS ("mallory"), ADDRESS ("trent") };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  message = interop_message_new (ADDRESS ("alice"), "team@" INTEROP_DOMAIN, "five, two unknown",
                                 16 * 1024);
  refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                     &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, G_N_ELEMENTS (unknown));
  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      SmtpkitReply *reply = g_hash_table_lookup (refused, unknown[i]);

      g_assert_nonnull (reply);
      g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 550);
      g_assert_cmpstr (smtpkit_reply_get_enhanced_status (reply), ==, "5.1.1");
      g_assert_nonnull (strstr (smtpkit_reply_get_text (reply), "User unknown"));
    }
  interop_client_quit (client);

  for (guint i = 0; i < G_N_ELEMENTS (delivered); i++)
    g_free (assert_one_delivered (fixture, delivered[i], message));
}

/* Every recipient refused, then the next message in the same session:
 * the refused transaction (pipelined, with BDAT or DATA) must leave the
 * session in step. */
static void
test_all_refused_then_next (Fixture       *fixture,
                            gconstpointer  data)
{
  gboolean chunking = GPOINTER_TO_INT (data);
  const char *unknown[] = { ADDRESS ("mallory"), ADDRESS ("trent"), NULL };
  const char *to[] = { ADDRESS ("bob"), NULL };
  g_autoptr (GBytes) refused_message = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  GHashTable *recipients;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  g_object_set (client, "chunking", chunking, NULL);
  refused_message = interop_message_new (ADDRESS ("alice"), ADDRESS ("mallory"), "nobody", 4096);
  refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), unknown, refused_message, NULL,
                                     NULL, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED);
  recipients = smtpkit_error_get_recipients (error);
  g_assert_cmpuint (g_hash_table_size (recipients), ==, 2);
  for (guint i = 0; unknown[i] != NULL; i++)
    g_assert_cmpuint (smtpkit_reply_get_code (g_hash_table_lookup (recipients, unknown[i])), ==,
                      550);

  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("bob"), "the next one", 4096);
  sendmail_all_accepted (client, to, message);
  interop_client_quit (client);

  g_free (assert_one_delivered (fixture, "bob", message));
  line = wait_for_disconnect_line (fixture);
  g_assert_nonnull (strstr (line, " mail=2 "));
  g_assert_nonnull (strstr (line, " rset="));
}

/* ---- DSN ------------------------------------------------------------------------- */

#define ENVID "interop-dsn-4711"

static void
test_dsn (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new (ADDRESS ("alice"));
  g_autoptr (SmtpkitSendResult) result = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GBytes) report = NULL;
  g_autoptr (GPtrArray) reports = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *trace = NULL;
  g_autofree char *alice = NULL;
  g_autofree char *queue_id_field = NULL;
  const char *text;
  const char *queue_id;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  smtpkit_envelope_set_dsn_ret (envelope, SMTPKIT_DSN_RET_HDRS);
  g_assert_true (smtpkit_envelope_set_dsn_envid (envelope, ENVID, &error));
  smtpkit_envelope_add_recipient (envelope, ADDRESS ("bob"),
                                  SMTPKIT_DSN_NOTIFY_SUCCESS | SMTPKIT_DSN_NOTIFY_FAILURE,
                                  ADDRESS ("bob"));
  smtpkit_envelope_add_recipient (envelope, ADDRESS ("carol"), SMTPKIT_DSN_NOTIFY_NEVER, NULL);

  client = connect_client (fixture, SMTPKIT_TLS_MODE_NONE);
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("bob") ", " ADDRESS ("carol"),
                                 "with DSN", 4096);
  result = smtpkit_client_send (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_send_result_get_n_recipients (result), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpuint (smtpkit_reply_get_code (smtpkit_send_result_get_rcpt_reply (result, i)),
                        ==, 250);
      g_assert_cmpuint (smtpkit_reply_get_code (smtpkit_send_result_get_final_reply (result, i)),
                        ==, 250);
      g_assert_true (smtpkit_send_result_get_delivered (result, i));
    }
  refused = smtpkit_send_result_get_refused (result);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 0);
  queue_id = smtpkit_send_result_get_queue_id (result, 0);
  g_assert_nonnull (queue_id);
  interop_client_quit (client);

  trace = assert_one_delivered (fixture, "bob", message);
  g_assert_nonnull (strstr (trace, queue_id));
  g_free (assert_one_delivered (fixture, "carol", message));

  /* NOTIFY=SUCCESS for bob: Postfix reports his delivery to the sender,
   * with the envelope id, his ORCPT and only the headers (RET=HDRS).
   * NOTIFY=NEVER for carol: nothing about her. */
  alice = interop_server_get_maildir (fixture->server, "alice");
  reports = interop_wait_for_messages (alice, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 1);
  report = interop_read_delivered (reports->pdata[0], NULL, &error);
  g_assert_no_error (error);
  text = g_bytes_get_data (report, NULL);
  g_assert_nonnull (strstr (text, "Original-Envelope-Id: " ENVID "\n"));
  g_assert_nonnull (strstr (text, "Final-Recipient: rfc822; " ADDRESS ("bob") "\n"));
  g_assert_nonnull (strstr (text, "Original-Recipient: rfc822;" ADDRESS ("bob") "\n"));
  g_assert_nonnull (strstr (text, "Action: delivered\n"));
  g_assert_nonnull (strstr (text, "Content-Type: text/rfc822-headers"));
  g_assert_null (strstr (text, "Final-Recipient: rfc822; " ADDRESS ("carol")));
  g_assert_null (strstr (text, "indented line"));
  queue_id_field = g_strdup_printf ("X-Postfix-Queue-ID: %s\n", queue_id);
  g_assert_nonnull (strstr (text, queue_id_field));
}

int
main (int    argc,
      char **argv)
{
  static const char *const mechanisms[] = { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256" };

  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

#define ADD(path, func, data) \
  g_test_add ("/interop/postfix/" path, Fixture, data, setup, func, teardown)

  ADD ("plain", test_plain, NULL);
  ADD ("plain/login", test_plain_login, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (mechanisms); i++)
    {
      g_autofree char *path = g_strdup_printf ("/interop/postfix/starttls/auth/%s", mechanisms[i]);

      g_test_add (path, Fixture, mechanisms[i], setup, test_starttls_mechanism, teardown);
    }
  ADD ("starttls/login", test_starttls_login, NULL);
  ADD ("starttls/wrong-password", test_starttls_wrong_password, NULL);
  ADD ("starttls/untrusted", test_starttls_untrusted, NULL);
  ADD ("implicit-tls", test_implicit_tls, NULL);
  ADD ("large/data", test_large, &by_data);
  ADD ("large/bdat", test_large, &by_bdat);
  ADD ("large/stream-data", test_large, &streamed_by_data);
  ADD ("large/stream-bdat", test_large, &streamed_by_bdat);
  ADD ("async", test_async, NULL);
  ADD ("over-size", test_over_size, NULL);
  ADD ("smtputf8", test_smtputf8, NULL);
  ADD ("refused-recipients", test_refused_recipients, NULL);
  ADD ("all-refused-then-next/data", test_all_refused_then_next, GINT_TO_POINTER (FALSE));
  ADD ("all-refused-then-next/bdat", test_all_refused_then_next, GINT_TO_POINTER (TRUE));
  ADD ("dsn", test_dsn, NULL);

#undef ADD

  return g_test_run ();
}
