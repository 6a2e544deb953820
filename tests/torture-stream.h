/* torture-stream.h: a GIOStream that breaks on purpose
 *
 * TortureStream wraps a connection's stream and passes every read and
 * write through, counting them; it can fail the n-th read or write (and
 * every one after it, as a broken connection does), and cut every read
 * and write to one byte. Its input and output are pollable when the
 * wrapped ones are, so the client's engine drives it as it drives a
 * socket. The "torture" transport connects with the "tcp" transport and
 * hands the client its stream wrapped in a TortureStream, below TLS: a
 * failure hits the raw bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  guint fail_read;      /* the read to fail, from 1; 0: none */
  guint fail_write;     /* the write to fail, from 1; 0: none */
  GIOErrorEnum error;   /* G_IO_ERROR_FAILED, or G_IO_ERROR_CONNECTION_CLOSED (reset) */
  gboolean one_byte;    /* every read and write moves at most one byte */

  /* Counted: reads that returned data or EOF, writes that wrote. */
  guint reads;
  guint writes;
  gboolean broken;      /* a failure was injected */
} TortureState;

#define TORTURE_TYPE_STREAM (torture_stream_get_type ())
G_DECLARE_FINAL_TYPE (TortureStream, torture_stream, TORTURE, STREAM, GIOStream)

GIOStream *torture_stream_new (GIOStream    *base,
                               TortureState *state);

/* Registers the "torture" transport, whose streams follow @state. */
void torture_transport_register (TortureState *state);

G_END_DECLS
