/* smtpkit-fake-conn.c: blocking, buffered I/O on one client connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "smtpkit-fake-server-private.h"

#define BUFFER_SIZE 65536

struct _SmtpkitFakeConn
{
  GSocketConnection *connection;
  GSocket *socket;
  GCancellable *cancellable;
  gint64 timeout_us;
  gboolean eof;
  gsize pos, end; /* unread input: buffer[pos..end) */
  guint8 buffer[BUFFER_SIZE];
};

SmtpkitFakeConn *
smtpkit_fake_conn_new (GSocketConnection *connection,
                       GCancellable      *cancellable,
                       guint              timeout_ms)
{
  SmtpkitFakeConn *conn = g_new0 (SmtpkitFakeConn, 1);

  conn->connection = g_object_ref (connection);
  conn->socket = g_socket_connection_get_socket (connection);
  conn->cancellable = g_object_ref (cancellable);
  conn->timeout_us = timeout_ms * G_TIME_SPAN_MILLISECOND;

  /* Every write is meant to leave at once: send-bytewise relies on it, and
   * Nagle would hold the second line of a multi-line reply until the
   * client acknowledges the first. */
  if (g_socket_get_family (conn->socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (conn->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  return conn;
}

gboolean
smtpkit_fake_conn_is_eof (SmtpkitFakeConn *conn)
{
  return conn->eof;
}

static gboolean
wait_for (SmtpkitFakeConn  *conn,
          GIOCondition      condition,
          GError          **error)
{
  return g_socket_condition_timed_wait (conn->socket, condition, conn->timeout_us,
                                        conn->cancellable, error);
}

/* Makes sure unread input is buffered, reading when there is none. At EOF
 * the buffer stays empty and conn->eof is set. */
static gboolean
ensure_input (SmtpkitFakeConn  *conn,
              GError          **error)
{
  gssize n;

  if (conn->pos < conn->end || conn->eof)
    return TRUE;
  if (!wait_for (conn, G_IO_IN, error))
    return FALSE;
  n = g_socket_receive_with_blocking (conn->socket, (char *) conn->buffer, BUFFER_SIZE,
                                      TRUE, conn->cancellable, error);
  if (n < 0)
    return FALSE;
  conn->pos = 0;
  conn->end = n;
  conn->eof = n == 0;
  return TRUE;
}

gboolean
smtpkit_fake_conn_write (SmtpkitFakeConn  *conn,
                         const void       *data,
                         gsize             len,
                         GError          **error)
{
  const char *p = data;

  while (len > 0)
    {
      gssize n;

      if (!wait_for (conn, G_IO_OUT, error))
        return FALSE;
      n = g_socket_send_with_blocking (conn->socket, p, len, TRUE, conn->cancellable, error);
      if (n < 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

/* Fails only when the server stops meanwhile. */
gboolean
smtpkit_fake_conn_sleep (SmtpkitFakeConn  *conn,
                         guint             ms,
                         GError          **error)
{
  GPollFD pollfd;

  if (g_cancellable_make_pollfd (conn->cancellable, &pollfd))
    {
      g_poll (&pollfd, 1, ms);
      g_cancellable_release_fd (conn->cancellable);
    }
  return !g_cancellable_set_error_if_cancelled (conn->cancellable, error);
}

/* Reads through the first LF, or SMTPKIT_FAKE_MAX_LINE + 2 bytes when
 * there is none by then: the caller sees a line not ending in LF, and
 * tells "too long" from "closed" by smtpkit_fake_conn_is_eof(). */
gboolean
smtpkit_fake_conn_read_line (SmtpkitFakeConn  *conn,
                             GByteArray       *line,
                             GError          **error)
{
  g_byte_array_set_size (line, 0);
  while (line->len < SMTPKIT_FAKE_MAX_LINE + 2)
    {
      const guint8 *start, *lf;
      gsize take;

      if (!ensure_input (conn, error))
        return FALSE;
      if (conn->eof)
        return TRUE;

      start = conn->buffer + conn->pos;
      take = MIN (conn->end - conn->pos, SMTPKIT_FAKE_MAX_LINE + 2 - line->len);
      lf = memchr (start, '\n', take);
      if (lf != NULL)
        take = lf - start + 1;
      g_byte_array_append (line, start, take);
      conn->pos += take;
      if (lf != NULL)
        break;
    }
  return TRUE;
}

gboolean
smtpkit_fake_conn_read_exact (SmtpkitFakeConn  *conn,
                              gsize             len,
                              GByteArray       *out,
                              GError          **error)
{
  g_byte_array_set_size (out, 0);
  while (out->len < len)
    {
      gsize take;

      if (!ensure_input (conn, error))
        return FALSE;
      if (conn->eof)
        break;
      take = MIN (conn->end - conn->pos, len - out->len);
      g_byte_array_append (out, conn->buffer + conn->pos, take);
      conn->pos += take;
    }
  return TRUE;
}

/* Reads a DATA body through its terminator "\r\n.\r\n" (or ".\r\n" at the
 * very start), passing it to @func in pieces, so memory does not grow with
 * the size of the body. Raw, the pieces are the bytes as received,
 * terminator included. With @unstuff, they are the message: the dot that
 * starts a line is dropped (RFC 5321 §4.5.2), and so is the terminator
 * but for the CRLF that ends the last line. */
gboolean
smtpkit_fake_conn_read_data (SmtpkitFakeConn      *conn,
                             gboolean              unstuff,
                             SmtpkitFakeDataFunc   func,
                             gpointer              user_data,
                             GError              **error)
{
  static const char terminator[] = "\r\n.\r\n";
  guint matched = 2; /* the start of the body counts as the end of a line */

  while (matched < 5)
    {
      const guint8 *data;
      gsize i, len, from = 0;

      if (!ensure_input (conn, error))
        return FALSE;
      if (conn->eof)
        return TRUE;

      data = conn->buffer + conn->pos;
      len = conn->end - conn->pos;
      for (i = 0; i < len && matched < 5; i++)
        {
          guint next;

          if (data[i] == terminator[matched])
            next = matched + 1;
          else
            next = data[i] == '\r' ? 1 : 0;

          if (unstuff)
            {
              /* ".\r" not followed by "\n": the dot goes, the CR stays. */
              if (matched == 4 && next != 5)
                func ((const guint8 *) "\r", 1, user_data);
              /* Hold back the dot that starts a line, and a CR after it. */
              if (next == 3 || next == 4)
                {
                  func (data + from, i - from, user_data);
                  from = i + 1;
                }
            }
          matched = next;
        }
      if (!unstuff || matched < 5)
        func (data + from, i - from, user_data);
      conn->pos += i;
    }
  return TRUE;
}

/* Sends FIN first, then reads and drops what the client still sends until
 * it closes too (or the step timeout): closing a socket with unread input
 * sends an RST, which can make the client lose the last reply. Frees
 * @conn. */
void
smtpkit_fake_conn_close (SmtpkitFakeConn *conn)
{
  g_socket_shutdown (conn->socket, FALSE, TRUE, NULL);
  while (!conn->eof)
    {
      conn->pos = conn->end;
      if (!ensure_input (conn, NULL))
        break;
    }
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  g_object_unref (conn->connection);
  g_object_unref (conn->cancellable);
  g_free (conn);
}
