/* fuzz-fake-sink.c: the fake server's command parser, in sink mode
 *
 * The sink's commands are not parsed by a function of their own, so the
 * sink serves one connection of a socket pair whose other end writes the
 * input (the client's bytes, pipelined) and then closes its side. It
 * must end without crashing, hanging or leaking, and what it answers must
 * be valid SMTP: libsmtpkit's reply parser takes every byte of it as
 * whole replies.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "smtpkit-codec-private.h"
#include "smtpkit-fake-server-private.h"

/* Each wait of the sink for the client, in ms: the client is in this
 * process and never makes it wait long. */
#define STEP_TIMEOUT_MS 2000

static const char *const extensions[] = {
  "SIZE 100000", "PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES",
  NULL,
};

static char *spool_dir;
static SmtpkitFakeServer *server;

typedef struct
{
  int fd;
  const guint8 *data;
  gsize size;
  GByteArray *replies;
} Client;

static gpointer
client_thread (gpointer user_data)
{
  Client *client = user_data;
  guint8 buffer[4096];
  gsize written = 0;
  ssize_t n;

  while (written < client->size)
    {
      n = send (client->fd, client->data + written, client->size - written, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* the sink hung up */
      written += n;
    }
  shutdown (client->fd, SHUT_WR);

  while ((n = read (client->fd, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      g_byte_array_append (client->replies, buffer, n);
    }
  return NULL;
}

static GSocketConnection *
connection_for_fd (int fd)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, &error);

  if (socket == NULL)
    fuzz_fail ("g_socket_new_from_fd: %s", error->message);
  return g_socket_connection_factory_create_connection (socket);
}

static void
check_replies (const GByteArray *replies)
{
  SmtpkitReplyParser *parser = smtpkit_reply_parser_new ();
  gsize pos = 0;

  while (pos < replies->len)
    {
      g_autoptr (SmtpkitReply) reply = NULL;
      g_autoptr (GError) error = NULL;
      gsize consumed = 0;

      if (smtpkit_reply_parser_feed (parser, replies->data + pos, replies->len - pos, &consumed,
                                     &reply, &error) == SMTPKIT_REPLY_PARSER_ERROR)
        fuzz_fail ("the sink answered with something that is not SMTP: %s", error->message);
      pos += consumed;
    }
  fuzz_check (!smtpkit_reply_parser_has_partial (parser));
  smtpkit_reply_parser_free (parser);
}

/* The sink keeps every message it received: start afresh each time. */
/* The Maildir's messages and their envelopes (tmp/ is emptied by the
 * sink itself). */
static void
empty_spool (void)
{
  static const char *const subdirs[] = { "new", "envelopes" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *subdir = g_build_filename (spool_dir, subdirs[i], NULL);
      g_autoptr (GDir) dir = g_dir_open (subdir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (subdir, name, NULL);

          g_unlink (path);
        }
    }
}

static void
serve (const guint8 *data,
       gsize         size)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GByteArray) replies = g_byte_array_new ();
  SmtpkitFakeConn *conn;
  Client client;
  GThread *thread;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    fuzz_fail ("socketpair: %s", g_strerror (errno));
  connection = connection_for_fd (fds[0]);
  client = (Client){ fds[1], data, size, replies };
  thread = g_thread_new ("fuzz-client", client_thread, &client);

  conn = smtpkit_fake_conn_new (connection, cancellable, STEP_TIMEOUT_MS);
  smtpkit_fake_sink_serve (server, conn, NULL);
  smtpkit_fake_conn_close (conn);

  g_thread_join (thread);
  close (fds[1]);
  check_replies (replies);
  empty_spool ();
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr (GError) error = NULL;
  static const char warm_up[] = "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n"
                                "BDAT 1 LAST\r\nyQUIT\r\n";

  fuzz_setup_environment ();
  spool_dir = g_dir_make_tmp ("smtpkit-fuzz-sink-XXXXXX", &error);
  if (spool_dir == NULL)
    fuzz_fail ("cannot make the spool directory: %s", error->message);
  server = smtpkit_fake_server_new_sink (spool_dir, extensions);
  /* Not a list of every message of the run in memory. */
  g_object_set (server, "keep-received", FALSE, NULL);
  /* Served here, not through a listener: the configuration is fixed
   * (and the Maildir made) by hand. */
  if (!smtpkit_fake_server_prepare_sink (server, &error))
    fuzz_fail ("cannot prepare the sink: %s", error->message);
  /* GIO's types and the sink's first allocations, outside LeakSanitizer's
   * count. */
  serve ((const guint8 *) warm_up, sizeof warm_up - 1);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  serve (data, size);
  return 0;
}
