/* send-async.c: send one message with STARTTLS and AUTH, asynchronously
 *
 *   send-async HOST PORT CA-FILE USER PASSWORD FROM TO...
 *
 * Each step starts the next from its callback; a GMainLoop runs them all.
 * Each recipient the server refused is printed as "refused ADDRESS: CODE
 * TEXT". Exits 0 when every recipient got the message, 3 when some were
 * refused and the others got it, 1 on an error (every recipient refused
 * included), 2 on bad arguments.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <smtpkit.h>

typedef struct
{
  GMainLoop *loop;
  const char *user;
  const char *password;
  const char *from;
  const char *const *to;
  int status;
} Send;

static void
fail (Send   *send,
      GError *error)
{
  g_printerr ("send-async: %s\n", error->message);
  send->status = EXIT_FAILURE;
  g_main_loop_quit (send->loop);
}

/* The refused recipients, each with the server's reply. */
static void
print_refused (GHashTable *refused)
{
  GHashTableIter iter;
  const char *address;
  SmtpkitReply *reply;

  g_hash_table_iter_init (&iter, refused);
  while (g_hash_table_iter_next (&iter, (gpointer *) &address, (gpointer *) &reply))
    g_print ("refused %s: %u %s\n", address, smtpkit_reply_get_code (reply),
             smtpkit_reply_get_text (reply));
}

static void
quit_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Send *send = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;

  reply = smtpkit_client_quit_finish (SMTPKIT_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      fail (send, error);
      return;
    }
  g_main_loop_quit (send->loop);
}

static void
sendmail_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Send *send = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) refused = NULL;

  refused = smtpkit_client_sendmail_finish (SMTPKIT_CLIENT (source), result, &error);
  if (refused == NULL)
    {
      /* Every recipient refused: the error carries their replies. */
      if (g_error_matches (error, SMTPKIT_ERROR, SMTPKIT_ERROR_RECIPIENTS_REFUSED))
        print_refused (smtpkit_error_get_recipients (error));
      fail (send, error);
      return;
    }

  /* Some recipients may be refused while the others get the message. */
  print_refused (refused);
  if (g_hash_table_size (refused) > 0)
    send->status = 3;

  smtpkit_client_quit_async (SMTPKIT_CLIENT (source), NULL, quit_done, send);
}

static void
login_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Send *send = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;
  g_autofree char *text = NULL;
  g_autofree char *to_header = NULL;
  gsize length;
  g_autoptr (GBytes) message = NULL;

  reply = smtpkit_client_login_finish (SMTPKIT_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      fail (send, error);
      return;
    }

  /* Lines end in CRLF on the wire, as RFC 5322 has it. */
  to_header = g_strjoinv (", ", (char **) send->to);
  text = g_strdup_printf ("From: %s\r\nTo: %s\r\nSubject: send-async\r\n\r\n"
                          "Hello from libsmtpkit.\r\n",
                          send->from, to_header);
  length = strlen (text);
  message = g_bytes_new_take (g_steal_pointer (&text), length);
  smtpkit_client_sendmail_async (SMTPKIT_CLIENT (source), send->from, send->to, message,
                                 NULL, NULL, NULL, sendmail_done, send);
}

static void
connect_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Send *send = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SmtpkitReply) reply = NULL;

  /* With tls-mode STARTTLS, the connection is already encrypted here. */
  reply = smtpkit_client_connect_finish (SMTPKIT_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      fail (send, error);
      return;
    }
  smtpkit_client_login_async (SMTPKIT_CLIENT (source), send->user, send->password,
                              NULL, login_done, send);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (SmtpkitClient) client = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  Send send = { 0 };
  guint64 port;

  /* GLib prints the library's messages (UTF-8) in the locale's charset. */
  setlocale (LC_ALL, "");

  if (argc < 8 ||
      !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT16, &port, NULL))
    {
      g_printerr ("usage: send-async HOST PORT CA-FILE USER PASSWORD FROM TO...\n");
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  send = (Send) {
    .loop = loop,
    .user = argv[4],
    .password = argv[5],
    .from = argv[6],
    .to = (const char *const *) argv + 7, /* argv[argc] is NULL */
    .status = EXIT_SUCCESS,
  };

  client = smtpkit_client_new ();
  smtpkit_client_set_tls_mode (client, SMTPKIT_TLS_MODE_STARTTLS);
  smtpkit_client_set_tls_ca_file (client, argv[3]);
  smtpkit_client_connect_async (client, argv[1], port, NULL, connect_done, &send);

  g_main_loop_run (loop);
  return send.status;
}
