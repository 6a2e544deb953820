/* torture-stream.c: a GIOStream that breaks on purpose
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "torture-stream.h"

#include <smtpkit.h>

/* The n-th operation fails, and every one after it. */
static gboolean
injected (TortureState  *state,
          guint          count,
          guint          fail_at,
          GError       **error)
{
  if (!state->broken && (fail_at == 0 || count + 1 < fail_at))
    return FALSE;
  state->broken = TRUE;
  g_set_error (error, G_IO_ERROR, state->error, "torture: %s",
               state->error == G_IO_ERROR_CONNECTION_CLOSED ? "connection reset" : "I/O failed");
  return TRUE;
}

static gsize
allowed (TortureState *state,
         gsize         count)
{
  return state->one_byte ? MIN (count, 1) : count;
}

/* ---- input ------------------------------------------------------------ */

#define TORTURE_TYPE_INPUT (torture_input_get_type ())
G_DECLARE_FINAL_TYPE (TortureInput, torture_input, TORTURE, INPUT, GInputStream)

struct _TortureInput
{
  GInputStream parent_instance;
  GInputStream *base;
  TortureState *state;
};

static void torture_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TortureInput, torture_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      torture_input_pollable_init))

/* Counts a read that returned @n; a read of data or EOF, not "would block". */
static gssize
input_counted (TortureInput *self,
               gssize        n)
{
  if (n >= 0)
    self->state->reads++;
  return n;
}

static gssize
torture_input_read (GInputStream  *stream,
                    void          *buffer,
                    gsize          count,
                    GCancellable  *cancellable,
                    GError       **error)
{
  TortureInput *self = TORTURE_INPUT (stream);

  if (injected (self->state, self->state->reads, self->state->fail_read, error))
    return -1;
  return input_counted (self, g_input_stream_read (self->base, buffer,
                                                   allowed (self->state, count),
                                                   cancellable, error));
}

static gssize
torture_input_read_nonblocking (GPollableInputStream  *stream,
                                void                  *buffer,
                                gsize                  count,
                                GError               **error)
{
  TortureInput *self = TORTURE_INPUT (stream);

  if (injected (self->state, self->state->reads, self->state->fail_read, error))
    return -1;
  return input_counted (self, g_pollable_input_stream_read_nonblocking (
                                G_POLLABLE_INPUT_STREAM (self->base), buffer,
                                allowed (self->state, count), NULL, error));
}

static gboolean
torture_input_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = TORTURE_INPUT (stream)->base;

  return G_IS_POLLABLE_INPUT_STREAM (base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
torture_input_is_readable (GPollableInputStream *stream)
{
  TortureInput *self = TORTURE_INPUT (stream);

  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
torture_input_create_source (GPollableInputStream *stream,
                             GCancellable         *cancellable)
{
  TortureInput *self = TORTURE_INPUT (stream);
  g_autoptr (GSource) base = g_pollable_input_stream_create_source (
    G_POLLABLE_INPUT_STREAM (self->base), NULL);

  return g_pollable_source_new_full (stream, base, cancellable);
}

static void
torture_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = torture_input_can_poll;
  iface->is_readable = torture_input_is_readable;
  iface->create_source = torture_input_create_source;
  iface->read_nonblocking = torture_input_read_nonblocking;
}

static gboolean
torture_input_close (GInputStream  *stream,
                     GCancellable  *cancellable,
                     GError       **error)
{
  /* The TortureStream closes the wrapped stream. */
  return TRUE;
}

static void
torture_input_finalize (GObject *object)
{
  g_object_unref (TORTURE_INPUT (object)->base);

  G_OBJECT_CLASS (torture_input_parent_class)->finalize (object);
}

static void
torture_input_class_init (TortureInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = torture_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = torture_input_read;
  G_INPUT_STREAM_CLASS (klass)->close_fn = torture_input_close;
}

static void
torture_input_init (TortureInput *self)
{
}

/* ---- output ----------------------------------------------------------- */

#define TORTURE_TYPE_OUTPUT (torture_output_get_type ())
G_DECLARE_FINAL_TYPE (TortureOutput, torture_output, TORTURE, OUTPUT, GOutputStream)

struct _TortureOutput
{
  GOutputStream parent_instance;
  GOutputStream *base;
  TortureState *state;
};

static void torture_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TortureOutput, torture_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      torture_output_pollable_init))

static gssize
output_counted (TortureOutput *self,
                gssize         n)
{
  if (n > 0)
    self->state->writes++;
  return n;
}

static gssize
torture_output_write (GOutputStream  *stream,
                      const void     *buffer,
                      gsize           count,
                      GCancellable   *cancellable,
                      GError        **error)
{
  TortureOutput *self = TORTURE_OUTPUT (stream);

  if (injected (self->state, self->state->writes, self->state->fail_write, error))
    return -1;
  return output_counted (self, g_output_stream_write (self->base, buffer,
                                                      allowed (self->state, count),
                                                      cancellable, error));
}

static gssize
torture_output_write_nonblocking (GPollableOutputStream  *stream,
                                  const void             *buffer,
                                  gsize                   count,
                                  GError                **error)
{
  TortureOutput *self = TORTURE_OUTPUT (stream);

  if (injected (self->state, self->state->writes, self->state->fail_write, error))
    return -1;
  return output_counted (self, g_pollable_output_stream_write_nonblocking (
                                 G_POLLABLE_OUTPUT_STREAM (self->base), buffer,
                                 allowed (self->state, count), NULL, error));
}

static gboolean
torture_output_can_poll (GPollableOutputStream *stream)
{
  GOutputStream *base = TORTURE_OUTPUT (stream)->base;

  return G_IS_POLLABLE_OUTPUT_STREAM (base) &&
         g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (base));
}

static gboolean
torture_output_is_writable (GPollableOutputStream *stream)
{
  TortureOutput *self = TORTURE_OUTPUT (stream);

  return g_pollable_output_stream_is_writable (G_POLLABLE_OUTPUT_STREAM (self->base));
}

static GSource *
torture_output_create_source (GPollableOutputStream *stream,
                              GCancellable          *cancellable)
{
  TortureOutput *self = TORTURE_OUTPUT (stream);
  g_autoptr (GSource) base = g_pollable_output_stream_create_source (
    G_POLLABLE_OUTPUT_STREAM (self->base), NULL);

  return g_pollable_source_new_full (stream, base, cancellable);
}

static void
torture_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = torture_output_can_poll;
  iface->is_writable = torture_output_is_writable;
  iface->create_source = torture_output_create_source;
  iface->write_nonblocking = torture_output_write_nonblocking;
}

static gboolean
torture_output_flush (GOutputStream  *stream,
                      GCancellable   *cancellable,
                      GError        **error)
{
  return g_output_stream_flush (TORTURE_OUTPUT (stream)->base, cancellable, error);
}

static gboolean
torture_output_close (GOutputStream  *stream,
                      GCancellable   *cancellable,
                      GError        **error)
{
  return TRUE;
}

static void
torture_output_finalize (GObject *object)
{
  g_object_unref (TORTURE_OUTPUT (object)->base);

  G_OBJECT_CLASS (torture_output_parent_class)->finalize (object);
}

static void
torture_output_class_init (TortureOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = torture_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = torture_output_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = torture_output_flush;
  G_OUTPUT_STREAM_CLASS (klass)->close_fn = torture_output_close;
}

static void
torture_output_init (TortureOutput *self)
{
}

/* ---- the stream -------------------------------------------------------- */

struct _TortureStream
{
  GIOStream parent_instance;
  GIOStream *base;
  TortureInput *input;
  TortureOutput *output;
};

G_DEFINE_FINAL_TYPE (TortureStream, torture_stream, G_TYPE_IO_STREAM)

static GInputStream *
torture_stream_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (TORTURE_STREAM (stream)->input);
}

static GOutputStream *
torture_stream_get_output_stream (GIOStream *stream)
{
  return G_OUTPUT_STREAM (TORTURE_STREAM (stream)->output);
}

static gboolean
torture_stream_close (GIOStream     *stream,
                      GCancellable  *cancellable,
                      GError       **error)
{
  return g_io_stream_close (TORTURE_STREAM (stream)->base, cancellable, error);
}

static void
torture_stream_finalize (GObject *object)
{
  TortureStream *self = TORTURE_STREAM (object);

  g_object_unref (self->input);
  g_object_unref (self->output);
  g_object_unref (self->base);

  G_OBJECT_CLASS (torture_stream_parent_class)->finalize (object);
}

static void
torture_stream_class_init (TortureStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = torture_stream_finalize;
  G_IO_STREAM_CLASS (klass)->get_input_stream = torture_stream_get_input_stream;
  G_IO_STREAM_CLASS (klass)->get_output_stream = torture_stream_get_output_stream;
  G_IO_STREAM_CLASS (klass)->close_fn = torture_stream_close;
}

static void
torture_stream_init (TortureStream *self)
{
}

GIOStream *
torture_stream_new (GIOStream    *base,
                    TortureState *state)
{
  TortureStream *self = g_object_new (TORTURE_TYPE_STREAM, NULL);

  self->base = g_object_ref (base);
  self->input = g_object_new (TORTURE_TYPE_INPUT, NULL);
  self->input->base = g_object_ref (g_io_stream_get_input_stream (base));
  self->input->state = state;
  self->output = g_object_new (TORTURE_TYPE_OUTPUT, NULL);
  self->output->base = g_object_ref (g_io_stream_get_output_stream (base));
  self->output->state = state;
  return G_IO_STREAM (self);
}

/* ---- the transport ------------------------------------------------------ */

#define TORTURE_TYPE_TRANSPORT (torture_transport_get_type ())
G_DECLARE_FINAL_TYPE (TortureTransport, torture_transport, TORTURE, TRANSPORT, GObject)

struct _TortureTransport
{
  GObject parent_instance;
};

static TortureState *transport_state;

/* The "tcp" transport connects; its stream is wrapped. */
static void
torture_transport_connected (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (GIOStream) stream = smtpkit_transport_connect_finish (SMTPKIT_TRANSPORT (source),
                                                                   result, &error);

  if (stream == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, torture_stream_new (stream, transport_state), g_object_unref);
}

static void
torture_transport_connect_async (SmtpkitTransport    *transport,
                                 const char          *host,
                                 guint16              port,
                                 GSocketAddress      *source_address,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task = g_task_new (transport, cancellable, callback, user_data);
  g_autoptr (SmtpkitTransport) tcp = NULL;
  GError *error = NULL;

  tcp = smtpkit_transport_new_for_name ("tcp", &error);
  if (tcp == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  smtpkit_transport_connect_async (tcp, host, port, source_address, cancellable,
                                   torture_transport_connected, task);
}

static GIOStream *
torture_transport_connect_finish (SmtpkitTransport  *transport,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
torture_transport_iface_init (SmtpkitTransportInterface *iface)
{
  iface->connect_async = torture_transport_connect_async;
  iface->connect_finish = torture_transport_connect_finish;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TortureTransport, torture_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SMTPKIT_TYPE_TRANSPORT,
                                                      torture_transport_iface_init))

static void
torture_transport_class_init (TortureTransportClass *klass)
{
}

static void
torture_transport_init (TortureTransport *self)
{
}

void
torture_transport_register (TortureState *state)
{
  transport_state = state;
  smtpkit_transport_register ("torture", TORTURE_TYPE_TRANSPORT, 10);
}
