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
  /* After smtpkit_fake_conn_start_tls(), or NULL. Kept when the handshake
   * failed: dropping it would close the connection. */
  GIOStream *tls;
  gboolean secure; /* the handshake succeeded */
  /* What is read and written: the streams of @tls when @secure, or else
   * of @connection. */
  GPollableInputStream *in;
  GPollableOutputStream *out;
  GCancellable *cancellable;
  gint64 timeout_us;
  gboolean eof;
  gsize pos, end; /* unread input: buffer[pos..end) */
  guint8 buffer[BUFFER_SIZE];
  GByteArray *held; /* replies held while pipelined commands wait */
};

static gboolean write_now (SmtpkitFakeConn *conn, const void *data, gsize len, GError **error);

/* What was held goes out before anything else, and before a wait. */
static gboolean
flush_held (SmtpkitFakeConn  *conn,
            GError          **error)
{
  g_autoptr (GByteArray) held = g_steal_pointer (&conn->held);

  return held == NULL || write_now (conn, held->data, held->len, error);
}

static void
use_stream (SmtpkitFakeConn *conn,
            GIOStream       *stream)
{
  conn->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  conn->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
}

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
  use_stream (conn, G_IO_STREAM (connection));

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
  if (!flush_held (conn, error))
    return FALSE;
  /* Nonblocking, waiting on the socket in between: TLS may have input
   * decrypted already, and a partial TLS record makes no input yet. */
  while (TRUE)
    {
      g_autoptr (GError) local_error = NULL;

      n = g_pollable_input_stream_read_nonblocking (conn->in, conn->buffer, BUFFER_SIZE,
                                                    conn->cancellable, &local_error);
      if (n >= 0)
        break;
      /* A client that closes with our reply unread resets the connection:
       * for the script that is the client closing, like EOF. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        {
          n = 0;
          break;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!wait_for (conn, G_IO_IN, error))
        return FALSE;
    }
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
  if (conn->held)
    {
      g_byte_array_append (conn->held, data, len);
      return flush_held (conn, error);
    }
  return write_now (conn, data, len, error);
}

/* RFC 2920 §3: while the client's next command is already here, the
 * reply waits, and the replies to a pipelined group go out together, in
 * one write, once the server has to wait for more input. */
gboolean
smtpkit_fake_conn_write_pipelined (SmtpkitFakeConn  *conn,
                                   const void       *data,
                                   gsize             len,
                                   GError          **error)
{
  if (memchr (conn->buffer + conn->pos, '\n', conn->end - conn->pos) == NULL)
    return smtpkit_fake_conn_write (conn, data, len, error);
  if (conn->held == NULL)
    conn->held = g_byte_array_new ();
  g_byte_array_append (conn->held, data, len);
  return TRUE;
}

static gboolean
write_now (SmtpkitFakeConn  *conn,
           const void       *data,
           gsize             len,
           GError          **error)
{
  const char *p = data;

  while (len > 0)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (conn->out, p, len,
                                                             conn->cancellable, &local_error);

      if (n >= 0)
        {
          p += n;
          len -= n;
        }
      else if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      else if (!wait_for (conn, G_IO_OUT, error))
        return FALSE;
    }
  return TRUE;
}

/* The client has gone already: for a shutdown, nothing is lost. */
static gboolean
peer_gone (GError **error)
{
  if (*error == NULL || !(g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
                          g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
                          g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)))
    return FALSE;
  g_clear_error (error);
  return TRUE;
}

/* Ends what the server sends (TLS's close_notify, then FIN) and keeps
 * reading: a client still writing is seen, not reset. A client that has
 * closed already is no failure: the next step reads its EOF. */
gboolean
smtpkit_fake_conn_shutdown (SmtpkitFakeConn  *conn,
                            GError          **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!flush_held (conn, error))
    return FALSE;
  if (conn->secure &&
      !g_output_stream_close (G_OUTPUT_STREAM (conn->out), conn->cancellable, &local_error) &&
      !peer_gone (&local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!g_socket_shutdown (conn->socket, FALSE, TRUE, &local_error) && !peer_gone (&local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
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

  if (!flush_held (conn, error))
    return FALSE;
  if (g_cancellable_make_pollfd (conn->cancellable, &pollfd))
    {
      g_poll (&pollfd, 1, ms);
      g_cancellable_release_fd (conn->cancellable);
    }
  return !g_cancellable_set_error_if_cancelled (conn->cancellable, error);
}

/* Reads through the first LF, or SMTPKIT_FAKE_MAX_LINE + 2 bytes when
 * there is none by then: the caller sees a line not ending in LF, and
 * tells "too long" from "closed" by smtpkit_fake_conn_is_eof(). A line
 * that starts with a TLS handshake record (0x16) ends with what has come:
 * a ClientHello holds no LF to wait for, and the client waits for an
 * answer. */
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
      if (lf != NULL || line->data[0] == SMTPKIT_FAKE_TLS_HANDSHAKE)
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

/* Reads and drops what the client sends until it closes (or the step
 * timeout). */
void
smtpkit_fake_conn_drain (SmtpkitFakeConn *conn)
{
  while (!conn->eof)
    {
      conn->pos = conn->end;
      if (!ensure_input (conn, NULL))
        break;
    }
}

/* Sends FIN first (after TLS's close_notify), then drains: closing a
 * socket with unread input sends an RST, which can make the client lose
 * the last reply. Frees @conn. */
void
smtpkit_fake_conn_close (SmtpkitFakeConn *conn)
{
  flush_held (conn, NULL);
  g_clear_pointer (&conn->held, g_byte_array_unref);
  if (conn->secure)
    g_output_stream_close (G_OUTPUT_STREAM (conn->out), NULL, NULL);
  g_socket_shutdown (conn->socket, FALSE, TRUE, NULL);
  smtpkit_fake_conn_drain (conn);
  g_io_stream_close (conn->secure ? conn->tls : G_IO_STREAM (conn->connection), NULL, NULL);
  g_clear_object (&conn->tls);
  g_object_unref (conn->connection);
  g_object_unref (conn->cancellable);
  g_free (conn);
}

/* Input read from the client but not consumed by any step yet. */
const guint8 *
smtpkit_fake_conn_peek_unread (SmtpkitFakeConn *conn,
                               gsize           *len)
{
  *len = conn->end - conn->pos;
  return conn->buffer + conn->pos;
}

gboolean
smtpkit_fake_conn_is_tls (SmtpkitFakeConn *conn)
{
  return conn->secure;
}

/* The one place where the connection switches to TLS: the server side of
 * the handshake, and from then on every read and write goes through it.
 * Unread plaintext input must have been dealt with (it would otherwise be
 * taken as sent under TLS). The handshake blocks in GIO, so the step
 * timeout reaches it as the socket's timeout, in whole seconds. When it
 * fails, the connection is plaintext again, for expect-close. */
gboolean
smtpkit_fake_conn_start_tls (SmtpkitFakeConn  *conn,
                             GTlsCertificate  *certificate,
                             GError          **error)
{
  g_return_val_if_fail (conn->tls == NULL && conn->pos == conn->end, FALSE);

  if (!flush_held (conn, error))
    return FALSE;
  conn->tls = g_tls_server_connection_new (G_IO_STREAM (conn->connection), certificate, error);
  if (conn->tls == NULL)
    return FALSE;
  /* A client may close without close_notify: for SMTP that is EOF. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (conn->tls), FALSE);
  g_socket_set_timeout (conn->socket,
                        (conn->timeout_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (conn->tls), conn->cancellable, error))
    return FALSE;

  conn->secure = TRUE;
  use_stream (conn, conn->tls);
  return TRUE;
}
