/* smtpkit-engine-private.h: the one protocol engine
 *
 * The engine owns the connection's byte stream and carries commands and
 * replies over it. Every operation is asynchronous over pollable GIO
 * streams and runs in the thread-default main context of its caller; the
 * blocking API runs the very same operations on a private context
 * (smtpkit-sync-private.h). Commands go out through one buffer, so a batch
 * of pipelined commands is one write; replies are read strictly in order
 * and paired with the commands that expect them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "smtpkit-reply.h"

G_BEGIN_DECLS

typedef struct _SmtpkitEngine SmtpkitEngine;

typedef enum
{
  SMTPKIT_TRACE_COMMAND,   /* command bytes about to be written */
  SMTPKIT_TRACE_DATA,      /* message data bytes about to be written */
  SMTPKIT_TRACE_REPLY,     /* a reply just read (reply != NULL) */
} SmtpkitTraceKind;

/* @shown (@size bytes) is what may be shown (logs, signals) of what goes
 * on the wire: the same bytes, or a redacted form for sensitive commands;
 * it lives only for the call. For a reply, @shown is NULL and @reply is
 * the reply. */
typedef void (*SmtpkitTraceFunc) (gpointer            user_data,
                                  SmtpkitTraceKind    kind,
                                  const guint8       *shown,
                                  gsize               size,
                                  SmtpkitReply       *reply);

/* A batch of commands written in one go, each expecting one reply, unless
 * the batch says otherwise (a greeting: no command, one reply). */
typedef struct _SmtpkitCommandBatch SmtpkitCommandBatch;

SmtpkitCommandBatch *smtpkit_command_batch_new (void);
void smtpkit_command_batch_free (SmtpkitCommandBatch *batch);
/* Appends one formatted command (smtpkit_codec_format_command). Traces
 * show it whole when @shown is -1; else only its first @shown bytes,
 * followed by "[redacted]" (authentication data) when anything but the
 * CRLF follows them. */
void smtpkit_command_batch_add (SmtpkitCommandBatch *batch,
                                const GString       *line,
                                gssize               shown);
/* Formats a command straight into the batch, shown whole in traces; on
 * error (smtpkit_codec_format_command's) the batch is unchanged. */
gboolean smtpkit_command_batch_add_command (SmtpkitCommandBatch  *batch,
                                            const char           *verb,
                                            const char           *arg,
                                            const char *const    *options,
                                            GError              **error);
/* Appends message data sent as it is (BDAT's chunk); it expects no reply
 * of its own. */
void smtpkit_command_batch_add_data (SmtpkitCommandBatch *batch,
                                     GBytes              *data);
/* The batch ends the message (BDAT LAST): once it is written whole, a
 * failure is SMTPKIT_ERROR_DELIVERY_UNKNOWN; a write that fails did not
 * send the end, and the message cannot have been taken. */
void smtpkit_command_batch_set_final (SmtpkitCommandBatch *batch);
/* The replies answer for one recipient each (LMTP's to the end of the
 * data): a 421 among them does not end the reading. */
void smtpkit_command_batch_set_per_recipient (SmtpkitCommandBatch *batch);
/* Expect @n_replies in all instead of one per command. */
void smtpkit_command_batch_set_replies (SmtpkitCommandBatch *batch,
                                        guint                n_replies);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitCommandBatch, smtpkit_command_batch_free)

SmtpkitEngine *smtpkit_engine_new (GIOStream        *stream,
                                   SmtpkitTraceFunc  trace,
                                   gpointer          trace_data);
SmtpkitEngine *smtpkit_engine_ref (SmtpkitEngine *engine);
void smtpkit_engine_unref (SmtpkitEngine *engine);
/* Whether the trace function is called: when nobody looks, commands and
 * replies go by without it. */
void smtpkit_engine_set_tracing (SmtpkitEngine *engine,
                                 gboolean       tracing);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitEngine, smtpkit_engine_unref)

GIOStream *smtpkit_engine_get_stream (SmtpkitEngine *engine);
gboolean smtpkit_engine_is_open (SmtpkitEngine *engine);
/* The 421 reply that closed the connection, if one did (transfer none). */
SmtpkitReply *smtpkit_engine_get_closing_reply (SmtpkitEngine *engine);
/* Closes the stream at once, without blocking; pending operations fail. */
void smtpkit_engine_close (SmtpkitEngine *engine);
/* Succeeds when the server sent nothing that no command asked for (not
 * even the start of a reply); else closes the connection and fails with
 * SMTPKIT_ERROR_PROTOCOL. Checked before the TLS handshake of STARTTLS, so
 * that no injected byte is carried into the TLS session. */
gboolean smtpkit_engine_check_quiet (SmtpkitEngine  *engine,
                                     GError        **error);
/* Continues over @stream (the TLS connection over the old one). */
void smtpkit_engine_set_stream (SmtpkitEngine *engine,
                                GIOStream     *stream);

/* An operation's outcome, handed to its callback, and valid only until
 * the callback returns. The callback is called from the thread-default
 * main context of the call, never before the call has returned. */
typedef struct _SmtpkitEngineResult SmtpkitEngineResult;
typedef void (*SmtpkitEngineCallback) (SmtpkitEngineResult *result,
                                       gpointer             user_data);

/* The replies (transfer full), or NULL with @error set; *@partial (when
 * not NULL) then holds the replies read before the failure. For BDAT
 * chunks, these are the replies to BDAT LAST, and *@refused_chunk (when
 * not NULL) the reply that refused a chunk, or NULL. */
GPtrArray *smtpkit_engine_result_take (SmtpkitEngineResult  *result,
                                       SmtpkitReply        **refused_chunk,
                                       GPtrArray           **partial,
                                       GError              **error);

/* Writes the batch (taking it over), then reads its replies in order.
 * Bytes the server sent before the batch are SMTPKIT_ERROR_PROTOCOL.
 * @timeout_ms bounds each wait for the server, in milliseconds (0: no
 * bound). Any error but a reply-level one closes the connection. A 421
 * reply closes it too (RFC 5321 §3.8), and ends the exchange there
 * unless the batch is per recipient: the result then holds fewer
 * replies than the batch expects, the last one the 421. Result: a
 * GPtrArray of SmtpkitReply. */
void smtpkit_engine_exchange (SmtpkitEngine         *engine,
                              SmtpkitCommandBatch   *batch,
                              guint                  timeout_ms,
                              GCancellable          *cancellable,
                              SmtpkitEngineCallback  callback,
                              gpointer               user_data);

/* Sends a message body after a 354: encodes it (CRLF, dot-stuffing),
 * writes it in bounded chunks, then the terminator, and reads @n_replies
 * replies (one for SMTP; one per accepted recipient for LMTP); a 421
 * among them closes the connection once they are read. The body is
 * @stream, or @bytes (encoded from where they are; or, @as_is, sent as
 * they are, the caller having found them in DATA's wire form with
 * smtpkit_codec_wire_form()). @block_timeout_ms bounds each write,
 * @final_timeout_ms each wait for a reply. A failure after the
 * terminator was sent and before every reply was read is
 * SMTPKIT_ERROR_DELIVERY_UNKNOWN. */
void smtpkit_engine_send_body (SmtpkitEngine         *engine,
                               GInputStream          *stream,
                               GBytes                *bytes,
                               gboolean               as_is,
                               gboolean               convert_newlines,
                               guint                  n_replies,
                               guint                  block_timeout_ms,
                               guint                  final_timeout_ms,
                               GCancellable          *cancellable,
                               SmtpkitEngineCallback  callback,
                               gpointer               user_data);

/* Sends a message body as BDAT chunks (RFC 3030) after MAIL and RCPT:
 * encodes @body (line endings only), and writes it in chunks with their
 * BDAT commands, the last one with LAST (BDAT 0 LAST when the stream ends
 * at a chunk's end); the chunks grow from 64 KiB to 2 MiB as the stream
 * goes on. Several chunks are in flight: their replies are read as they
 * come, and the sending stops at the first one that is not 2xx. The
 * result holds the @n_replies replies to BDAT LAST (one for SMTP; one
 * per accepted recipient for LMTP), or none when a chunk was refused.
 * Timeouts and errors as for smtpkit_engine_send_body(). */
void smtpkit_engine_send_chunks (SmtpkitEngine         *engine,
                                 GInputStream          *body,
                                 gboolean               convert_newlines,
                                 guint                  n_replies,
                                 guint                  block_timeout_ms,
                                 guint                  final_timeout_ms,
                                 GCancellable          *cancellable,
                                 SmtpkitEngineCallback  callback,
                                 gpointer               user_data);

/* The exchange and the body of a message as GIO asynchronous calls, for
 * code outside the library (the harness's probe) that waits with
 * smtpkit_sync_wait(). */
void smtpkit_engine_exchange_async (SmtpkitEngine       *engine,
                                    SmtpkitCommandBatch *batch,
                                    guint                timeout_ms,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
GPtrArray *smtpkit_engine_exchange_finish (SmtpkitEngine  *engine,
                                           GAsyncResult   *result,
                                           GPtrArray     **partial,
                                           GError        **error);
void smtpkit_engine_send_body_async (SmtpkitEngine       *engine,
                                     GInputStream        *body,
                                     gboolean             convert_newlines,
                                     guint                n_replies,
                                     guint                block_timeout_ms,
                                     guint                final_timeout_ms,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
GPtrArray *smtpkit_engine_send_body_finish (SmtpkitEngine  *engine,
                                            GAsyncResult   *result,
                                            GPtrArray     **partial,
                                            GError        **error);

G_END_DECLS
