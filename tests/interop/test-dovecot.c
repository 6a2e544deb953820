/* test-dovecot.c: SmtpkitLmtpClient against a real Dovecot LMTP server
 *
 * Each test starts a private Dovecot (interop-dovecot.c) with three
 * users: bob and carol, and dave, whose quota (1 KB) no message fits.
 * Dovecot refuses an unknown user at RCPT and dave after the data, in his
 * own reply; what it delivered into the Maildirs is compared with what was
 * sent, byte for byte under the trace fields Dovecot prepends.
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
  GPtrArray *commands; /* the first line of each write */
} Fixture;

static void
setup (Fixture       *fixture,
       gconstpointer  data)
{
  g_autoptr (GError) error = NULL;

  fixture->commands = g_ptr_array_new_with_free_func (g_free);
  fixture->server = interop_dovecot_start (&error);
  if (fixture->server == NULL)
    interop_server_unavailable ("Dovecot", error);
}

static void
teardown (Fixture       *fixture,
          gconstpointer  data)
{
  interop_client_release (&fixture->client);
  g_clear_pointer (&fixture->server, interop_server_stop);
  g_ptr_array_unref (fixture->commands);
}

/* Each command line the client writes, message data left out. */
static void
on_sending (SmtpkitClient *client,
            GBytes        *bytes,
            gpointer       user_data)
{
  Fixture *fixture = user_data;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  const char *line = data;
  const char *end = data + MIN (len, 4096);

  /* A write is a command, a batch of pipelined commands (the last of
   * which may be BDAT, its chunk after it) or a block of data. */
  while (line < end && g_ascii_isupper (*line))
    {
      const char *eol = g_strstr_len (line, end - line, "\r\n");

      if (eol == NULL)
        break;
      g_ptr_array_add (fixture->commands, g_strndup (line, eol - line));
      if (g_str_has_prefix (line, "BDAT ") || g_str_has_prefix (line, "DATA\r\n"))
        break;
      line = eol + 2;
    }
}

static gboolean
sent_command (Fixture    *fixture,
              const char *prefix)
{
  for (guint i = 0; i < fixture->commands->len; i++)
    if (g_str_has_prefix (fixture->commands->pdata[i], prefix))
      return TRUE;
  return FALSE;
}

/* The size of the first BDAT that went out, if it was not the last; 0
 * if there was none such. */
static guint64
first_chunk_size (Fixture *fixture)
{
  for (guint i = 0; i < fixture->commands->len; i++)
    {
      const char *command = fixture->commands->pdata[i];

      if (g_str_has_prefix (command, "BDAT "))
        return strstr (command, " LAST") ? 0 : g_ascii_strtoull (command + 5, NULL, 10);
    }
  return 0;
}

/* Whether a BDAT … LAST went out. */
static gboolean
sent_last_chunk (Fixture *fixture)
{
  for (guint i = 0; i < fixture->commands->len; i++)
    {
      const char *command = fixture->commands->pdata[i];

      if (g_str_has_prefix (command, "BDAT ") && strstr (command, " LAST") != NULL)
        return TRUE;
    }
  return FALSE;
}

static SmtpkitClient *
connect_lmtp (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) greeting = NULL;
  SmtpkitClient *client = interop_client_prepare (smtpkit_lmtp_client_new ());

  g_assert_true (SMTPKIT_IS_LMTP_CLIENT (client));
  g_signal_connect (client, "sending", G_CALLBACK (on_sending), fixture);
  fixture->client = client;

  greeting = smtpkit_client_connect (client, interop_dovecot_get_socket (fixture->server), 0,
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (greeting), ==, 220);
  g_assert_nonnull (strstr (smtpkit_reply_get_text (greeting), "Dovecot"));
  g_assert_true (smtpkit_client_ehlo_or_helo_if_needed (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sent_command (fixture, "LHLO client." INTEROP_DOMAIN));
  g_assert_true (smtpkit_client_has_extn (client, "pipelining"));
  g_assert_true (smtpkit_client_has_extn (client, "chunking"));
  return client;
}

static void
assert_delivered_to (Fixture    *fixture,
                     const char *user,
                     GBytes     *sent)
{
  g_autofree char *trace = interop_assert_one_delivered (fixture->server, user, sent);

  g_assert_nonnull (strstr (trace, "Return-Path: <" ADDRESS ("alice") ">\n"));
  g_assert_nonnull (strstr (trace, "by lmtp." INTEROP_DOMAIN " with LMTP\n"));
  g_assert_nonnull (strstr (trace, "(envelope-from <" ADDRESS ("alice") ">)"));
}

static void
assert_nothing_delivered_to (Fixture    *fixture,
                             const char *user)
{
  g_autofree char *maildir = interop_server_get_maildir (fixture->server, user);

  /* Dovecot replies to the end of data once it has saved the message (or
   * failed to): by now, whatever dave would get is there. */
  g_assert_cmpuint (interop_count_messages (maildir), ==, 0);
}

static void
assert_reply (SmtpkitReply *reply,
              guint         code,
              const char   *enhanced_status)
{
  g_assert_nonnull (reply);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, code);
  g_assert_cmpstr (smtpkit_reply_get_enhanced_status (reply), ==, enhanced_status);
}

#define REQUIRE_SERVER(fixture) \
  if ((fixture)->server == NULL) \
    return

typedef enum
{
  BY_DATA,
  BY_BDAT,
  BY_BDAT_STREAMED, /* sendmail_stream(): chunks from 64 KiB on, then LAST */
} Way;

/* Three mailboxes, one over quota: refused after the data, in its own
 * reply; the two others delivered. */
static void
test_over_quota (Fixture       *fixture,
                 gconstpointer  data)
{
  Way way = GPOINTER_TO_INT (data);
  const char *to[] = { ADDRESS ("bob"), ADDRESS ("dave"), ADDRESS ("carol"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  SmtpkitClient *client;
  SmtpkitReply *reply;

  REQUIRE_SERVER (fixture);
  client = connect_lmtp (fixture);
  g_object_set (client, "chunking", way != BY_DATA, NULL);
  message = interop_message_new (ADDRESS ("alice"), "team@" INTEROP_DOMAIN, "one over quota",
                                 256 * 1024);
  if (way == BY_BDAT_STREAMED)
    {
      g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (message);

      refused = smtpkit_client_sendmail_stream (client, ADDRESS ("alice"), to, stream, NULL,
                                                NULL, NULL, &error);
      /* Chunks from 64 KiB on (the first one's whole lines: they are
       * sent from where they were read), the rest with LAST. */
      g_assert_cmpuint (first_chunk_size (fixture), >, 65536 - 1024);
      g_assert_cmpuint (first_chunk_size (fixture), <=, 65536);
      g_assert_true (sent_last_chunk (fixture));
    }
  else
    refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                       &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 1);
  reply = g_hash_table_lookup (refused, ADDRESS ("dave"));
  assert_reply (reply, 552, "5.2.2");
  g_assert_nonnull (strstr (smtpkit_reply_get_text (reply), "Quota exceeded"));
  g_assert_false (smtpkit_reply_is_transient (reply));
  g_assert_true (sent_command (fixture, way == BY_DATA ? "DATA" : "BDAT "));
  g_assert_false (sent_command (fixture, way == BY_DATA ? "BDAT " : "DATA"));

  /* The replies were all read: the session goes on. */
  interop_client_quit (client);

  assert_delivered_to (fixture, "bob", message);
  assert_delivered_to (fixture, "carol", message);
  assert_nothing_delivered_to (fixture, "dave");
}

/* send(): each recipient's fate, refused at RCPT (unknown) or after the
 * data (over quota) or delivered. */
static void
test_send_result (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr (SmtpkitEnvelope) envelope = smtpkit_envelope_new (ADDRESS ("alice"));
  g_autoptr (SmtpkitSendResult) result = NULL;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  smtpkit_envelope_add_recipient (envelope, ADDRESS ("bob"), SMTPKIT_DSN_NOTIFY_UNSET, NULL);
  smtpkit_envelope_add_recipient (envelope, ADDRESS ("nobody"), SMTPKIT_DSN_NOTIFY_UNSET, NULL);
  smtpkit_envelope_add_recipient (envelope, ADDRESS ("dave"), SMTPKIT_DSN_NOTIFY_UNSET, NULL);

  client = connect_lmtp (fixture);
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("bob"), "each one's fate", 8192);
  result = smtpkit_client_send (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_send_result_get_n_recipients (result), ==, 3);

  g_assert_cmpstr (smtpkit_send_result_get_recipient (result, 0), ==, ADDRESS ("bob"));
  assert_reply (smtpkit_send_result_get_rcpt_reply (result, 0), 250, "2.1.5");
  assert_reply (smtpkit_send_result_get_final_reply (result, 0), 250, "2.0.0");
  g_assert_true (smtpkit_send_result_get_delivered (result, 0));

  g_assert_cmpstr (smtpkit_send_result_get_recipient (result, 1), ==, ADDRESS ("nobody"));
  assert_reply (smtpkit_send_result_get_rcpt_reply (result, 1), 550, "5.1.1");
  g_assert_null (smtpkit_send_result_get_final_reply (result, 1));
  g_assert_false (smtpkit_send_result_get_delivered (result, 1));

  g_assert_cmpstr (smtpkit_send_result_get_recipient (result, 2), ==, ADDRESS ("dave"));
  assert_reply (smtpkit_send_result_get_rcpt_reply (result, 2), 250, "2.1.5");
  assert_reply (smtpkit_send_result_get_final_reply (result, 2), 552, "5.2.2");
  g_assert_false (smtpkit_send_result_get_delivered (result, 2));

  refused = smtpkit_send_result_get_refused (result);
  g_assert_cmpuint (g_hash_table_size (refused), ==, 2);
  assert_reply (g_hash_table_lookup (refused, ADDRESS ("nobody")), 550, "5.1.1");
  assert_reply (g_hash_table_lookup (refused, ADDRESS ("dave")), 552, "5.2.2");
  interop_client_quit (client);

  assert_delivered_to (fixture, "bob", message);
  assert_nothing_delivered_to (fixture, "dave");
}

/* Nobody got it: the only recipient accepted at RCPT is over quota. */
static void
test_all_refused (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *to[] = { ADDRESS ("dave"), ADDRESS ("nobody"), NULL };
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GHashTable) refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  GHashTable *recipients;
  SmtpkitClient *client;

  REQUIRE_SERVER (fixture);
  client = connect_lmtp (fixture);
  message = interop_message_new (ADDRESS ("alice"), ADDRESS ("dave"), "nobody gets it", 8192);
  refused = smtpkit_client_sendmail (client, ADDRESS ("alice"), to, message, NULL, NULL, NULL,
                                     &error);
  g_assert_null (refused);
  g_assert_error (error, SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED);
  recipients = smtpkit_error_get_recipients (error);
  g_assert_nonnull (recipients);
  g_assert_cmpuint (g_hash_table_size (recipients), ==, 2);
  assert_reply (g_hash_table_lookup (recipients, ADDRESS ("dave")), 552, "5.2.2");
  assert_reply (g_hash_table_lookup (recipients, ADDRESS ("nobody")), 550, "5.1.1");
  g_clear_error (&error);

  /* Every reply was read: the next command gets its own. */
  reply = smtpkit_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (smtpkit_reply_get_code (reply), ==, 250);
  interop_client_quit (client);
  assert_nothing_delivered_to (fixture, "dave");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add ("/interop/dovecot/lmtp/" path, Fixture, data, setup, func, teardown)

  ADD ("over-quota/data", test_over_quota, GINT_TO_POINTER (BY_DATA));
  ADD ("over-quota/bdat", test_over_quota, GINT_TO_POINTER (BY_BDAT));
  ADD ("over-quota/bdat-streamed", test_over_quota, GINT_TO_POINTER (BY_BDAT_STREAMED));
  ADD ("send-result", test_send_result, NULL);
  ADD ("all-refused", test_all_refused, NULL);

#undef ADD

  return g_test_run ();
}
